package io.aioco;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a coroutine function: a method that may suspend the coroutine that runs it.
 *
 * <p>Maps to QEMU's {@code coroutine_fn} annotation. Unlike QEMU's, which only a static checker
 * reads, this marker drives the rewrite: the aioco agent (or the Maven plugin at build time) turns
 * every coroutine function into a resumable state machine. The marker is inherited: a method that
 * overrides or implements a coroutine function is one too, and so is the body of a lambda or method
 * reference whose functional interface method is one (for example {@link CoroutineEntry#run()}).
 *
 * <p>A coroutine function may only be called from a coroutine: called outside one it throws
 * {@link IllegalStateException} naming the method. It may not suspend while holding a monitor
 * ({@code synchronized}); constructors and static initializers cannot be coroutine functions.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface CoroutineFn {}
