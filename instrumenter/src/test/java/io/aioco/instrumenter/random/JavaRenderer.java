package io.aioco.instrumenter.random;

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
import io.aioco.instrumenter.random.Model.SwitchValue;
import io.aioco.instrumenter.random.Model.Ternary;
import io.aioco.instrumenter.random.Model.Throw;
import io.aioco.instrumenter.random.Model.Trace;
import io.aioco.instrumenter.random.Model.Try;
import io.aioco.instrumenter.random.Model.TryWithResource;
import io.aioco.instrumenter.random.Model.Type;
import io.aioco.instrumenter.random.Model.Var;
import io.aioco.instrumenter.random.Model.YieldStmt;
import io.aioco.instrumenter.random.Model.YieldValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Renders a {@link Program} to the source of class {@code gen.Prog}. Resolves the model's indices
 * against what is in scope (variables, loops, switches, lambdas), converts between types where a
 * node's type differs from what its place needs, and names every local uniquely so that no two
 * declarations clash.
 */
public final class JavaRenderer {
    /** Dotted name of the generated class. */
    public static final String CLASS_NAME = "gen.Prog";

    private static final String[] STRINGS = {"a", "s", "ab", "", "b"};
    private static final String[] ENUM_LABELS = {"RED", "GREEN", "BLUE"};

    private final Program program;
    private final StringBuilder out = new StringBuilder();
    private int functionIndex;
    private Function function;
    private int uniqueNames;
    private int sites;
    private int indent;
    private int loopDepth;
    private int switchDepth;
    /** Variables readable here, innermost last. */
    private final List<Local> scope = new ArrayList<>();
    /** Inside a lambda body only effectively final variables may be read. */
    private boolean inLambda;

    private record Local(String name, Type type, boolean effectivelyFinal) {}

    private JavaRenderer(Program program) {
        this.program = program;
    }

    /** @return the source of {@code gen.Prog} */
    public static String render(Program program) {
        return new JavaRenderer(program).renderProgram();
    }

    private String renderProgram() {
        out.append("package gen;\n\nimport io.aioco.*;\n\npublic class Prog {\n");
        for (functionIndex = 0; functionIndex < program.functions().size(); functionIndex++) {
            renderFunction(program.functions().get(functionIndex));
        }
        functionIndex = -1;
        function = null;
        scope.clear();
        Function entry = program.functions().get(0);
        StringBuilder call = new StringBuilder("f0(").append(program.entryDepth());
        List<PoolVar> params = params(entry);
        for (int i = 0; i < params.size(); i++) {
            Expr arg = i < program.entryArgs().size() ? program.entryArgs().get(i) : null;
            call.append(", ").append(argument(arg, params.get(i).type));
        }
        call.append(')');
        out.append("    public static Object[] run(boolean yielding, boolean[] schedule) {\n")
                .append("        return Rt.drive(() -> Rt.result = Rt.show(").append(call)
                .append("), yielding, schedule);\n    }\n}\n");
        return out.toString();
    }

    static List<PoolVar> params(Function function) {
        List<PoolVar> params = new ArrayList<>();
        for (PoolVar var : PoolVar.values()) {
            if ((function.paramMask() & (1 << var.ordinal())) != 0) {
                params.add(var);
            }
        }
        return params;
    }

    private void renderFunction(Function fn) {
        function = fn;
        uniqueNames = 0;
        sites = 0;
        scope.clear();
        List<PoolVar> params = params(fn);
        StringBuilder signature = new StringBuilder("int depth");
        StringBuilder entryTrace = new StringBuilder("\"f" + functionIndex + "(\" + depth");
        for (PoolVar p : params) {
            signature.append(", ").append(p.type.javaName).append(' ').append(p.javaName);
            entryTrace.append(" + \", \" + Rt.show(").append(p.javaName).append(')');
        }
        out.append("    @CoroutineFn\n    static ").append(fn.returnType().javaName).append(" f").append(functionIndex)
                .append('(').append(signature).append(") throws Exception {\n");
        indent = 2;
        line("Rt.enter(" + entryTrace + " + \")\");");
        scope.add(new Local("depth", Type.INT, true));
        for (PoolVar var : PoolVar.values()) {
            if (!params.contains(var)) {
                line(var.type.javaName + " " + var.javaName + " = " + var.initializer + ";");
            }
            scope.add(new Local(var.javaName, var.type, false));
        }
        block(fn.body());
        line("return Rt.ret(\"" + site() + "\", " + convert(fn.result(), fn.returnType()) + ");");
        out.append("    }\n\n");
    }

