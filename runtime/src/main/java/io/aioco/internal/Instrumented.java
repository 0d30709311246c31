package io.aioco.internal;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Put by the aioco instrumenter on every class it rewrote, so that a class is never rewritten
 * twice (the agent leaves classes woven by the Maven plugin alone). Not API.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface Instrumented {
    /**
     * The protocol version between woven classes that the class was woven with; a class with
     * another version is rewritten again, never taken as woven. 1 is the marker written without
     * the element. No QEMU counterpart; read from class files only (never at run time).
     *
     * @return the protocol version the class was woven with
     */
    int version() default 1;
}
