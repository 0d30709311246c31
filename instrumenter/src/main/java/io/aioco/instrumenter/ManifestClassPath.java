package io.aioco.instrumenter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringTokenizer;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Why: the JDK's class loader searches, right after a jar, the jars its manifest names in
 * {@code Class-Path}, and several readers must find the same jars ({@link ClassPathLookup}, the
 * agent's startup cache): this is the one place that reads that attribute, as the JDK's
 * {@code URLClassPath} does: entries split at white space, each a URL relative to the jar's URL
 * ({@code %20} is a space, a plus stays a plus, {@code ..} is resolved; an absolute {@code file:}
 * URL is allowed).
 *
 * <p>No QEMU counterpart. Stateless: called by any thread. NOTE: the agent calls it in premain, in
 * the interpreter, at a start without a cache file: no lambda or stream here.
 */
public final class ManifestClassPath {
    private ManifestClassPath() {}

    /**
     * One entry of a {@code Class-Path}.
     *
     * @param text the entry as the manifest writes it
     * @param file the local file it names, or null when it names none a reader of files can follow
     *     (another protocol, a host, a query or fragment, a malformed URL or escape): the JDK's
     *     loader skips such an entry or fetches it from elsewhere
     */
    public record Entry(String text, Path file) {}

    /**
     * The {@code Class-Path} of an open jar's manifest: what every reader that follows manifests
     * ({@link ClassPathLookup}, the agent's startup cache) calls, so that they find the same jars.
     *
     * @param jar an open jar
     * @param url the URL the loader knows the jar by (its entries are relative to it)
     * @return its entries, in order ({@link #entries}), or null when the jar has no manifest or
     *     its manifest no {@code Class-Path}
     * @throws IOException if the manifest cannot be read (the JDK's loader then skips the jar)
     */
    public static List<Entry> read(JarFile jar, URL url) throws IOException {
        Manifest manifest = jar.getManifest();
        String value = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        return value == null ? null : entries(url, value);
    }

    /**
     * @param jar the URL the loader knows the jar by (its entries are relative to it)
     * @param classPath the value of the manifest's {@code Class-Path}
     * @return its entries, in order
     */
    public static List<Entry> entries(URL jar, String classPath) {
        List<Entry> entries = new ArrayList<>();
        StringTokenizer tokens = new StringTokenizer(classPath); // NOTE: the JDK's split (URLClassPath)
        while (tokens.hasMoreTokens()) {
            String text = tokens.nextToken();
            entries.add(new Entry(text, fileOf(jar, text)));
        }
        return entries;
    }

    /** @return the file an entry names, or null when it names none */
    private static Path fileOf(URL base, String entry) {
        try {
            URL url = new URL(base, entry);
            String host = url.getHost();
            if (!"file".equalsIgnoreCase(url.getProtocol()) || (host != null && !host.isEmpty())
                    || url.getQuery() != null || url.getRef() != null) {
                return null;
            }
            return Path.of(percentDecoded(url.getPath()));
        } catch (MalformedURLException | IllegalArgumentException e) { // NOTE: a path the file system cannot name too
            return null;
        }
    }

    /**
     * Decodes {@code %XX} escapes as UTF-8 bytes and leaves every other character as it is (unlike
     * {@code URLDecoder}, a {@code +} stays a plus), as the JDK turns a {@code file:} URL into a path.
     *
     * @throws IllegalArgumentException for a truncated or malformed escape
     */
    static String percentDecoded(String path) {
        if (path.indexOf('%') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int i = 0;
        while (i < path.length()) {
            char c = path.charAt(i);
            if (c != '%') {
                out.append(c);
                i++;
                continue;
            }
            bytes.reset();
            while (i < path.length() && path.charAt(i) == '%') {
                if (i + 2 >= path.length()) {
                    throw new IllegalArgumentException("a truncated escape in " + path);
                }
                int high = Character.digit(path.charAt(i + 1), 16);
                int low = Character.digit(path.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("a malformed escape in " + path);
                }
                bytes.write(high * 16 + low);
                i += 3;
            }
            out.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
        }
        return out.toString();
    }
}
