package io.aioco.agent;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Lets the system property {@value #TRIES} override a fuzz property's number of tries (the CI
 * value is the constant in {@code @Property(tries = ...)}).
 */
public final class FuzzTries implements AroundPropertyHook {
    /** The system property: how many fuzzed inputs to try. */
    public static final String TRIES = "aioco.fuzz.tries";

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        String value = System.getProperty(TRIES);
        if (value != null) {
            int tries = Integer.parseInt(value.trim());
            if (tries < 1) {
                throw new IllegalArgumentException(TRIES + ": " + tries + " (expected: >= 1)");
            }
            context.attributes().setTries(tries);
        }
        return property.execute();
    }
}
