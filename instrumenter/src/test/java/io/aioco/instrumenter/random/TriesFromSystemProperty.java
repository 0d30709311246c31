package io.aioco.instrumenter.random;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Sets a property's number of tries from the system property {@value #TRIES} when it is given
 * ({@code @Property(tries = ...)} is a compile-time constant, so the CI value lives there and the
 * long run overrides it here). CI runs the property's fixed seed (deterministic); a long run, or
 * {@value #SEED}{@code =random}, draws a fresh seed, and {@value #SEED}{@code =N} replays seed N.
 */
public final class TriesFromSystemProperty implements AroundPropertyHook {
    /** The system property naming the number of tries. */
    public static final String TRIES = "aioco.random.tries";
    /** The system property naming the seed: a number, or {@code random}. */
    public static final String SEED = "aioco.random.seed";

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Integer tries = Integer.getInteger(TRIES);
        if (tries != null) {
            if (tries < 1) {
                throw new IllegalArgumentException(TRIES + ": " + tries + " (expected: >= 1)");
            }
            context.attributes().setTries(tries);
        }
        String seed = System.getProperty(SEED, tries != null ? "random" : null);
        if (seed != null) {
            context.attributes().setSeed(seed.equals("random")
                    ? Long.toString(new java.security.SecureRandom().nextLong()) : seed);
        }
        return property.execute();
    }
}
