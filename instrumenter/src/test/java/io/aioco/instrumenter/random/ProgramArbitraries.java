package io.aioco.instrumenter.random;

import io.aioco.instrumenter.random.Model.Arm;
import io.aioco.instrumenter.random.Model.ArrayRead;
import io.aioco.instrumenter.random.Model.ArrayStore;
import io.aioco.instrumenter.random.Model.Assign;
import io.aioco.instrumenter.random.Model.Binary;
import io.aioco.instrumenter.random.Model.Call;
import io.aioco.instrumenter.random.Model.CallStmt;
import io.aioco.instrumenter.random.Model.Catch;
import io.aioco.instrumenter.random.Model.CatchKind;
import io.aioco.instrumenter.random.Model.Compare;
import io.aioco.instrumenter.random.Model.Concat;
import io.aioco.instrumenter.random.Model.Const;
import io.aioco.instrumenter.random.Model.Expr;
import io.aioco.instrumenter.random.Model.Function;
import io.aioco.instrumenter.random.Model.HolderCall;
import io.aioco.instrumenter.random.Model.If;
import io.aioco.instrumenter.random.Model.Jump;
import io.aioco.instrumenter.random.Model.LambdaApply;
import io.aioco.instrumenter.random.Model.Let;
import io.aioco.instrumenter.random.Model.Logic;
import io.aioco.instrumenter.random.Model.Loop;
import io.aioco.instrumenter.random.Model.NewArray;
import io.aioco.instrumenter.random.Model.NewHolder;
import io.aioco.instrumenter.random.Model.PoolVar;
import io.aioco.instrumenter.random.Model.Program;
import io.aioco.instrumenter.random.Model.Return;
import io.aioco.instrumenter.random.Model.Stmt;
import io.aioco.instrumenter.random.Model.Switch;
import io.aioco.instrumenter.random.Model.SwitchKind;
import io.aioco.instrumenter.random.Model.SwitchValue;
import io.aioco.instrumenter.random.Model.Ternary;
import io.aioco.instrumenter.random.Model.Throw;
import io.aioco.instrumenter.random.Model.ThrowKind;
import io.aioco.instrumenter.random.Model.Trace;
import io.aioco.instrumenter.random.Model.Try;
import io.aioco.instrumenter.random.Model.TryWithResource;
import io.aioco.instrumenter.random.Model.Type;
import io.aioco.instrumenter.random.Model.Var;
import io.aioco.instrumenter.random.Model.YieldStmt;
import io.aioco.instrumenter.random.Model.YieldValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;

/**
 * jqwik generators of {@link Program}s. Everything is built from jqwik combinators so that a failing
 * program shrinks: lists lose elements, numbers go towards zero, and a nested statement or
 * expression shrinks towards the simpler alternatives (the leaves are listed first). Nesting is bounded by an explicit depth; sizes are kept small so that a program
 * compiles quickly and reads easily when it fails.
 */
public final class ProgramArbitraries {
    /** Nesting of expressions inside an expression. */
    static final int EXPR_DEPTH = 2;
    /** Nesting of blocks inside a function body. */
    static final int STMT_DEPTH = 2;

    /**
     * Known instrumenter bug (see {@code RandomProgramFoundBugsTest}): a method whose rewritten
     * form outgrows the class-file limits makes the whole class fail with an internal ASM error. The
     * usual way generated methods get that big is javac copying a finally block (and what is nested
     * in it) once per exit of its try: nested try/catch/finally inside a finally or catch multiplies
     * the copies. While this flag is true, catch and finally bodies hold only simple statements.
     * Set it to false once the bug is fixed.
     */
    static final boolean AVOID_OVERSIZED_METHODS_BUG = false;

    private final Map<String, Arbitrary<Expr>> expressions = new HashMap<>();
    private final Map<Integer, Arbitrary<Stmt>> statements = new HashMap<>();

    private ProgramArbitraries() {}

    /** Whole programs: one to four functions, {@code f0} being the coroutine's entry. */
    public static Arbitrary<Program> programs() {
        return new ProgramArbitraries().program();
    }

    /** Yield schedules: per call of {@code yieldPoint()}, yield or not (cycled). */
    public static Arbitrary<boolean[]> schedules() {
        return Arbitraries.of(true, false).array(boolean[].class).ofMinSize(1).ofMaxSize(12);
    }

    private Arbitrary<Program> program() {
        Arbitrary<List<Function>> functions = function().list().ofMinSize(1).ofMaxSize(4);
        Arbitrary<List<Expr>> entryArgs = leaf(Type.INT).list().ofMaxSize(3);
        return Combinators.combine(functions, Arbitraries.integers().between(0, 2), entryArgs).as(Program::new);
    }

    private Arbitrary<Function> function() {
        return Combinators.combine(Arbitraries.of(Type.values()), Arbitraries.integers().between(0, 255),
                statement(STMT_DEPTH).list().ofMinSize(1).ofMaxSize(5), anyExpr(1)).as(Function::new);
    }

