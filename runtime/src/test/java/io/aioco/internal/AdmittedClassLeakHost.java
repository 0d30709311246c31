package io.aioco.internal;

import java.io.Serializable;

/** Defined again by {@link AdmittedClassLeakTest}'s own class loaders: lambdas whose host is in such a loader. */
public final class AdmittedClassLeakHost {
    private AdmittedClassLeakHost() {}

    /** @return a proxy of a plain lambda of this class */
    public static Runnable plain() {
        return () -> {};
    }

    /** @return a proxy of a serializable lambda of this class, capturing {@code n} */
    public static Runnable serializable(int n) {
        return (Runnable & Serializable) () -> Integer.toString(n);
    }
}
