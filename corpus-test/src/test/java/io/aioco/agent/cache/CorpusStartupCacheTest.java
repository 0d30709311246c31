package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.agent.Corpus;
import java.io.IOException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The startup cache over real jars: whatever their manifests and indexes hold (groovy ships a
 * {@code META-INF/INDEX.LIST}, kotlin and scala multi-release entries), the search order the cache
 * reads from them trusts every jar of the corpus, so that a later start skips their clean classes.
 * A jar it stops trusting by mistake costs every jar after it the cache, silently: the start is
 * only slower (the corpus once lost every jar from groovy on).
 */
class CorpusStartupCacheTest {
    @Test
    void theSearchOrderTrustsEveryJarOfTheCorpusAndNamesEachByItsIndex() throws IOException {
        List<Path> jars = Corpus.allJars();
        List<String> entries = jars.stream().map(Path::toString).toList();
        CachedClassPath classPath = new CachedClassPath(entries, "test");
        classPath.readSearchOrder();

        List<Integer> expected = new ArrayList<>();
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < jars.size(); i++) {
            expected.add(i);
            ProtectionDomain domain = new ProtectionDomain(
                    new CodeSource(jars.get(i).toUri().toURL(), (Certificate[]) null), null);
            found.add(classPath.jarIndex(domain));
        }
        assertEquals(expected, found, "the jar index of each of " + jars + "; search order: " + classPath.searchOrderText());

        CachedClassPath later = new CachedClassPath(entries, "test");
        assertEquals(true, later.useSearchOrder(classPath.searchOrderText()), "a later start takes the saved order");
        assertEquals(classPath.searchOrderText(), later.searchOrderText());
    }
}