    // ------------------------------------------------------------------ statements

    private Arbitrary<List<Stmt>> block(int depth) {
        return statement(depth).list().ofMaxSize(3);
    }

    private Arbitrary<Stmt> statement(int depth) {
        return statements.computeIfAbsent(depth, d -> {
            Choices<Stmt> choices = new Choices<Stmt>()
                    .add(4, this::yieldStatement).add(3, this::assign).add(2, this::trace).add(3, this::callStatement)
                    .add(1, this::arrayStore).add(1, this::throwStatement).add(1, this::returnStatement)
                    .add(1, this::jump);
            if (d > 0) {
                int inner = d - 1;
                choices.add(2, () -> ifStatement(inner)).add(2, () -> loop(inner)).add(2, () -> switchStatement(inner))
                        .add(3, () -> tryStatement(inner)).add(1, () -> tryWithResource(inner)).add(1, () -> let(inner));
            }
            return choices.arbitrary();
        });
    }

    private Arbitrary<Stmt> yieldStatement() {
        Arbitrary<Expr> shown = Combinators.combine(Arbitraries.of(Type.values()), Arbitraries.integers().between(0, 3))
                .as(Var::new);
        return shown.list().ofMaxSize(3).map(YieldStmt::new);
    }

    private Arbitrary<Stmt> assign() {
        // the value may have any type: the renderer converts it to the target's
        return Combinators.combine(Arbitraries.of(PoolVar.values()), Arbitraries.of("+", "-", "*").injectNull(0.6),
                anyExpr(EXPR_DEPTH)).as(Assign::new);
    }

    private Arbitrary<Stmt> trace() {
        return anyExpr(EXPR_DEPTH).list().ofMinSize(1).ofMaxSize(2).map(Trace::new);
    }

    private Arbitrary<Stmt> callStatement() {
        return call(EXPR_DEPTH).map(CallStmt::new);
    }

    private Arbitrary<Stmt> arrayStore() {
        return Combinators.combine(expression(Type.INT, 1), expression(Type.INT, EXPR_DEPTH)).as(ArrayStore::new);
    }

    private Arbitrary<Stmt> throwStatement() {
        return Combinators.combine(Arbitraries.of(ThrowKind.values()), expression(Type.BOOLEAN, 1), anyExpr(1))
                .as(Throw::new);
    }

    private Arbitrary<Stmt> returnStatement() {
        return Combinators.combine(expression(Type.BOOLEAN, 1), anyExpr(EXPR_DEPTH)).as(Return::new);
    }

    private Arbitrary<Stmt> jump() {
        return Combinators.combine(Arbitraries.of(false, true), expression(Type.BOOLEAN, 1)).as(Jump::new);
    }

    private Arbitrary<Stmt> ifStatement(int inner) {
        return Combinators.combine(expression(Type.BOOLEAN, EXPR_DEPTH), block(inner), block(inner)).as(If::new);
    }

    private Arbitrary<Stmt> loop(int inner) {
        return Combinators.combine(Arbitraries.of(false, true), Arbitraries.integers().between(0, 3), block(inner))
                .as(Loop::new);
    }

    private Arbitrary<Stmt> switchStatement(int inner) {
        Arbitrary<Arm> arm = Combinators.combine(block(inner), Arbitraries.of(false, true)).as(Arm::new);
        return Combinators.combine(Arbitraries.of(SwitchKind.values()), Arbitraries.of(false, true), anyExpr(1),
                arm.list().ofMinSize(1).ofMaxSize(3), block(inner)).as(Switch::new);
    }

    private Arbitrary<Stmt> tryStatement(int inner) {
        int handlerDepth = AVOID_OVERSIZED_METHODS_BUG ? 0 : inner;
        Arbitrary<Catch> catchClause = Combinators.combine(Arbitraries.of(CatchKind.values()), block(handlerDepth))
                .as(Catch::new);
        // most throws sit at the end of a try body, after what may have yielded, so most programs
        // catch what they throw and go on instead of ending at their first throw
        Arbitrary<List<Stmt>> body = Combinators.combine(block(inner), throwStatement().injectNull(0.3))
                .as((stmts, thrown) -> {
                    if (thrown == null) {
                        return stmts;
                    }
                    List<Stmt> withThrow = new ArrayList<>(stmts);
                    withThrow.add(thrown);
                    return withThrow;
                });
        return Combinators.combine(body, catchClause.list().ofMaxSize(2), block(handlerDepth).injectNull(0.5))
                .as(Try::new);
    }

    private Arbitrary<Stmt> tryWithResource(int inner) {
        return Combinators.combine(Arbitraries.of(false, true), anyExpr(1), block(inner)).as(TryWithResource::new);
    }

    private Arbitrary<Stmt> let(int inner) {
        return Combinators.combine(anyExpr(EXPR_DEPTH), block(inner)).as(Let::new);
    }

