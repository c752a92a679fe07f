package dev.basalt.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxState;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.api.TemplateInfo;
import dev.basalt.grpc.v1.Command;
import dev.basalt.grpc.v1.PoolStatus;
import dev.basalt.grpc.v1.Sandbox;
import dev.basalt.grpc.v1.Snapshot;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Translation between the {@code dev.basalt.api} records and the {@code basalt.v1} messages, both
 * directions, used by the server and by {@link RemoteSandboxes}. Values from the wire go through the
 * API records' own validation, so a malformed request fails with {@link BasaltException.InvalidArgument}.
 */
public final class ProtoMapper {
    private ProtoMapper() {
    }

    // ---- time ----

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    public static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    public static com.google.protobuf.Duration duration(Duration d) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }

    public static Duration duration(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    // ---- specs and sandboxes ----

    public static dev.basalt.grpc.v1.SandboxSpec toProto(SandboxSpec s) {
        var b = dev.basalt.grpc.v1.SandboxSpec.newBuilder().setImage(s.image()).setVcpus(s.vcpus())
                .setMemoryMib(s.memoryMib()).putAllLabels(s.labels()).setBootTimeout(duration(s.bootTimeout()))
                .setColdBoot(s.coldBoot());
        if (s.ttl() != null) {
            b.setTtl(duration(s.ttl()));
        }
        b.setDiskMib(s.diskMib());
        if (s.kernel() != null) {
            b.setKernel(s.kernel().toString());
        }
        if (s.initrd() != null) {
            b.setInitrd(s.initrd().toString());
        }
        if (s.network().mode() != NetworkMode.NONE) {
            b.setNetwork(toProto(s.network()));
        }
        return b.build();
    }

    // ---- networking ----

    public static dev.basalt.grpc.v1.NetworkPolicy toProto(NetworkPolicy p) {
        return dev.basalt.grpc.v1.NetworkPolicy.newBuilder()
                .setMode(dev.basalt.grpc.v1.NetworkPolicy.Mode.valueOf(p.mode().name()))
                .addAllAllow(p.allow().stream().map(EgressRule::text).toList())
                .addAllDeny(p.deny().stream().map(EgressRule::text).toList()).build();
    }

    /** A policy from the wire, validated like any other (InvalidArgument with the reason). */
    public static NetworkPolicy fromProto(dev.basalt.grpc.v1.NetworkPolicy p) {
        NetworkMode mode = switch (p.getMode()) {
            case NETWORK_MODE_UNSPECIFIED, NONE -> NetworkMode.NONE;
            case OPEN -> NetworkMode.OPEN;
            case ALLOW -> NetworkMode.ALLOW;
            case PROXY -> NetworkMode.PROXY;
            case UNRECOGNIZED -> throw new BasaltException.InvalidArgument("unknown network mode " + p.getModeValue()
                    + ": use NONE, OPEN, ALLOW or PROXY");
        };
        return new NetworkPolicy(mode, NetworkPolicy.parseAll(p.getAllowList()), NetworkPolicy.parseAll(p.getDenyList()));
    }

    public static dev.basalt.grpc.v1.PortForward toProto(PortForward f) {
        return dev.basalt.grpc.v1.PortForward.newBuilder().setSandboxId(f.sandboxId()).setGuestPort(f.guestPort())
                .setHostAddress(f.hostAddress()).setHostPort(f.hostPort()).build();
    }

    public static PortForward fromProto(dev.basalt.grpc.v1.PortForward p) {
        return new PortForward(p.getSandboxId(), p.getGuestPort(), p.getHostAddress(), p.getHostPort());
    }

    public static dev.basalt.grpc.v1.NetworkStats toProto(NetworkStats s) {
        return dev.basalt.grpc.v1.NetworkStats.newBuilder().setBytesIn(s.bytesIn()).setBytesOut(s.bytesOut())
                .setDeniedPackets(s.deniedPackets()).setDeniedDns(s.deniedDns()).setDeniedConnections(s.deniedConnections()).build();
    }

    public static NetworkStats fromProto(dev.basalt.grpc.v1.NetworkStats p) {
        return new NetworkStats(p.getBytesIn(), p.getBytesOut(), p.getDeniedPackets(), p.getDeniedDns(), p.getDeniedConnections());
    }

    public static SandboxSpec fromProto(dev.basalt.grpc.v1.SandboxSpec p) {
        SandboxSpec d = SandboxSpec.defaults();
        return new SandboxSpec(p.getImage().isEmpty() ? d.image() : p.getImage(),
                p.getKernel().isEmpty() ? null : Path.of(p.getKernel()),
                p.getInitrd().isEmpty() ? null : Path.of(p.getInitrd()),
                p.getVcpus() == 0 ? d.vcpus() : p.getVcpus(),
                p.getMemoryMib() == 0 ? d.memoryMib() : p.getMemoryMib(),
                p.getLabelsMap(),
                p.hasBootTimeout() ? duration(p.getBootTimeout()) : d.bootTimeout(),
                p.getColdBoot(),
                p.hasTtl() ? duration(p.getTtl()) : null,
                p.hasNetwork() ? fromProto(p.getNetwork()) : NetworkPolicy.none(),
                p.getDiskMib());
    }

    public static dev.basalt.grpc.v1.SandboxState toProto(SandboxState s) {
        return dev.basalt.grpc.v1.SandboxState.valueOf(s.name());
    }

    public static SandboxState fromProto(dev.basalt.grpc.v1.SandboxState s) {
        if (s == dev.basalt.grpc.v1.SandboxState.SANDBOX_STATE_UNSPECIFIED || s == dev.basalt.grpc.v1.SandboxState.UNRECOGNIZED) {
            throw new BasaltException.InvalidArgument("sandbox state " + s + " is not a state: use STARTING, READY, "
                    + "RUNNING, STOPPING, STOPPED or FAILED");
        }
        return SandboxState.valueOf(s.name());
    }

    public static Sandbox toProto(SandboxInfo i) {
        var b = Sandbox.newBuilder().setId(i.id()).setState(toProto(i.state())).setSpec(toProto(i.spec()))
                .setAccel(i.accel()).setVmmPid(i.vmmPid()).setCreatedAt(timestamp(i.createdAt()))
                .setExecsInFlight(i.execsInFlight()).setOrigin(i.origin());
        i.readyAt().ifPresent(t -> b.setReadyAt(timestamp(t)));
        if (!i.handedOutAt().equals(i.createdAt())) {
            b.setHandedOutAt(timestamp(i.handedOutAt()));
        }
        i.failure().ifPresent(b::setFailure);
        i.expiresAt().ifPresent(t -> b.setExpiresAt(timestamp(t)));
        return b.build();
    }

    public static SandboxInfo fromProto(Sandbox p) {
        return new SandboxInfo(p.getId(), fromProto(p.getState()), fromProto(p.getSpec()), p.getAccel(), p.getVmmPid(),
                instant(p.getCreatedAt()), p.hasReadyAt() ? Optional.of(instant(p.getReadyAt())) : Optional.empty(),
                p.getExecsInFlight(), p.hasFailure() ? Optional.of(p.getFailure()) : Optional.empty(), p.getOrigin(),
                p.hasExpiresAt() ? Optional.of(instant(p.getExpiresAt())) : Optional.empty(),
                p.hasHandedOutAt() ? instant(p.getHandedOutAt()) : null);
    }

    // ---- events ----

    public static dev.basalt.grpc.v1.SandboxEvent toProto(SandboxEvent e) {
        return dev.basalt.grpc.v1.SandboxEvent.newBuilder().setSandboxId(e.sandboxId())
                .setKind(dev.basalt.grpc.v1.SandboxEvent.Kind.valueOf(e.kind().name())).setState(toProto(e.state()))
                .setAt(timestamp(e.at())).setDetail(e.detail()).build();
    }

    public static SandboxEvent fromProto(dev.basalt.grpc.v1.SandboxEvent p) {
        return new SandboxEvent(p.getSandboxId(), kind(p.getKind()), fromProto(p.getState()), instant(p.getAt()), p.getDetail());
    }

    public static SandboxEvent.Kind kind(dev.basalt.grpc.v1.SandboxEvent.Kind k) {
        if (k == dev.basalt.grpc.v1.SandboxEvent.Kind.KIND_UNSPECIFIED || k == dev.basalt.grpc.v1.SandboxEvent.Kind.UNRECOGNIZED) {
            throw new BasaltException.InvalidArgument("event kind " + k + " is not a kind: use " + java.util.Arrays.toString(SandboxEvent.Kind.values()));
        }
        return SandboxEvent.Kind.valueOf(k.name());
    }

    public static dev.basalt.grpc.v1.EventsRequest toProto(EventFilter f) {
        var b = dev.basalt.grpc.v1.EventsRequest.newBuilder();
        if (f.sandboxId() != null) {
            b.setId(f.sandboxId());
        }
        f.kinds().forEach(k -> b.addKinds(dev.basalt.grpc.v1.SandboxEvent.Kind.valueOf(k.name())));
        return b.build();
    }

    public static EventFilter fromProto(dev.basalt.grpc.v1.EventsRequest p) {
        java.util.Set<SandboxEvent.Kind> kinds = java.util.EnumSet.noneOf(SandboxEvent.Kind.class);
        p.getKindsList().forEach(k -> kinds.add(kind(k)));
        return new EventFilter(p.getId().isEmpty() ? null : p.getId(), kinds);
    }

    // ---- commands ----

    public static Command toProto(ExecRequest r) {
        var b = Command.newBuilder().addAllArgv(r.argv()).putAllEnv(r.env()).setCwd(r.cwd()).setPty(r.pty());
        byte[] stdin = r.stdin();
        if (stdin != null) {
            b.setStdin(ByteString.copyFrom(stdin));
        }
        if (r.timeout() != null) {
            b.setTimeout(duration(r.timeout()));
        }
        if (r.user() != null) {
            b.setUser(toProto(r.user()));
        }
        return b.build();
    }

    public static ExecRequest fromProto(Command c) {
        return new ExecRequest(c.getArgvList(), c.getEnvMap(), c.getCwd(), c.hasStdin() ? c.getStdin().toByteArray() : null,
                c.hasTimeout() ? duration(c.getTimeout()) : null, c.getPty(), c.hasUser() ? fromProto(c.getUser()) : null);
    }

    public static dev.basalt.grpc.v1.GuestUser toProto(dev.basalt.api.GuestUser u) {
        return dev.basalt.grpc.v1.GuestUser.newBuilder().setUid(u.uid()).setGid(u.gid()).build();
    }

    /** @throws BasaltException.InvalidArgument for ids above 2^31-1 */
    public static dev.basalt.api.GuestUser fromProto(dev.basalt.grpc.v1.GuestUser u) {
        return new dev.basalt.api.GuestUser(u.getUid(), u.getGid());
    }

    public static dev.basalt.grpc.v1.ExitStatus toProto(ExitStatus e, Duration ran) {
        var b = dev.basalt.grpc.v1.ExitStatus.newBuilder().setDuration(duration(ran));
        switch (e) {
            case ExitStatus.Exited x -> b.setCode(x.code());
            case ExitStatus.Signaled s -> b.setSignal(s.signal());
            case ExitStatus.TimedOut t -> b.setTimedOut(true);
        }
        return b.build();
    }

    public static ExitStatus fromProto(dev.basalt.grpc.v1.ExitStatus p) {
        return switch (p.getOutcomeCase()) {
            case CODE -> new ExitStatus.Exited(p.getCode());
            case SIGNAL -> new ExitStatus.Signaled(p.getSignal());
            case TIMED_OUT -> new ExitStatus.TimedOut();
            case OUTCOME_NOT_SET -> throw new BasaltException.Internal("the server sent an exit status without an outcome");
        };
    }

    // ---- files ----

    public static dev.basalt.grpc.v1.FileInfo toProto(FileInfo f) {
        return dev.basalt.grpc.v1.FileInfo.newBuilder().setPath(f.path())
                .setType(dev.basalt.grpc.v1.FileType.valueOf(f.type().name())).setMode(f.mode()).setSize(f.size())
                .setModified(timestamp(f.modified())).build();
    }

    public static FileInfo fromProto(dev.basalt.grpc.v1.FileInfo p) {
        FileType type = switch (p.getType()) {
            case FILE -> FileType.FILE;
            case DIRECTORY -> FileType.DIRECTORY;
            case SYMLINK -> FileType.SYMLINK;
            default -> FileType.OTHER;
        };
        return new FileInfo(p.getPath(), type, p.getMode(), p.getSize(), instant(p.getModified()));
    }

    // ---- snapshots and pools ----

    public static Snapshot toProto(SnapshotInfo s) {
        return Snapshot.newBuilder().setName(s.name()).setSourceSandbox(s.sourceSandbox()).setImage(s.image())
                .setImageId(s.imageId()).setVmmVersion(s.vmmVersion()).setVcpus(s.vcpus()).setMemoryMib(s.memoryMib())
                .setCreatedAt(timestamp(s.createdAt())).setSizeBytes(s.sizeBytes()).setSha256(s.sha256()).build();
    }

    public static SnapshotInfo fromProto(Snapshot p) {
        return new SnapshotInfo(p.getName(), p.getSourceSandbox(), p.getImage(), p.getImageId(), p.getVmmVersion(),
                p.getVcpus(), p.getMemoryMib(), instant(p.getCreatedAt()), p.getSizeBytes(), p.getSha256());
    }

    public static PoolStatus toProto(PoolStats s) {
        return PoolStatus.newBuilder().setTemplate(s.template()).setImage(s.image()).setVcpus(s.vcpus())
                .setMemoryMib(s.memoryMib()).setWarmTarget(s.warmTarget()).setWarmReady(s.warmReady())
                .setStandbyTarget(s.standbyTarget()).setStandbyReady(s.standbyReady()).setHits(s.hits())
                .setMisses(s.misses()).build();
    }

    public static PoolStats fromProto(PoolStatus p) {
        return new PoolStats(p.getTemplate(), p.getImage(), p.getVcpus(), p.getMemoryMib(), p.getWarmTarget(),
                p.getWarmReady(), p.getStandbyTarget(), p.getStandbyReady(), p.getHits(), p.getMisses());
    }

    public static dev.basalt.grpc.v1.Template toProto(TemplateInfo t) {
        return dev.basalt.grpc.v1.Template.newBuilder().setKey(t.key()).setImage(t.image()).setVcpus(t.vcpus())
                .setMemoryMib(t.memoryMib()).setShmBytes(t.shmBytes()).setCreatedAt(timestamp(t.createdAt()))
                .setLastUsedAt(timestamp(t.lastUsedAt())).build();
    }

    public static TemplateInfo fromProto(dev.basalt.grpc.v1.Template p) {
        return new TemplateInfo(p.getKey(), p.getImage(), p.getVcpus(), p.getMemoryMib(), p.getShmBytes(),
                instant(p.getCreatedAt()), instant(p.getLastUsedAt()));
    }
}
