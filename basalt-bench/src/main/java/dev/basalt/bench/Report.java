package dev.basalt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects result rows, prints them as a table and records the run in docs/BENCHMARKS.md
 * (newest run first, under the file's fixed header).
 */
final class Report {
    record Row(String metric, String value, String target, String verdict) {}

    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    void add(String metric, String value, String target, Boolean met) {
        rows.add(new Row(metric, value, target, met == null ? "" : met ? "met" : "MISSED"));
        System.out.printf("%-58s %16s   %-12s %s%n", metric, value, target, met == null ? "" : met ? "met" : "MISSED");
        System.out.flush();
    }

    void note(String text) {
        notes.add(text);
    }

    String markdown(String title, List<String> context) {
        StringBuilder b = new StringBuilder("## ").append(title).append("\n\n");
        context.forEach(c -> b.append("- ").append(c).append('\n'));
        b.append("\n| metric | median | target | |\n|---|---:|---|---|\n");
        for (Row r : rows) {
            b.append("| ").append(r.metric()).append(" | ").append(r.value()).append(" | ").append(r.target())
                    .append(" | ").append(r.verdict()).append(" |\n");
        }
        if (!notes.isEmpty()) {
            b.append('\n');
            notes.forEach(n -> b.append("- ").append(n).append('\n'));
        }
        return b.append('\n').toString();
    }

    /** Inserts {@code section} right after the header marker of docs/BENCHMARKS.md. */
    static void record(Path file, String section) throws IOException {
        String marker = "<!-- runs: newest first -->\n";
        String existing = Files.exists(file) ? Files.readString(file) : "";
        if (!existing.contains(marker)) {
            existing = "# Benchmarks\n\nWritten by `bin/bench` (the program `basalt-bench`); every figure is a median "
                    + "of one run, measured on the machine named in its section.\n\n" + marker;
        }
        int at = existing.indexOf(marker) + marker.length();
        Files.writeString(file, existing.substring(0, at) + "\n" + section + existing.substring(at));
    }
}
