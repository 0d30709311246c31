package io.aioco.instrumenter.check;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.analysis.FrameAnalysis;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.BasicValue;

/**
 * Checks a class file with ASM's analyzer and a type-checking interpreter whose hierarchy comes
 * from class bytes (no class is loaded): the check command's {@code --verify}, and tests. A tool
 * beside the instrumenter, never on its hot path.
 */
public final class BytecodeVerifier {
    private final ClassHierarchy hierarchy;

    /** @param lookup where to read the class files of the types the checked classes use */
    public BytecodeVerifier(ClassLookup lookup) {
        this.hierarchy = new ClassHierarchy(lookup, false);
    }

    /**
     * @param classBytes a class file
     * @return one line per method that does not verify ({@code name desc: error}); empty if all do
     */
    public List<String> verify(byte[] classBytes) {
        List<String> problems = new ArrayList<>();
        ClassNode node = new ClassNode();
        try {
            new ClassReader(classBytes).accept(node, ClassReader.SKIP_DEBUG);
        } catch (RuntimeException e) {
            problems.add("unreadable class file: " + e);
            return problems;
        }
        hierarchy.define(classBytes);
        for (MethodNode method : node.methods) {
            if (method.instructions.size() == 0) {
                continue;
            }
            try {
                new Analyzer<BasicValue>(new FrameAnalysis.HierarchyInterpreter(node.name, hierarchy, true))
                        .analyze(node.name, method);
            } catch (AnalyzerException | InstrumentationException e) {
                problems.add(method.name + method.desc + ": " + e.getMessage());
            } catch (RuntimeException | AssertionError e) {
                // ASM's analyzer meets code it cannot type (an AALOAD on a non-array, a bad index):
                // that is a method that does not verify, not a crash of the check
                problems.add(method.name + method.desc + ": " + e);
            }
        }
        return problems;
    }
}
