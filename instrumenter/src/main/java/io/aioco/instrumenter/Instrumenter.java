package io.aioco.instrumenter;

import io.aioco.instrumenter.check.CoroutineFnRule;
import io.aioco.instrumenter.classfile.Bytecode;
import io.aioco.instrumenter.classfile.ClassFileScan;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.instrumenter.classfile.CoroutineMethods;
import io.aioco.instrumenter.classfile.QuickScan;
import io.aioco.instrumenter.classfile.RuntimeNames;
import io.aioco.instrumenter.rewrite.LocalDirectCalls;
import io.aioco.instrumenter.rewrite.FrameTable;
import io.aioco.instrumenter.rewrite.MethodRewrite;
import io.aioco.instrumenter.rewrite.WrapperSplit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ListIterator;
import java.util.Set;
import java.util.function.Predicate;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.LimitExceededException;
import org.objectweb.asm.MethodTooLargeException;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Rewrites the coroutine functions of a class into resumable state machines (see
 * INSTRUMENTATION.md and instrumenter/DESIGN.md). One instance serves one class loader's worth of
 * classes: it caches what it learns of the hierarchy. Thread-safe.
 *
 * <p>The passes, in order:
 * <ol>
 *   <li>{@link QuickScan}: return classes that certainly have nothing to do, untouched;
 *   <li>{@link CoroutineMethods}: find the coroutine functions (markers, overrides, lambda bodies,
 *       method references given forwarders);
 *   <li>refuse constructors and static initializers that carry the marker;
 *   <li>{@link MethodRewrite} for each coroutine function (itself a list of passes), refused
 *       methods replaced by a throw;
 *   <li>mark the class {@code @Instrumented} and write it, stack map frames computed from class
 *       bytes ({@link ClassHierarchy}).
 * </ol>
 */
public final class Instrumenter {
    private final ClassHierarchy hierarchy;
    private final boolean verbose;
    private final Predicate<String> wovenAlike;

    /**
     * @param lookup where to read the class files of other classes (supertypes, called classes)
     */
    public Instrumenter(ClassLookup lookup) {
        this(lookup, Options.DEFAULT);
    }

    /**
     * @param lookup where to read the class files of other classes (supertypes, called classes)
     * @param options how to instrument
     */
    public Instrumenter(ClassLookup lookup, Options options) {
        this.hierarchy = new ClassHierarchy(lookup, options.allMethods());
        this.verbose = options.verbose();
        this.wovenAlike = options.wovenAlike() != null ? options.wovenAlike() : name -> false;
    }

    /**
     * How the instrumenter works.
     *
     * @param allMethods stress mode (the check command's {@code --all-methods}): every method with a
     *     body, except constructors, static initializers and bridges, is taken as a coroutine
     *     function, and every call between such methods as a suspension point. It exercises the
     *     transformation on code nobody wrote for it; the result is not meant to run.
     * @param verbose an internal failure (a bug of the instrumenter) is reported with the method's
     *     code as text and the stack trace, besides the class, the method, the instruction and where
     *     it was thrown (the agent's {@code verbose} option, the plugin's {@code aioco.verbose})
     * @param wovenAlike internal names of the classes that the caller of this instrumenter weaves
     *     with it too (the agent: the classes its {@code include}/{@code exclude} options accept; the
     *     plugin: the classes of the folder it weaves), or null for none. A static call to a
     *     coroutine function of another class is then a plain {@code invokestatic} of the callee's
     *     fresh body, which the JIT inlines as it does the original call, instead of an
     *     {@code invokedynamic} that links to the body or, for a class that is not woven, to the
     *     original method (a callee whose class file already carries the current marker is taken as
     *     woven alike). The plain call is guarded by a dynamic constant that the JIT folds: if such
     *     a class is loaded unwoven after all (boot class path, loaded before the agent started,
     *     its weaving failed, or it was compiled again and not woven), the caller takes the linked
     *     call and runs the callee as plain code (the runtime logs why once per class).
     */
    public record Options(boolean allMethods, boolean verbose, Predicate<String> wovenAlike) {
        /** Coroutine functions are the marked ones (and those that inherit the marker); not verbose. */
        public static final Options DEFAULT = new Options(false, false);

        /**
         * No class is taken as woven alike.
         *
         * @param allMethods as above
         * @param verbose as above
         */
        public Options(boolean allMethods, boolean verbose) {
            this(allMethods, verbose, null);
        }
    }

