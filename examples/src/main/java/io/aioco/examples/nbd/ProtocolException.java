package io.aioco.examples.nbd;

import java.io.IOException;

/**
 * The client broke the protocol in a way that leaves no reply possible (a bad magic, a length
 * that cannot be honoured): the server drops the connection, as the protocol allows (a hard
 * disconnect).
 */
final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message) {
        super(message);
    }
}
