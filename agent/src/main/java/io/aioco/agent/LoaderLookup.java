package io.aioco.agent;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where the agent reads the class files of a loader's other classes (a class's supertypes). The
 * general way is the loader's resources, which is slow: each read builds a URL and opens a
 * connection (about as costly as loading the class). For the two loaders whose search order is
 * known, the application class loader and a {@link URLClassLoader} over files below the platform
 * loader, the class path is read directly instead ({@link ClassPathLookup}); names in the packages
 * of the JDK's modules, and names not found there, are still read as resources, so the answer is
 * the same. The loader is held weakly.
 *
 * <p>Loaders that find the same class files ({@link #sharingKey}) can share one lookup, and so one
 * instrumenter and what it learnt: a lookup made by {@link #shared} reads the resources of the
 * loaders' parent, the platform loader, instead of a loader's own.
 */
final class LoaderLookup implements ClassLookup {
    private static final String APP_LOADER = "jdk.internal.loader.ClassLoaders$AppClassLoader";

    private final WeakReference<ClassLoader> loader;
    /** The class path to read directly, or null when the loader's search order is not known. */
    private final List<Path> classPath;
    private volatile ClassLookup direct;
    private boolean directFailed;

    LoaderLookup(ClassLoader loader) {
        this(loader, classPathOf(loader));
    }

    private LoaderLookup(ClassLoader resources, List<Path> classPath) {
        this.loader = new WeakReference<>(resources);
        this.classPath = classPath;
    }

    /**
     * A lookup that gives what the loaders of {@code key} read, held by none of them.
     *
     * @param key from {@link #sharingKey}
     * @return a lookup over the key's jars, then the platform loader's resources
     */
    static LoaderLookup shared(SharingKey key) {
        return new LoaderLookup(ClassLoader.getPlatformClassLoader(), key.jars);
    }

    /**
     * What makes two loaders find the same class file for every name, or null when that is not
     * known: a {@link URLClassLoader} below the platform loader over jar files only, as a
     * benchmark, an application server's redeployment or a test runner's isolated loader makes
     * again and again over the same jars. Two such loaders of one class, with the same jars in the
     * same order, each jar of the same size and time, read the same bytes for every name: the
     * platform loader's first (the JDK), then the jars. Folders are left out (their files change
     * without notice), as are loaders of other kinds. NOTE: this takes the loader to define what
     * its jars hold, as {@link URLClassLoader} does and as the direct reads of the class path
     * already take it; the manifests' {@code Class-Path} jars are not stamped (a jar replaced under
     * a running process, named only by another jar's manifest, would go unseen).
     *
     * @param loader a class loader
     * @return its key, or null when it shares nothing
     */
    static SharingKey sharingKey(ClassLoader loader) {
        if (!(loader instanceof URLClassLoader urlLoader) || loader.getParent() != ClassLoader.getPlatformClassLoader()) {
            return null;
        }
        List<Path> jars = new ArrayList<>();
        List<Object> stamps = new ArrayList<>();
        for (URL url : urlLoader.getURLs()) {
            if (!"file".equals(url.getProtocol())) {
                return null;
            }
            try {
                Path jar = Path.of(url.toURI()).toAbsolutePath().normalize();
                BasicFileAttributes attributes = Files.readAttributes(jar, BasicFileAttributes.class);
                if (!attributes.isRegularFile()) {
                    return null;
                }
                jars.add(jar);
                stamps.add(jar.toString());
                stamps.add(attributes.size());
                stamps.add(attributes.lastModifiedTime());
            } catch (URISyntaxException | IOException | RuntimeException e) {
                return null; // NOTE: a missing or unreadable entry: nothing shared
            }
        }
        return new SharingKey(loader.getClass(), List.copyOf(jars), List.copyOf(stamps));
    }

    /**
     * See {@link #sharingKey}. The loader's class is held weakly: the key must not keep it, and
     * so its own loader, from being unloaded. A key whose class was unloaded equals no other.
     */
    static final class SharingKey {
        private final WeakReference<Class<?>> loaderClass;
        private final String loaderClassName;
        private final List<Path> jars;
        /** For each jar: its path, size and time. */
        private final List<Object> stamps;

        private SharingKey(Class<?> loaderClass, List<Path> jars, List<Object> stamps) {
            this.loaderClass = new WeakReference<>(loaderClass);
            this.loaderClassName = loaderClass.getName();
            this.jars = jars;
            this.stamps = stamps;
        }

        /** @return whether the loader's class was unloaded (the key then equals no other) */
        boolean isStale() {
            return loaderClass.get() == null;
        }

        @Override
        public boolean equals(Object other) {
            if (this == other) {
                return true;
            }
            if (!(other instanceof SharingKey key)) {
                return false;
            }
            Class<?> mine = loaderClass.get();
            return mine != null && mine == key.loaderClass.get() && stamps.equals(key.stamps);
        }

        @Override
        public int hashCode() {
            return Objects.hash(loaderClassName, stamps);
        }
    }

    @Override
    public byte[] classBytes(String internalName) {
        try (InputStream in = openClassFile(internalName)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public InputStream openClassFile(String internalName) {
        ClassLoader live = loader.get();
        if (live == null) {
            return null;
        }
        ClassLookup fast = classPath == null || inBootLayer(internalName) ? null : direct();
        InputStream in = fast == null ? null : fast.openClassFile(internalName);
        return in != null ? in : live.getResourceAsStream(internalName + ".class");
    }

    private ClassLookup direct() {
        ClassLookup lookup = direct;
        if (lookup == null) {
            synchronized (this) {
                lookup = direct;
                if (lookup == null && !directFailed) {
                    try {
                        lookup = ClassPathLookup.open(classPath, null);
                        direct = lookup;
                    } catch (IOException | RuntimeException e) {
                        directFailed = true; // NOTE: the resources still answer
                    }
                }
            }
        }
        return lookup;
    }

    /** The class path searched after the JDK's modules, or null when the loader is of another kind. */
    private static List<Path> classPathOf(ClassLoader loader) {
        if (loader == ClassLoader.getSystemClassLoader() && loader.getClass().getName().equals(APP_LOADER)
                && System.getProperty("jdk.module.path") == null) {
            String property = System.getProperty("java.class.path", "");
            List<Path> elements = new ArrayList<>();
            for (String element : property.split(File.pathSeparator, -1)) {
                try {
                    elements.add(Path.of(element.isEmpty() ? "." : element));
                } catch (RuntimeException e) {
                    return null;
                }
            }
            return elements;
        }
        if (loader instanceof URLClassLoader urlLoader && (loader.getParent() == null
                || loader.getParent() == ClassLoader.getPlatformClassLoader())) {
            List<Path> elements = new ArrayList<>();
            for (URL url : urlLoader.getURLs()) {
                if (!"file".equals(url.getProtocol())) {
                    return null;
                }
                try {
                    elements.add(Path.of(url.toURI()));
                } catch (URISyntaxException | RuntimeException e) {
                    return null;
                }
            }
            return elements;
        }
        return null;
    }

    private static final Set<String> BOOT_LAYER_PACKAGES = bootLayerPackages();

    private static Set<String> bootLayerPackages() {
        Set<String> packages = new HashSet<>();
        for (Module module : ModuleLayer.boot().modules()) {
            for (String name : module.getPackages()) {
                packages.add(name.replace('.', '/'));
            }
        }
        return packages;
    }

    /** A class of a package in a module of the boot layer is found there first, whatever the class path holds. */
    private static boolean inBootLayer(String internalName) {
        int slash = internalName.lastIndexOf('/');
        return slash > 0 && BOOT_LAYER_PACKAGES.contains(internalName.substring(0, slash));
    }
}
