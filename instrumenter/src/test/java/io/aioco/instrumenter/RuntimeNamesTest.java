package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.instrumenter.classfile.RuntimeNames;
import io.aioco.internal.CoLinker;
import io.aioco.internal.CoStack;
import io.aioco.internal.Instrumented;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.Type;

/** Every runtime name that rewritten code refers to exists in the runtime, with that descriptor. */
class RuntimeNamesTest {

    private static Method method(Class<?> owner, String name, String desc) {
        for (Method method : owner.getMethods()) {
            if (method.getName().equals(name) && Type.getMethodDescriptor(method).equals(desc)) {
                return method;
            }
        }
        throw new AssertionError(owner.getName() + "." + name + desc + " does not exist");
    }

    @Test
    void classNamesMatch() {
        assertEquals(Type.getDescriptor(CoroutineFn.class), RuntimeNames.COROUTINE_FN_DESC);
        assertEquals(Type.getDescriptor(Instrumented.class), RuntimeNames.INSTRUMENTED_DESC);
        assertEquals(int.class, method(Instrumented.class, WovenMarker.VERSION, "()I").getReturnType());
        assertEquals(1, method(Instrumented.class, WovenMarker.VERSION, "()I").getDefaultValue(),
                "a marker without the element is version 1");
        assertEquals(Type.getInternalName(Coroutine.class), RuntimeNames.COROUTINE);
        assertEquals(Type.getInternalName(CoStack.class), RuntimeNames.STACK);
        assertEquals(Type.getDescriptor(CoStack.class), RuntimeNames.STACK_DESC);
        assertEquals(Type.getInternalName(CoLinker.class), RuntimeNames.LINKER);
        assertTrue(RuntimeNames.COROUTINE.startsWith(RuntimeNames.RUNTIME_PACKAGE));
    }

