package io.aioco.instrumenter.random;

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
import io.aioco.instrumenter.random.Model.Trace;
import io.aioco.instrumenter.random.Model.Try;
import io.aioco.instrumenter.random.Model.TryWithResource;
import io.aioco.instrumenter.random.Model.Type;
import io.aioco.instrumenter.random.Model.ValueArm;
import io.aioco.instrumenter.random.Model.Var;
import io.aioco.instrumenter.random.Model.YieldStmt;
import io.aioco.instrumenter.random.Model.YieldValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Renders a {@link Program} to the source of class {@code gen.Prog}. Resolves the model's indices
 * against what is in scope (variables, loops, switches, lambdas), converts between types where a
 * node's type differs from what its place needs, and names every local uniquely so that no two
 * declarations clash. The source is written for a {@code --release}: before 14, arrow switch
 * statements are written in the colon form; switch expressions need 14, so a program that has one
 * has {@link Rendered#minRelease()} 17.
 *
 * <p>{@code gen.Prog} holds the static functions and the instance ones; the nested interface
 * {@code Prog.Api} holds the default ones; {@code Prog.Impl extends Prog implements Api} is the
 * receiver {@code Prog.self} of every instance and default call. Each run resets the fields.
 */
public final class JavaRenderer {
    /** Dotted name of the generated class. */
    public static final String CLASS_NAME = "gen.Prog";

    private static final String[] STRINGS = {"a", "s", "ab", "", "b"};
    private static final String[] ENUM_LABELS = {"RED", "GREEN", "BLUE"};
    private static final String CHARS = "abcxyz";

    /** What rendering produced: the source, the shapes it holds, and the oldest release it compiles for. */
    public record Rendered(String source, Set<String> shapes, int minRelease) {}

    private final Program program;
    private final int release;
    private StringBuilder out = new StringBuilder();
    private int functionIndex;
    private Function function;
    private int uniqueNames;
    private int sites;
    private int indent;
    private int switchDepth;
    /** Labels of the enclosing loops that a jump here may leave, innermost last. */
    private List<String> loops = new ArrayList<>();
    /** Variables readable here, innermost last. */
    private final List<Local> scope = new ArrayList<>();
    /** Inside a lambda or anonymous class body only effectively final variables may be read. */
    private boolean inLambda;
    /** Inside an anonymous class or a default method: a private function is reached through a nest (access$ before 11). */
    private boolean inNestedClass;
    /** Inside a switch expression's arm: no return. */
    private boolean inValueArm;
    /** Depth of NewHolder constructor arguments being rendered. */
    private int inConstructorArgument;
    private boolean usedSwitchExpression;
    private final Set<String> shapes = new TreeSet<>();

    private record Local(String name, Type type, boolean effectivelyFinal) {}

    private JavaRenderer(Program program, int release) {
        this.program = program;
        this.release = release;
    }

    /** @return the source of {@code gen.Prog} for release 17 */
    public static String render(Program program) {
        return renderFor(program, 17).source();
    }

    /** @return the source of {@code gen.Prog} for the given {@code --release}, with its shapes */
    public static Rendered renderFor(Program program, int release) {
        JavaRenderer renderer = new JavaRenderer(program, release);
        String source = renderer.renderProgram();
        if (renderer.usedSwitchExpression && release < 14) {
            throw new IllegalArgumentException("a switch expression needs --release 14 or later, not " + release);
        }
        return new Rendered(source, Set.copyOf(renderer.shapes), renderer.usedSwitchExpression ? 17 : 8);
    }

    private String renderProgram() {
        out.append("package gen;\n\nimport io.aioco.*;\n\npublic class Prog {\n");
        out.append("    static Impl self;\n");
        for (Type type : Type.values()) {
            out.append("    static ").append(type.javaName).append(' ').append(fieldName(type, true)).append(";\n");
            out.append("    ").append(type.javaName).append(' ').append(fieldName(type, false)).append(" = ")
                    .append(literal(type, type.ordinal() + 3)).append(";\n");
        }
        out.append("\n    static final class Impl extends Prog implements Api {}\n\n");
        StringBuilder defaults = new StringBuilder();
        for (functionIndex = 0; functionIndex < program.functions().size(); functionIndex++) {
            Function fn = program.functions().get(functionIndex);
            if (fn.kind() == FnKind.DEFAULT) {
                StringBuilder classOut = out;
                out = defaults;
                renderFunction(fn);
                out = classOut;
            } else {
                renderFunction(fn);
            }
        }
        out.append("    interface Api {\n").append(defaults.toString().indent(4)).append("    }\n\n");
        functionIndex = -1;
        function = null;
        scope.clear();
        Function entry = program.functions().get(0);
        StringBuilder call = new StringBuilder(receiver(entry.kind())).append("f0(").append(program.entryDepth());
        List<PoolVar> params = params(entry);
        for (int i = 0; i < params.size(); i++) {
            Expr arg = i < program.entryArgs().size() ? program.entryArgs().get(i) : null;
            call.append(", ").append(argument(arg, params.get(i).type));
        }
        call.append(')');
        out.append("    public static Object[] run(boolean yielding, boolean[] schedule) {\n");
        for (Type type : Type.values()) {
            out.append("        ").append(fieldName(type, true)).append(" = ").append(literal(type, type.ordinal()))
                    .append(";\n");
        }
        out.append("        self = new Impl();\n")
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

    private static String fieldName(Type type, boolean isStatic) {
        return (isStatic ? "s_" : "i_") + type.name().toLowerCase();
    }

    /** How a call of a function of this kind starts: nothing for static ones, else the receiver. */
    private static String receiver(FnKind kind) {
        return switch (kind) {
            case STATIC, PRIVATE_STATIC -> "";
            case INSTANCE, DEFAULT -> "self.";
            case PRIVATE_INSTANCE -> "((Prog) self).";
        };
    }

    private void renderFunction(Function fn) {
        function = fn;
        uniqueNames = 0;
        sites = 0;
        scope.clear();
        loops = new ArrayList<>();
        inNestedClass = fn.kind() == FnKind.DEFAULT;
        shapes.add("function " + fn.kind());
        List<PoolVar> params = params(fn);
        StringBuilder signature = new StringBuilder("int depth");
        StringBuilder entryTrace = new StringBuilder("\"f" + functionIndex + "(\" + depth");
        for (PoolVar p : params) {
            signature.append(", ").append(p.type.javaName).append(' ').append(p.javaName);
            entryTrace.append(" + \", \" + Rt.show(").append(p.javaName).append(')');
        }
        String modifiers = switch (fn.kind()) {
            case STATIC -> "static ";
            case PRIVATE_STATIC -> "private static ";
            case INSTANCE -> "";
            case PRIVATE_INSTANCE -> "private ";
            case DEFAULT -> "default ";
        };
        out.append("    @CoroutineFn\n    ").append(modifiers).append(fn.returnType().javaName).append(" f")
                .append(functionIndex).append('(').append(signature).append(") throws Exception {\n");
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
        inNestedClass = false;
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
            arrayStore(store);
            return;
        }
        if (stmt instanceof FieldStore store) {
            fieldStore(store);
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
            if (inValueArm || inLambda) {
                line("Rt.t(\"" + site() + " no return \" + " + convert(ret.cond(), Type.BOOLEAN) + ");");
            } else {
                line("if (" + convert(ret.cond(), Type.BOOLEAN) + ") return Rt.ret(\"" + site()
                        + "\", " + convert(ret.value(), function.returnType()) + ");");
            }
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
        if (stmt instanceof Capture capture) {
            capture(capture);
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
        if (inLambda) { // a lambda may not assign the locals it sees
            line("Rt.t(\"" + site() + " no assign \" + " + shown(assign.value()) + ");");
            return;
        }
        shapes.add("local of type " + target.type.javaName);
        store(target.javaName, target.type, assign.compoundOp(), assign.value());
    }

    /** {@code place = value;} or {@code place op= value;} converted to the place's type. */
    private void store(String place, Type type, String compoundOp, Expr value) {
        if (compoundOp != null && type == Type.STRING) {
            line(place + " = Rt.cap(" + place + " + " + shown(value) + ");");
        } else if (compoundOp != null && type.isNumeric()) {
            line(place + " " + compoundOp + "= " + convert(value, type) + ";");
        } else if (type == Type.STRING) {
            line(place + " = Rt.cap(" + convert(value, Type.STRING) + ");");
        } else {
            line(place + " = " + convert(value, type) + ";");
        }
    }

    private void arrayStore(ArrayStore store) {
        String array = switch (store.arrayType()) {
            case ARRAY -> "a";
            case LONG_ARRAY -> "la";
            case STRING_ARRAY -> "sa";
            default -> throw new AssertionError(store.arrayType());
        };
        Type element = Model.elementType(store.arrayType());
        if (inLambda) {
            line("Rt.t(\"" + site() + " no store \" + " + shown(store.value()) + ");");
            return;
        }
        shapes.add("array store into " + store.arrayType().javaName);
        line(array + "[Math.floorMod(" + convert(store.index(), Type.INT) + ", " + array + ".length)] = "
                + convert(store.value(), element) + ";");
    }

    private void fieldStore(FieldStore store) {
        shapes.add(store.isStatic() ? "static field" : "instance field");
        store(fieldPlace(store.type(), store.isStatic()), store.type(), store.compoundOp(), store.value());
    }

    private static String fieldPlace(Type type, boolean isStatic) {
        return (isStatic ? "Prog." : "self.") + fieldName(type, isStatic);
    }

    private void loop(Loop loop) {
        String counter = unique("i");
        String label = "L" + counter;
        int scopeSize = scope.size();
        switch (loop.kind()) {
            case WHILE -> {
                line("int " + counter + " = 0;");
                line(label + ": while (" + counter + " < " + loop.trips() + ") {");
                indent++;
                line(counter + "++;");
            }
            case DO_WHILE -> {
                shapes.add("do-while");
                line("int " + counter + " = 0;");
                line(label + ": do {");
                indent++;
                line(counter + "++;");
            }
            case FOR -> {
                line(label + ": for (int " + counter + " = 0; " + counter + " < " + loop.trips() + "; " + counter
                        + "++) {");
                indent++;
            }
        }
        scope.add(new Local(counter, Type.INT, false));
        loops.add(label);
        block(loop.body());
        loops.remove(loops.size() - 1);
        scope.remove(scopeSize);
        indent--;
        line(loop.kind() == Model.LoopKind.DO_WHILE ? "} while (" + counter + " < " + loop.trips() + ");" : "}");
    }

    private void jump(Jump jump) {
        String cond = convert(jump.cond(), Type.BOOLEAN);
        int outer = loops.isEmpty() ? 0 : Math.floorMod(jump.outer(), loops.size());
        String label = outer == 0 ? "" : " " + loops.get(loops.size() - 1 - outer);
        if (label.isEmpty() && !loops.isEmpty() && jump.outer() % 2 == 1) {
            label = " " + loops.get(loops.size() - 1); // the innermost loop, by its label (out of a switch, too)
        }
        if (jump.isContinue() && !loops.isEmpty()) {
            shapes.add(label.isEmpty() ? "continue" : "labelled continue");
            line("if (" + cond + ") continue" + label + ";");
        } else if (!jump.isContinue() && (!label.isEmpty() || !loops.isEmpty() || switchDepth > 0)) {
            shapes.add(label.isEmpty() ? "break" : "labelled break");
            line("if (" + cond + ") break" + label + ";");
        } else {
            line("Rt.t(\"" + site() + " no jump \" + " + cond + ");");
        }
    }

    private String selector(SwitchKind kind, Expr selector) {
        return switch (kind) {
            case INT_DENSE -> "Math.floorMod(" + convert(selector, Type.INT) + ", 4)";
            case INT_SPARSE -> "Math.floorMod(" + convert(selector, Type.INT) + ", 4) * 37";
            case STRING -> convert(selector, Type.STRING);
            case ENUM -> "Rt.Color.values()[Math.floorMod(" + convert(selector, Type.INT) + ", 3)]";
        };
    }

    private static String caseLabel(SwitchKind kind, int i) {
        return switch (kind) {
            case INT_DENSE -> String.valueOf(i);
            case INT_SPARSE -> String.valueOf(i * 37);
            case STRING -> "\"" + STRINGS[i] + "\"";
            case ENUM -> ENUM_LABELS[i];
        };
    }

    private void switchStatement(Switch sw) {
        line("switch (" + selector(sw.kind(), sw.selector()) + ") {");
        switchDepth++;
        indent++;
        int arms = Math.min(sw.arms().size(), 3);
        boolean arrow = sw.arrow() && release >= 14;
        for (int i = 0; i < arms; i++) {
            switchArm("case " + caseLabel(sw.kind(), i), arrow, sw.arms().get(i).body(),
                    !sw.arrow() && sw.arms().get(i).fallThrough());
        }
        switchArm("default", arrow, sw.otherwise(), true);
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
        if (inConstructorArgument > 0) {
            shapes.add("try in a constructor argument");
        }
        line("try {");
        nested(tryStmt.body());
        for (Catch c : catches) {
            String name = unique("e");
            line("} catch (" + c.kind().javaName + " " + name + ") {");
            indent++;
            line("Rt.t(\"" + site() + " caught \" + Rt.caught(" + name + "));");
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

    /** Renders statements into a string (for block arms of switch expressions), at the current scope. */
    private String statementsText(List<Stmt> body, int atIndent) {
        StringBuilder saved = out;
        int savedIndent = indent;
        out = new StringBuilder();
        indent = atIndent;
        block(body);
        String text = out.toString();
        out = saved;
        indent = savedIndent;
        return text;
    }

    private void capture(Capture capture) {
        Type type = capture.captured().type();
        String captured = unique("c");
        String fn = unique("fn");
        line("{");
        indent++;
        line("final " + type.javaName + " " + captured + " = " + expr(capture.captured()) + ";");
        int scopeSize = scope.size();
        scope.add(new Local(captured, type, true));
        String object = functionObject(capture.form(), capture.body(), captured, type);
        scope.remove(scopeSize);
        shapes.add("capturing " + (capture.form() == FnForm.LAMBDA ? "lambda" : "anonymous class"));
        line("Rt.IntFn " + fn + " = " + object + ";");
        line("Rt.t(\"" + site() + " fn \" + " + fn + ".apply(" + convert(capture.arg(), Type.INT) + "));");
        indent--;
        line("}");
    }

    /**
     * An {@code Rt.IntFn} as a lambda or an anonymous class whose result is {@code body} (plus the
     * captured local, when there is one).
     */
    private String functionObject(FnForm form, Expr body, String captured, Type capturedType) {
        String param = unique("v");
        boolean wasInLambda = inLambda;
        boolean wasInNested = inNestedClass;
        boolean wasInValueArm = inValueArm;
        List<String> outerLoops = loops;
        int outerSwitchDepth = switchDepth;
        int outerConstructorArgument = inConstructorArgument;
        inLambda = true;
        inNestedClass = inNestedClass || form == FnForm.ANONYMOUS_CLASS;
        inValueArm = false;
        loops = new ArrayList<>();
        switchDepth = 0;
        inConstructorArgument = 0;
        int scopeSize = scope.size();
        scope.add(new Local(param, Type.INT, true));
        String result = convert(body, Type.INT);
        if (captured != null) {
            result = "(" + result + " + " + convert(new Code(captured, capturedType), Type.INT) + ")";
        }
        scope.remove(scopeSize);
        inLambda = wasInLambda;
        inNestedClass = wasInNested;
        inValueArm = wasInValueArm;
        loops = outerLoops;
        switchDepth = outerSwitchDepth;
        inConstructorArgument = outerConstructorArgument;
        if (form == FnForm.LAMBDA) {
            return "((Rt.IntFn) " + param + " -> " + result + ")";
        }
        shapes.add("anonymous class");
        return "new Rt.IntFn() { @CoroutineFn @Override public int apply(int " + param
                + ") throws Exception { return " + result + "; } }";
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
                text.append(" + ").append(isArray(partCode.type) ? "Rt.show(" + partCode.code + ")" : partCode.code);
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
            inConstructorArgument++;
            String argument = convert(h.value(), Type.INT);
            inConstructorArgument--;
            return new Code("new Rt.Holder(" + argument + ")", Type.OBJECT);
        }
        if (expr instanceof HolderCall h) {
            shapes.add(h.defaultMethod() ? "Rt default coroutine method" : "Rt instance coroutine method");
            return new Code("new Rt.Holder(" + convert(h.init(), Type.INT) + ")."
                    + (h.defaultMethod() ? "step(" : "bump(") + convert(h.arg(), Type.INT) + ")", Type.INT);
        }
        if (expr instanceof NewArray a) {
            Type element = Model.elementType(a.type());
            List<String> elements = new ArrayList<>();
            for (Expr e : a.elements()) {
                elements.add(convert(e, element));
            }
            while (elements.size() < 2) {
                elements.add(literal(element, 0)); // every array has at least two elements: see ArrayRead
            }
            shapes.add("new " + a.type().javaName);
            return new Code("new " + a.type().javaName + " {" + String.join(", ", elements) + "}", a.type());
        }
        if (expr instanceof ArrayRead r) {
            return new Code("(" + convert(r.array(), r.arrayType()) + ")[Math.floorMod("
                    + convert(r.index(), Type.INT) + ", 2)]", r.type());
        }
        if (expr instanceof SwitchValue s) {
            return switchValue(s);
        }
        if (expr instanceof LambdaApply l) {
            shapes.add(l.form() == FnForm.LAMBDA ? "coroutine lambda" : "anonymous class");
            return new Code(functionObject(l.form(), l.body(), null, null) + ".apply("
                    + convert(l.arg(), Type.INT) + ")", Type.INT);
        }
        if (expr instanceof MethodRef m) {
            return methodRef(m);
        }
        if (expr instanceof FieldRead f) {
            shapes.add(f.isStatic() ? "static field" : "instance field");
            return new Code(fieldPlace(f.type(), f.isStatic()), f.type());
        }
        if (expr instanceof ServiceCall s) {
            shapes.add("service call " + s.crossing());
            String service = switch (s.crossing()) {
                case DIRECT -> "new Rt.Leaf()";
                case PLAIN_SUPERCLASS -> "new Rt.Sub(new Rt.Leaf())";
                case EXCLUDED_DECORATOR -> "new Rt.Deco(new Rt.Leaf())";
            };
            return new Code("((Rt.Svc) " + service + ").get(" + convert(s.arg(), Type.INT) + ")", Type.INT);
        }
        throw new AssertionError(expr);
    }

    private Code switchValue(SwitchValue s) {
        usedSwitchExpression = true;
        shapes.add("switch expression on " + (s.kind() == SwitchKind.STRING ? "String"
                : s.kind() == SwitchKind.ENUM ? "enum" : "int"));
        StringBuilder text = new StringBuilder("(switch (" + selector(s.kind(), s.selector()) + ") {\n");
        int arms = Math.min(s.arms().size(), 3);
        for (int i = 0; i < arms; i++) {
            text.append(valueArm("case " + caseLabel(s.kind(), i), s.arms().get(i), s.type()));
        }
        text.append(valueArm("default", s.otherwise(), s.type()));
        return new Code(text.append("    ".repeat(indent)).append("})").toString(), s.type());
    }

    private String valueArm(String label, ValueArm arm, Type type) {
        String pad = "    ".repeat(indent + 1);
        if (arm.body().isEmpty() && arm.caught() == null) {
            return pad + label + " -> " + convert(arm.value(), type) + ";\n";
        }
        shapes.add("switch expression with block arm and yield");
        if (inConstructorArgument > 0) {
            shapes.add("block arm in a constructor argument");
        }
        boolean wasInValueArm = inValueArm;
        List<String> outerLoops = loops;
        int outerSwitchDepth = switchDepth;
        inValueArm = true;
        loops = new ArrayList<>();
        switchDepth = 0;
        StringBuilder text = new StringBuilder(pad + label + " -> {\n");
        if (arm.caught() == null) {
            text.append(statementsText(arm.body(), indent + 2));
            text.append(yieldText(pad + "    ", convert(arm.value(), type), type));
        } else {
            if (inConstructorArgument > 0) {
                shapes.add("try in a constructor argument");
            }
            String name = unique("e");
            text.append(pad).append("    try {\n");
            text.append(statementsText(arm.body(), indent + 3));
            text.append(yieldText(pad + "        ", convert(arm.value(), type), type));
            text.append(pad).append("    } catch (RuntimeException ").append(name).append(") {\n");
            text.append(pad).append("        Rt.t(\"").append(site()).append(" arm caught \" + Rt.caught(")
                    .append(name).append("));\n");
            text.append(yieldText(pad + "        ", convert(arm.caught(), type), type));
            text.append(pad).append("    }\n");
        }
        inValueArm = wasInValueArm;
        loops = outerLoops;
        switchDepth = outerSwitchDepth;
        return text.append(pad).append("}\n").toString();
    }

    /**
     * {@code yield value;}. javac reads {@code yield (a, ...)} as a call of a method named yield
     * when a comma follows at the first level of parentheses (an array initializer's), so a value in
     * parentheses goes through a local first.
     */
    private String yieldText(String pad, String value, Type type) {
        if (!value.startsWith("(")) {
            return pad + "yield " + value + ";\n";
        }
        String local = unique("y");
        return pad + type.javaName + " " + local + " = " + value + ";\n" + pad + "yield " + local + ";\n";
    }

    private Code methodRef(MethodRef m) {
        RawCall raw = rawCall(new Call(m.type(), m.target(), List.of()));
        if (raw == null || raw.recursive || !raw.callee.kind().name().endsWith("STATIC")
                || raw.callee.paramMask() != 0) {
            return callCode(new Call(m.type(), m.target(), List.of(m.arg())));
        }
        shapes.add("method reference through a generic interface");
        Type returned = raw.returnType;
        String call = "((Rt.Fn<Integer, " + returned.boxedName + ">) Prog::f" + raw.target + ").apply(Math.floorMod("
                + convert(m.arg(), Type.INT) + ", 3))";
        if (returned.isPrimitive()) {
            call = "(" + call + ")." + returned.javaName + "Value()";
        }
        return new Code(convert(new Code(call, returned), m.type()), m.type());
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
        Local chosen = candidates.get(Math.floorMod(v.index(), candidates.size()));
        if (inLambda) {
            shapes.add("captured local");
        }
        return new Code(chosen.name, v.type());
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

    private record RawCall(String code, Type returnType, boolean recursive, int target, Function callee) {}

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
        if (inNestedClass && (callee.kind() == FnKind.PRIVATE_STATIC || callee.kind() == FnKind.PRIVATE_INSTANCE)) {
            shapes.add("private function called from a nested class");
        }
        shapes.add("call of " + callee.kind());
        StringBuilder text = new StringBuilder(receiver(callee.kind()) + "f" + target + "("
                + (recursive ? "depth - 1" : "depth"));
        List<PoolVar> params = params(callee);
        for (int i = 0; i < params.size(); i++) {
            Expr arg = i < call.args().size() ? call.args().get(i) : null;
            text.append(", ").append(argument(arg, params.get(i).type));
        }
        text.append(')');
        return new RawCall(text.toString(), callee.returnType(), recursive, target, callee);
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

    private static boolean isArray(Type type) {
        return type == Type.ARRAY || type == Type.LONG_ARRAY || type == Type.STRING_ARRAY;
    }

    /** Converts between any two types, deterministically and without exceptions. */
    private static String convert(Code from, Type to) {
        String c = from.code;
        if (from.type == to) {
            return c;
        }
        return switch (to) {
            case INT, LONG, DOUBLE, FLOAT, BYTE, SHORT -> from.type.isNumeric() ? "((" + to.javaName + ") " + c + ")"
                    : "((" + to.javaName + ") " + intOfNonNumeric(from) + ")";
            case CHAR -> "((char) ('a' + Math.floorMod(" + convert(from, Type.INT) + ", 26)))";
            case BOOLEAN -> switch (from.type) {
                case INT, BYTE, SHORT, CHAR -> "(" + c + " % 2 == 0)";
                case LONG -> "(" + c + " % 2L == 0L)";
                case DOUBLE -> "(" + c + " > 0.0)";
                case FLOAT -> "(" + c + " > 0.0f)";
                case STRING -> c + ".isEmpty()";
                case ARRAY, LONG_ARRAY, STRING_ARRAY -> "(" + c + ".length > 1)";
                case OBJECT -> "(((Object) " + c + ") instanceof String)";
                default -> throw new AssertionError(from.type);
            };
            case STRING -> isArray(from.type) ? "Rt.show(" + c + ")" : "String.valueOf(" + c + ")";
            case ARRAY -> "new int[] {" + convert(from, Type.INT) + ", 0}";
            case LONG_ARRAY -> "new long[] {" + convert(from, Type.LONG) + ", 0L}";
            case STRING_ARRAY -> "new String[] {" + convert(from, Type.STRING) + ", \"\"}";
            case OBJECT -> isArray(from.type) ? "(Object) Rt.show(" + c + ")" : "((Object) " + c + ")";
        };
    }

    /** An int from a value of a type that is not numeric. */
    private static String intOfNonNumeric(Code from) {
        String c = from.code;
        return switch (from.type) {
            case BOOLEAN -> "(" + c + " ? 1 : 0)";
            case STRING -> c + ".length()";
            case ARRAY, LONG_ARRAY, STRING_ARRAY -> c + ".length";
            case OBJECT -> "String.valueOf(" + c + ").length()";
            default -> throw new AssertionError(from.type);
        };
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
            case BYTE -> "B";
            case SHORT -> "H";
            case CHAR -> "C";
            case FLOAT -> "F";
            case LONG_ARRAY -> "LA";
            case STRING_ARRAY -> "SA";
        };
    }

    static String literal(Type type, int seed) {
        int small = Math.floorMod(seed, 7) - 1;
        String number = small < 0 ? "(" + small + ")" : String.valueOf(small);
        return switch (type) {
            case INT -> number;
            case LONG -> small < 0 ? "(" + small + "L)" : small + "L";
            case DOUBLE -> small < 0 ? "(" + small + ".5)" : small + ".5";
            case FLOAT -> small < 0 ? "(" + small + ".5f)" : small + ".5f";
            case BYTE -> "((byte) " + number + ")";
            case SHORT -> "((short) " + number + ")";
            case CHAR -> "'" + CHARS.charAt(Math.floorMod(seed, CHARS.length())) + "'";
            case BOOLEAN -> Math.floorMod(seed, 2) == 0 ? "true" : "false";
            case STRING -> "\"" + STRINGS[Math.floorMod(seed, STRINGS.length)] + "\"";
            case ARRAY -> "new int[] {" + number + ", 4}";
            case LONG_ARRAY -> "new long[] {" + small + "L, 5L}";
            case STRING_ARRAY -> "new String[] {\"" + STRINGS[Math.floorMod(seed, STRINGS.length)] + "\", \"t\"}";
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