    /**
     * The descriptor a method had before the rewrite: a coroutine function's code moves to
     * synthetic methods of the same name whose descriptors add the runtime's frame storage (and a
     * signal) to the parameters. No QEMU counterpart.
     *
     * @param desc a descriptor, or any string that holds one (such as {@code name(desc)})
     * @return {@code desc} without the added parameters; {@code desc} itself if it has none
     */
    public static String originalDescriptor(String desc) {
        return WrapperSplit.originalDescriptor(desc);
    }

    /**
     * Instruments one class. Never throws for bad input: a class that cannot be instrumented comes
     * back as {@link InstrumentationResult.Outcome#FAILED} with a diagnostic.
     *
     * @param classBytes a class file
     * @return the new bytes, or "unchanged", or "failed", with diagnostics
     */
    public InstrumentationResult instrument(byte[] classBytes) {
        return instrument(classBytes, null);
    }

    /**
     * Told of each class that the quick scan found nothing to do in, with the classes that verdict
     * rests on: a caller that keeps verdicts between runs (the agent's startup cache) may reuse one
     * only while the class and those classes keep their bytes, and none of those classes has a
     * coroutine function: that is, each of them was found with nothing to do too, and so were its
     * supertypes, up to the JDK's (the class itself declares none: it does not name the runtime).
     */
    @FunctionalInterface
    public interface QuickScanListener {
        /**
         * Called on the transforming thread, before {@link #instrument(byte[], QuickScanListener)}
         * returns UNCHANGED for the class. JDK types are left out of both arrays (they never have
         * coroutine functions, see {@link ClassHierarchy#isJdkType}); the caller must not change
         * the arrays.
         *
         * @param className the class, in internal form
         * @param supertypes its direct supertypes (all of them, even when the class declares no
         *     method that could inherit the marker and they were not looked at)
         * @param functionalInterfaces the types its {@code invokedynamic} call sites return (a
         *     lambda's or method reference's functional interface)
         */
        void nothingToDo(String className, String[] supertypes, String[] functionalInterfaces);
    }

    /**
     * Instruments one class as {@link #instrument(byte[])} does, and tells {@code listener} when
     * the quick scan alone found nothing to do (the verdict a caller may keep: it rests on no
     * diagnostic and on no method's code). Classes found unchanged in any other way (the runtime's
     * own, classes already instrumented, classes the full pass found nothing to rewrite in, class
     * files the lean scan cannot read) are not told.
     *
     * @param classBytes a class file
     * @param listener told of a verdict of the quick scan, or null
     * @return the new bytes, or "unchanged", or "failed", with diagnostics
     */
    public InstrumentationResult instrument(byte[] classBytes, QuickScanListener listener) {
        String className = null;
        try {
            ClassFileScan scan = ClassFileScan.read(classBytes);
            className = scan == null ? null : scan.className; // NOTE: named in a failure of the quick scan
            if (scan != null && !RuntimeNames.isRuntimeClass(scan.className) && !QuickScan.mayNeedInstrumentation(scan, hierarchy)) {
                if (listener != null) {
                    listener.nothingToDo(scan.className, QuickScan.applicationSupertypes(scan), scan.indyReturnTypes);
                }
                return unchanged(scan.className, List.of()); // NOTE: the quick scan noted what it learnt
            }
            ClassReader reader = new ClassReader(classBytes);
            className = reader.getClassName();
            return instrument(classBytes, reader, scan == null);
        } catch (InstrumentationException e) {
            return failed(className, e.getMessage());
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            return failed(className, InternalFailure.inClass(className, e, verbose));
        }
    }

