package io.aioco.instrumenter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Prints the code growth of the rewrite over jars (issue 18, item 5): every method of every class
 * taken as a coroutine function and every call between them as a suspension point (the check
 * command's {@code --all-methods}, as the corpus test runs it), the sum of the code lengths of the
 * rewritten methods (body and fresh body) over the sum of the originals', and the largest ratio of
 * one method's body to its original. Methods refused as too large are counted apart. Run from the repository
 * root after {@code mvn -o -pl instrumenter,corpus-test -am test-compile} (see
 * docs/INSTRUMENTATION.md, "Code growth"):
 * <pre>
 * java -cp "$(cat cp.txt)" io.aioco.instrumenter.CodeGrowthReport corpus-test/target/corpus/*.jar
 * </pre>
 */
public final class CodeGrowthReport {
    private CodeGrowthReport() {}

    public static void main(String[] args) throws IOException {
        List<JarFile> jars = new ArrayList<>();
        for (String arg : args) {
            jars.add(new JarFile(Path.of(arg).toFile()));
        }
        ClassLookup lookup = name -> {
            for (JarFile jar : jars) {
                JarEntry entry = jar.getJarEntry(name + ".class");
                if (entry != null) {
                    try {
                        return jar.getInputStream(entry).readAllBytes();
                    } catch (IOException e) {
                        return null;
                    }
                }
            }
            return null;
        };
        long allOriginal = 0;
        long allBodies = 0;
        long allFresh = 0;
        double worst = 0;
        String worstMethod = null;
        int allRefused = 0;
        int allMethods = 0;
        for (JarFile jar : jars) {
            Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(lookup,
                    ClassLookup.ofClassLoader(CodeGrowthReport.class.getClassLoader())), new Instrumenter.Options(true, false));
            long original = 0;
            long bodies = 0;
            long fresh = 0;
            int methods = 0;
            int refused = 0;
            for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements();) {
                JarEntry entry = entries.nextElement();
                if (!entry.getName().endsWith(".class") || entry.getName().contains("module-info")
                        || entry.getName().startsWith("META-INF")) {
                    continue;
                }
                byte[] bytes = jar.getInputStream(entry).readAllBytes();
                InstrumentationResult result = instrumenter.instrument(bytes);
                if (result.outcome() != InstrumentationResult.Outcome.REWRITTEN) {
                    continue;
                }
                for (Diagnostic diagnostic : result.diagnostics()) {
                    if (diagnostic.format().contains("too large")) {
                        refused++;
                        Integer size = CodeGrowthTest.codeLengths(bytes).get(diagnostic.methodName() + diagnostic.methodDescriptor());
                        if (size != null && size < 8 * 1024) {
                            System.out.println("  refused under 8 KiB: " + entry.getName() + " " + diagnostic.methodName()
                                    + diagnostic.methodDescriptor() + " (" + size + " bytes)");
                        }
                    }
                }
                Map<String, Integer> before;
                Map<String, Integer> after;
                try {
                    before = CodeGrowthTest.codeLengths(bytes);
                    after = CodeGrowthTest.codeLengths(result.bytes());
                } catch (RuntimeException e) {
                    continue; // a class file ASM reads but cannot write alone (JSR): not counted
                }
                for (Map.Entry<String, Integer> method : before.entrySet()) {
                    String name = method.getKey().substring(0, method.getKey().indexOf('('));
                    String desc = method.getKey().substring(name.length());
                    String bodyKey = name + desc.replace(")", "Lio/aioco/internal/CoStack;I)");
                    String freshKey = name + desc.replace(")", "Lio/aioco/internal/CoStack;)");
                    Integer body = after.get(bodyKey);
                    Integer freshBody = after.get(freshKey);
                    if (body == null && freshBody == null) {
                        continue; // not rewritten (a constructor, a bridge, refused)
                    }
                    methods++;
                    original += method.getValue();
                    bodies += body == null ? freshBody : body;
                    fresh += body == null || freshBody == null ? 0 : freshBody;
                    double ratio = (double) (body == null ? freshBody : body) / method.getValue();
                    if (ratio > worst && method.getValue() >= 32) {
                        worst = ratio;
                        worstMethod = entry.getName() + " " + method.getKey() + " (" + method.getValue() + " -> "
                                + (body == null ? freshBody : body) + " bytes)";
                    }
                }
            }
            System.out.printf("%-45s methods %7d  original %9d  bodies %9d (%.2fx)  fresh bodies %9d  too large %d%n",
                    Path.of(jar.getName()).getFileName(), methods, original, bodies, (double) bodies / original, fresh, refused);
            allOriginal += original;
            allBodies += bodies;
            allFresh += fresh;
            allMethods += methods;
            allRefused += refused;
        }
        System.out.printf("all: methods %d, original %d bytes, bodies %d (%.2fx), bodies and fresh bodies %d (%.2fx),"
                + " too large %d%n", allMethods, allOriginal, allBodies, (double) allBodies / allOriginal,
                allBodies + allFresh, (double) (allBodies + allFresh) / allOriginal, allRefused);
        System.out.println("largest body/original (methods of 32 bytes or more): " + String.format("%.1fx ", worst)
                + worstMethod);
    }
}
