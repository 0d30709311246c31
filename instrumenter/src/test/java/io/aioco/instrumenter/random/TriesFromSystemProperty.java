package io.aioco.instrumenter.random;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Sets a property's number of tries from the system property {@value #TRIES} when it is given
 * ({@code @Property(tries = ...)} is a compile-time constant, so the CI value lives there and the
 * long run overrides it here).
 */
public final class TriesFromSystemProperty implements AroundPropertyHook {
    /** The system property naming the number of tries. */
    public static final String TRIES = "aioco.random.tries";

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Integer tries = Integer.getInteger(TRIES);
        if (tries != null) {
            if (tries < 1) {
                throw new IllegalArgumentException(TRIES + ": " + tries + " (expected: >= 1)");
            }
            context.attributes().setTries(tries);
        }
        return property.execute();
    }
}