    /**
     * Checks one class, as compiled, against QEMU's {@code coroutine_fn} rule, for build tools (the
     * agent does not call it): every call to a coroutine function from a method that is not one
     * (ERROR), every method reference that hands a coroutine function to an interface whose method
     * is not one (ERROR), every override of a coroutine function without the marker (WARNING), and
     * every coroutine function overriding a method that is not one (WARNING). Suspension points
     * inside {@code synchronized} and markers on constructors are reported by {@link
     * #instrument(byte[])}, which refuses them. Classes already instrumented and the runtime's own
     * classes are not checked. Shares this instrumenter's hierarchy cache; does not change what
     * {@link #instrument(byte[])} produces.
     *
     * @param classBytes a class file, as the compiler wrote it
     * @return the findings, in method order; empty when the class keeps the rule
     * @throws InstrumentationException if the class file cannot be read
     */
    public List<Diagnostic> checkCoroutineFnRule(byte[] classBytes) {
        try {
            ClassReader reader = new ClassReader(classBytes);
            ClassNode owner = new ClassNode();
            reader.accept(owner, ClassReader.SKIP_FRAMES);
            if (RuntimeNames.isRuntimeClass(owner.name) || WovenMarker.versionOf(owner) != WovenMarker.NOT_WOVEN) {
                return List.of();
            }
            hierarchy.define(classBytes);
            return CoroutineFnRule.check(owner, hierarchy);
        } catch (InstrumentationException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            throw new InstrumentationException("cannot read class file: " + e, e);
        }
    }

    private static InstrumentationResult failed(String className, String message) {
        String name = className == null ? "<unreadable class>" : className;
        return new InstrumentationResult(className, InstrumentationResult.Outcome.FAILED, null,
                List.of(new Diagnostic(Diagnostic.Severity.ERROR, name, null, null, null, -1, message)));
    }

    /** @param quickScan whether the quick scan is still to do (the lean scan could not read the file) */
    private InstrumentationResult instrument(byte[] classBytes, ClassReader reader, boolean quickScan) {
        String className = reader.getClassName();
        if (RuntimeNames.isRuntimeClass(className)) {
            return unchanged(className, List.of());
        }
        if (quickScan && !QuickScan.mayNeedInstrumentation(classBytes, reader, hierarchy)) {
            hierarchy.recordWithoutCoroutineFns(className); // its subclasses need not read it again
            return unchanged(className, List.of());
        }
        hierarchy.define(classBytes);
        java.util.Map<String, String> tooLarge = new java.util.HashMap<>();
        // NOTE: the one place that decides what a class too large to write loses: first the guards of
        // its calls to other classes (the calls stay linked, as before the guards; no diagnostic:
        // the guard is an optimization), then the usual encoding of a method (the compact one
        // shares save and restore code between its suspension points; no diagnostic either), then
        // the inline caches of its virtual calls (kept over the usual encoding: a virtual call
        // through the wrapper costs more than the compact encoding), then whole methods, refused one
        // by one. ASM's budget for computing the frames of one method (its defaults: 10 MiB, 10^8
        // operations) is raised fourfold for a class with a compact method that passes it: a
        // method of many locals and many points (each a few basic blocks) needs more
        Set<String> unguarded = new HashSet<>();
        Set<String> compact = new HashSet<>();
        Set<String> uncached = new HashSet<>();
        boolean allUnguarded = false;
        boolean allUncached = false;
        boolean largerLimits = false;
        while (true) {
            Rewrite attempt = new Rewrite();
            attempt.largerLimits = largerLimits;
            boolean noGuards = allUnguarded;
            boolean noCaches = allUncached;
            try {
                return rewrite(reader, tooLarge, method -> noGuards || unguarded.contains(method), compact,
                        method -> noCaches || uncached.contains(method), attempt);
            } catch (MethodTooLargeException e) {
                // the rewritten method passed the JVM's 64 KiB limit: without its guards if it has
                // any, else in the compact encoding (which has none), else without its caches if it
                // has any, else refuse it, and keep the rest
                String method = e.getMethodName() + WrapperSplit.originalDescriptor(e.getDescriptor());
                if (attempt.guarded.contains(method) && unguarded.add(method)) {
                    continue;
                }
                if (compact.add(method)) {
                    unguarded.add(method);
                } else if (!attempt.cached.contains(method) || !uncached.add(method)) {
                    refuseTooLarge(className, tooLarge, method, e);
                }
            } catch (InstrumentationException e) {
                throw e;
            } catch (RuntimeException e) {
                // ASM gave up writing the class (its constant pool past 65,535 entries, code offsets
                // past 64 KiB, or its budget for computing frames): without any guard if it has some
                // (about 3 constants per callee), else the largest rewritten method is the culprit:
                // compact, then without any inline cache (about 3 constants per call site), then
                // refuse it and try again
                if (!attempt.guarded.isEmpty()) {
                    allUnguarded = true;
                    continue;
                }
                String largest = attempt.largestRewritten();
                if (e instanceof FrameBudgetExceeded budget) {
                    // NOTE: the method that passed ASM's budget is known: it is the culprit, not the
                    // largest (rv14b: a small coroutine function was refused as too large for a
                    // plain method's frames, and the class then failed naming neither)
                    String culprit = budget.method == null ? null
                            : budget.method.substring(0, budget.method.indexOf('('))
                                    + WrapperSplit.originalDescriptor(budget.method.substring(budget.method.indexOf('(')));
                    if (culprit != null && attempt.wasRewritten(culprit)) {
                        largest = culprit;
                    } else if (!largerLimits) {
                        largerLimits = true;
                        continue;
                    } else {
                        throw new InstrumentationException("cannot write " + className.replace('/', '.') + ": "
                                + e.getMessage() + " (" + (culprit == null ? "a method" : culprit)
                                + " is not a coroutine function: it was not rewritten, but ASM computes the frames"
                                + " of every method of a class it writes)", e);
                    }
                }
                if (largest == null) {
                    throw e;
                }
                if (compact.add(largest)) {
                    unguarded.add(largest);
                } else if (e instanceof FrameBudgetExceeded && !largerLimits) {
                    largerLimits = true;
                } else if (!attempt.cached.isEmpty() && !allUncached) {
                    allUncached = true;
                } else {
                    refuseTooLarge(className, tooLarge, largest, e);
                }
            }
        }
    }

