package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Issue 14, "one rule, in one place": reads every class file of the runtime and checks each
 * {@link CoroutineFn} method with a body against the protocol of {@link CoFrame}:
 * <ol>
 *   <li>it goes through CoFrame ({@code enter} and {@code arrive});
 *   <li>it touches none of {@code CoStack}'s protocol itself (signal, arrive, suspend, the frame
 *       slots, tokens): only CoFrame does;
 *   <li>if it suspends ({@code CoFrame.suspend}), neither it nor a method of its own class that it
 *       calls publishes a wake-up (waking a coroutine or a wait, scheduling, a timer, an fd handler,
 *       a completion callback, a pool submission, a waiter-list entry, a lock release): that
 *       belongs in its {@link CoWait}'s {@code publish()}, which runs after the yield.
 * </ol>
 * The checker is also run on {@link ProtocolFixtures}, whose functions break rules 2 and 3: it must
 * report them, so it cannot pass by checking nothing.
 */
class CoroutineFnProtocolTest {
    private static final String FRAME = "io/aioco/CoFrame";
    private static final String CO_STACK = "io/aioco/internal/CoStack";
    private static final String MARKER = Type.getDescriptor(CoroutineFn.class);
    /** The hand-written coroutine functions that are entries, not waiting functions: they only forward. */
    private static final Set<String> EXEMPT = Set.of("io/aioco/SpawnEntry.run()V",
            "io/aioco/internal/kit/MethodEntry.run()V");
    /** CoStack members that only CoFrame may use (prologue and errors included). */
    private static final Set<String> PROTOCOL = Set.of("enter", "arrive", "suspend", "token", "signal", "pushRef",
            "popRef", "pushInt", "popInt", "pushLong", "popLong", "crossedUninstrumented", "corrupt");
    /** Calls that make a wake-up visible to other threads: owner (or any owner, "*") and name. */
    private static final Map<String, Set<String>> PUBLISHING = Map.of(
            "io/aioco/Coroutine", Set.of("wake", "enterFromContext"),
            "io/aioco/CoWait", Set.of("wake", "complete", "completeInline"),
            "io/aioco/AioContext", Set.of("coSchedule", "coEnter", "pushScheduled", "setFdHandler", "newTimer",
                    "scheduleOneshot", "setEventNotifier"),
            "io/aioco/Timer", Set.of("modNs", "modAnticipateNs"),
            "io/aioco/ThreadPool", Set.of("submitAio", "submit", "execute"),
            "io/aioco/WaiterList", Set.of("add"),
            "io/aioco/CoMutex", Set.of("release"),
            "*", Set.of("whenComplete", "whenCompleteAsync", "thenAccept", "thenRun", "handle"));

    @Test
    void everyCoroutineFunctionOfTheRuntimeFollowsTheProtocol() throws Exception {
        Path root = classesRoot(CoFrame.class);
        List<ClassNode> classes = readAll(root);
        List<String> checked = new ArrayList<>();
        List<String> problems = check(classes, checked);
        assertEquals(List.of(), problems);
        // the sixteen coroutine functions of the runtime (and whatever is added), found and checked
        assertTrue(checked.containsAll(List.of("io/aioco/Coroutine.yield()V", "io/aioco/Coroutine.sleepNs",
                "io/aioco/Coroutine.yieldUntilReadable", "io/aioco/Coroutine.await", "io/aioco/CoMutex.lock()V",
                "io/aioco/CoMutex.unlock()V", "io/aioco/CoQueue.await", "io/aioco/CoQueue.next()Z",
                "io/aioco/CoQueue.restartAll()V", "io/aioco/CoRwLock.rdlock()V", "io/aioco/CoRwLock.wrlock()V",
                "io/aioco/CoRwLock.upgrade()V", "io/aioco/CoRwLock.downgrade()V", "io/aioco/CoRwLock.unlock()V",
                "io/aioco/ThreadPool.submitCo", "io/aioco/CoSleep.sleepNs", "io/aioco/Coroutine.withTimeoutNs",
                "io/aioco/Coroutine.yieldUntilWritable")
                .stream().map(name -> checked.stream()
                        .filter(c -> c.startsWith(name)).findFirst().orElse("missing " + name)).toList()),
                "checked: " + checked);
    }

