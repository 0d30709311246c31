package io.aioco.test;

import io.aioco.CoroutineFn;
import java.lang.reflect.Method;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs the methods annotated {@link CoroutineTest} as coroutines ({@link Driver}) instead of
 * calling them. JUnit calls it on the test's thread.
 */
final class CoroutineTestExtension implements InvocationInterceptor {
    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call,
                                    ExtensionContext context) throws Throwable {
        Method method = call.getExecutable();
        CoroutineTest settings = method.getAnnotation(CoroutineTest.class);
        if (settings == null) {
            invocation.proceed();
            return;
        }
        invocation.skip();
        String name = method.getDeclaringClass().getName() + "." + method.getName();
        if (!method.isAnnotationPresent(CoroutineFn.class)) {
            throw new IllegalStateException(name + " is a @CoroutineTest and must also be a @CoroutineFn"
                    + " (io.aioco.CoroutineFn), so that it is woven into a coroutine");
        }
        method.setAccessible(true);
        Object target = call.getTarget().orElse(null);
        Driver.run(name, settings.realTime(),
                io.aioco.internal.kit.MethodEntry.of(target, method, call.getArguments().toArray()));
    }
}