    private static void refuseTooLarge(String className, java.util.Map<String, String> tooLarge, String method,
            RuntimeException cause) {
        String why = cause instanceof FrameBudgetExceeded
                ? "method too large once instrumented (not its code: ASM gave up computing its stack map frames"
                        + " within four times its default budget; many locals and many suspension points cost that)"
                : "method too large once instrumented (the JVM limits a method to 64 KiB of code, and every suspension"
                        + " point adds code to save and restore the frame)";
        if (tooLarge.putIfAbsent(method, why) != null) {
            throw new InstrumentationException("cannot write " + className.replace('/', '.') + " even with "
                    + method + " refused: " + cause, cause);
        }
    }

    /** What one attempt at rewriting a class produced: its rewritten methods' sizes. */
    private static final class Rewrite {
        /** The methods (name and original descriptor) given guarded calls to other classes. */
        Set<String> guarded = Set.of();
        /** The methods (name and original descriptor) given inline caches of virtual calls. */
        Set<String> cached = Set.of();
        /** Whether ASM may spend four times its default budget computing a method's frames. */
        boolean largerLimits;
        private String largest;
        private int largestSize = -1;

        /** The methods rewritten (name and original descriptor). */
        private final Set<String> rewrittenMethods = new HashSet<>();

        /** @return whether this attempt rewrote that method (name and original descriptor) */
        boolean wasRewritten(String nameAndOriginalDesc) {
            return rewrittenMethods.contains(nameAndOriginalDesc);
        }

        void rewritten(String nameAndOriginalDesc, MethodNode body) {
            rewrittenMethods.add(nameAndOriginalDesc);
            int size = body.instructions.size();
            if (size > largestSize) {
                largestSize = size;
                largest = nameAndOriginalDesc;
            }
        }

        /** @return name and original descriptor of the largest rewritten method, or null */
        String largestRewritten() {
            return largest;
        }
    }

