package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineException;
import io.aioco.CoroutineFn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** API.md's coroutine section, run on classes the agent instrumented (QEMU's test-coroutine.c cases). */
class CoroutineSemanticsTest {
    private final List<String> events = new ArrayList<>();

    @CoroutineFn
    private void yieldTimes(int times) {
        for (int i = 0; i < times; i++) {
            events.add("before " + i);
            Coroutine.yield();
            events.add("after " + i);
        }
    }

    @Test
    void selfIsTheRunningCoroutineAndNullOutside() {
        Coroutine[] seen = new Coroutine[1];
        Coroutine co = Coroutine.create(() -> seen[0] = Coroutine.self());
        assertNull(Coroutine.self());
        assertFalse(Coroutine.inCoroutine());
        co.enter();
        assertSame(co, seen[0]);
        assertTrue(co.isTerminated());
    }

    @Test
    void inCoroutineIsTrueOnlyInside() {
        boolean[] inside = new boolean[1];
        Coroutine.create(() -> inside[0] = Coroutine.inCoroutine()).enter();
        assertTrue(inside[0]);
        assertFalse(Coroutine.inCoroutine());
    }

    @Test
    void yieldReturnsToTheEntererAndEnterResumes() {
        Coroutine co = Coroutine.create(() -> yieldTimes(3));
        int enters = 0;
        while (!co.isTerminated()) {
            co.enter();
            events.add("enter returned");
            enters++;
        }
        assertEquals(4, enters);
        assertEquals(List.of("before 0", "enter returned", "after 0", "before 1", "enter returned", "after 1",
                "before 2", "enter returned", "after 2", "enter returned"), events);
    }

    @Test
    void enteredIsTrueWhileRunningOrOnTheStackOfTheRunningCoroutine() {
        Coroutine[] outer = new Coroutine[1];
        boolean[] observed = new boolean[4];
        Coroutine inner = Coroutine.create(() -> {
            observed[0] = outer[0].entered(); // outer is on the stack: it entered us
            observed[1] = Coroutine.self().entered();
            Coroutine.yield();
        });
        outer[0] = Coroutine.create(() -> {
            inner.enter();
            observed[2] = inner.entered(); // inner yielded back to us
            Coroutine.yield();
        });
        outer[0].enter();
        observed[3] = outer[0].entered();
        assertTrue(observed[0]);
        assertTrue(observed[1]);
        assertFalse(observed[2]);
        assertFalse(observed[3]);
    }

    @Test
    void nestedCoroutinesYieldToTheirOwnEnterer() {
        Coroutine inner = Coroutine.create(() -> {
            events.add("inner 1");
            Coroutine.yield();
            events.add("inner 2");
        });
        Coroutine outer = Coroutine.create(() -> {
            events.add("outer 1");
            inner.enter();
            events.add("outer 2");
            Coroutine.yield();
            events.add("outer 3");
            inner.enter();
            events.add("outer 4");
        });
        outer.enter();
        events.add("main");
        outer.enter();
        assertEquals(List.of("outer 1", "inner 1", "outer 2", "main", "outer 3", "inner 2", "outer 4"), events);
        assertTrue(inner.isTerminated());
        assertTrue(outer.isTerminated());
    }

    @Test
    void enteringARunningCoroutineIsRefused() {
        IllegalStateException[] caught = new IllegalStateException[1];
        Coroutine[] self = new Coroutine[1];
        self[0] = Coroutine.create(() -> {
            try {
                self[0].enter();
            } catch (IllegalStateException e) {
                caught[0] = e;
            }
        });
        self[0].enter();
        assertTrue(caught[0].getMessage().contains("already entered"), caught[0].getMessage());
    }

    @Test
    void enteringACoroutineOnTheStackOfTheRunningOneIsRefused() {
        Coroutine[] outer = new Coroutine[1];
        IllegalStateException[] caught = new IllegalStateException[1];
        Coroutine inner = Coroutine.create(() -> {
            try {
                outer[0].enter();
            } catch (IllegalStateException e) {
                caught[0] = e;
            }
        });
        outer[0] = Coroutine.create(inner::enter);
        outer[0].enter();
        assertTrue(caught[0].getMessage().contains("already entered"));
    }

