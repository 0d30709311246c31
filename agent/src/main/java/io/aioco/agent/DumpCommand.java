package io.aioco.agent;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code java -jar aioco-agent.jar dump PID}: prints the coroutine dump of a running JVM on the
 * caller's standard output, as {@code jstack PID} prints its threads. The caller attaches to the
 * target through the JDK's Attach API (as {@code jcmd} does) and loads this jar there as an agent
 * with the option {@code dumpto=FILE}; the target's {@link #writeDump} writes the text of {@code
 * io.aioco.Coroutine.dump} to that file (a file the caller created), the load returns once it is
 * written, and the caller prints it and deletes it. The target needs no option of its own (the agent
 * need not have been started with it), only the aioco runtime loaded and the same user. No QEMU
 * counterpart (QEMU's monitor).
 *
 * <p>Called on the command's main thread (the caller), and on the target's attach thread.
 */
final class DumpCommand {
    private DumpCommand() {}

    /** The agent option that asks an attached agent for a dump instead of installing the transformer. */
    static final String DUMP_TO = "dumpto=";

    /** {@code dump --help}. */
    static final String HELP = ""
            + "usage: java -jar aioco-agent.jar dump PID\n"
            + "\n"
            + "Prints the coroutine dump of the JVM with process id PID (same user, aioco's runtime loaded):\n"
            + "every live coroutine with its name, context, thread, state, what it waits on and its suspended\n"
            + "stack, coroutine deadlocks first, then the contexts with their counts. Stacks and the list of\n"
            + "suspended coroutines are complete when the target runs with -javaagent:aioco-agent.jar=probes.\n"
            + "\n"
            + "Options:\n"
            + "  --help, -h   this text\n"
            + "\n"
            + "Exit status: 0 printed, 1 the dump could not be taken (the reason on standard error), 2 bad usage.\n"
            + "\n"
            + "Example:\n"
            + "  java -jar aioco-agent.jar dump 12345\n";

    /**
     * The command line's entry: {@code dump PID} or {@code dump --help}.
     *
     * @param out where the dump (or the usage) goes; errors go to standard error
     * @param args the arguments after {@code dump}
     * @return the exit status: 0, 1 when the dump could not be taken, 2 bad usage
     */
    static int command(PrintStream out, String[] args) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(HELP);
            return 0;
        }
        if (args.length != 1 || !args[0].chars().allMatch(Character::isDigit) || args[0].isEmpty()) {
            out.println("aioco dump: expected one process id (a number), got " + java.util.Arrays.toString(args)
                    + "; java -jar aioco-agent.jar dump --help shows the usage");
            return 2;
        }
        return run(args[0], out, System.err);
    }

    /**
     * The caller's side.
     *
     * @param pid the target JVM's process id
     * @param out where the dump goes
     * @param err where errors go
     * @return the exit status: 0, or 1 when the dump could not be taken
     */
    static int run(String pid, PrintStream out, PrintStream err) {
        Path file = null;
        Path failure = null;
        try {
            Path jar = Path.of(AiocoAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            file = Files.createTempFile("aioco-dump-" + pid + "-", ".txt");
            failure = failureFile(file);
            Files.deleteIfExists(failure);
            Files.createFile(failure);
            VirtualMachine vm = VirtualMachine.attach(pid);
            try {
                vm.loadAgent(jar.toString(), DUMP_TO + file);
            } catch (com.sun.tools.attach.AgentInitializationException e) {
                // NOTE: the JDK passes back no text of the target's exception, only "failed to initialize":
                // the target wrote it to the failure file
                String why = Files.readString(failure, StandardCharsets.UTF_8).strip();
                if (why.isEmpty()) {
                    throw e;
                }
                err.println("aioco dump " + pid + ": " + TARGET_FAILED + why);
                return 1;
            } finally {
                vm.detach();
            }
            if (Files.size(file) == 0) {
                // NOTE: the target's writeDump leaves the file empty when no aioco runtime is loaded there;
                // a target in another mount namespace (a container) writes a file of its own, not ours
                err.println("aioco dump " + pid + ": " + NO_RUNTIME + file + NO_RUNTIME_END);
                return 1;
            }
            Files.copy(file, out); // NOTE: streamed, never read whole (a dump of 100k coroutines is ~30 MB)
            out.flush();
            return 0;
        } catch (URISyntaxException | java.io.IOException | com.sun.tools.attach.AttachNotSupportedException
                | com.sun.tools.attach.AgentLoadException | com.sun.tools.attach.AgentInitializationException
                | RuntimeException e) {
            err.println("aioco dump " + pid + ": " + e);
            return 1;
        } finally {
            for (Path temporary : new Path[] {file, failure}) {
                if (temporary != null) {
                    try {
                        Files.deleteIfExists(temporary);
                    } catch (java.io.IOException ignored) {
                        // NOTE: a temporary file left behind is no reason to fail
                    }
                }
            }
        }
    }

    /**
     * What the caller says when the target wrote nothing (exit status 1), before and after the file's
     * name: no runtime there, or a target that could not write the caller's file.
     */
    static final String NO_RUNTIME = "the dump is empty: no aioco runtime (io.aioco.Coroutine) is loaded in that JVM,"
            + " or the JVM could not write the file ";
    static final String NO_RUNTIME_END = " (it runs in another mount namespace, a container, or as another user)";

    /** What the caller says before the target's own exception when the target's side failed (exit status 1). */
    static final String TARGET_FAILED = "the dump failed in that JVM: ";

    /** @return the file next to the dump's where the target writes why its side failed (the caller creates it) */
    static Path failureFile(Path dump) {
        return dump.resolveSibling(dump.getFileName() + ".failed");
    }

    /**
     * The target's side, from {@code agentmain}: {@link #writeDump}, and when it fails, the failure's
     * text (its exception with its stack) written to {@link #failureFile} for the caller, since the
     * Attach API passes back no text of it; then the failure is rethrown (the load fails).
     */
    static void dumpInTarget(Path file, Instrumentation instrumentation) {
        try {
            writeDump(file, instrumentation);
        } catch (RuntimeException | Error e) {
            java.io.StringWriter text = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(text));
            try {
                Files.writeString(failureFile(file), text.toString(), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException ignored) {
                // NOTE: the caller then reports the Attach API's own words
            }
            throw e;
        }
    }

    /**
     * The target's side, from {@code agentmain}: writes the dump of every copy of the aioco runtime
     * loaded in this JVM (normally one) to {@code file}, streamed through a buffered writer (the dump
     * is never held whole in the target); a JVM without it leaves the file empty, which the caller
     * reports (exit status 1).
     *
     * @throws RuntimeException when the file cannot be written (the caller's load fails with it)
     */
    static void writeDump(Path file, Instrumentation instrumentation) {
        // NOTE: what cannot be encoded (an unpaired surrogate in some text the dump does not quote) is replaced,
        // not a failure of the whole dump
        java.nio.charset.CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE);
        try (Writer out = new java.io.BufferedWriter(new java.io.OutputStreamWriter(Files.newOutputStream(file), utf8))) {
            java.util.List<Class<?>> copies = new java.util.ArrayList<>();
            for (Class<?> loaded : instrumentation.getAllLoadedClasses()) {
                if (loaded.getName().equals("io.aioco.Coroutine")) {
                    copies.add(loaded);
                }
            }
            for (int i = 0; i < copies.size(); i++) {
                Class<?> loaded = copies.get(i);
                if (copies.size() > 1) {
                    // NOTE: each copy has its own contexts and coroutines (both may say AioContext-1): which is which
                    out.append(COPY).append(Integer.toString(i + 1)).append(" of ").append(Integer.toString(copies.size()))
                            .append(COPY_LOADED_BY).append(loaderName(loaded.getClassLoader())).append(COPY_END);
                }
                try {
                    Method dump = loaded.getMethod("dump", Appendable.class);
                    dump.invoke(null, out);
                } catch (InvocationTargetException e) {
                    if (e.getCause() instanceof IOException written) {
                        throw written;
                    }
                    cannotDump(out, loaded, e.getCause());
                } catch (ReflectiveOperationException | RuntimeException e) {
                    cannotDump(out, loaded, e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the coroutine dump to " + file, e);
        }
    }

    /** The header of each copy's dump when the target has several copies of the runtime: before, between, after. */
    static final String COPY = "=== aioco runtime ";
    static final String COPY_LOADED_BY = ", loaded by ";
    static final String COPY_END = " ===\n";

    /** @return a class loader as the header names it: its name (quoted, escaped) if it has one, its class and identity */
    static String loaderName(ClassLoader loader) {
        if (loader == null) {
            return "the bootstrap class loader";
        }
        String id = loader.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(loader));
        if (loader.getName() == null) {
            return id;
        }
        StringBuilder name = new StringBuilder("\"");
        for (char c : loader.getName().toCharArray()) {
            if (c == '"' || c == '\\') {
                name.append('\\').append(c);
            } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || Character.isSurrogate(c) || c == '\u2028' || c == '\u2029'
                    || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')) {
                name.append(String.format("\\u%04x", (int) c));
            } else {
                name.append(c);
            }
        }
        return name.append("\" (").append(id).append(')').toString();
    }

    private static void cannotDump(Writer out, Class<?> loaded, Throwable why) throws IOException {
        out.append("aioco: cannot dump the coroutines of ").append(loaded.toString()).append(" (loaded by ")
                .append(String.valueOf(loaded.getClassLoader())).append("): ").append(String.valueOf(why)).append('\n');
    }
}