    /**
     * Instruments the class read by {@code reader}; refuses the methods named in {@code tooLarge}
     * (name and original descriptor) as too large once instrumented, and leaves the calls of those
     * {@code unguarded} accepts linked without a guard.
     */
    private InstrumentationResult rewrite(ClassReader reader, java.util.Map<String, String> tooLarge, Predicate<String> unguarded,
            Set<String> compact, Predicate<String> uncached, Rewrite attempt) {
        String className = reader.getClassName();
        ClassNode owner = new ClassNode();
        reader.accept(owner, ClassReader.SKIP_FRAMES);
        int wovenBy = WovenMarker.versionOf(owner);
        if (wovenBy == WovenMarker.CURRENT_VERSION) {
            return unchanged(className, List.of());
        }
        if (wovenBy != WovenMarker.NOT_WOVEN) {
            return refuseOtherVersion(owner, wovenBy);
        }
        // a damaged InnerClasses entry naming one class as both inner and outer is tolerated by the JVM
        // only while the two names are distinct constants, which ASM's constant pool merges
        owner.innerClasses.removeIf(inner -> inner.name.equals(inner.outerName));
        for (MethodNode method : owner.methods) {
            // NOTE: attributes the JVM does not know are ignored by it, but ASM gives those of a Code
            // attribute back as method attributes, and their contents may name code offsets that the
            // rewrite moves: in a class we rewrite, they are dropped (class-level ones are kept)
            method.attrs = null;
        }
        List<Diagnostic> diagnostics = new ArrayList<>();
        List<MethodNode> refusedFreshBodies = new ArrayList<>();
        boolean changed = refuseConstructors(owner, diagnostics);
        FrameTable table = new FrameTable(owner);
        Set<String> withVirtualCalls = new HashSet<>();
        for (CoroutineMethods.Role role : CoroutineMethods.find(owner, hierarchy)) {
            MethodNode method = role.method();
            String name = method.name;
            String desc = method.desc; // NOTE: the rewrite changes it
            try {
                String tooLargeWhy = tooLarge.get(method.name + method.desc);
                if (tooLargeWhy != null) {
                    throw new MethodRewrite.Refusal(tooLargeWhy + "; split it into smaller coroutine functions",
                            Bytecode.firstLine(method));
                }
                String original = method.name + method.desc;
                // NOTE: the inline caches of its virtual calls add code, as guards do: a method too
                // large with them even in the compact encoding is woven again with the original calls
                boolean virtualCalls = !uncached.test(original);
                List<MethodNode> replacement = MethodRewrite.rewrite(owner, method, role.acceptedTokens(), role.lambdaMethods(), hierarchy,
                        table, compact.contains(original), virtualCalls);
                if (virtualCalls && MethodRewrite.hasVirtualCalls(replacement.get(1))) {
                    withVirtualCalls.add(original);
                }
                replace(owner, method, replacement);
                attempt.rewritten(original, replacement.get(1)); // the body
            } catch (MethodRewrite.Refusal refusal) {
                Diagnostic diagnostic = diagnostic(owner, method, refusal.line, refusal.getMessage());
                diagnostics.add(diagnostic);
                Bytecode.replaceWithThrow(method, diagnostic.format());
                MethodNode fresh = WrapperSplit.refusedFreshBody(owner, method, desc, diagnostic.format());
                if (fresh != null) {
                    refusedFreshBodies.add(fresh);
                }
            } catch (InstrumentationException e) {
                throw e;
            } catch (RuntimeException | StackOverflowError | AssertionError e) {
                throw InternalFailure.inMethod(className, name, desc, method, reader, e, verbose);
            }
            changed = true;
        }
        if (!changed) {
            return unchanged(className, diagnostics);
        }
        owner.methods.addAll(refusedFreshBodies);
        attempt.guarded = LocalDirectCalls.link(owner, hierarchy, wovenAlike, unguarded);
        attempt.cached = withVirtualCalls;
        table.emitRegistration(owner);
        WovenMarker.mark(owner);
        return write(owner, diagnostics, attempt.largerLimits);
    }

