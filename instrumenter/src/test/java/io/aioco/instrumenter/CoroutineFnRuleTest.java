package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The build-time check of QEMU's coroutine_fn rule: {@link Instrumenter#checkCoroutineFnRule(byte[])}. */
class CoroutineFnRuleTest {

    /** Compiles {@code t.Name} and checks it; each finding as "SEVERITY formatted". */
    private static List<String> check(String className, String body) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t." + className, Fixtures.HEADER + body);
        Map<String, byte[]> classes = TestCompiler.compile(sources);
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(CoroutineFnRuleTest.class.getClassLoader())));
        return classes.keySet().stream().sorted()
                .flatMap(name -> instrumenter.checkCoroutineFnRule(classes.get(name)).stream())
                .map(Diagnostic::toString)
                .toList();
    }

    @Test
    void callFromPlainMethodIsAnErrorAtItsLine() {
        List<String> findings = check("Plain", """
                public class Plain {
                    @CoroutineFn static void suspends() { Coroutine.yield(); }
                    static void plain() {
                        int x = 1;
                        suspends();
                    }
                }
                """);
        assertEquals(List.of("ERROR t/Plain.java:9: t.Plain.plain()V: call to coroutine function t.Plain.suspends()V"
                + " from a method that is not a coroutine function; mark this method @CoroutineFn (its callers must"
                + " then be coroutine functions too), or run the call in a coroutine"
                + " (Coroutine.create(() -> ...).enter())"), findings);
    }

    @Test
    void everyViolationIsListedNotJustTheFirst() {
        List<String> findings = check("Many", """
                public class Many {
                    @CoroutineFn void co() { }
                    void a() { co(); }
                    void b() { Coroutine.yield(); co(); }
                }
                """);
        assertEquals(3, findings.size(), findings.toString());
        assertEquals(List.of(7, 8, 8), findings.stream().map(f -> Integer.parseInt(f.split(":")[1])).toList());
    }

    @Test
    void coroutineFunctionsAndCoroutineLambdasMayCallCoroutineFunctions() {
        assertEquals(List.of(), check("Fine", """
                public class Fine {
                    @CoroutineFn static void co() { Coroutine.yield(); }
                    @CoroutineFn static void caller() { co(); }
                    static Coroutine start() {
                        CoroutineEntry ref = Fine::co;
                        return Coroutine.create(() -> { co(); caller(); });
                    }
                }
                """));
    }

    @Test
    void constructorsStaticInitializersAndPlainLambdasAreNamed() {
        List<String> findings = check("Where", """
                public class Where {
                    static { Coroutine.yield(); }
                    Where() { Coroutine.yield(); }
                    static Runnable r = () -> Coroutine.yield();
                }
                """);
        assertEquals(3, findings.size(), findings.toString());
        assertContains(findings, "t.Where.<clinit>()V: call to coroutine function io.aioco.Coroutine.yield()V"
                + " from a static initializer, which cannot be a coroutine function; move the call");
        assertContains(findings, "t.Where.<init>()V: call to coroutine function io.aioco.Coroutine.yield()V"
                + " from a constructor, which cannot be a coroutine function");
        assertContains(findings, "t/Where.java:8: t.Where.lambda$static$0()V: call to coroutine function"
                + " io.aioco.Coroutine.yield()V from a lambda whose functional interface method is not a"
                + " coroutine function; make the lambda a CoroutineEntry");
    }

    @Test
    void methodReferenceToACoroutineFunctionAsAPlainInterfaceIsAnError() {
        List<String> findings = check("Ref", """
                public class Ref {
                    @CoroutineFn void co() { }
                    Runnable plain() {
                        return this::co;
                    }
                }
                """);
        assertEquals(List.of("ERROR t/Ref.java:8: t.Ref.plain()Ljava/lang/Runnable;: method reference to coroutine"
                + " function t.Ref.co()V as a java.lang.Runnable, whose method run is not a coroutine function;"
                + " use a CoroutineEntry (or another interface whose method is @CoroutineFn)"), findings);
    }

    @Test
    void overrideWithoutMarkerIsAWarningNamingTheMarkedMethod() {
        List<String> findings = check("Impl", """
                public class Impl implements CoroutineEntry {
                    public void run() { Coroutine.yield(); }
                    interface Source<T> { @CoroutineFn T next(); }
                    static class Strings implements Source<String> {
                        public String next() { return "x"; }
                    }
                    interface Redeclared extends CoroutineEntry { void run(); }
                    static class Marked implements CoroutineEntry { @CoroutineFn public void run() { } }
                }
                """);
        assertEquals(List.of(
                "WARNING t/Impl.java:6: t.Impl.run()V: overrides coroutine function io.aioco.CoroutineEntry.run()V"
                        + " without @CoroutineFn: it is instrumented as a coroutine function all the same (the marker"
                        + " is inherited); add @CoroutineFn so that readers and callers see it",
                "WARNING t/Impl.java: t.Impl$Redeclared.run()V: overrides coroutine function"
                        + " io.aioco.CoroutineEntry.run()V without @CoroutineFn: it is instrumented as a coroutine"
                        + " function all the same (the marker is inherited); add @CoroutineFn so that readers and"
                        + " callers see it",
                "WARNING t/Impl.java:9: t.Impl$Strings.next()Ljava/lang/String;: overrides coroutine function"
                        + " t.Impl$Source.next()Ljava/lang/Object; without @CoroutineFn: it is instrumented as a"
                        + " coroutine function all the same (the marker is inherited); add @CoroutineFn so that"
                        + " readers and callers see it"), findings);
    }

    @Test
    void coroutineFunctionOverridingAPlainMethodIsAWarning() {
        List<String> findings = check("Task", """
                public class Task implements Runnable {
                    @CoroutineFn public void run() { Coroutine.yield(); }
                }
                """);
        assertEquals(List.of("WARNING t/Task.java:6: t.Task.run()V: coroutine function overrides"
                + " java.lang.Runnable.run()V, which is not one: a call through java.lang.Runnable bypasses the"
                + " coroutine protocol and throws if this method suspends; mark the overridden method @CoroutineFn,"
                + " or do not override it"), findings);
    }

    @Test
    void aPrivateOrStaticCoroutineFunctionPassesNoMarkerToAMethodOfTheSameNameInASubtype() {
        List<String> findings = check("Hidden", """
                public class Hidden {
                    static class Base {
                        @CoroutineFn private void step() { Coroutine.yield(); }
                        @CoroutineFn static void tick() { Coroutine.yield(); }
                        @CoroutineFn static void tock() { Coroutine.yield(); }
                    }
                    interface Ticks { @CoroutineFn static void tick() { Coroutine.yield(); } }
                    static class Sub extends Base implements Ticks {
                        void step() { }
                        static void tick() { }
                    }
                    static void plain(Sub sub) {
                        sub.step();
                        Sub.tick();
                        Sub.tock();
                    }
                }
                """);
        // Sub.step overrides nothing (Base.step is private) and Sub.tick hides Base.tick (static):
        // neither is a coroutine function; Sub.tock resolves to Base.tock, which is one
        assertEquals(List.of("ERROR t/Hidden.java:19: t.Hidden.plain(Lt/Hidden$Sub;)V: call to coroutine function"
                + " t.Hidden$Sub.tock()V from a method that is not a coroutine function; mark this method @CoroutineFn"
                + " (its callers must then be coroutine functions too), or run the call in a coroutine"
                + " (Coroutine.create(() -> ...).enter())"), findings);
    }

    @Test
    void aMethodHidingAPrivateOrStaticCoroutineFunctionIsLeftAlone() {
        Map<String, byte[]> classes = TestCompiler.compile(Map.of("t.Hiding", Fixtures.HEADER + """
                public class Hiding {
                    @CoroutineFn private void step() { Coroutine.yield(); }
                    @CoroutineFn static void tick() { Coroutine.yield(); }
                    static class Sub extends Hiding {
                        void step() { }
                        static void tick() { }
                    }
                }
                """));
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(CoroutineFnRuleTest.class.getClassLoader())));
        assertEquals(InstrumentationResult.Outcome.UNCHANGED, instrumenter.instrument(classes.get("t/Hiding$Sub")).outcome());
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, instrumenter.instrument(classes.get("t/Hiding")).outcome());
    }

    @Test
    void instrumentedClassesAreNotCheckedAgain() {
        Map<String, String> sources = Map.of("t.Again", Fixtures.HEADER + """
                public class Again {
                    @CoroutineFn static void co() { Coroutine.yield(); }
                    static void plain() { co(); }
                }
                """);
        byte[] compiled = TestCompiler.compile(sources).get("t/Again");
        Instrumenter instrumenter = new Instrumenter(ClassLookup.ofClassLoader(getClass().getClassLoader()));
        assertEquals(1, instrumenter.checkCoroutineFnRule(compiled).size());
        byte[] woven = instrumenter.instrument(compiled).bytes();
        assertEquals(List.of(), instrumenter.checkCoroutineFnRule(woven));
    }

    @Test
    void unreadableClassFileThrowsTheInstrumentationException() {
        Instrumenter instrumenter = new Instrumenter(name -> null);
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0x5a);
        InstrumentationException e = assertThrows(InstrumentationException.class,
                () -> instrumenter.checkCoroutineFnRule(garbage));
        assertEquals(true, e.getMessage().startsWith("cannot read class file: "), e.getMessage());
    }

    private static void assertContains(List<String> findings, String part) {
        assertEquals(true, findings.stream().anyMatch(f -> f.contains(part)), part + " in " + findings);
    }
}
