package io.aioco.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The frame tables of woven classes: for every suspension point, its state number, method, source
 * file and line, how many slots its frame saves and what it calls. A woven class's static
 * initializer hands its table over ({@link #register}, written by the instrumenter's {@code
 * FrameTable}, which documents the text); a coroutine dump reads them to describe a suspended
 * coroutine's saved frames as a stack trace ({@link #describe}), so running coroutines pay nothing
 * for it. No QEMU counterpart (QEMU's coroutines have real stacks that gdb reads).
 *
 * <p>Not API: only woven code and the runtime's dump call it. Thread-safe: any thread may register
 * or describe; the text is parsed only when a dump needs it, not at class initialization.
 */
public final class CoTables {
    private CoTables() {}

    /** Tables registered and not parsed yet. */
    private static final ConcurrentLinkedQueue<String> PENDING = new ConcurrentLinkedQueue<>();
    /** State number to point; {@link #AMBIGUOUS} when two methods share one (a hash collision). Guarded by the class. */
    private static final Map<Integer, Point> POINTS = new HashMap<>();
    private static final Point AMBIGUOUS = new Point("?", "?", "?", -1, 0, 0, false, "?");

    /**
     * One suspension point.
     *
     * @param className the class, dotted
     * @param method the method's name
     * @param file the source file, or null
     * @param line the source line, or -1
     * @param prims primitive slots its frame saves, the state included
     * @param refs reference slots its frame saves
     * @param runtimeCallee whether it calls a hand-written function of the runtime (the innermost woven frame)
     * @param callee what it calls, {@code Owner.name}, dotted
     */
    record Point(String className, String method, String file, int line, int prims, int refs,
            boolean runtimeCallee, String callee) {
        StackTraceElement stackTraceElement() {
            return new StackTraceElement(className, method, file, line < 0 ? -1 : line);
        }
    }

    /**
     * Called by a woven class's static initializer, before its own code: records its table (parsed
     * later, by the first dump). Cheap: one queue insertion.
     *
     * @param table the text written by the instrumenter
     */
    public static void register(String table) {
        PENDING.add(table);
    }

    private static synchronized Point lookup(int state) {
        for (String table; (table = PENDING.poll()) != null; ) {
            parse(table);
        }
        Point point = POINTS.get(state);
        return point == AMBIGUOUS ? null : point;
    }

    private static void parse(String table) {
        String className = "?";
        String file = null;
        String method = "?";
        int state = 0;
        for (String line : table.split("\n")) {
            String[] f = line.split("\t", -1);
            try {
                switch (f[0]) {
                    case "C" -> {
                        className = f[1];
                        file = f[2].equals("-") ? null : f[2];
                    }
                    case "M" -> {
                        method = f[1];
                        state = Integer.parseInt(f[2]);
                    }
                    case "P" -> {
                        Point point = new Point(className, method, file, Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                                Integer.parseInt(f[3]), f[4].equals("R"), f[5]);
                        Point old = POINTS.putIfAbsent(state, point);
                        if (old != null && !old.equals(point)) {
                            POINTS.put(state, AMBIGUOUS);
                        }
                        state++;
                    }
                    default -> { } // NOTE: a later instrumenter may add entries: skipped
                }
            } catch (RuntimeException malformed) {
                // NOTE: a table this runtime cannot read describes nothing; it never fails a dump
            }
        }
    }

    /** The saved frames of a suspended coroutine, as a dump shows them. */
    public record Frames(List<String> elements, Object innermostSaved, String note) {}

    /** What {@link #walk} found: the frames, outermost first; where the innermost wait is saved; a note. */
    private record Walk(List<StackTraceElement> outermostFirst, int innermostRef, String note) {}

    /** A frame whose state has no table: {@code Owner.name(Unknown Source)}, its name from its caller. */
    private static StackTraceElement unknown(String calledAs) {
        if (calledAs == null) {
            return new StackTraceElement(UNKNOWN, UNKNOWN, null, -1);
        }
        int dot = calledAs.lastIndexOf('.');
        return new StackTraceElement(dot < 0 ? UNKNOWN : calledAs.substring(0, dot), calledAs.substring(dot + 1), null, -1);
    }

    /** The class and method of a frame whose name nothing tells (the outermost frame, without a table). */
    private static final String UNKNOWN = "<unknown>";

    private static StackTraceElement runtimeFrame(String callee) {
        int dot = callee.lastIndexOf('.');
        String runtimeFile = runtimeElement(callee);
        return new StackTraceElement(callee.substring(0, dot), callee.substring(dot + 1),
                runtimeFile.substring(runtimeFile.indexOf('(') + 1, runtimeFile.length() - 1), -1);
    }

    /**
     * Walks saved frames. From the outermost one (its state is the last primitive slot saved)
     * inward, stepping over each frame's slots as its point's table says. A frame whose state has no
     * table (a class woven by an older build, a redefinition the agent did not weave, a hand-written
     * coroutine function) does not say how many slots it saved, so the walk cannot step over it from
     * outside: it is listed as {@code Owner.name(Unknown Source)} (its name is what its caller's
     * table says it calls), and the frames inside it are found from the other end: the innermost
     * frame's slots start at the bottom, and a frame is recognised where a slot holds a state whose
     * table says its frame is exactly that many slots up to it (states are 30-bit hashes, so a saved
     * value that is not a state passes this check with odds near 2^-30 per slot). The frames found
     * so, innermost first, fill the stack up to the unknown frame's own slots.
     *
     * @param outermost the name of the outermost frame's method ({@code Owner.name}) if the
     *     caller knows it, else null
     */
    private static Walk walk(long[] prims, int primTop, int refTop, String outermost) {
        List<StackTraceElement> outermostFirst = new ArrayList<>();
        int p = prims == null ? 0 : Math.min(primTop, prims.length);
        int r = refTop;
        String calledAs = outermost;
        while (p > 0) {
            int state = (int) prims[p - 1];
            Point point = lookup(state);
            if (point == null || point.prims() > p || point.refs() > r) {
                outermostFirst.add(unknown(calledAs));
                List<Point> inner = innerFrames(prims, p - 1, r);
                for (int i = inner.size() - 1; i >= 0; i--) {
                    Point frame = inner.get(i);
                    outermostFirst.add(frame.stackTraceElement());
                    if (frame.runtimeCallee()) {
                        outermostFirst.add(runtimeFrame(frame.callee())); // at the bottom, or a withTimeout
                    } else if (i == 0) {
                        outermostFirst.add(unknown(frame.callee())); // not woven, saves no state
                    }
                }
                // NOTE: the runtime function at the bottom saved exactly its wait, in the first
                // reference slot (or nothing: a plain yield; the dump checks what it finds there)
                boolean waitBelow = inner.isEmpty() || inner.get(0).runtimeCallee()
                        && !inner.get(0).callee().equals(PublicNames.WITH_TIMEOUT);
                String note = inner.isEmpty() && p > 1 ? "the frames inside " + outermostFirst.get(outermostFirst.size() - 1)
                        + " (code without frame tables, state " + state + ") could not be walked" : null;
                return new Walk(outermostFirst, waitBelow && r > 0 ? 0 : -1, note);
            }
            p -= point.prims();
            r -= point.refs();
            outermostFirst.add(point.stackTraceElement());
            if (point.runtimeCallee()) {
                outermostFirst.add(runtimeFrame(point.callee()));
                if (point.callee().equals(PublicNames.WITH_TIMEOUT)) {
                    r--; // its frame, then the body's woven frames
                    calledAs = null; // NOTE: the body is a lambda: its name is not the callee's
                    continue;
                }
                return new Walk(outermostFirst, r > 0 ? r - 1 : -1, null);
            }
            calledAs = point.callee();
            if (p == 0) {
                outermostFirst.add(unknown(point.callee())); // not woven, saves no state
            }
        }
        return new Walk(outermostFirst, -1, null);
    }

    /**
     * The frames saved in {@code prims[0, limit)}, found from the bottom (see {@link #walk}),
     * innermost first, as far as each is recognised; their reference slots at most {@code refs}.
     */
    private static List<Point> innerFrames(long[] prims, int limit, int refs) {
        List<Point> found = new ArrayList<>();
        int base = 0;
        int refsUsed = 0;
        search:
        while (base < limit) {
            for (int top = base; top < limit; top++) {
                long slot = prims[top];
                if (slot < 0 || slot > Integer.MAX_VALUE) {
                    continue;
                }
                Point point = lookup((int) slot);
                int extra = point != null && point.callee().equals(PublicNames.WITH_TIMEOUT) ? 1 : 0;
                if (point != null && point.prims() == top - base + 1 && refsUsed + point.refs() + extra <= refs
                        && (found.isEmpty() || !point.runtimeCallee() || extra == 1)) {
                    found.add(point);
                    refsUsed += point.refs() + extra;
                    base = top + 1;
                    continue search;
                }
            }
            break;
        }
        return found;
    }

    /**
     * Describes the frames a suspended coroutine saved, innermost first, one {@code
     * pkg.Class.method(File.java:LINE)} each (what follows {@code at} in a stack trace), as {@link
     * #walk} finds them: a frame without a table is {@code pkg.Class.method(Unknown Source)}, as
     * jstack writes a frame without line numbers, and the walk goes on below it. The runtime's
     * hand-written function at the bottom (a lock, a sleep...) saved exactly its wait, returned as
     * {@code innermostSaved}.
     *
     * @param stack the coroutine's storage (suspended: nobody else touches it)
     * @param outermost the outermost frame's method ({@code Owner.name}) if known (it names that
     *     frame when its class has no table), else null
     * @return the frames, the wait saved by the innermost runtime function (or null), and a note
     *     when frames could not be walked, else null
     */
    public static Frames describe(CoStack stack, String outermost) {
        Object[] snapshot = stack.snapshot();
        long[] prims = (long[]) snapshot[0];
        Object[] refs = (Object[]) snapshot[1];
        Walk walk = walk(prims, prims.length, refs.length, outermost);
        List<String> innermostFirst = new ArrayList<>(walk.outermostFirst().size());
        for (int i = walk.outermostFirst().size() - 1; i >= 0; i--) {
            innermostFirst.add(text(walk.outermostFirst().get(i)));
        }
        Object innermost = walk.innermostRef() >= 0 && walk.innermostRef() < refs.length ? refs[walk.innermostRef()] : null;
        return new Frames(innermostFirst, innermost, walk.note());
    }

    /** As {@link #describe(CoStack, String)} with the outermost frame's name unknown. */
    public static Frames describe(CoStack stack) {
        return describe(stack, null);
    }

    /** A frame as a stack trace prints it, without module or class loader: {@code pkg.Class.method(File.java:LINE)}. */
    private static String text(StackTraceElement f) {
        return f.getClassName() + "." + f.getMethodName() + "(" + (f.getFileName() == null ? "Unknown Source"
                : f.getLineNumber() < 0 ? f.getFileName() : f.getFileName() + ":" + f.getLineNumber()) + ")";
    }

    /**
     * The frames saved at a suspension, innermost first, as stack trace elements (class, method,
     * file and line): what {@link #describe} lists, for an async stack trace or a lost coroutine's
     * report. Reads only the primitive slots (the state numbers) and how many reference slots were
     * saved, so it works on slots kept after the coroutine resumed or became unreachable ({@link
     * CoStack#primSlots()}). A frame of code woven without tables is {@code (Unknown Source)}, and
     * the frames inside it are listed as far as they are recognised (see {@link #describe}). Any
     * thread.
     *
     * @param prims the primitive slots, bottom first (null: none)
     * @param primTop how many of them were saved
     * @param refTop how many reference slots were saved
     * @return the frames, innermost first; empty when none is known
     */
    public static StackTraceElement[] elements(long[] prims, int primTop, int refTop) {
        List<StackTraceElement> outermostFirst = walk(prims, primTop, refTop, null).outermostFirst();
        StackTraceElement[] innermostFirst = new StackTraceElement[outermostFirst.size()];
        for (int i = 0; i < innermostFirst.length; i++) {
            innermostFirst[i] = outermostFirst.get(innermostFirst.length - 1 - i);
        }
        return innermostFirst;
    }

    private static String runtimeElement(String callee) {
        int dot = callee.lastIndexOf('.');
        String owner = callee.substring(0, dot);
        String simple = owner.substring(owner.lastIndexOf('.') + 1);
        int nested = simple.indexOf('$');
        return callee + "(" + (nested < 0 ? simple : simple.substring(0, nested)) + ".java)";
    }
}