    private InstrumentationResult write(ClassNode owner, List<Diagnostic> diagnostics, boolean largerLimits) {
        int major = Bytecode.majorVersion(owner);
        boolean frames = major >= Opcodes.V1_7 || (major == Opcodes.V1_6 && !hasSubroutines(owner));
        ClassWriter writer = new HierarchyClassWriter(frames ? ClassWriter.COMPUTE_FRAMES : ClassWriter.COMPUTE_MAXS,
                hierarchy);
        if (largerLimits) {
            writer.setComputeLimits(4 * ASM_MEMORY_LIMIT, 4 * ASM_OPERATIONS_LIMIT);
        }
        // NOTE: ASM computes a method's frames while the method is visited (visitMaxs), and its
        // budget's exception names no method: the method visited last is the one that passed it
        String[] writing = new String[1];
        ClassVisitor tracking = new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                writing[0] = name + descriptor;
                return super.visitMethod(access, name, descriptor, signature, exceptions);
            }
        };
        try {
            owner.accept(tracking);
        } catch (LimitExceededException e) {
            throw new FrameBudgetExceeded(writing[0], e);
        }
        return new InstrumentationResult(owner.name, InstrumentationResult.Outcome.REWRITTEN, writer.toByteArray(),
                List.copyOf(diagnostics));
    }

    /**
     * A class woven with another protocol version: its coroutine functions cannot call, or be
     * called by, classes woven now (a coroutine would never finish), and its original code cannot
     * be recovered from the woven one. So the class is refused as a whole, loudly: one ERROR
     * naming it and both versions, and the bodies of its coroutine functions replaced by a throw
     * of that message, so that the class loads and its plain methods work, but none of its
     * coroutine functions runs with the wrong protocol. Its marker is kept: it is refused again
     * by the next run (the plugin fails the build until it is recompiled).
     */
    private InstrumentationResult refuseOtherVersion(ClassNode owner, int wovenBy) {
        Diagnostic diagnostic = new Diagnostic(Diagnostic.Severity.ERROR, owner.name, null, null, owner.sourceFile, -1,
                "woven by an aioco whose coroutine protocol is version " + wovenBy + "; this aioco's is version "
                        + WovenMarker.CURRENT_VERSION + ", the two cannot call each other, and the original class"
                        + " cannot be recovered from the woven one: recompile it (a clean build) so that this aioco"
                        + " weaves it; until then its coroutine functions throw");
        for (MethodNode method : owner.methods) {
            if (WrapperSplit.isBodyDescriptor(method.desc) && method.instructions.size() > 0) {
                Bytecode.replaceWithThrow(method, diagnostic.format());
            }
        }
        return write(owner, List.of(diagnostic), false);
    }

    private static InstrumentationResult unchanged(String className, List<Diagnostic> diagnostics) {
        return new InstrumentationResult(className, InstrumentationResult.Outcome.UNCHANGED, null,
                List.copyOf(diagnostics));
    }

    private static boolean refuseConstructors(ClassNode owner, List<Diagnostic> diagnostics) {
        boolean changed = false;
        for (MethodNode method : owner.methods) {
            if (method.name.charAt(0) == '<' && CoroutineMethods.isAnnotated(method)) {
                String what = method.name.equals("<init>") ? "a constructor" : "a static initializer";
                Diagnostic diagnostic = diagnostic(owner, method, Bytecode.firstLine(method), what
                        + " cannot be a coroutine function; remove @CoroutineFn and move the suspending code"
                        + " to a @CoroutineFn method called after construction");
                diagnostics.add(diagnostic);
                Bytecode.replaceWithThrow(method, diagnostic.format());
                changed = true;
            }
        }
        return changed;
    }

    private static Diagnostic diagnostic(ClassNode owner, MethodNode method, int line, String message) {
        return new Diagnostic(Diagnostic.Severity.ERROR, owner.name, method.name, method.desc, owner.sourceFile,
                line, message);
    }

    /** Puts the wrapper where the original method was, and its body right after. */
    private static void replace(ClassNode owner, MethodNode original, List<MethodNode> replacements) {
        ListIterator<MethodNode> methods = owner.methods.listIterator();
        while (methods.hasNext()) {
            if (methods.next() == original) {
                methods.remove();
                replacements.forEach(methods::add);
                return;
            }
        }
    }

    private static boolean hasSubroutines(ClassNode owner) {
        for (MethodNode method : owner.methods) {
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn.getOpcode() == Opcodes.JSR) {
                    return true;
                }
            }
        }
        return false;
    }

    /** ASM gave up computing the frames of {@link #method} (name and descriptor, as written) within its budget. */
    private static final class FrameBudgetExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String method;

        FrameBudgetExceeded(String method, LimitExceededException cause) {
            super("ASM's budget for computing the frames of " + method + " passed: " + cause.getMessage(), cause);
            this.method = method;
        }
    }

    /** A ClassWriter whose common-superclass question is answered from class bytes. */
    /** ASM's default budget for computing one method's frames (ClassWriter's DEFAULT_MAX_*_LIMIT, package-private). */
    private static final int ASM_MEMORY_LIMIT = 10 * 1024 * 1024;
    private static final long ASM_OPERATIONS_LIMIT = 100_000_000L;

    private static final class HierarchyClassWriter extends ClassWriter {
        private final ClassHierarchy hierarchy;

        HierarchyClassWriter(int flags, ClassHierarchy hierarchy) {
            super(flags);
            this.hierarchy = hierarchy;
        }

        @Override
        protected String getCommonSuperClass(String type1, String type2) {
            return hierarchy.commonSuperClass(type1, type2);
        }
    }
}

