package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jdi.Bootstrap;
import com.sun.jdi.Field;
import com.sun.jdi.IntegerValue;
import com.sun.jdi.InternalException;
import com.sun.jdi.LocalVariable;
import com.sun.jdi.Location;
import com.sun.jdi.LongValue;
import com.sun.jdi.ReferenceType;
import com.sun.jdi.StackFrame;
import com.sun.jdi.StringReference;
import com.sun.jdi.ThreadReference;
import com.sun.jdi.Value;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.AttachingConnector;
import com.sun.jdi.connect.Connector;
import com.sun.jdi.event.BreakpointEvent;
import com.sun.jdi.event.ClassPrepareEvent;
import com.sun.jdi.event.Event;
import com.sun.jdi.event.EventSet;
import com.sun.jdi.event.StepEvent;
import com.sun.jdi.event.VMDeathEvent;
import com.sun.jdi.event.VMDisconnectEvent;
import com.sun.jdi.request.BreakpointRequest;
import com.sun.jdi.request.ClassPrepareRequest;
import com.sun.jdi.request.EventRequest;
import com.sun.jdi.request.StepRequest;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A debugger (JDI, over JDWP) on a JVM running {@code coverage.fixture.Main} under the aioco agent:
 * a breakpoint on a line of {@code Account.charge} after its suspension point is hit after the
 * resume (the second {@code enter}); the frame shows the method's live locals by name with the
 * values they had before the suspension; a step over goes to the next source line; the stack
 * names only the source's lines. The events are the signals between the test and the debuggee:
 * every wait is for the next event, bounded, never a sleep. What a debugger shows differently
 * (the bodies' signatures, dead locals after a resume) is in the README, "Under a debugger", and
 * asserted here.
 *
 * <p>Runs in the suite's agent run only: the child JVM does not depend on how this JVM was woven.
 */
class DebuggerUnderAgentTest {
    private static final long EVENT_TIMEOUT_MS = 15_000;
    /** What {@link #locals} maps a variable to that the debugger cannot read (JDWP's INVALID_SLOT). */
    private static final Value UNREADABLE = new Value() {
        @Override
        public VirtualMachine virtualMachine() {
            throw new UnsupportedOperationException();
        }

        @Override
        public com.sun.jdi.Type type() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String toString() {
            return "(unreadable: INVALID_SLOT)";
        }
    };

    @Test
    void aBreakpointAfterTheSuspensionShowsTheLocalsOfBeforeItAndSteps() throws Exception {
        assertEquals("agent", System.getProperty("aioco.mode"),
                "runs in the agent run only: test-suite/pom.xml leaves it out of the woven run");
        int afterLine = FixtureSource.line("Account.java", "after");
        int storeLine = FixtureSource.line("Account.java", "store");
        try (Debuggee debuggee = Debuggee.start()) {
            VirtualMachine vm = debuggee.vm;
            debuggee.breakAt(afterLine);
            BreakpointEvent hit = next(vm, BreakpointEvent.class);
            ThreadReference thread = hit.thread();
            assertEquals(2, debuggee.enters(), "hit in the second enter: after the resume");
            StackFrame frame = thread.frame(0);
            assertEquals(afterLine, frame.location().lineNumber());
            assertEquals("charge", frame.location().method().name());
            // the frame is the resumable body's: its signature has the coroutine's stack and signal
            assertEquals("(JLjava/lang/String;Lio/aioco/internal/CoStack;I)J", frame.location().method().signature());

            Map<String, Value> locals = locals(frame);
            assertEquals(30, ((LongValue) locals.get("amount")).value());
            assertEquals(100, ((LongValue) locals.get("before")).value());
            assertEquals("order-7:30", ((StringReference) locals.get("label")).value());
            assertFalse(locals.containsKey("after"), "not yet in scope: " + locals.keySet());
            // reference is not read after the yield: dead, not saved, it shows the resume's dummy (README)
            assertTrue(locals.containsKey("reference"), locals.keySet().toString());
            assertEquals(null, locals.get("reference"), "a dead local after a resume: the README says it shows null");
            // attempts is not read after the yield either: dead, not saved, and its slot holds no
            // value on the resume's path, so the JVM refuses to read it (README)
            assertTrue(locals.containsKey("attempts"), locals.keySet().toString());
            assertEquals(UNREADABLE, locals.get("attempts"), "a dead local after a resume: the README says it is unreadable");
            assertEquals("coverage.fixture.Account", frame.thisObject().referenceType().name());

            assertOnlySourceLines(thread, afterLine);

            StepRequest step = vm.eventRequestManager().createStepRequest(thread, StepRequest.STEP_LINE, StepRequest.STEP_OVER);
            step.addCountFilter(1);
            step.enable();
            vm.resume();
            StepEvent stepped = next(vm, StepEvent.class);
            vm.eventRequestManager().deleteEventRequest(step);
            StackFrame next = stepped.thread().frame(0);
            assertEquals(storeLine, next.location().lineNumber(), "a step over goes to the next source line");
            assertEquals(70, ((LongValue) locals(next).get("after")).value());
            assertEquals(100, ((LongValue) locals(next).get("before")).value());
            assertOnlySourceLines(stepped.thread(), storeLine);

            debuggee.runToEnd();
        }
    }

    @Test
    void aStepOverASuspensionPointThatSuspendsLeavesTheMethod() throws Exception {
        assertEquals("agent", System.getProperty("aioco.mode"),
                "runs in the agent run only: test-suite/pom.xml leaves it out of the woven run");
        int yieldLine = FixtureSource.line("Account.java", "yield");
        try (Debuggee debuggee = Debuggee.start()) {
            VirtualMachine vm = debuggee.vm;
            debuggee.breakAt(yieldLine);
            BreakpointEvent hit = next(vm, BreakpointEvent.class);
            assertEquals(1, debuggee.enters(), "hit in the first enter, before the suspension");
            assertEquals(yieldLine, hit.thread().frame(0).location().lineNumber());
            vm.eventRequestManager().deleteAllBreakpoints();

            StepRequest step = vm.eventRequestManager().createStepRequest(hit.thread(), StepRequest.STEP_LINE, StepRequest.STEP_OVER);
            // NOTE: as IDEs' default step filters do (java.*): the JDK's method-handle frames of the
            // virtual call's inline cache, between the caller and the fresh body, have no source;
            // and aioco's linker, through which the site's first call for a receiver class goes
            // (README, "Under a debugger")
            step.addClassExclusionFilter("java.lang.invoke.*");
            step.addClassExclusionFilter("io.aioco.internal.*");
            step.addCountFilter(1);
            step.enable();
            vm.resume();
            StepEvent stepped = next(vm, StepEvent.class);
            vm.eventRequestManager().deleteEventRequest(step);
            // the yield suspends: the body saves its frame (on the yield's line) and returns; the
            // step ends in the caller's frame (README), not on a line of the body that did not run
            // (before the fix: the method's last line). The lambda called charge through the inline
            // cache of its virtual call, straight into charge's fresh body (before it: through the
            // wrapper, where the step ended, at the method's first line): the caller is the lambda,
            // at the call's line
            Location at = stepped.thread().frame(0).location();
            assertEquals("lambda$main$0:" + FixtureSource.line("Main.java", "lambda"),
                    at.method().name() + ":" + at.lineNumber());
            assertEquals(1, debuggee.enters(), "still the first enter");

            // to stop after the resume: a breakpoint on the next line
            debuggee.breakAt(FixtureSource.line("Account.java", "after"));
            BreakpointEvent resumed = next(vm, BreakpointEvent.class);
            assertEquals(2, debuggee.enters(), "hit in the second enter: after the resume");
            assertEquals(100, ((LongValue) locals(resumed.thread().frame(0)).get("before")).value());
            debuggee.runToEnd();
        }
    }

    /** A JVM running the fixture under the agent and JDWP, attached, stopped before main. */
    private static final class Debuggee implements AutoCloseable {
        final Process process;
        final VirtualMachine vm;
        /** What the debuggee printed (the drain thread appends to it, under its lock). */
        final StringBuilder output;
        final Thread drain;
        ReferenceType account;

        private Debuggee(Process process, VirtualMachine vm, StringBuilder output, Thread drain) {
            this.process = process;
            this.vm = vm;
            this.output = output;
            this.drain = drain;
        }

        static Debuggee start() throws Exception {
            Process process = new ProcessBuilder(ChildJvm.command(
                    "-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,address=127.0.0.1:0",
                    ChildJvm.agent("cache=off"),
                    "-cp", FixtureSource.originalClasses() + File.pathSeparator + ChildJvm.runtime(),
                    "coverage.fixture.Main")).redirectErrorStream(true).start();
            try {
                BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                String listening = reader.readLine();
                Matcher port = Pattern.compile("Listening for transport dt_socket at address: (\\d+)").matcher(String.valueOf(listening));
                assertTrue(port.find(), "no JDWP address: " + listening);
                StringBuilder output = new StringBuilder();
                Thread drain = new Thread(() -> reader.lines().forEach(line -> {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                }));
                drain.setDaemon(true);
                drain.start();
                return new Debuggee(process, attach(port.group(1)), output, drain);
            } catch (Throwable e) {
                process.destroyForcibly();
                throw e;
            }
        }

        /** Runs to the preparation of Account, sets a breakpoint on each location of {@code line}, runs on. */
        void breakAt(int line) throws Exception {
            if (account == null) {
                ClassPrepareRequest prepare = vm.eventRequestManager().createClassPrepareRequest();
                prepare.addClassFilter("coverage.fixture.Account");
                prepare.enable();
                vm.resume();
                account = next(vm, ClassPrepareEvent.class).referenceType();
            }
            List<Location> locations = account.locationsOfLine(line);
            assertFalse(locations.isEmpty(), "no code at Account.java:" + line);
            for (Location location : locations) {
                BreakpointRequest breakpoint = vm.eventRequestManager().createBreakpointRequest(location);
                breakpoint.setSuspendPolicy(EventRequest.SUSPEND_EVENT_THREAD);
                breakpoint.enable();
            }
            vm.resume();
        }

        /** @return how many times Main entered the coroutine so far */
        int enters() {
            ReferenceType main = vm.classesByName("coverage.fixture.Main").get(0);
            Field enters = main.fieldByName("enters");
            return ((IntegerValue) main.getValue(enters)).value();
        }

        /** Clears the breakpoints, lets the debuggee run to its end and checks its output. */
        void runToEnd() throws InterruptedException {
            vm.eventRequestManager().deleteAllBreakpoints();
            vm.resume();
            assertTrue(process.waitFor(EVENT_TIMEOUT_MS, TimeUnit.MILLISECONDS), "the debuggee did not end");
            drain.join(EVENT_TIMEOUT_MS);
            synchronized (output) {
                assertTrue(output.toString().contains("enters=2 result=70 trace=order-7:30=70"), output.toString());
                assertEquals(0, process.exitValue(), output.toString());
            }
        }

        @Override
        public void close() {
            try {
                vm.dispose();
            } catch (RuntimeException alreadyGone) {
                // the debuggee ended: nothing to release
            }
            process.destroyForcibly();
        }
    }

    private static VirtualMachine attach(String port) throws Exception {
        for (AttachingConnector connector : Bootstrap.virtualMachineManager().attachingConnectors()) {
            if (connector.name().equals("com.sun.jdi.SocketAttach")) {
                Map<String, Connector.Argument> arguments = connector.defaultArguments();
                arguments.get("hostname").setValue("127.0.0.1");
                arguments.get("port").setValue(port);
                return connector.attach(arguments);
            }
        }
        throw new AssertionError("no com.sun.jdi.SocketAttach connector");
    }

    /** @return the next event of the debuggee, which must be of this type (the others are failures) */
    private static <E extends Event> E next(VirtualMachine vm, Class<E> type) throws InterruptedException {
        while (true) {
            EventSet events = vm.eventQueue().remove(EVENT_TIMEOUT_MS);
            assertNotNull(events, "no " + type.getSimpleName() + " within " + EVENT_TIMEOUT_MS + " ms");
            for (Event event : events) {
                if (type.isInstance(event)) {
                    return type.cast(event);
                }
                if (event instanceof VMDeathEvent || event instanceof VMDisconnectEvent) {
                    throw new AssertionError("the debuggee ended before a " + type.getSimpleName());
                }
            }
            events.resume(); // VMStartEvent and the like
        }
    }

    private static Map<String, Value> locals(StackFrame frame) throws Exception {
        Map<String, Value> values = new HashMap<>();
        for (LocalVariable variable : frame.visibleVariables()) {
            try {
                values.put(variable.name(), frame.getValue(variable));
            } catch (InternalException e) {
                // JDWP error 35 (INVALID_SLOT): the JVM sees no value in the slot at this point
                assertTrue(e.getMessage().contains("JDWP Error: 35"), e.toString());
                values.put(variable.name(), UNREADABLE);
            }
        }
        return values;
    }

    /**
     * Every frame of the fixture's classes names a line of its source file: the charge at
     * {@code line}, the lambda's call of it, {@code main}'s {@code enter}; no line the source does
     * not have, no frame without a line.
     */
    private static void assertOnlySourceLines(ThreadReference thread, int line) throws Exception {
        List<String> fixtureFrames = new ArrayList<>();
        for (StackFrame frame : thread.frames()) {
            Location location = frame.location();
            String type = location.declaringType().name();
            if (type.startsWith("coverage.fixture.") && !type.contains("$$Lambda")) { // (a lambda proxy has no source)
                fixtureFrames.add(location.sourceName() + ":" + location.lineNumber() + " " + location.method().name());
            }
        }
        // a coroutine function entered through its wrapper (a virtual call, the lambda proxy's call)
        // has two frames: the body at the current line, the wrapper at the method's first line (README)
        String lambda = "Main.java:" + FixtureSource.line("Main.java", "lambda") + " lambda$main$0";
        assertEquals(List.of("Account.java:" + line + " charge",
                "Account.java:" + FixtureSource.line("Account.java", "before") + " charge",
                lambda, lambda,
                "Main.java:" + FixtureSource.line("Main.java", "enter") + " main"), fixtureFrames);
    }
}
