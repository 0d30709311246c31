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
        String element() {
            return className + "." + method + "(" + (file == null ? "Unknown Source" : line < 0 ? file : file + ":" + line)
                    + ")";
        }

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

    /**
     * Describes the frames a suspended coroutine saved, innermost first, one {@code
     * pkg.Class.method(File.java:LINE)} each (what follows {@code at} in a stack trace). The walk
     * starts from the outermost frame, whose state number is the last primitive slot saved, and
     * steps over each frame's slots as its point's table says; the runtime's hand-written function
     * at the bottom (a lock, a sleep...) saved exactly its wait, returned as {@code innermostSaved}.
     *
     * @param stack the coroutine's storage (suspended: nobody else touches it)
     * @return the frames, the wait saved by the innermost runtime function (or null), and a note
     *     when the walk could not go on (a frame of a class woven without tables), else null
     */
    public static Frames describe(CoStack stack) {
        Object[] snapshot = stack.snapshot();
        long[] prims = (long[]) snapshot[0];
        Object[] refs = (Object[]) snapshot[1];
        List<String> outermostFirst = new ArrayList<>();
        int p = prims.length;
        int r = refs.length;
        String note = null;
        Object innermost = null;
        while (p > 0) {
            int state = (int) prims[p - 1];
            Point point = lookup(state);
            if (point == null || point.prims() > p || point.refs() > r) {
                note = "frames of code woven without frame tables (state " + state + ")";
                break;
            }
            p -= point.prims();
            r -= point.refs();
            outermostFirst.add(point.element());
            if (point.runtimeCallee()) {
                outermostFirst.add(runtimeElement(point.callee()));
                if (point.callee().equals(PublicNames.WITH_TIMEOUT)) {
                    r--; // its frame, then the body's woven frames
                    continue;
                }
                if (r > 0) {
                    innermost = refs[r - 1];
                }
                break;
            }
            if (p == 0) {
                outermostFirst.add(point.callee() + "(Unknown Source)"); // not woven, saves no state
            }
        }
        List<String> innermostFirst = new ArrayList<>(outermostFirst.size());
        for (int i = outermostFirst.size() - 1; i >= 0; i--) {
            innermostFirst.add(outermostFirst.get(i));
        }
        return new Frames(innermostFirst, innermost, note);
    }

    /**
     * The frames saved at a suspension, innermost first, as stack trace elements (class, method,
     * file and line): what {@link #describe} lists, for an async stack trace or a lost coroutine's
     * report. Reads only the primitive slots (the state numbers) and how many reference slots were
     * saved, so it works on slots kept after the coroutine resumed or became unreachable ({@link
     * CoStack#primSlots()}). Stops at a frame of code woven without tables. Any thread.
     *
     * @param prims the primitive slots, bottom first (null: none)
     * @param primTop how many of them were saved
     * @param refTop how many reference slots were saved
     * @return the frames, innermost first; empty when none is known
     */
    public static StackTraceElement[] elements(long[] prims, int primTop, int refTop) {
        List<StackTraceElement> outermostFirst = new ArrayList<>();
        int p = prims == null ? 0 : Math.min(primTop, prims.length);
        int r = refTop;
        while (p > 0) {
            Point point = lookup((int) prims[p - 1]);
            if (point == null || point.prims() > p || point.refs() > r) {
                break;
            }
            p -= point.prims();
            r -= point.refs();
            outermostFirst.add(point.stackTraceElement());
            if (point.runtimeCallee()) {
                String callee = point.callee();
                int dot = callee.lastIndexOf('.');
                String runtimeFile = runtimeElement(callee);
                outermostFirst.add(new StackTraceElement(callee.substring(0, dot), callee.substring(dot + 1),
                        runtimeFile.substring(runtimeFile.indexOf('(') + 1, runtimeFile.length() - 1), -1));
                if (callee.equals(PublicNames.WITH_TIMEOUT)) {
                    r--;
                    continue;
                }
                break;
            }
            if (p == 0) {
                int dot = point.callee().lastIndexOf('.');
                outermostFirst.add(new StackTraceElement(point.callee().substring(0, Math.max(dot, 0)),
                        point.callee().substring(dot + 1), null, -1));
            }
        }
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