    // ------------------------------------------------------------------ expressions

    private Arbitrary<Expr> anyExpr(int depth) {
        List<Arbitrary<? extends Expr>> byType = new ArrayList<>();
        for (Type type : Type.values()) {
            byType.add(expression(type, depth));
        }
        return Arbitraries.oneOf(byType);
    }

    private Arbitrary<Expr> leaf(Type type) {
        return Arbitraries.integers().between(0, 9).map(seed -> new Const(type, seed));
    }

    private Arbitrary<Expr> variable(Type type) {
        return Arbitraries.integers().between(0, 3).map(index -> new Var(type, index));
    }

    private Arbitrary<Call> call(int depth) {
        return Combinators.combine(Arbitraries.of(Type.values()), Arbitraries.integers().between(0, 3),
                anyExpr(depth - 1).list().ofMaxSize(3)).as(Call::new);
    }

    private Arbitrary<Expr> expression(Type type, int depth) {
        return expressions.computeIfAbsent(type + "/" + depth, key -> {
            Choices<Expr> choices = new Choices<Expr>().add(3, () -> variable(type)).add(2, () -> leaf(type));
            if (depth > 0) {
                int inner = depth - 1;
                choices.add(3, () -> expression(type, inner).map(value -> new YieldValue(type, value)));
                choices.add(3, () -> call(depth).map(c -> new Call(type, c.target(), c.args())));
                choices.add(1, () -> Combinators.combine(expression(Type.BOOLEAN, inner), expression(type, inner),
                        expression(type, inner)).as((c, t, f) -> new Ternary(type, c, t, f)));
                choices.add(1, () -> Combinators.combine(expression(Type.INT, inner), expression(type, inner),
                        expression(type, inner), expression(type, inner))
                        .as((s, a0, a1, a2) -> new SwitchValue(type, s, a0, a1, a2)));
                typed(choices, type, inner);
            }
            return choices.arbitrary();
        });
    }

    private void typed(Choices<Expr> choices, Type type, int inner) {
        switch (type) {
            case INT -> choices
                    .add(1, () -> binary(type, inner, "+", "-", "*", "/", "%", "^"))
                    .add(1, () -> binary(type, inner, "+", "-", "*"))
                    .add(2, () -> Combinators.combine(Arbitraries.of(false, true), expression(Type.INT, inner),
                            expression(Type.INT, inner)).as(HolderCall::new))
                    .add(1, () -> Combinators.combine(expression(Type.ARRAY, inner), expression(Type.INT, inner))
                            .as(ArrayRead::new))
                    .add(1, () -> Combinators.combine(expression(Type.INT, inner), expression(Type.INT, inner))
                            .as(LambdaApply::new));
            case LONG -> choices.add(2, () -> binary(type, inner, "+", "-", "*"));
            case DOUBLE -> choices.add(2, () -> binary(type, inner, "+", "-", "*", "/"));
            case BOOLEAN -> choices
                    .add(2, () -> Combinators.combine(Arbitraries.of("<", "<=", "==", "!="),
                            expression(Type.INT, inner), expression(Type.INT, inner)).as(Compare::new))
                    .add(1, () -> Combinators.combine(Arbitraries.of("&&", "||"),
                            expression(Type.BOOLEAN, inner), expression(Type.BOOLEAN, inner)).as(Logic::new));
            case STRING -> choices.add(2, () -> anyExpr(inner).list().ofMinSize(1).ofMaxSize(3).map(Concat::new));
            case ARRAY -> choices.add(2, () -> expression(Type.INT, inner).list().ofMinSize(1).ofMaxSize(3)
                    .map(NewArray::new));
            case OBJECT -> choices.add(2, () -> expression(Type.INT, inner).map(NewHolder::new));
        }
    }

    private Arbitrary<Expr> binary(Type type, int inner, String... ops) {
        return Combinators.combine(Arbitraries.of(ops), expression(type, inner), expression(type, inner))
                .as((op, left, right) -> new Binary(type, op, left, right));
    }

    /**
     * Weighted alternatives, the simplest first. Each is built lazily ({@link Arbitraries#lazy}), so
     * building the arbitraries for depth d does not build those for deeper nesting than needed.
     * (jqwik's {@code Arbitraries.lazyOf} is not used: it caches its instances by call site within a
     * property, which would merge the per-depth instances built here into one unbounded recursion.)
     * {@code frequencyOf} shrinks a value towards the earlier, simpler alternatives.
     */
    private static final class Choices<T> {
        private final List<Tuple2<Integer, Arbitrary<T>>> weighted = new ArrayList<>();

        Choices<T> add(int weight, Supplier<Arbitrary<? extends T>> alternative) {
            weighted.add(Tuple.of(weight, Arbitraries.lazy(alternative::get).map(value -> (T) value)));
            return this;
        }

        Arbitrary<T> arbitrary() {
            return Arbitraries.frequencyOf(weighted);
        }
    }
}
