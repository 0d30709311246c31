package io.aioco.instrumenter.random;

import io.aioco.instrumenter.random.Model.Arm;
import io.aioco.instrumenter.random.Model.ArrayRead;
import io.aioco.instrumenter.random.Model.ArrayStore;
import io.aioco.instrumenter.random.Model.Assign;
import io.aioco.instrumenter.random.Model.Binary;
import io.aioco.instrumenter.random.Model.Call;
import io.aioco.instrumenter.random.Model.CallStmt;
import io.aioco.instrumenter.random.Model.Capture;
import io.aioco.instrumenter.random.Model.Catch;
import io.aioco.instrumenter.random.Model.CatchKind;
import io.aioco.instrumenter.random.Model.Compare;
import io.aioco.instrumenter.random.Model.Concat;
import io.aioco.instrumenter.random.Model.Const;
import io.aioco.instrumenter.random.Model.Crossing;
import io.aioco.instrumenter.random.Model.Expr;
import io.aioco.instrumenter.random.Model.FieldRead;
import io.aioco.instrumenter.random.Model.FieldStore;
import io.aioco.instrumenter.random.Model.FnForm;
import io.aioco.instrumenter.random.Model.FnKind;
import io.aioco.instrumenter.random.Model.Function;
import io.aioco.instrumenter.random.Model.HolderCall;
import io.aioco.instrumenter.random.Model.If;
import io.aioco.instrumenter.random.Model.Jump;
import io.aioco.instrumenter.random.Model.LambdaApply;
import io.aioco.instrumenter.random.Model.Let;
import io.aioco.instrumenter.random.Model.Logic;
import io.aioco.instrumenter.random.Model.Loop;
import io.aioco.instrumenter.random.Model.LoopKind;
import io.aioco.instrumenter.random.Model.MethodRef;
import io.aioco.instrumenter.random.Model.NewArray;
import io.aioco.instrumenter.random.Model.NewHolder;
import io.aioco.instrumenter.random.Model.PoolVar;
import io.aioco.instrumenter.random.Model.Program;
import io.aioco.instrumenter.random.Model.Return;
import io.aioco.instrumenter.random.Model.ServiceCall;
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
import io.aioco.instrumenter.random.Model.ValueArm;
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

    /** Whether expressions may be switch expressions (which need release 14: such programs skip 8 and 11). */
    private final boolean switchExpressions;

    private ProgramArbitraries(boolean switchExpressions) {
        this.switchExpressions = switchExpressions;
    }

    /**
     * Whole programs: one to four functions, {@code f0} being the coroutine's entry. Half of them have
     * no switch expressions, so that they compile for every release from 8 on.
     */
    public static Arbitrary<Program> programs() {
        return Arbitraries.oneOf(new ProgramArbitraries(false).program(), new ProgramArbitraries(true).program());
    }

    /** Yield schedules: per call of {@code yieldPoint()}, yield or not (cycled). */
    public static Arbitrary<boolean[]> schedules() {
        return Arbitraries.of(true, false).array(boolean[].class).ofMinSize(1).ofMaxSize(12);
    }

    private Arbitrary<Program> program() {
        Arbitrary<List<Function>> functions = function().list().ofMinSize(1).ofMaxSize(4);
        Arbitrary<List<Expr>> entryArgs = leaf(Type.INT).list().ofMaxSize(3);
        // In three programs out of four the entry starts with a yield point, so that few programs
        // never yield when every yield point yields (about 15% did, mostly an early exception).
        Arbitrary<List<Function>> entryYields = Combinators.combine(functions, yieldStatement(),
                Arbitraries.integers().between(0, 3)).as((fns, first, pick) -> pick == 0 ? fns : withFirstStatement(fns, first));
        return Combinators.combine(entryYields, Arbitraries.integers().between(0, 2), entryArgs).as(Program::new);
    }

    private static List<Function> withFirstStatement(List<Function> functions, Stmt first) {
        Function entry = functions.get(0);
        List<Stmt> body = new java.util.ArrayList<>(entry.body().size() + 1);
        body.add(first);
        body.addAll(entry.body());
        List<Function> result = new java.util.ArrayList<>(functions);
        result.set(0, new Function(entry.kind(), entry.returnType(), entry.paramMask(), body, entry.result()));
        return result;
    }

    private Arbitrary<Function> function() {
        Arbitrary<FnKind> kind = Arbitraries.frequency(Tuple.of(4, FnKind.STATIC), Tuple.of(2, FnKind.PRIVATE_STATIC),
                Tuple.of(1, FnKind.INSTANCE), Tuple.of(1, FnKind.PRIVATE_INSTANCE), Tuple.of(1, FnKind.DEFAULT));
        // no parameters but depth now and then: such a function fits Rt.Fn<Integer, R> (MethodRef)
        Arbitrary<Integer> paramMask = Combinators.combine(Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, (1 << Model.PoolVar.values().length) - 1))
                .as((pick, mask) -> pick == 0 ? 0 : mask);
        return Combinators.combine(kind, Arbitraries.of(Type.values()), paramMask,
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
                    .add(2, this::jump).add(2, this::fieldStore).add(1, this::capture);
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
        return Combinators.combine(Arbitraries.of(Type.ARRAY, Type.LONG_ARRAY, Type.STRING_ARRAY),
                expression(Type.INT, 1), anyExpr(EXPR_DEPTH)).as(ArrayStore::new);
    }

    private Arbitrary<Stmt> fieldStore() {
        return Combinators.combine(Arbitraries.of(Type.values()), Arbitraries.of(false, true),
                Arbitraries.of("+", "-", "*").injectNull(0.6), anyExpr(EXPR_DEPTH)).as(FieldStore::new);
    }

    private Arbitrary<Stmt> capture() {
        return Combinators.combine(Arbitraries.of(FnForm.values()), anyExpr(1), expression(Type.INT, 1),
                expression(Type.INT, 1)).as(Capture::new);
    }

    private Arbitrary<Stmt> throwStatement() {
        return Combinators.combine(Arbitraries.of(ThrowKind.values()), expression(Type.BOOLEAN, 1), anyExpr(1))
                .as(Throw::new);
    }

    private Arbitrary<Stmt> returnStatement() {
        return Combinators.combine(expression(Type.BOOLEAN, 1), anyExpr(EXPR_DEPTH)).as(Return::new);
    }

    private Arbitrary<Stmt> jump() {
        return Combinators.combine(Arbitraries.of(false, true), Arbitraries.integers().between(0, 3),
                expression(Type.BOOLEAN, 1)).as(Jump::new);
    }

    private Arbitrary<Stmt> ifStatement(int inner) {
        return Combinators.combine(expression(Type.BOOLEAN, EXPR_DEPTH), block(inner), block(inner)).as(If::new);
    }

    private Arbitrary<Stmt> loop(int inner) {
        // now and then a loop nested in the body, ending in a jump that may leave both (labelled)
        Arbitrary<Stmt> innerLoop = Combinators.combine(Arbitraries.of(LoopKind.values()),
                Arbitraries.integers().between(0, 3), block(0), jump())
                .as((kind, trips, body, jump) -> {
                    List<Stmt> withJump = new ArrayList<>(body);
                    withJump.add(jump);
                    return new Loop(kind, trips, withJump);
                });
        return Combinators.combine(Arbitraries.of(LoopKind.values()), Arbitraries.integers().between(0, 3),
                block(inner), innerLoop.injectNull(0.6)).as((kind, trips, body, nested) -> {
                    if (nested == null) {
                        return new Loop(kind, trips, body);
                    }
                    List<Stmt> withNested = new ArrayList<>(body);
                    withNested.add(nested);
                    return new Loop(kind, trips, withNested);
                });
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

    /**
     * A simple statement inside an arm of a switch expression: its expressions are no deeper than
     * the arm's, so that expressions and statements nested in each other stay bounded.
     */
    private Arbitrary<Stmt> armStatement(int exprDepth) {
        return statements.computeIfAbsent(-1 - exprDepth, key -> new Choices<Stmt>()
                .add(4, this::yieldStatement)
                .add(2, () -> Combinators.combine(Arbitraries.of(PoolVar.values()),
                        Arbitraries.of("+", "-", "*").injectNull(0.6), anyExpr(exprDepth)).as(Assign::new))
                .add(1, () -> anyExpr(exprDepth).list().ofMinSize(1).ofMaxSize(2).map(Trace::new))
                .add(1, () -> Combinators.combine(Arbitraries.of(Type.values()), Arbitraries.of(false, true),
                        Arbitraries.of("+", "-", "*").injectNull(0.6), anyExpr(exprDepth)).as(FieldStore::new))
                .add(1, () -> Combinators.combine(Arbitraries.of(ThrowKind.values()), expression(Type.BOOLEAN, exprDepth),
                        leaf(Type.STRING)).as(Throw::new))
                .arbitrary());
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
                if (switchExpressions) {
                    choices.add(2, () -> switchValue(type, inner, false));
                }
                choices.add(1, () -> Combinators.combine(expression(Type.INT, inner), Arbitraries.integers().between(0, 3))
                        .as((arg, target) -> new MethodRef(type, target, arg)));
                choices.add(1, () -> Arbitraries.of(false, true).map(isStatic -> new FieldRead(type, isStatic)));
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
                    .add(1, () -> arrayRead(Type.ARRAY, inner))
                    .add(1, () -> Combinators.combine(Arbitraries.of(FnForm.values()), expression(Type.INT, inner),
                            expression(Type.INT, inner)).as(LambdaApply::new))
                    .add(2, () -> Combinators.combine(Arbitraries.of(Crossing.values()), expression(Type.INT, inner))
                            .as(ServiceCall::new));
            case LONG -> choices.add(2, () -> binary(type, inner, "+", "-", "*")).add(1, () -> arrayRead(Type.LONG_ARRAY, inner));
            case DOUBLE -> choices.add(2, () -> binary(type, inner, "+", "-", "*", "/"));
            case FLOAT -> choices.add(2, () -> binary(type, inner, "+", "-", "*", "/"));
            case BYTE, SHORT, CHAR -> { } // int arithmetic narrowed by the renderer's conversions
            case BOOLEAN -> choices
                    .add(2, () -> Combinators.combine(Arbitraries.of("<", "<=", "==", "!="),
                            expression(Type.INT, inner), expression(Type.INT, inner)).as(Compare::new))
                    .add(1, () -> Combinators.combine(Arbitraries.of("&&", "||"),
                            expression(Type.BOOLEAN, inner), expression(Type.BOOLEAN, inner)).as(Logic::new));
            case STRING -> choices.add(2, () -> anyExpr(inner).list().ofMinSize(1).ofMaxSize(3).map(Concat::new))
                    .add(1, () -> arrayRead(Type.STRING_ARRAY, inner));
            case ARRAY, LONG_ARRAY, STRING_ARRAY -> choices.add(2, () -> expression(Model.elementType(type), inner)
                    .list().ofMinSize(1).ofMaxSize(3).map(elements -> new NewArray(type, elements)));
            case OBJECT -> choices.add(2, () -> expression(Type.INT, inner).map(NewHolder::new))
                    // a switch expression with try/catch in a constructor's argument: javac keeps the
                    // object under construction in locals there
                    .add(switchExpressions ? 3 : 0, () -> switchValue(Type.INT, inner, true).map(NewHolder::new));
        }
    }

    private Arbitrary<Expr> arrayRead(Type arrayType, int inner) {
        return Combinators.combine(expression(arrayType, inner), expression(Type.INT, inner))
                .as((array, index) -> new ArrayRead(arrayType, array, index));
    }

    /** A switch expression; {@code withTry}: its first arm catches (a try/catch inside the expression). */
    private Arbitrary<Expr> switchValue(Type type, int inner, boolean withTry) {
        Arbitrary<ValueArm> arm = valueArm(type, inner, false);
        Arbitrary<List<ValueArm>> arms = withTry
                ? Combinators.combine(valueArm(type, inner, true), arm.list().ofMaxSize(2)).as((first, rest) -> {
                    List<ValueArm> all = new ArrayList<>();
                    all.add(first);
                    all.addAll(rest);
                    return all;
                })
                : arm.list().ofMinSize(1).ofMaxSize(3);
        return Combinators.combine(Arbitraries.of(SwitchKind.values()), expression(Type.INT, inner), arms, arm)
                .as((kind, selector, cases, otherwise) -> new SwitchValue(type, kind, selector, cases, otherwise));
    }

    /** An arm: an expression, or a block that yields (with try/catch when {@code withTry}, or at random). */
    private Arbitrary<ValueArm> valueArm(Type type, int inner, boolean withTry) {
        Arbitrary<ValueArm> plain = expression(type, inner).map(value -> new ValueArm(List.of(), value, null));
        Arbitrary<ValueArm> block = Combinators.combine(armStatement(inner).list().ofMinSize(1).ofMaxSize(2),
                expression(type, inner)).as((body, value) -> new ValueArm(body, value, null));
        Arbitrary<ValueArm> tryArm = Combinators.combine(armStatement(inner).list().ofMaxSize(2),
                expression(type, inner), expression(type, inner)).as(ValueArm::new);
        if (withTry) {
            return tryArm;
        }
        return new Choices<ValueArm>().add(3, () -> plain).add(2, () -> block).add(1, () -> tryArm).arbitrary();
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
            if (weight > 0) {
                weighted.add(Tuple.of(weight, Arbitraries.lazy(alternative::get).map(value -> (T) value)));
            }
            return this;
        }

        Arbitrary<T> arbitrary() {
            return Arbitraries.frequencyOf(weighted);
        }
    }
}