    // ------------------------------------------------------------------ statements

    private void block(List<Stmt> stmts) {
        int scopeSize = scope.size();
        for (Stmt stmt : stmts) {
            statement(stmt);
        }
        while (scope.size() > scopeSize) {
            scope.remove(scope.size() - 1);
        }
    }

    private void braced(String head, List<Stmt> body) {
        line(head + " {");
        indent++;
        block(body);
        indent--;
        line("}");
    }

    private void statement(Stmt stmt) {
        if (stmt instanceof Assign assign) {
            assign(assign);
            return;
        }
        if (stmt instanceof ArrayStore store) {
            line("a[Math.floorMod(" + convert(store.index(), Type.INT) + ", a.length)] = "
                    + convert(store.value(), Type.INT) + ";");
            return;
        }
        if (stmt instanceof Trace trace) {
            StringBuilder text = new StringBuilder("Rt.t(\"" + site() + "\"");
            for (Expr value : trace.values()) {
                text.append(" + \" \" + ").append(shown(value));
            }
            line(text + ");");
            return;
        }
        if (stmt instanceof YieldStmt yield) {
            line("Rt.yieldPoint();");
            StringBuilder text = new StringBuilder("Rt.t(\"" + site() + " after yield\"");
            for (Expr value : yield.shown()) {
                text.append(" + \" \" + ").append(shown(value));
            }
            line(text + ");");
            return;
        }
        if (stmt instanceof CallStmt call) {
            line(callStatement(call.call()));
            return;
        }
        if (stmt instanceof If branch) {
            line("if (" + convert(branch.cond(), Type.BOOLEAN) + ") {");
            nested(branch.then());
            if (!branch.otherwise().isEmpty()) {
                line("} else {");
                nested(branch.otherwise());
            }
            line("}");
            return;
        }
        if (stmt instanceof Loop loop) {
            loop(loop);
            return;
        }
        if (stmt instanceof Jump jump) {
            jump(jump);
            return;
        }
        if (stmt instanceof Switch sw) {
            switchStatement(sw);
            return;
        }
        if (stmt instanceof Try tryStmt) {
            tryStatement(tryStmt);
            return;
        }
        if (stmt instanceof TryWithResource twr) {
            String name = unique("r");
            String type = twr.coroutineClose() ? "Rt.CoRes" : "Rt.Res";
            braced("try (" + type + " " + name + " = new " + type + "(\"" + name + " \" + "
                    + convert(twr.label(), Type.STRING) + "))", twr.body());
            return;
        }
        if (stmt instanceof Throw thrown) {
            line("if (" + convert(thrown.cond(), Type.BOOLEAN) + ") throw new "
                    + thrown.kind().javaName + "(\"" + site() + " \" + " + convert(thrown.message(), Type.STRING) + ");");
            return;
        }
        if (stmt instanceof Return ret) {
            line("if (" + convert(ret.cond(), Type.BOOLEAN) + ") return Rt.ret(\"" + site()
                    + "\", " + convert(ret.value(), function.returnType()) + ");");
            return;
        }
        if (stmt instanceof Let let) {
            String name = unique("t");
            Type type = let.init().type();
            line("{");
            indent++;
            line(type.javaName + " " + name + " = " + expr(let.init()) + ";");
            int scopeSize = scope.size();
            scope.add(new Local(name, type, true));
            block(let.body());
            line("Rt.t(\"" + site() + " " + name + "=\" + Rt.show(" + name + "));");
            while (scope.size() > scopeSize) {
                scope.remove(scope.size() - 1);
            }
            indent--;
            line("}");
            return;
        }
        throw new AssertionError(stmt);
    }

    private void nested(List<Stmt> body) {
        indent++;
        block(body);
        indent--;
    }

    private void assign(Assign assign) {
        PoolVar target = assign.target();
        String name = target.javaName;
        if (assign.compoundOp() != null && target.type == Type.STRING) {
            line(name + " = Rt.cap(" + name + " + " + shown(assign.value()) + ");");
        } else if (assign.compoundOp() != null && isNumeric(target.type)) {
            line(name + " " + assign.compoundOp() + "= " + convert(assign.value(), target.type) + ";");
        } else if (target.type == Type.STRING) {
            line(name + " = Rt.cap(" + convert(assign.value(), Type.STRING) + ");");
        } else {
            line(name + " = " + convert(assign.value(), target.type) + ";");
        }
    }

