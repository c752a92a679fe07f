package dev.basalt.server;

import static dev.basalt.server.SandboxService.unary;

import dev.basalt.api.Sandboxes;
import dev.basalt.grpc.ProtoMapper;
import dev.basalt.grpc.v1.CheckpointRequest;
import dev.basalt.grpc.v1.DeleteSnapshotRequest;
import dev.basalt.grpc.v1.DeleteSnapshotResponse;
import dev.basalt.grpc.v1.ForkRequest;
import dev.basalt.grpc.v1.ForkResponse;
import dev.basalt.grpc.v1.ListSnapshotsRequest;
import dev.basalt.grpc.v1.ListSnapshotsResponse;
import dev.basalt.grpc.v1.PoolStatusRequest;
import dev.basalt.grpc.v1.PoolStatusResponse;
import dev.basalt.grpc.v1.RestoreRequest;
import dev.basalt.grpc.v1.Sandbox;
import dev.basalt.grpc.v1.Snapshot;
import dev.basalt.grpc.v1.SnapshotServiceGrpc;
import io.grpc.stub.StreamObserver;

/** {@code basalt.v1.SnapshotService} over the {@link Sandboxes} port: translation only. */
final class SnapshotService extends SnapshotServiceGrpc.SnapshotServiceImplBase {
    private final Sandboxes sandboxes;

    SnapshotService(Sandboxes sandboxes) {
        this.sandboxes = sandboxes;
    }

    @Override
    public void checkpoint(CheckpointRequest request, StreamObserver<Snapshot> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.checkpoint(Validation.id(request.getId()),
                Validation.newSnapshotName(request.getName()))));
    }

    @Override
    public void restore(RestoreRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.restore(Validation.snapshotName(request.getName()), request.getLabelsMap())));
    }

    @Override
    public void fork(ForkRequest request, StreamObserver<ForkResponse> observer) {
        unary(observer, () -> ForkResponse.newBuilder().addAllSandboxes(sandboxes.fork(Validation.id(request.getId()), request.getCount())
                .stream().map(ProtoMapper::toProto).toList()).build());
    }

    @Override
    public void listSnapshots(ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> observer) {
        unary(observer, () -> ListSnapshotsResponse.newBuilder().addAllSnapshots(sandboxes.snapshots().stream()
                .map(ProtoMapper::toProto).toList()).build());
    }

    @Override
    public void deleteSnapshot(DeleteSnapshotRequest request, StreamObserver<DeleteSnapshotResponse> observer) {
        unary(observer, () -> {
            sandboxes.deleteSnapshot(Validation.snapshotName(request.getName()));
            return DeleteSnapshotResponse.getDefaultInstance();
        });
    }

    @Override
    public void poolStatus(PoolStatusRequest request, StreamObserver<PoolStatusResponse> observer) {
        unary(observer, () -> PoolStatusResponse.newBuilder().addAllPools(sandboxes.pools().stream()
                .map(ProtoMapper::toProto).toList()).build());
    }

    @Override
    public void listTemplates(dev.basalt.grpc.v1.ListTemplatesRequest request,
                              StreamObserver<dev.basalt.grpc.v1.ListTemplatesResponse> observer) {
        unary(observer, () -> templates(sandboxes.templates()));
    }

    @Override
    public void pruneTemplates(dev.basalt.grpc.v1.PruneTemplatesRequest request,
                               StreamObserver<dev.basalt.grpc.v1.ListTemplatesResponse> observer) {
        unary(observer, () -> templates(sandboxes.pruneTemplates()));
    }

    private static dev.basalt.grpc.v1.ListTemplatesResponse templates(java.util.List<dev.basalt.api.TemplateInfo> list) {
        return dev.basalt.grpc.v1.ListTemplatesResponse.newBuilder()
                .addAllTemplates(list.stream().map(ProtoMapper::toProto).toList()).build();
    }
}
