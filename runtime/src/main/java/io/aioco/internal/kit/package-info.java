/**
 * The test kit's coroutine entry (module {@code aioco-test} drives a test method as a coroutine
 * through {@link io.aioco.internal.kit.MethodEntry}). Not API.
 *
 * <p>This package implements a public interface ({@code io.aioco.CoroutineEntry}), so it depends on
 * {@code io.aioco}; nothing in the runtime depends on it, so no import cycle runs through here
 * (the runtime's packages form no cycle: a test checks it).
 */
package io.aioco.internal.kit;
