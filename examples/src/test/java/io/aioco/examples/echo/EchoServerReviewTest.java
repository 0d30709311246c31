package io.aioco.examples.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.IOThread;
import io.aioco.IOThreadGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reviewer's reproduction (issue 21): a client that disconnects abruptly (a reset, as a client that
 * is killed mid-request) is an ordinary end of a connection for a server, yet the echo example lets
 * the IOException escape its coroutine, so the group reports it as a failure: a WARNING line and a
 * call of the IOThread's uncaught-exception handler (the default one prints a stack trace to
 * stderr) per reset. Any client can make the server print a stack trace per connection.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EchoServerReviewTest {
    @Test
    void aClientThatResetsItsConnectionIsNotReportedAsAServerFailure() throws Exception {
        List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
        IOThread acceptor = IOThread.start("echo-review-acceptor");
        ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        IOThreadGroup group = EchoServer.start(listener, acceptor.context(), 1);
        try {
            for (IOThread t : group.ioThreads()) {
                t.thread().setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
            }
            try (Socket client = new Socket()) {
                client.connect(listener.getLocalAddress());
                client.getOutputStream().write(new byte[] {1, 2, 3});
                assertArrayEquals(new byte[] {1, 2, 3}, client.getInputStream().readNBytes(3));
                client.setSoLinger(true, 0); // close() sends a reset: the client died mid-session
            }
            while (group.openConnections() != 0) {
                Thread.onSpinWait(); // the connection ends on its IOThread (the class timeout catches a hang)
            }
        } finally {
            group.close(); // joins the IOThreads: the connection's report, if any, has been made
            acceptor.close();
        }
        assertEquals(List.of(), uncaught.stream().map(Throwable::toString).toList(),
                "a client's reset reported as a server failure");
    }
}
