package io.aioco.testing;

import java.security.SecureRandom;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * The one helper that lets a long run override a jqwik property's number of tries and seed from
 * system properties ({@code @Property(tries = ...)} is a compile-time constant, so the CI value lives
 * there and a long run overrides it here): {@code PREFIX.tries=N} runs N tries with a fresh seed,
 * {@code PREFIX.seed=N} replays seed N, {@code PREFIX.seed=random} draws one. Without either, the
 * property runs as annotated (CI: its fixed seed, if it names one). Compiled into the tests of the
 * instrumenter ({@link Random}: {@code aioco.random.*}), of corpus-test ({@link Fuzz}:
 * {@code aioco.fuzz.*}) and of test-suite ({@link LockModel}: {@code aioco.lockmodel.*}) from
 * {@code test-fixtures/support}. Called by jqwik on the thread that runs the property.
 */
public abstract class TriesFromProperty implements AroundPropertyHook {
    private final String triesProperty;
    private final String seedProperty;

    /** @param prefix the system properties' prefix: {@code PREFIX.tries} and {@code PREFIX.seed} */
    protected TriesFromProperty(String prefix) {
        this.triesProperty = prefix + ".tries";
        this.seedProperty = prefix + ".seed";
    }

    /** The instrumenter's random programs and hierarchies: {@code aioco.random.tries}, {@code aioco.random.seed}. */
    public static final class Random extends TriesFromProperty {
        /** The system property naming the number of tries. */
        public static final String TRIES = "aioco.random.tries";

        public Random() {
            super("aioco.random");
        }
    }

    /** corpus-test's fuzzed class files: {@code aioco.fuzz.tries}, {@code aioco.fuzz.seed}. */
    public static final class Fuzz extends TriesFromProperty {
        /** The system property naming the number of tries. */
        public static final String TRIES = "aioco.fuzz.tries";

        public Fuzz() {
            super("aioco.fuzz");
        }
    }

    /** test-suite's lock model (LockModelPropertyTest): {@code aioco.lockmodel.tries}, {@code aioco.lockmodel.seed}. */
    public static final class LockModel extends TriesFromProperty {
        /** The system property naming the number of tries. */
        public static final String TRIES = "aioco.lockmodel.tries";

        public LockModel() {
            super("aioco.lockmodel");
        }
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        String triesValue = System.getProperty(triesProperty);
        if (triesValue != null) {
            int tries;
            try {
                tries = Integer.parseInt(triesValue.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(triesProperty + ": " + triesValue + " (expected: a number >= 1)", e);
            }
            if (tries < 1) {
                throw new IllegalArgumentException(triesProperty + ": " + tries + " (expected: >= 1)");
            }
            context.attributes().setTries(tries);
        }
        String seed = System.getProperty(seedProperty, triesValue != null ? "random" : null);
        if (seed != null) {
            context.attributes().setSeed(seed.equals("random") ? Long.toString(new SecureRandom().nextLong()) : seed);
        }
        return property.execute();
    }
}
