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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where the agent reads the class files of a loader's other classes (a class's supertypes). The
 * general way is the loader's resources, which is slow: each read builds a URL and opens a
 * connection (about as costly as loading the class). For the two loaders whose search order is
 * known, the application class loader and a {@link URLClassLoader} over files below the platform
 * loader, the class path is read directly instead ({@link ClassPathLookup}); names in the packages
 * of the JDK's modules, and names not found there, are still read as resources, so the answer is
 * the same. The loader is held weakly.
 */
final class LoaderLookup implements ClassLookup {
    private static final String APP_LOADER = "jdk.internal.loader.ClassLoaders$AppClassLoader";

    private final WeakReference<ClassLoader> loader;
    /** The class path to read directly, or null when the loader's search order is not known. */
    private final List<Path> classPath;
    private volatile ClassLookup direct;
    private boolean directFailed;

    LoaderLookup(ClassLoader loader) {
        this.loader = new WeakReference<>(loader);
        this.classPath = classPathOf(loader);
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
