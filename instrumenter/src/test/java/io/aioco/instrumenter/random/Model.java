package io.aioco.instrumenter.random;

import java.util.List;

/**
 * The AST-like model of a generated program. The model is context free: a node never names a
 * variable or a function directly but by an index that {@link JavaRenderer} resolves against what is
 * in scope where the node lands. So any subtree can be dropped or replaced while shrinking and the
 * program still compiles.
 */
public final class Model {
    private Model() {}

    /** The value types of the generated programs. */
    public enum Type {
        INT("int", "Integer"), LONG("long", "Long"), DOUBLE("double", "Double"), BOOLEAN("boolean", "Boolean"),
        STRING("String", "String"), ARRAY("int[]", "int[]"), OBJECT("Object", "Object"), BYTE("byte", "Byte"),
        SHORT("short", "Short"), CHAR("char", "Character"), FLOAT("float", "Float"), LONG_ARRAY("long[]", "long[]"),
        STRING_ARRAY("String[]", "String[]");

        public final String javaName;
        /** The type as a type argument (boxed for primitives). */
        public final String boxedName;

        Type(String javaName, String boxedName) {
            this.javaName = javaName;
            this.boxedName = boxedName;
        }

        /** Primitive and not boolean: arithmetic and casts between these are plain Java. */
        public boolean isNumeric() {
            return this == INT || this == LONG || this == DOUBLE || this == BYTE || this == SHORT || this == CHAR
                    || this == FLOAT;
        }

        public boolean isPrimitive() {
            return isNumeric() || this == BOOLEAN;
        }
    }

    /**
     * The locals every generated function has, either as parameters or declared at its start. Only
     * these are ever assigned; they are always in scope, so statements need no scope tracking.
     */
    public enum PoolVar {
        X("x", Type.INT, "1"), Y("y", Type.INT, "2"), L("l", Type.LONG, "3L"), D("d", Type.DOUBLE, "0.5"),
        Z("z", Type.BOOLEAN, "true"), S("s", Type.STRING, "\"s\""), A("a", Type.ARRAY, "new int[] {1, 2, 3}"),
        O("o", Type.OBJECT, "(Object) \"o\""), B("b", Type.BYTE, "(byte) 4"), H("h", Type.SHORT, "(short) 5"),
        C("c", Type.CHAR, "'c'"), F("f", Type.FLOAT, "1.5f"), LA("la", Type.LONG_ARRAY, "new long[] {6L, 7L}"),
        SA("sa", Type.STRING_ARRAY, "new String[] {\"p\", \"q\"}");

        public final String javaName;
        public final Type type;
        public final String initializer;

        PoolVar(String javaName, Type type, String initializer) {
            this.javaName = javaName;
            this.type = type;
            this.initializer = initializer;
        }
    }

    // ------------------------------------------------------------------ expressions

    /** An expression; {@link #type()} is the Java type it renders to. */
    public sealed interface Expr {
        Type type();
    }

    /** A literal; {@code seed} picks the value (small, so that comparisons and switches hit). */
    public record Const(Type type, int seed) implements Expr {}

    /** A read of the {@code index}-th variable of {@code type} in scope (a literal when none is). */
    public record Var(Type type, int index) implements Expr {}

    /** {@code left op right} on int, long or double. */
    public record Binary(Type type, String op, Expr left, Expr right) implements Expr {}

    /** A comparison of two ints: a boolean. */
    public record Compare(String op, Expr left, Expr right) implements Expr {
        @Override
        public Type type() {
            return Type.BOOLEAN;
        }
    }

    /** Short-circuit {@code &&} / {@code ||}: the right side runs conditionally. */
    public record Logic(String op, Expr left, Expr right) implements Expr {
        @Override
        public Type type() {
            return Type.BOOLEAN;
        }
    }

    /** String concatenation of parts of any type (indy concat keeps them all on the stack). */
    public record Concat(List<Expr> parts) implements Expr {
        @Override
        public Type type() {
            return Type.STRING;
        }
    }

    /** {@code cond ? whenTrue : whenFalse}. */
    public record Ternary(Type type, Expr cond, Expr whenTrue, Expr whenFalse) implements Expr {}

    /**
     * A call of another generated function (or of the function itself, recursively, while
     * {@code depth > 0}); the result is converted to {@code type}. Arguments of any type are
     * converted to the parameter types; missing ones are literals.
     */
    public record Call(Type type, int target, List<Expr> args) implements Expr {}

    /** {@code Rt.yX(inner)}: a suspension point in the middle of an expression. */
    public record YieldValue(Type type, Expr inner) implements Expr {}

