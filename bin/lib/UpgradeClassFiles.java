import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Copies a jar, rewriting its class files older than Java 6 (format 50) as Java 8 ones (52) with
 * stack maps; the code itself is unchanged. Run by bin/lib/cli-aot.sh (JDK 25 source launcher):
 * picocli ships Java 5 class files, which the JDK's ahead-of-time cache cannot hold (they are verified
 * by the old type-inferring verifier at every start), so the CLI loaded and verified its ~170 picocli
 * classes from the jar in every command. Every rewritten class is loaded and initialized once after
 * writing; any failure exits 1 and the caller keeps the original jar.
 *
 * <p>Usage: {@code java UpgradeClassFiles.java IN.jar OUT.jar}
 */
public class UpgradeClassFiles {
    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        List<String> rewritten = new ArrayList<>();
        try (URLClassLoader original = new URLClassLoader(new URL[] {in.toUri().toURL()}, null)) {
            ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
                            .orElse(ClassHierarchyResolver.ofResourceParsing(original))));
            try (JarFile jar = new JarFile(in.toFile()); JarOutputStream target = new JarOutputStream(Files.newOutputStream(tmp))) {
                for (JarEntry entry : jar.stream().toList()) {
                    byte[] bytes = jar.getInputStream(entry).readAllBytes();
                    String name = entry.getName();
                    if (name.endsWith(".class") && !name.startsWith("META-INF/") && !name.equals("module-info.class")) {
                        ClassModel model = classFile.parse(bytes);
                        if (model.majorVersion() < ClassFile.JAVA_6_VERSION) {
                            bytes = classFile.transformClass(model, ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                                    .andThen(ClassTransform.endHandler(b -> b.withVersion(ClassFile.JAVA_8_VERSION, 0))));
                            rewritten.add(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
                        }
                    }
                    target.putNextEntry(new JarEntry(name));
                    target.write(bytes);
                    target.closeEntry();
                }
            }
        }
        try (URLClassLoader upgraded = new URLClassLoader(new URL[] {tmp.toUri().toURL()}, null)) {
            for (String name : rewritten) {
                Class.forName(name, true, upgraded);         // verified (new verifier) and initialized
            }
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println(in.getFileName() + ": " + rewritten.size() + " class files rewritten");
    }
}
