/**
 * Internal, not API (public only so that the instrumenter's other packages can use it): what the
 * instrumenter reads of class files, before any method is rewritten. In the order
 * {@link io.aioco.instrumenter.Instrumenter} uses them:
 * <ol>
 *   <li>{@link io.aioco.instrumenter.classfile.ClassFileScan}: a lean read of a class file's
 *       constant pool and header ({@link io.aioco.instrumenter.classfile.ClassFilePrefix} reads
 *       only the prefix of another class's file that the hierarchy needs);
 *   <li>{@link io.aioco.instrumenter.classfile.QuickScan}: classes that certainly have nothing to
 *       do are returned untouched;
 *   <li>{@link io.aioco.instrumenter.classfile.ClassHierarchy}: supertypes, overrides, inherited
 *       markers and common superclasses, from class bytes (no class is loaded);
 *   <li>{@link io.aioco.instrumenter.classfile.CoroutineMethods}: which methods of a class are
 *       coroutine functions, and which calls suspend.
 * </ol>
 * Shared by every package: {@link io.aioco.instrumenter.classfile.RuntimeNames}, the only place
 * that names the runtime's classes and methods, and {@link io.aioco.instrumenter.classfile.Bytecode},
 * the helpers over ASM's tree (class file version, source lines, a refused method's throwing body).
 */
package io.aioco.instrumenter.classfile;