    /** {@code new Rt.Holder(value)}: an uninitialized object on the stack while value runs. */
    public record NewHolder(Expr value) implements Expr {
        @Override
        public Type type() {
            return Type.OBJECT;
        }
    }

    /** {@code new Rt.Holder(init).bump(arg)} or {@code .step(arg)} (instance / default method). */
    public record HolderCall(boolean defaultMethod, Expr init, Expr arg) implements Expr {
        @Override
        public Type type() {
            return Type.INT;
        }
    }

    /**
     * {@code new T[] {elements...}} of an array type ({@code int[]}, {@code long[]}, {@code String[]}):
     * the array and index on the stack while an element runs.
     */
    public record NewArray(Type type, List<Expr> elements) implements Expr {}

    /** {@code array[Math.floorMod(index, 2)]}: an element of an array type's element type. */
    public record ArrayRead(Type arrayType, Expr array, Expr index) implements Expr {
        @Override
        public Type type() {
            return elementType(arrayType);
        }
    }

    /** The element type of an array type. */
    public static Type elementType(Type arrayType) {
        return switch (arrayType) {
            case ARRAY -> Type.INT;
            case LONG_ARRAY -> Type.LONG;
            case STRING_ARRAY -> Type.STRING;
            default -> throw new IllegalArgumentException("not an array type: " + arrayType);
        };
    }

    /**
     * One arm of a switch expression: {@code -> value;} when {@code body} is empty and {@code caught}
     * null, else a block {@code -> { body; yield value; }}; with {@code caught}, the block is
     * {@code { try { body; yield value; } catch (RuntimeException e) { yield caught; } }}.
     */
    public record ValueArm(List<Stmt> body, Expr value, Expr caught) {}

    /** A switch expression (arrow form) on an int, String or enum selector; {@code otherwise} is its default. */
    public record SwitchValue(Type type, SwitchKind kind, Expr selector, List<ValueArm> arms, ValueArm otherwise)
            implements Expr {}

    /** How a generated function object is written. */
    public enum FnForm { LAMBDA, ANONYMOUS_CLASS }

    /**
     * {@code ((Rt.IntFn) v -> body).apply(arg)} or the same as an anonymous class: a coroutine function
     * object called inside an expression (it may read effectively final locals: a capture).
     */
    public record LambdaApply(FnForm form, Expr body, Expr arg) implements Expr {
        @Override
        public Type type() {
            return Type.INT;
        }
    }

    /**
     * {@code ((Rt.Fn<Integer, R>) Prog::fN).apply(arg)}: a method reference through a generic
     * coroutine interface to a generated static function whose only parameter is the primitive
     * {@code int depth} (the target is resolved like a {@link Call}; a plain call when it does not fit).
     */
    public record MethodRef(Type type, int target, Expr arg) implements Expr {}

    /** A static ({@code isStatic}) or instance field of {@code gen.Prog} of the given type. */
    public record FieldRead(Type type, boolean isStatic) implements Expr {}

    /** The paths through {@code gen.Rt}'s service classes to a suspending {@code Svc.get}. */
    public enum Crossing {
        /** {@code Rt.Leaf.get} directly: an ordinary interface call of a coroutine function. */
        DIRECT,
        /** {@code Rt.Sub extends Base implements Svc}: the plain {@code Base.get} between caller and callee. */
        PLAIN_SUPERCLASS,
        /** {@code Rt.Deco}, an annotated decorator left out of instrumentation (excluded). */
        EXCLUDED_DECORATOR
    }

    /**
     * {@code ((Rt.Svc) new Rt.X(new Rt.Leaf())).get(arg)}: a call of a coroutine interface method;
     * when a suspension would cross a frame that is not instrumented, the expected outcome is the
     * documented {@code IllegalStateException} naming that frame (the reference run predicts it).
     */
    public record ServiceCall(Crossing crossing, Expr arg) implements Expr {
        @Override
        public Type type() {
            return Type.INT;
        }
    }

    // ------------------------------------------------------------------ statements

    /** A statement. */
    public sealed interface Stmt {}

    /** {@code var = value;} ({@code compound}: {@code var op= value;}). */
    public record Assign(PoolVar target, String compoundOp, Expr value) implements Stmt {}

    /** {@code a[Math.floorMod(index, a.length)] = value;} into the pool variable of the array type. */
    public record ArrayStore(Type arrayType, Expr index, Expr value) implements Stmt {}

    /** Appends the values to the trace. */
    public record Trace(List<Expr> values) implements Stmt {}

    /** {@code Rt.yieldPoint();} then the values of some locals go to the trace. */
    public record YieldStmt(List<Expr> shown) implements Stmt {}

