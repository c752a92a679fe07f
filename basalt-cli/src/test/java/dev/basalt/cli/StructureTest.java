package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Keeps the structure honest: the module graph docs/ARCHITECTURE.md draws is the one the poms
 * declare, and no two types of basalt-core depend on each other in a cycle (read from the compiled
 * classes' constant pools, nested types counted as their top-level type).
 */
class StructureTest {
    private static final Pattern EDGE = Pattern.compile("^- `(basalt-[\\w-]+)` → (.*)$", Pattern.MULTILINE);
    private static final Pattern MODULE = Pattern.compile("`(basalt-[\\w-]+)`");

    @Test
    void moduleGraphInTheDocsIsTheOneThePomsDeclare() throws Exception {
        Path repo = CodeMapTest.repo();
        String doc = Files.readString(repo.resolve("docs/ARCHITECTURE.md"));
        String graph = doc.substring(doc.indexOf("<!-- module-graph:begin -->"), doc.indexOf("<!-- module-graph:end -->"));
        Map<String, Set<String>> documented = new TreeMap<>();
        Matcher m = EDGE.matcher(graph);
        while (m.find()) {
            Set<String> targets = new TreeSet<>();
            Matcher t = MODULE.matcher(m.group(2));
            while (t.find()) {
                targets.add(t.group(1));
            }
            documented.put(m.group(1), targets);
        }
        assertThat(documented).as("module graph in docs/ARCHITECTURE.md (module → its direct Basalt dependencies)")
                .isEqualTo(declaredGraph(repo));
    }

    /** Each module's direct compile-scope dependencies on other Basalt modules, from its pom. */
    private static Map<String, Set<String>> declaredGraph(Path repo) throws Exception {
        Map<String, Set<String>> graph = new TreeMap<>();
        var factory = DocumentBuilderFactory.newInstance();
        try (Stream<Path> dirs = Files.list(repo)) {
            for (Path module : dirs.filter(d -> Files.isRegularFile(d.resolve("pom.xml"))
                    && d.getFileName().toString().startsWith("basalt-")).toList()) {
                Element project = factory.newDocumentBuilder().parse(module.resolve("pom.xml").toFile()).getDocumentElement();
                Set<String> deps = new TreeSet<>();
                NodeList list = project.getElementsByTagName("dependency");
                for (int i = 0; i < list.getLength(); i++) {
                    Element dep = (Element) list.item(i);
                    String artifact = text(dep, "artifactId");
                    String scope = text(dep, "scope");
                    if (artifact.startsWith("basalt-") && (scope.isEmpty() || scope.equals("compile"))
                            && dep.getParentNode().getParentNode() == project) {
                        deps.add(artifact);
                    }
                }
                graph.put(module.getFileName().toString(), deps);
            }
        }
        return graph;
    }

    private static String text(Element parent, String tag) {
        NodeList n = parent.getElementsByTagName(tag);
        return n.getLength() == 0 ? "" : n.item(0).getTextContent().strip();
    }

    @Test
    void basaltCoreHasNoTypeCycles() throws IOException {
        Path classes = CodeMapTest.repo().resolve("basalt-core/target/classes");
        assertThat(classes).as("basalt-core compiled (the reactor builds it before basalt-cli)").isDirectory();
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ClassModel model = ClassFile.of().parse(f);
                String self = topLevel(model.thisClass().asInternalName());
                Set<String> targets = uses.computeIfAbsent(self, k -> new TreeSet<>());
                for (var entry : model.constantPool()) {
                    if (entry instanceof ClassEntry c) {
                        targets.add(topLevel(c.asInternalName()));
                    }
                }
                // types named only in signatures (fields, parameters) are in descriptors, not class entries
                Matcher d = Pattern.compile("L(dev/basalt/core/[\\w/$]+);").matcher(String.join(" ",
                        model.fields().stream().map(x -> x.fieldType().stringValue()).toList())
                        + String.join(" ", model.methods().stream().map(x -> x.methodType().stringValue()).toList()));
                while (d.find()) {
                    targets.add(topLevel(d.group(1)));
                }
            }
        }
        uses.replaceAll((k, v) -> {
            Set<String> inCore = new TreeSet<>(v);
            inCore.removeIf(t -> !uses.containsKey(t) || t.equals(k));
            return inCore;
        });
        assertThat(cycles(uses)).as("groups of basalt-core types that depend on each other in a cycle").isEmpty();
    }

    private static String topLevel(String internalName) {
        int dollar = internalName.indexOf('$');
        return (dollar < 0 ? internalName : internalName.substring(0, dollar)).replace('/', '.');
    }

    /** Strongly connected components with more than one type (Tarjan). */
    private static List<Set<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> found = new ArrayList<>();
        int[] counter = {0};
        for (String v : graph.keySet()) {
            if (!index.containsKey(v)) {
                strongConnect(v, graph, index, low, stack, onStack, found, counter);
            }
        }
        return found;
    }

    private static void strongConnect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                      Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                      List<Set<String>> found, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, graph, index, low, stack, onStack, found, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                found.add(component);
            }
        }
    }
}
