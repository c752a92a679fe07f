package dev.basalt.bench;

import java.util.Arrays;
import java.util.List;

/** Medians and friends over measured samples (nanoseconds or any unit). */
record Stats(double median, double min, double max, int n) {

    static Stats of(List<Double> samples) {
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (s.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        return new Stats(median, s[0], s[s.length - 1], s.length);
    }

    static Stats of(double... samples) {
        return of(Arrays.stream(samples).boxed().toList());
    }
}
