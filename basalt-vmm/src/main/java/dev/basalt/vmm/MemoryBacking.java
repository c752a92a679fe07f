package dev.basalt.vmm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a VM's RAM lives. Every VM's RAM is one QEMU memory backend with the same id, so the
 * migration stream of any VM can be loaded into any other VM of the same shape.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = MemoryBacking.Anonymous.class, name = "anonymous"),
        @JsonSubTypes.Type(value = MemoryBacking.SharedFile.class, name = "shared-file"),
        @JsonSubTypes.Type(value = MemoryBacking.PrivateFile.class, name = "private-file")
})
public sealed interface MemoryBacking {

    /** Anonymous memory (cold boots, restored snapshots, fork children). */
    record Anonymous() implements MemoryBacking {}

    /**
     * RAM is the file at {@code path}, mapped shared: the guest writes straight into it. Used to
     * make a template; saved with {@code x-ignore-shared} the migration stream then holds only
     * device state.
     */
    record SharedFile(Path path) implements MemoryBacking {
        public SharedFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * RAM is a private copy-on-write mapping of a template's memory file: pages are shared with
     * every other clone until written. The file must never change while clones map it (it may be
     * deleted: mappings keep it alive).
     */
    record PrivateFile(Path path) implements MemoryBacking {
        public PrivateFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /** True when a state saved from this VM leaves the RAM out ({@code x-ignore-shared}): only for shared files. */
    @JsonIgnore
    default boolean ramOutsideStream() {
        return this instanceof SharedFile;
    }
}
