package dev.basalt.grpc;

import com.google.protobuf.Timestamp;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import java.time.Instant;

/** {@link ImageInfo} and {@link ImageConfig} ⇄ their {@code basalt.v1} messages. */
public final class ImageMapper {
    private ImageMapper() {
    }

    public static dev.basalt.grpc.v1.Image toProto(ImageInfo i) {
        return dev.basalt.grpc.v1.Image.newBuilder().setName(i.name()).setId(i.id()).setSizeBytes(i.sizeBytes())
                .setSource(i.source())
                .setCreated(Timestamp.newBuilder().setSeconds(i.created().getEpochSecond()).setNanos(i.created().getNano()))
                .setConfig(toProto(i.config())).build();
    }

    public static ImageInfo fromProto(dev.basalt.grpc.v1.Image p) {
        return new ImageInfo(p.getName(), p.getId(), p.getSizeBytes(), p.getSource(),
                Instant.ofEpochSecond(p.getCreated().getSeconds(), p.getCreated().getNanos()), fromProto(p.getConfig()));
    }

    public static dev.basalt.grpc.v1.ImageConfig toProto(ImageConfig c) {
        return dev.basalt.grpc.v1.ImageConfig.newBuilder().putAllEnv(c.env()).setWorkingDir(c.workingDir())
                .setUser(c.user()).addAllEntrypoint(c.entrypoint()).addAllCmd(c.cmd()).build();
    }

    public static ImageConfig fromProto(dev.basalt.grpc.v1.ImageConfig p) {
        return new ImageConfig(p.getEnvMap(), p.getWorkingDir(), p.getUser(), p.getEntrypointList(), p.getCmdList());
    }
}
