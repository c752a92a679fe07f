package dev.basalt.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imports of images built by umoci and converted by skopeo (real tools, real archives): the
 * layers applied in order with their whiteouts, the config's exec defaults kept, every digest
 * checked, and nothing left behind by an import that fails.
 */
class ImageArchiveImportTest {
    @TempDir
    static Path images;
    @TempDir
    Path tmp;
    static Path layout;

    @BeforeAll
    static void build() throws IOException {
        layout = TestImages.ociLayout(images.resolve("layout"), "v1", "made by the test");
        TestImages.skopeo("copy", "-q", "oci:" + layout + ":v1", "docker-archive:" + images.resolve("docker.tar") + ":test/app:v1");
        TestImages.skopeo("copy", "-q", "oci:" + layout + ":v1", "oci-archive:" + images.resolve("oci.tar") + ":v1");
    }

    private ImageService service() {
        return ImageService.open(tmp.resolve("store"));
    }

    @Test
    void anOciLayoutDirectory() throws IOException {
        ImageService service = service();
        List<String> progress = new ArrayList<>();
        ImageInfo info = service.importArchive(layout, "v1", "test/app:v1", progress::add);
        assertThat(info.name()).isEqualTo("test/app:v1");
        assertThat(info.source()).contains("archive").contains(layout.toString());
        TestImages.assertImported(service, info);
        assertThat(progress).anyMatch(l -> l.startsWith("applying layer 2/2"));
        // the same content again is only named: no layer applied
        progress.clear();
        ImageInfo again = service.importArchive(layout, null, "second-name", progress::add);
        assertThat(again.id()).isEqualTo(info.id());
        assertThat(progress).isEmpty();
        assertThat(service.list()).extracting(ImageInfo::name).containsExactly("second-name", "test/app:v1");
    }

    @Test
    void aDockerSaveArchiveAndAnOciArchive() throws IOException {
        ImageService service = service();
        TestImages.assertImported(service, service.importArchive(images.resolve("docker.tar"), null, "from-docker", l -> { }));
        TestImages.assertImported(service, service.importArchive(images.resolve("oci.tar"), "v1", "from-oci-tar", l -> { }));
        assertThatThrownBy(() -> service.importArchive(images.resolve("docker.tar"), "other:tag", "x", l -> { }))
                .isInstanceOf(BasaltException.NotFound.class).hasMessageContaining("no image tagged 'other:tag'");
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestLeavesNothing() throws IOException {
        Path broken = tmp.resolve("broken");
        TestImages.run("cp", "-a", layout.toString(), broken.toString());
        // flip a byte in the middle of the biggest blob (the busybox layer)
        Path blob;
        try (Stream<Path> s = Files.list(broken.resolve("blobs/sha256"))) {
            blob = s.max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length())).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xff);
        }
        ImageService service = service();
        assertThatThrownBy(() -> service.importArchive(broken, "v1", "broken", l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("layer 1/2").hasMessageContaining("does not match its digest");
        assertThat(service.list()).isEmpty();
        try (Stream<Path> s = Files.list(service.store().root().resolve("staging"))) {
            assertThat(s).isEmpty();
        }
        try (Stream<Path> s = Files.list(service.store().root().resolve("images"))) {
            assertThat(s).isEmpty();
        }
    }

    @Test
    void missingAndWrongArchivesAreNamed() throws IOException {
        ImageService service = service();
        assertThatThrownBy(() -> service.importArchive(tmp.resolve("nope.tar"), null, "x", l -> { }))
                .isInstanceOf(BasaltException.NotFound.class).hasMessageContaining("nope.tar");
        Path junk = Files.writeString(tmp.resolve("junk.tar"), "this is not a tar archive at all".repeat(40));
        assertThatThrownBy(() -> service.importArchive(junk, null, "x", l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("junk.tar");
        Path empty = Files.createDirectory(tmp.resolve("empty-dir"));
        assertThatThrownBy(() -> service.importArchive(empty, null, "x", l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("not an image archive");
        assertThatThrownBy(() -> service.importArchive(layout, "v1", "bad/../name", l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("image name 'bad/../name'");
        assertThat(service.list()).isEmpty();
    }
}
