package dev.basalt.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision logic, fed with crafted cpuinfo files; the real detection runs in every VM test. */
class AccelDetectorTest {
    @TempDir
    Path tmp;

    private Path cpuinfo(String flags) throws IOException {
        return Files.writeString(tmp.resolve("cpuinfo"), "processor\t: 0\nflags\t\t: fpu " + flags + " sse2\n");
    }

    private Path device() throws IOException {
        return Files.writeString(tmp.resolve("kvm"), "");
    }

    @Test
    void noVirtualizationFlagMeansTcgEvenWithADevice() throws IOException {
        var d = new AccelDetector(cpuinfo("hypervisor"), device(), p -> true).detect();
        assertThat(d.accel()).isEqualTo(Accel.TCG);
        assertThat(d.reason()).contains("no vmx/svm");
    }

    @Test
    void flagWithoutUsableDeviceMeansTcg() throws IOException {
        var d = new AccelDetector(cpuinfo("vmx"), tmp.resolve("missing"), p -> true).detect();
        assertThat(d.accel()).isEqualTo(Accel.TCG);
        assertThat(d.reason()).contains("missing");
    }

    @Test
    void failedProbeMeansTcg() throws IOException {
        var d = new AccelDetector(cpuinfo("svm"), device(), p -> false).detect();
        assertThat(d.accel()).isEqualTo(Accel.TCG);
        assertThat(d.reason()).contains("could not be created");
    }

    @Test
    void realHardwareMeansKvm() throws IOException {
        assertThat(new AccelDetector(cpuinfo("vmx"), device(), p -> true).detect().accel()).isEqualTo(Accel.KVM);
        assertThat(new AccelDetector(cpuinfo("svm"), device(), p -> true).detect().accel()).isEqualTo(Accel.KVM);
    }

    @Test
    void flagNamesMustMatchWholeWords() throws IOException {
        // "vmx_ept" style sub-strings must not count as vmx
        var d = new AccelDetector(cpuinfo("vmxfoo svmbar"), device(), p -> true).detect();
        assertThat(d.accel()).isEqualTo(Accel.TCG);
    }
}
