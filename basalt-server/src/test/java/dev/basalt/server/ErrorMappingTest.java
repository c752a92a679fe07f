package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.Sandboxes;
import dev.basalt.grpc.RemoteSandboxes;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every {@link BasaltException} subtype crosses the wire as its status code and comes back as the same
 * subtype with the same message. The port here is a stand-in that only throws: the mapping is what is
 * tested (the real-VM tests trigger the reachable errors through the real manager).
 */
class ErrorMappingTest {

    record Case(Function<String, BasaltException> make, Status.Code code) {
        @Override
        public String toString() {
            return code.toString();
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case(BasaltException.NotFound::new, Status.Code.NOT_FOUND),
                new Case(BasaltException.InvalidArgument::new, Status.Code.INVALID_ARGUMENT),
                new Case(BasaltException.WrongState::new, Status.Code.FAILED_PRECONDITION),
                new Case(BasaltException.AlreadyExists::new, Status.Code.ALREADY_EXISTS),
                new Case(BasaltException.PermissionDenied::new, Status.Code.PERMISSION_DENIED),
                new Case(BasaltException.ResourceExhausted::new, Status.Code.RESOURCE_EXHAUSTED),
                new Case(BasaltException.Unavailable::new, Status.Code.UNAVAILABLE),
                new Case(BasaltException.TimedOut::new, Status.Code.DEADLINE_EXCEEDED),
                new Case(BasaltException.Internal::new, Status.Code.INTERNAL));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void eachErrorKeepsItsTypeAndMessageThroughTheWire(Case c) {
        String message = "sandbox 'x' says " + c.code() + ": do something else";
        BasaltException thrown = c.make().apply(message);
        assertThat(StatusMapping.toStatus(thrown).getCode()).isEqualTo(c.code());
        Sandboxes throwing = (Sandboxes) Proxy.newProxyInstance(Sandboxes.class.getClassLoader(),
                new Class<?>[] {Sandboxes.class}, (proxy, method, args) -> {
                    throw c.make().apply(message);
                });
        String name = "errors-" + c.code();
        try (BasaltServer server = new BasaltServer(InProcessServerBuilder.forName(name), throwing).start();
             RemoteSandboxes client = new RemoteSandboxes(InProcessChannelBuilder.forName(name).build())) {
            assertThatThrownBy(() -> client.inspect("x")).isExactlyInstanceOf(thrown.getClass()).hasMessage(message);
            assertThatThrownBy(() -> client.exec("x", dev.basalt.api.ExecRequest.of("true")))
                    .isExactlyInstanceOf(thrown.getClass()).hasMessage(message);
            assertThatThrownBy(() -> client.writeFile("x", "/f", new java.io.ByteArrayInputStream(new byte[10]), 0644))
                    .isExactlyInstanceOf(thrown.getClass()).hasMessage(message);
        }
    }
}
