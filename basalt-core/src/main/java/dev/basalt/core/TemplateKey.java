package dev.basalt.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.basalt.vmm.VmConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What decides which template a VM may be cloned from: the template layout's format, the image
 * files' identity, the VMM and its accelerator, and the VM's full {@linkplain VmConfig#shape shape}
 * (machine size, boot, every device). Two VMs with equal keys load each other's template state; a
 * new device type or field changes the key by being part of the shape.
 *
 * @param format  the template layout and machine format ({@link TemplateCache#FORMAT})
 * @param image   the image's name
 * @param imageId identity of the image's files ({@link GuestImage#id()})
 * @param vmm     the VMM's version
 * @param accel   the accelerator
 * @param shape   the VM's shape
 */
record TemplateKey(int format, String image, String imageId, String vmm, String accel, VmConfig shape) {
    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    TemplateKey {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(vmm, "vmm");
        Objects.requireNonNull(accel, "accel");
        shape = shape.shape();
    }

    /** The key's name: 16 hex digits of a SHA-256 over its canonical JSON (a directory name on /dev/shm). */
    String hash() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(JSON.writeValueAsString(this)
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException | JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
