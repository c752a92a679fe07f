package dev.basalt.core;

import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.VmConfig;
import java.io.InputStream;

/** What {@link ImageBuilder} needs of the {@link SandboxManager} it builds in (the seam between the two). */
interface BuildSandboxes {

    /** The image a spec boots (see {@link ImageCatalog#resolve}). */
    GuestImage resolve(SandboxSpec spec);

    /** A READY sandbox booted from {@code image}'s boot files with its root disk on {@code chain}. */
    SandboxInfo createOnChain(SandboxSpec spec, GuestImage image, Device.Disk chain);

    /** Runs a command without the image's exec defaults. */
    ExecResult execAsIs(String id, ExecRequest request, ExecOutput output);

    /** Runs a command with the image's exec defaults, output buffered. */
    ExecResult exec(String id, ExecRequest request);

    /** Freezes the sandbox's disk now (see {@link SnapshotOps#freezeDisks}); returns its config. */
    VmConfig freezeDisks(String id);

    void mkdir(String id, String path);

    void writeFile(String id, String path, InputStream data, int mode);

    void remove(String id);
}