    @Test
    void enteringATerminatedCoroutineIsRefused() {
        Coroutine co = Coroutine.create(() -> events.add("ran"));
        co.enter();
        IllegalStateException e = assertThrows(IllegalStateException.class, co::enter);
        assertTrue(e.getMessage().contains("terminated"), e.getMessage());
        assertThrows(IllegalStateException.class, co::enterIfInactive);
        assertEquals(List.of("ran"), events);
    }

    @Test
    void enterIfInactiveDoesNothingWhenEntered() {
        Coroutine[] self = new Coroutine[1];
        self[0] = Coroutine.create(() -> {
            events.add("run");
            self[0].enterIfInactive(); // we are running: nothing happens
            Coroutine.yield();
            events.add("resumed");
        });
        self[0].enterIfInactive();
        self[0].enterIfInactive();
        assertEquals(List.of("run", "resumed"), events);
        assertTrue(self[0].isTerminated());
    }

    @Test
    void uncheckedExceptionEscapingTheEntryIsRethrownAsIs() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        Coroutine co = Coroutine.create(() -> {
            Coroutine.yield();
            throw boom;
        });
        co.enter();
        assertSame(boom, assertThrows(IllegalArgumentException.class, co::enter));
        assertTrue(co.isTerminated());
        assertNull(Coroutine.self());
    }

    @Test
    void checkedExceptionEscapingTheEntryIsWrappedInCoroutineException() {
        Coroutine co = Coroutine.create(() -> {
            throw new IOException("disk");
        });
        CoroutineException e = assertThrows(CoroutineException.class, co::enter);
        assertTrue(e.getCause() instanceof IOException);
        assertEquals("disk", e.getCause().getMessage());
        assertTrue(co.isTerminated());
    }

    @Test
    void exceptionInInnerCoroutineReachesTheOuterOnesEnterCall() {
        Coroutine inner = Coroutine.create(() -> {
            throw new IllegalStateException("inner failed");
        });
        Coroutine outer = Coroutine.create(() -> {
            try {
                inner.enter();
            } catch (IllegalStateException e) {
                events.add("outer caught " + e.getMessage());
            }
            assertSame(Coroutine.self(), Coroutine.self());
            events.add("outer still " + (Coroutine.self() != null));
        });
        outer.enter();
        assertEquals(List.of("outer caught inner failed", "outer still true"), events);
    }

    @Test
    void manyCoroutinesInterleaveEachWithItsOwnState() {
        List<Coroutine> all = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        for (int c = 0; c < 5; c++) {
            int id = c;
            all.add(Coroutine.create(() -> {
                for (int i = 0; i < 3; i++) {
                    out.append(id).append(i).append(' ');
                    Coroutine.yield();
                }
            }));
        }
        for (int round = 0; round < 4; round++) {
            for (Coroutine co : all) {
                if (!co.isTerminated()) {
                    co.enter();
                }
            }
        }
        assertEquals("00 10 20 30 40 01 11 21 31 41 02 12 22 32 42 ", out.toString());
        assertTrue(all.stream().allMatch(Coroutine::isTerminated));
    }

    @CoroutineFn
    private static int notInCoroutine() {
        return 1;
    }

    @Test
    void coroutineFunctionOutsideCoroutineThrowsNamingTheMethod() {
        IllegalStateException e = assertThrows(IllegalStateException.class, CoroutineSemanticsTest::notInCoroutine);
        assertTrue(e.getMessage().startsWith("io.aioco.suite.CoroutineSemanticsTest.notInCoroutine()I"), e.getMessage());
        IllegalStateException y = assertThrows(IllegalStateException.class, Coroutine::yield);
        assertTrue(y.getMessage().contains("Coroutine.yield()"), y.getMessage());
    }
}