    /** A call whose result is dropped. */
    public record CallStmt(Call call) implements Stmt {}

    /** {@code if (cond) {...} else {...}}. */
    public record If(Expr cond, List<Stmt> then, List<Stmt> otherwise) implements Stmt {}

    /** The kinds of loop. */
    public enum LoopKind { FOR, WHILE, DO_WHILE }

    /** A counted, labelled loop: {@code trips} iterations at most (a do-while runs at least once). */
    public record Loop(LoopKind kind, int trips, List<Stmt> body) implements Stmt {}

    /**
     * {@code if (cond) break;} or {@code continue;}; {@code outer > 0} jumps to the label of an
     * enclosing loop further out (rendered as a trace where nothing can be jumped out of).
     */
    public record Jump(boolean isContinue, int outer, Expr cond) implements Stmt {}

    /** {@code field = value;} or {@code field op= value;} on a static or instance field of {@code gen.Prog}. */
    public record FieldStore(Type type, boolean isStatic, String compoundOp, Expr value) implements Stmt {}

    /**
     * {@code { final T c = captured; Rt.IntFn fn = v -> body + c; trace(fn.apply(arg)); }} (or an
     * anonymous class): a coroutine function object that captures a local of any type.
     */
    public record Capture(FnForm form, Expr captured, Expr body, Expr arg) implements Stmt {}

    /** The kinds of switch statement. */
    public enum SwitchKind { INT_DENSE, INT_SPARSE, STRING, ENUM }

    /** A switch statement; colon form arms may fall through. */
    public record Switch(SwitchKind kind, boolean arrow, Expr selector, List<Arm> arms, List<Stmt> otherwise)
            implements Stmt {}

    /** One arm of a switch statement. */
    public record Arm(List<Stmt> body, boolean fallThrough) {}

    /** The exceptions the programs catch. */
    public enum CatchKind {
        BOOM("Rt.Boom", 0), STATE_OR_ARITHMETIC("IllegalStateException | ArithmeticException", 0),
        RUNTIME("RuntimeException", 1), EXCEPTION("Exception", 2);

        public final String javaName;
        /** Catch clauses are ordered by this so that no clause is unreachable. */
        public final int rank;

        CatchKind(String javaName, int rank) {
            this.javaName = javaName;
            this.rank = rank;
        }
    }

    /** One catch clause. */
    public record Catch(CatchKind kind, List<Stmt> body) {}

    /** {@code try {...} catch ... finally {...}}; {@code finallyBody} null when there is none. */
    public record Try(List<Stmt> body, List<Catch> catches, List<Stmt> finallyBody) implements Stmt {}

    /** Try-with-resources; {@code coroutineClose}: the resource's close() is a coroutine function. */
    public record TryWithResource(boolean coroutineClose, Expr label, List<Stmt> body) implements Stmt {}

    /** The exceptions the programs throw. */
    public enum ThrowKind {
        BOOM("Rt.Boom"), STATE("IllegalStateException"), CHECKED("Rt.CheckedBoom");

        public final String javaName;

        ThrowKind(String javaName) {
            this.javaName = javaName;
        }
    }

    /** {@code if (cond) throw new Kind(message);}. */
    public record Throw(ThrowKind kind, Expr cond, Expr message) implements Stmt {}

    /** {@code if (cond) return value;}. */
    public record Return(Expr cond, Expr value) implements Stmt {}

    /** {@code { T t = init; body; trace(t); }}: a block-scoped local live across the body. */
    public record Let(Expr init, List<Stmt> body) implements Stmt {}

    // ------------------------------------------------------------------ program

    /** Where a generated function lives and how it is called. */
    public enum FnKind {
        /** {@code static} in {@code gen.Prog}. */
        STATIC,
        /** {@code private static}: nested and anonymous classes reach it through {@code access$} methods before Java 11. */
        PRIVATE_STATIC,
        /** An instance method of {@code gen.Prog}, called on {@code Prog.self}. */
        INSTANCE,
        /** {@code private}, an instance method. */
        PRIVATE_INSTANCE,
        /** A default method of the nested interface {@code Prog.Api} that {@code Prog} implements. */
        DEFAULT
    }

    /**
     * A coroutine function {@code fN(int depth, params...)}; the parameters are the pool
     * variables whose bit is set in {@code paramMask}, the others are declared locals.
     */
    public record Function(FnKind kind, Type returnType, int paramMask, List<Stmt> body, Expr result) {}

    /** The program: {@code f0} is called by the coroutine's entry lambda with {@code entryDepth}. */
    public record Program(List<Function> functions, int entryDepth, List<Expr> entryArgs) {}
}