    private void loop(Loop loop) {
        String counter = unique("i");
        loopDepth++;
        if (loop.whileLoop()) {
            line("int " + counter + " = 0;");
            line("while (" + counter + " < " + loop.trips() + ") {");
            indent++;
            line(counter + "++;");
        } else {
            line("for (int " + counter + " = 0; " + counter + " < " + loop.trips() + "; " + counter + "++) {");
            indent++;
        }
        int scopeSize = scope.size();
        scope.add(new Local(counter, Type.INT, false));
        block(loop.body());
        scope.remove(scopeSize);
        indent--;
        line("}");
        loopDepth--;
    }

    private void jump(Jump jump) {
        String cond = convert(jump.cond(), Type.BOOLEAN);
        if (jump.isContinue() && loopDepth > 0) {
            line("if (" + cond + ") continue;");
        } else if (!jump.isContinue() && (loopDepth > 0 || switchDepth > 0)) {
            line("if (" + cond + ") break;");
        } else {
            line("Rt.t(\"" + site() + " no jump \" + " + cond + ");");
        }
    }

    private void switchStatement(Switch sw) {
        String selector = switch (sw.kind()) {
            case INT_DENSE -> "Math.floorMod(" + convert(sw.selector(), Type.INT) + ", 4)";
            case INT_SPARSE -> "Math.floorMod(" + convert(sw.selector(), Type.INT) + ", 4) * 37";
            case STRING -> convert(sw.selector(), Type.STRING);
            case ENUM -> "Rt.Color.values()[Math.floorMod(" + convert(sw.selector(), Type.INT) + ", 3)]";
        };
        line("switch (" + selector + ") {");
        switchDepth++;
        indent++;
        int arms = Math.min(sw.arms().size(), 3);
        for (int i = 0; i < arms; i++) {
            String label = switch (sw.kind()) {
                case INT_DENSE -> String.valueOf(i);
                case INT_SPARSE -> String.valueOf(i * 37);
                case STRING -> "\"" + STRINGS[i] + "\"";
                case ENUM -> ENUM_LABELS[i];
            };
            switchArm("case " + label, sw.arrow(), sw.arms().get(i).body(), sw.arms().get(i).fallThrough());
        }
        switchArm("default", sw.arrow(), sw.otherwise(), true);
        indent--;
        switchDepth--;
        line("}");
    }

    private void switchArm(String label, boolean arrow, List<Stmt> body, boolean fallThrough) {
        if (arrow) {
            braced(label + " ->", body);
            return;
        }
        line(label + ": {");
        nested(body);
        line(fallThrough ? "}" : "} break;");
    }

    private void tryStatement(Try tryStmt) {
        List<Catch> catches = new ArrayList<>(tryStmt.catches());
        catches.sort(Comparator.comparingInt(c -> c.kind().rank));
        Set<CatchKind> seen = EnumSet.noneOf(CatchKind.class);
        catches.removeIf(c -> !seen.add(c.kind()));
        List<Stmt> finallyBody = tryStmt.finallyBody();
        if (catches.isEmpty() && finallyBody == null) {
            finallyBody = List.of();
        }
        line("try {");
        nested(tryStmt.body());
        for (Catch c : catches) {
            String name = unique("e");
            line("} catch (" + c.kind().javaName + " " + name + ") {");
            indent++;
            line("Rt.t(\"" + site() + " caught \" + " + name + ");");
            block(c.body());
            indent--;
        }
        if (finallyBody != null) {
            line("} finally {");
            indent++;
            line("Rt.t(\"" + site() + " finally\");");
            block(finallyBody);
            indent--;
        }
        line("}");
    }

    // ------------------------------------------------------------------ expressions

    /** Code and static type of an expression as rendered. */
    private record Code(String code, Type type) {}

    private String expr(Expr expr) {
        return code(expr).code;
    }

