package dev.basalt.image.oci;

import java.io.IOException;
import java.io.InputStream;

/** Where an image's blobs come from: an OCI layout, a docker-save archive, a registry. */
public interface BlobSource {
    /**
     * Opens the blob a descriptor names. The bytes are not verified here: readers wrap the stream
     * in a {@link VerifiedStream}.
     *
     * @throws dev.basalt.api.BasaltException.NotFound if the source has no such blob
     */
    InputStream open(OciJson.Descriptor descriptor) throws IOException;

    /** Reads a small blob (a manifest, index or config) whole and verifies it. */
    default byte[] read(OciJson.Descriptor descriptor, String what) throws IOException {
        if (descriptor.size() > OciJson.MAX_DOCUMENT) {
            throw new dev.basalt.api.BasaltException.InvalidArgument(what + " is " + descriptor.size()
                    + " bytes, more than the " + OciJson.MAX_DOCUMENT + " Basalt reads");
        }
        try (InputStream in = new VerifiedStream(open(descriptor), descriptor.parsedDigest(), descriptor.size(), what)) {
            byte[] bytes = in.readNBytes(OciJson.MAX_DOCUMENT + 1);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return bytes;
        }
    }
}