    @Test
    void methodsExistWithTheirDescriptors() throws NoSuchFieldException {
        assertTrue(Modifier.isStatic(method(Coroutine.class, RuntimeNames.YIELD, RuntimeNames.YIELD_DESC).getModifiers()));
        assertTrue(Modifier.isStatic(method(CoStack.class, RuntimeNames.ENTER, RuntimeNames.ENTER_DESC).getModifiers()));
        assertTrue(Modifier.isStatic(method(CoLinker.class, RuntimeNames.LINK, RuntimeNames.LINK_DESC).getModifiers()));
        assertTrue(Modifier.isStatic(method(CoLinker.class, RuntimeNames.LINK_VIRTUAL, RuntimeNames.LINK_DESC).getModifiers()));
        assertTrue(Modifier.isStatic(method(CoLinker.class, RuntimeNames.RETRANSFORMED, RuntimeNames.RETRANSFORMED_DESC)
                .getModifiers()));
        assertEquals(CoLinker.RETRANSFORM_WATCH_PROPERTY, RuntimeNames.RETRANSFORM_WATCH_PROPERTY);
        method(CoStack.class, RuntimeNames.CROSSED, RuntimeNames.ERROR_DESC);
        assertEquals(Type.getInternalName(io.aioco.internal.CoTables.class), RuntimeNames.TABLES);
        assertTrue(Modifier.isStatic(method(io.aioco.internal.CoTables.class, RuntimeNames.REGISTER,
                RuntimeNames.REGISTER_DESC).getModifiers()));
        method(CoStack.class, RuntimeNames.CORRUPT, RuntimeNames.ERROR_DESC);
        String[][] slots = {
            {RuntimeNames.PUSH_INT, RuntimeNames.PUSH_INT_DESC}, {RuntimeNames.PUSH_FLOAT, RuntimeNames.PUSH_FLOAT_DESC},
            {RuntimeNames.PUSH_LONG, RuntimeNames.PUSH_LONG_DESC}, {RuntimeNames.PUSH_DOUBLE, RuntimeNames.PUSH_DOUBLE_DESC},
            {RuntimeNames.PUSH_REF, RuntimeNames.PUSH_REF_DESC}, {RuntimeNames.POP_INT, RuntimeNames.POP_INT_DESC},
            {RuntimeNames.POP_FLOAT, RuntimeNames.POP_FLOAT_DESC}, {RuntimeNames.POP_LONG, RuntimeNames.POP_LONG_DESC},
            {RuntimeNames.POP_DOUBLE, RuntimeNames.POP_DOUBLE_DESC}, {RuntimeNames.POP_REF, RuntimeNames.POP_REF_DESC},
        };
        for (String[] slot : slots) {
            assertTrue(!Modifier.isStatic(method(CoStack.class, slot[0], slot[1]).getModifiers()), slot[0]);
        }
        assertEquals(int.class, CoStack.class.getField(RuntimeNames.SIGNAL).getType());
        assertEquals("I", RuntimeNames.SIGNAL_DESC);
        assertEquals(CoStack.RESUME, RuntimeNames.RESUME);
        assertEquals(CoStack.SUSPEND, RuntimeNames.SUSPEND);
        assertEquals(CoStack.NOT_SELECTED, RuntimeNames.NOT_SELECTED);
        assertTrue(RuntimeNames.NOT_SELECTED != RuntimeNames.SUSPEND && (RuntimeNames.NOT_SELECTED & 1) == 0,
                "no token (odd) and not SUSPEND");
        assertEquals(MethodType.fromMethodDescriptorString(RuntimeNames.LINK_DESC, null).parameterCount(), 5);
        assertEquals(Type.getDescriptor(CoStack.class.getField(RuntimeNames.CALLEE).getType()), RuntimeNames.CALLEE_DESC);
        assertEquals(Type.getDescriptor(CoStack.class.getField(RuntimeNames.RECEIVER).getType()), RuntimeNames.RECEIVER_DESC);
        assertTrue(!Modifier.isStatic(method(CoStack.class, RuntimeNames.ADMIT, RuntimeNames.ADMIT_DESC).getModifiers()));
        assertTrue(!Modifier.isStatic(method(CoStack.class, RuntimeNames.ADMIT_EXACT, RuntimeNames.ADMIT_DESC)
                .getModifiers()));
        assertTrue(!Modifier.isStatic(method(CoStack.class, RuntimeNames.ADMIT_LAMBDA, RuntimeNames.ADMIT_LAMBDA_DESC)
                .getModifiers()));
    }

    @Test
    void tokensOfTheRuntimesOwnCoroutineFunctionsDifferWithinEachClass() {
        // CoStack.arrive tells a runtime function's caller by its token and receiver: within one
        // (final) class of the runtime, the tokens of its coroutine functions must all differ
        for (Class<?> owner : new Class<?>[] {Coroutine.class, io.aioco.CoMutex.class, io.aioco.CoQueue.class,
                io.aioco.CoRwLock.class, io.aioco.ThreadPool.class}) {
            assertTrue(Modifier.isFinal(owner.getModifiers()), owner.getName());
            java.util.Map<Integer, String> seen = new java.util.HashMap<>();
            for (Method method : owner.getDeclaredMethods()) {
                if (method.isAnnotationPresent(CoroutineFn.class)) {
                    String previous = seen.put(CoStack.token(method.getName(), Type.getMethodDescriptor(method)),
                            method.getName());
                    assertEquals(null, previous, owner.getName() + ": " + method.getName() + " and " + previous);
                }
            }
            assertTrue(!seen.isEmpty(), owner.getName());
        }
    }

    @Test
    void tokensAreComputedAlikeAndOdd() {
        for (String[] method : new String[][] {{"run", "()V"}, {"yield", "()V"}, {"apply", "(Ljava/lang/Object;)Ljava/lang/Object;"}}) {
            int token = RuntimeNames.token(method[0], method[1]);
            assertEquals(CoStack.token(method[0], method[1]), token);
            assertEquals(1, token & 1);
            assertTrue(token != RuntimeNames.SUSPEND && (token | RuntimeNames.RESUME) != RuntimeNames.SUSPEND);
        }
    }
}