    @Test
    void theCheckReportsAPublicationBeforeTheYieldAndAHandWrittenProtocol() throws Exception {
        ClassNode fixtures = read(ProtocolFixtures.class);
        List<String> problems = check(List.of(fixtures), new ArrayList<>());
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("handWritesTheProtocol") && problems.get(0).contains("CoFrame.enter"),
                problems.toString());
        assertTrue(problems.get(1).contains("handWritesTheProtocol") && problems.get(1).contains("(CoStack)"),
                problems.toString());
        assertTrue(problems.get(2).contains("publishesBeforeTheYield") && problems.get(2).contains("WaiterList.add"),
                problems.toString());
    }

    private static List<String> check(List<ClassNode> classes, List<String> checked) {
        Map<String, ClassNode> byName = new HashMap<>();
        classes.forEach(c -> byName.put(c.name, c));
        Set<String> waitClasses = new HashSet<>();
        for (ClassNode c : classes) {
            if (extendsWait(c, byName)) {
                waitClasses.add(c.name);
            }
        }
        TreeSet<String> problems = new TreeSet<>();
        for (ClassNode c : classes) {
            if (c.name.equals(FRAME) || c.name.equals(CO_STACK)) {
                continue;
            }
            for (MethodNode m : c.methods) {
                String id = c.name + "." + m.name + m.desc;
                if (!isMarked(m) || m.instructions.size() == 0 || EXEMPT.contains(id)) {
                    continue;
                }
                checked.add(id);
                if (!calls(m, FRAME, "enter") || !calls(m, FRAME, "arrive")) {
                    problems.add(id + " does not go through CoFrame.enter and CoFrame.arrive");
                }
                for (AbstractInsnNode insn : m.instructions) {
                    if (insn instanceof MethodInsnNode call && call.owner.equals(CO_STACK) && PROTOCOL.contains(call.name)
                            || insn instanceof FieldInsnNode field && field.owner.equals(CO_STACK)
                                    && PROTOCOL.contains(field.name)) {
                        problems.add(id + " hand-writes the protocol (CoStack) instead of using CoFrame");
                        break;
                    }
                }
                if (calls(m, FRAME, "suspend")) {
                    String publication = publicationReachable(c, m, byName, waitClasses);
                    if (publication != null) {
                        problems.add(id + " suspends and publishes a wake-up itself (" + publication
                                + "): that belongs in its CoWait's publish(), after the yield");
                    }
                }
            }
        }
        return new ArrayList<>(problems);
    }

    /** A publishing call made by {@code m} or by a method of its own class it calls (not a CoWait's). */
    private static String publicationReachable(ClassNode owner, MethodNode m, Map<String, ClassNode> byName,
            Set<String> waitClasses) {
        ArrayDeque<MethodNode> work = new ArrayDeque<>(List.of(m));
        Set<MethodNode> seen = new HashSet<>(work);
        while (!work.isEmpty()) {
            for (AbstractInsnNode insn : work.poll().instructions) {
                if (!(insn instanceof MethodInsnNode call)) {
                    continue;
                }
                Set<String> names = PUBLISHING.getOrDefault(call.owner, Set.of());
                if (names.contains(call.name) || PUBLISHING.get("*").contains(call.name)) {
                    return call.owner.substring(call.owner.lastIndexOf('/') + 1) + "." + call.name;
                }
                ClassNode target = byName.get(call.owner);
                if (target != null && !waitClasses.contains(target.name) && sameNest(owner, target)) {
                    for (MethodNode callee : target.methods) {
                        if (callee.name.equals(call.name) && callee.desc.equals(call.desc) && seen.add(callee)) {
                            work.add(callee);
                        }
                    }
                }
            }
        }
        return null;
    }

    private static boolean sameNest(ClassNode a, ClassNode b) {
        return topLevel(a.name).equals(topLevel(b.name));
    }

    private static String topLevel(String name) {
        int dollar = name.indexOf('$');
        return dollar < 0 ? name : name.substring(0, dollar);
    }

    private static boolean extendsWait(ClassNode c, Map<String, ClassNode> byName) {
        for (String name = c.superName; name != null; ) {
            if (name.equals("io/aioco/CoWait")) {
                return true;
            }
            ClassNode parent = byName.get(name);
            name = parent == null ? null : parent.superName;
        }
        return false;
    }

    private static boolean calls(MethodNode m, String owner, String name) {
        for (AbstractInsnNode insn : m.instructions) {
            if (insn instanceof MethodInsnNode call && call.owner.equals(owner) && call.name.equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isMarked(MethodNode m) {
        return m.visibleAnnotations != null
                && m.visibleAnnotations.stream().map((AnnotationNode a) -> a.desc).anyMatch(MARKER::equals);
    }

    private static Path classesRoot(Class<?> anchor) throws URISyntaxException {
        return Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<ClassNode> readAll(Path root) throws IOException {
        List<ClassNode> classes = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("io/aioco"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                ClassNode node = new ClassNode();
                new ClassReader(Files.readAllBytes(file)).accept(node, ClassReader.SKIP_FRAMES);
                classes.add(node);
            }
        }
        assertTrue(classes.size() > 30, "runtime classes found under " + root + ": " + classes.size());
        return classes;
    }

    private static ClassNode read(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            ClassNode node = new ClassNode();
            new ClassReader(in.readAllBytes()).accept(node, ClassReader.SKIP_FRAMES);
            return node;
        }
    }
}