    private Code code(Expr expr) {
        if (expr instanceof Const c) {
            return new Code(literal(c.type(), c.seed()), c.type());
        }
        if (expr instanceof Var v) {
            return variable(v);
        }
        if (expr instanceof Binary b) {
            return new Code("(" + convert(b.left(), b.type()) + " " + b.op() + " "
                    + convert(b.right(), b.type()) + ")", b.type());
        }
        if (expr instanceof Compare c) {
            return new Code("(" + convert(c.left(), Type.INT) + " " + c.op() + " "
                    + convert(c.right(), Type.INT) + ")", Type.BOOLEAN);
        }
        if (expr instanceof Logic l) {
            return new Code("(" + convert(l.left(), Type.BOOLEAN) + " " + l.op() + " "
                    + convert(l.right(), Type.BOOLEAN) + ")", Type.BOOLEAN);
        }
        if (expr instanceof Concat c) {
            StringBuilder text = new StringBuilder("(\"\"");
            for (Expr part : c.parts()) {
                Code partCode = code(part);
                text.append(" + ").append(partCode.type == Type.ARRAY
                        ? "Rt.show(" + partCode.code + ")" : partCode.code);
            }
            return new Code(text.append(')').toString(), Type.STRING);
        }
        if (expr instanceof Ternary t) {
            return new Code("(" + convert(t.cond(), Type.BOOLEAN) + " ? " + convert(t.whenTrue(), t.type())
                    + " : " + convert(t.whenFalse(), t.type()) + ")", t.type());
        }
        if (expr instanceof Call call) {
            return callCode(call);
        }
        if (expr instanceof YieldValue y) {
            return new Code("Rt.y" + yieldSuffix(y.type()) + "(" + convert(y.inner(), y.type()) + ")",
                    y.type());
        }
        if (expr instanceof NewHolder h) {
            return new Code("new Rt.Holder(" + convert(h.value(), Type.INT) + ")", Type.OBJECT);
        }
        if (expr instanceof HolderCall h) {
            return new Code("new Rt.Holder(" + convert(h.init(), Type.INT) + ")."
                    + (h.defaultMethod() ? "step(" : "bump(") + convert(h.arg(), Type.INT) + ")", Type.INT);
        }
        if (expr instanceof NewArray a) {
            List<String> elements = new ArrayList<>();
            for (Expr element : a.elements()) {
                elements.add(convert(element, Type.INT));
            }
            while (elements.size() < 2) {
                elements.add("0"); // every array has at least two elements: see ArrayRead
            }
            return new Code("new int[] {" + String.join(", ", elements) + "}", Type.ARRAY);
        }
    if (expr instanceof ArrayRead r) {
        return new Code("(" + convert(r.array(), Type.ARRAY) + ")[Math.floorMod("
                + convert(r.index(), Type.INT) + ", 2)]", Type.INT);
        }
        if (expr instanceof SwitchValue s) {
            return new Code("(switch (Math.floorMod(" + convert(s.selector(), Type.INT) + ", 3)) { case 0 -> "
                    + convert(s.arm0(), s.type()) + "; case 1 -> " + convert(s.arm1(), s.type()) + "; default -> "
                    + convert(s.arm2(), s.type()) + "; })", s.type());
        }
        if (expr instanceof LambdaApply l) {
            String param = unique("v");
            boolean wasInLambda = inLambda;
            inLambda = true;
            int scopeSize = scope.size();
            scope.add(new Local(param, Type.INT, true));
            String body = convert(l.body(), Type.INT);
            scope.remove(scopeSize);
            inLambda = wasInLambda;
            return new Code("((Rt.IntFn) " + param + " -> " + body + ").apply(" + convert(l.arg(), Type.INT) + ")",
                    Type.INT);
        }
    throw new AssertionError(expr);
}

private Code variable(Var v) {
    List<Local> candidates = new ArrayList<>();
    for (Local local : scope) {
        if (local.type == v.type() && (!inLambda || local.effectivelyFinal)) {
            candidates.add(local);
        }
        }
        if (candidates.isEmpty()) {
            return new Code(literal(v.type(), v.index()), v.type());
        }
        return new Code(candidates.get(Math.floorMod(v.index(), candidates.size())).name, v.type());
    }

    /** The call as written in an expression: converted to the node's type, recursion guarded. */
    private Code callCode(Call call) {
        RawCall raw = rawCall(call);
        if (raw == null) {
            return new Code(literal(call.type(), call.target()), call.type());
        }
        String converted = convert(new Code(raw.code, raw.returnType), call.type());
        if (raw.recursive) {
            return new Code("(depth > 0 ? " + converted + " : " + literal(call.type(), call.target()) + ")",
                    call.type());
        }
        return new Code(converted, call.type());
    }

    /** The call as a statement, its result dropped. */
    private String callStatement(Call call) {
        RawCall raw = rawCall(call);
        if (raw == null) {
            return "Rt.t(\"" + site() + " no call\");";
        }
        return raw.recursive ? "if (depth > 0) " + raw.code + ";" : raw.code + ";";
    }

    private record RawCall(String code, Type returnType, boolean recursive) {}

