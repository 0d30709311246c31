package io.aioco.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The corpus: real jars from Maven Central, copied with their dependencies into the folder named
 * by the system property {@value #DIR} (the pom's {@code copy-corpus} step). Each jar is checked
 * with every other jar of the folder and aioco-runtime as its class path.
 */
public final class Corpus {
    /** The system property naming the folder of corpus jars. */
    static final String DIR = "aioco.corpus.dir";

    /**
     * One jar of the corpus.
     *
     * @param label what the jar is, for the report
     * @param prefix the start of its file name, up to the version
     * @param language the JVM language it was compiled from
     */
    record Jar(String label, String prefix, String language) {
        /** @return the jar's file in the corpus folder */
        Path path() {
            try (Stream<Path> files = Files.list(folder())) {
                return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                                && f.getFileName().toString().substring(prefix.length()).matches("[0-9].*\\.jar"))
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException("corpus jar " + prefix + "* not in " + folder()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** The jars checked, in the order of the report. */
    static final List<Jar> JARS = List.of(
            new Jar("guava", "guava-", "Java"),
            new Jar("commons-lang3", "commons-lang3-", "Java"),
            new Jar("jackson-databind", "jackson-databind-", "Java"),
            new Jar("jackson-core", "jackson-core-", "Java"),
            new Jar("jackson-annotations", "jackson-annotations-", "Java"),
            new Jar("kotlin-stdlib", "kotlin-stdlib-", "Kotlin"),
            new Jar("scala-library", "scala-library-", "Scala"),
            new Jar("groovy", "groovy-", "Groovy"),
            new Jar("netty-common", "netty-common-", "Java"),
            new Jar("asm", "asm-", "Java"));

    private Corpus() {}

    /** @return the folder of corpus jars */
    static Path folder() {
        String dir = System.getProperty(DIR);
        if (dir == null) {
            throw new IllegalStateException("system property " + DIR + " not set (run the tests through Maven)");
        }
        return Path.of(dir);
    }

    /** @return every jar of the corpus folder, dependencies included */
    public static List<Path> allJars() {
        try (Stream<Path> files = Files.list(folder())) {
            return files.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return where aioco-runtime's classes are (a jar, or a folder inside the reactor) */
    static Path runtime() {
        try {
            return Path.of(io.aioco.CoroutineFn.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
