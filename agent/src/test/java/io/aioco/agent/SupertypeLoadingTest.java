package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the transformer learns of a class's supertypes, with a loader playing the JVM's part: it
 * calls the transformer in {@code findClass} before {@code defineClass}. A class scanned as it was
 * loaded is not read again for its subclasses; a subclass loaded before its supertype reads the
 * supertype as a resource (the transformer must not load it: the JVM would not transform a class
 * loaded from inside a transformer).
 */
class SupertypeLoadingTest {
    /** @return a loader defining these class files itself, calling the transformer on each */
    private static TransformingLoader loader(Map<String, byte[]> classFiles, CoroutineTransformer transformer) {
        TransformingLoader loader = new TransformingLoader("test");
        classFiles.forEach((name, bytes) -> loader.add(name, bytes, null));
        loader.transformer(transformer);
        return loader;
    }

    private static byte[] classFile(String internalName) throws IOException {
        try (InputStream in = SupertypeLoadingTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    private static Map<String, byte[]> fixtures(String... internalNames) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        for (String name : internalNames) {
            files.put(name, classFile(name));
        }
        return files;
    }

    @Test
    void aSupertypeScannedWhenItWasLoadedIsNotReadAgain() throws Exception {
        TransformingLoader loader = loader(
                fixtures("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainSub"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class.forName("fixture.hierarchy.PlainBase", false, loader);
        Class<?> sub = Class.forName("fixture.hierarchy.PlainSub", false, loader);
        assertEquals(List.of("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainSub"), loader.transformed);
        assertEquals(List.of(), loader.resourcesRead, "the supertype was scanned as it was loaded, not read again");
        assertEquals(List.of(), loader.rewritten);
        assertEquals(2, sub.getMethod("value").invoke(sub.getDeclaredConstructor().newInstance()));
    }

    @Test
    void aSubclassLoadedFirstReadsItsSupertypeWithoutLoadingIt() throws Exception {
        TransformingLoader loader = loader(
                fixtures("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainSub"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class.forName("fixture.hierarchy.PlainSub", false, loader);
        // the JVM loaded the supertype after the subclass was transformed, not the transformer
        assertEquals(List.of("fixture/hierarchy/PlainSub", "fixture/hierarchy/PlainBase"), loader.transformed);
        assertEquals(List.of("fixture/hierarchy/PlainBase"), loader.resourcesRead);
        assertEquals(List.of(), loader.rewritten);
    }

    @Test
    void anOverrideOfAnInheritedCoroutineFunctionIsInstrumentedWhicheverLoadsFirst() throws Exception {
        for (String first : List.of("fixture.hierarchy.CoSub", "fixture.hierarchy.CoBase")) {
            TransformingLoader loader = loader(
                    fixtures("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                    new CoroutineTransformer(AgentOptions.parse("")));
            Class.forName(first, false, loader);
            Class.forName("fixture.hierarchy.CoSub", false, loader);
            assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                    loader.rewritten.stream().sorted().toList(), "loading " + first + " first");
        }
    }

    @Test
    void aClassThatCannotOverrideAnythingDoesNotReadItsSupertypes() throws Exception {
        TransformingLoader loader = loader(
                fixtures("fixture/hierarchy/CoBase", "fixture/hierarchy/CoMiddle"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class.forName("fixture.hierarchy.CoMiddle", false, loader);
        assertEquals(List.of("fixture/hierarchy/CoMiddle", "fixture/hierarchy/CoBase"), loader.transformed);
        assertEquals(List.of(), loader.resourcesRead, "only a constructor, a static and a private method: nothing to inherit");
        assertEquals(List.of("fixture/hierarchy/CoBase"), loader.rewritten);
    }

    @Test
    void anOverrideBelowAClassThatCannotOverrideStillInheritsTheMarkerWhicheverLoadsFirst() throws Exception {
        for (String first : List.of("fixture.hierarchy.CoMiddle", "fixture.hierarchy.CoLeaf", "fixture.hierarchy.CoBase")) {
            TransformingLoader loader = loader(
                    fixtures("fixture/hierarchy/CoBase", "fixture/hierarchy/CoMiddle", "fixture/hierarchy/CoLeaf"),
                    new CoroutineTransformer(AgentOptions.parse("")));
            Class.forName(first, false, loader);
            Class.forName("fixture.hierarchy.CoLeaf", false, loader);
            assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoLeaf"),
                    loader.rewritten.stream().sorted().toList(), "loading " + first + " first");
        }
    }

    @Test
    void aClassThatCannotOverrideIsRememberedWithItsSupertypesForItsSubclasses() throws Exception {
        TransformingLoader loader = loader(
                fixtures("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainMiddle", "fixture/hierarchy/PlainLeaf"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class.forName("fixture.hierarchy.PlainMiddle", false, loader); // and so PlainBase, after it
        assertEquals(List.of(), loader.resourcesRead, "PlainMiddle cannot override: PlainBase was not read");
        Class<?> leaf = Class.forName("fixture.hierarchy.PlainLeaf", false, loader);
        assertEquals(List.of("fixture/hierarchy/PlainMiddle", "fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainLeaf"),
                loader.transformed);
        assertEquals(List.of(), loader.resourcesRead, "both supertypes were scanned as they were loaded");
        assertEquals(List.of(), loader.rewritten);
        assertEquals(3, leaf.getMethod("value").invoke(leaf.getDeclaredConstructor().newInstance()));
    }
}