    /** Resolves the target: a later function, or this one (recursion); null outside functions. */
    private RawCall rawCall(Call call) {
        int count = program.functions().size();
        List<Integer> targets = new ArrayList<>();
        if (functionIndex >= 0) {
            for (int j = functionIndex + 1; j < count; j++) {
                targets.add(j);
            }
            targets.add(functionIndex);
        }
        if (targets.isEmpty()) {
            return null;
        }
        int target = targets.get(Math.floorMod(call.target(), targets.size()));
        Function callee = program.functions().get(target);
        boolean recursive = target == functionIndex;
        StringBuilder text = new StringBuilder("f" + target + "(" + (recursive ? "depth - 1" : "depth"));
        List<PoolVar> params = params(callee);
        for (int i = 0; i < params.size(); i++) {
            Expr arg = i < call.args().size() ? call.args().get(i) : null;
            text.append(", ").append(argument(arg, params.get(i).type));
        }
        text.append(')');
        return new RawCall(text.toString(), callee.returnType(), recursive);
    }

    private String argument(Expr arg, Type type) {
        return arg == null ? literal(type, 0) : convert(arg, type);
    }

    private String shown(Expr value) {
        return "Rt.show(" + expr(value) + ")";
    }

    private String convert(Expr expr, Type to) {
        return convert(code(expr), to);
    }

    /** Converts between any two types, deterministically and without exceptions. */
    private static String convert(Code from, Type to) {
        String c = from.code;
        if (from.type == to) {
            return c;
        }
        return switch (to) {
            case INT -> switch (from.type) {
                case LONG, DOUBLE -> "((int) " + c + ")";
                case BOOLEAN -> "(" + c + " ? 1 : 0)";
                case STRING -> c + ".length()";
                case ARRAY -> c + ".length";
                case OBJECT -> "String.valueOf(" + c + ").length()";
                default -> throw new AssertionError(from.type);
            };
            case LONG -> isNumeric(from.type) ? "((long) " + c + ")" : "((long) " + convert(from, Type.INT) + ")";
            case DOUBLE -> isNumeric(from.type) ? "((double) " + c + ")" : "((double) " + convert(from, Type.INT) + ")";
            case BOOLEAN -> switch (from.type) {
                case INT -> "(" + c + " % 2 == 0)";
                case LONG -> "(" + c + " % 2L == 0L)";
                case DOUBLE -> "(" + c + " > 0.0)";
                case STRING -> c + ".isEmpty()";
                case ARRAY -> "(" + c + ".length > 1)";
                case OBJECT -> "(((Object) " + c + ") instanceof String)";
                default -> throw new AssertionError(from.type);
            };
            case STRING -> from.type == Type.ARRAY ? "Rt.show(" + c + ")" : "String.valueOf(" + c + ")";
            case ARRAY -> "new int[] {" + convert(from, Type.INT) + ", 0}";
            case OBJECT -> from.type == Type.ARRAY ? "(Object) Rt.show(" + c + ")" : "((Object) " + c + ")";
        };
    }

    private static boolean isNumeric(Type type) {
        return type == Type.INT || type == Type.LONG || type == Type.DOUBLE;
    }

    private static String yieldSuffix(Type type) {
        return switch (type) {
            case INT -> "I";
            case LONG -> "J";
            case DOUBLE -> "D";
            case BOOLEAN -> "Z";
            case STRING -> "S";
            case ARRAY -> "A";
            case OBJECT -> "O";
        };
    }

    static String literal(Type type, int seed) {
        int small = Math.floorMod(seed, 7) - 1;
        String number = small < 0 ? "(" + small + ")" : String.valueOf(small);
        return switch (type) {
            case INT -> number;
            case LONG -> small < 0 ? "(" + small + "L)" : small + "L";
            case DOUBLE -> small < 0 ? "(" + small + ".5)" : small + ".5";
            case BOOLEAN -> Math.floorMod(seed, 2) == 0 ? "true" : "false";
            case STRING -> "\"" + STRINGS[Math.floorMod(seed, STRINGS.length)] + "\"";
            case ARRAY -> "new int[] {" + number + ", 4}";
            case OBJECT -> "((Object) \"o" + small + "\")";
        };
    }

    // ------------------------------------------------------------------ output

    private String site() {
        return "f" + functionIndex + "@" + (sites++);
    }

    private String unique(String prefix) {
        return prefix + (uniqueNames++);
    }

    private void line(String text) {
        out.append("    ".repeat(indent)).append(text).append('\n');
    }
}
