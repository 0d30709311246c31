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
        INT("int"), LONG("long"), DOUBLE("double"), BOOLEAN("boolean"), STRING("String"), ARRAY("int[]"),
        OBJECT("Object");

        public final String javaName;

        Type(String javaName) {
            this.javaName = javaName;
        }
    }

    /**
     * The locals every generated function has, either as parameters or declared at its start. Only
     * these are ever assigned; they are always in scope, so statements need no scope tracking.
     */
    public enum PoolVar {
        X("x", Type.INT, "1"), Y("y", Type.INT, "2"), L("l", Type.LONG, "3L"), D("d", Type.DOUBLE, "0.5"),
        Z("z", Type.BOOLEAN, "true"), S("s", Type.STRING, "\"s\""), A("a", Type.ARRAY, "new int[] {1, 2, 3}"),
        O("o", Type.OBJECT, "(Object) \"o\"");

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

    /** {@code new int[] {elements...}}: the array and index on the stack while an element runs. */
    public record NewArray(List<Expr> elements) implements Expr {
        @Override
        public Type type() {
            return Type.ARRAY;
        }
    }

    /** {@code array[Math.floorMod(index, array.length)]}. */
    public record ArrayRead(Expr array, Expr index) implements Expr {
        @Override
        public Type type() {
            return Type.INT;
        }
    }

    /** An arrow switch expression on an int selector with three arms. */
    public record SwitchValue(Type type, Expr selector, Expr arm0, Expr arm1, Expr arm2) implements Expr {}

    /** {@code ((Rt.IntFn) v -> body).apply(arg)}: a coroutine lambda called inside an expression. */
    public record LambdaApply(Expr body, Expr arg) implements Expr {
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

    /** {@code a[Math.floorMod(index, a.length)] = value;}. */
    public record ArrayStore(Expr index, Expr value) implements Stmt {}

    /** Appends the values to the trace. */
    public record Trace(List<Expr> values) implements Stmt {}

    /** {@code Rt.yieldPoint();} then the values of some locals go to the trace. */
    public record YieldStmt(List<Expr> shown) implements Stmt {}

    /** A call whose result is dropped. */
    public record CallStmt(Call call) implements Stmt {}

    /** {@code if (cond) {...} else {...}}. */
    public record If(Expr cond, List<Stmt> then, List<Stmt> otherwise) implements Stmt {}

    /** A counted loop: {@code for} or {@code while}, {@code trips} iterations at most. */
    public record Loop(boolean whileLoop, int trips, List<Stmt> body) implements Stmt {}

    /** {@code if (cond) break;} or {@code continue;} (rendered as a trace outside loops). */
    public record Jump(boolean isContinue, Expr cond) implements Stmt {}

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

    /**
     * A static coroutine function {@code fN(int depth, params...)}; the parameters are the pool
     * variables whose bit is set in {@code paramMask}, the others are declared locals.
     */
    public record Function(Type returnType, int paramMask, List<Stmt> body, Expr result) {}

    /** The program: {@code f0} is called by the coroutine's entry lambda with {@code entryDepth}. */
    public record Program(List<Function> functions, int entryDepth, List<Expr> entryArgs) {}
}
