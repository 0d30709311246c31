package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.agent.AiocoAgent;
import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Proxy;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent and the Maven plugin are two front ends over one instrumenter: for the same class and
 * the same classpath they must produce the same bytes. The corpus is this suite itself: every class
 * file javac wrote ({@code aioco.original.classes}) goes through the agent's own transformer (from
 * the agent jar, installed on a stand-in Instrumentation), and the result is compared with the
 * file the plugin wrote during this build ({@code aioco.woven.classes}). The agent must also leave
 * every woven class alone.
 */
class AgentAndPluginWeaveIdenticallyTest {

    @Test
    void agentTransformerAndPluginProduceIdenticalBytesForEveryClassOfTheSuite()
            throws IOException, IllegalClassFormatException {
        Path original = Path.of(System.getProperty("aioco.original.classes"));
        Path woven = Path.of(System.getProperty("aioco.woven.classes"));
        ClassFileTransformer agent = agentTransformer();
        ClassLoader loader = new OriginalClassesLoader(original, getClass().getClassLoader());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(original)) {
            files = walk.filter(file -> file.toString().endsWith(".class")).sorted().toList();
        }
        int rewritten = 0;
        for (Path file : files) {
            String relative = original.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
            String className = relative.substring(0, relative.length() - ".class".length());
            byte[] compiled = Files.readAllBytes(file);
            byte[] byPlugin = Files.readAllBytes(woven.resolve(relative));
            byte[] byAgent = agent.transform(loader, className, null, null, compiled);
            if (byAgent == null) {
                assertArrayEquals(compiled, byPlugin, className + ": left alone by the agent, changed by the plugin");
            } else {
                rewritten++;
                assertArrayEquals(byAgent, byPlugin, className + ": the agent and the plugin wove different bytes");
            }
            assertNull(agent.transform(loader, className, null, null, byPlugin),
                    className + ": the agent rewrote a class the plugin had woven");
        }
        assertTrue(rewritten >= 5, "a corpus of " + rewritten + " rewritten classes proves little");
    }

    /** The agent's transformer, exactly as premain installs it. */
    private static ClassFileTransformer agentTransformer() {
        List<ClassFileTransformer> added = new ArrayList<>();
        Instrumentation instrumentation = (Instrumentation) Proxy.newProxyInstance(
                AgentAndPluginWeaveIdenticallyTest.class.getClassLoader(), new Class<?>[] {Instrumentation.class},
                (proxy, method, arguments) -> {
                    if (method.getName().equals("addTransformer")) {
                        added.add((ClassFileTransformer) arguments[0]);
                        return null;
                    }
                    if (method.getName().equals("isRetransformClassesSupported")) {
                        // NOTE: no watcher of retransformations, and no system property saying there is
                        // one: this JVM's woven classes may run without the agent
                        return false;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        AiocoAgent.premain("", instrumentation);
        assertNotNull(added.isEmpty() ? null : added.get(0), "premain installed no transformer");
        return added.get(0);
    }

    /**
     * What the agent's class loader would show it: the suite's classes as javac wrote them, then the
     * jars of the test classpath (whatever folder this run's own classes come from).
     */
    private static final class OriginalClassesLoader extends ClassLoader {
        private final Path original;
        private final ClassLoader classpath;

        OriginalClassesLoader(Path original, ClassLoader classpath) {
            super(ClassLoader.getPlatformClassLoader());
            this.original = original;
            this.classpath = classpath;
        }

        @Override
        protected URL findResource(String name) {
            Path file = original.resolve(name);
            try {
                if (Files.isRegularFile(file)) {
                    return file.toUri().toURL();
                }
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            }
            URL url = classpath.getResource(name);
            return url != null && url.getProtocol().equals("jar") ? url : null;
        }
    }
}
