package dev.basalt.cli;

import dev.basalt.api.PortForward;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt port ID [GUEST_PORT]}: forward a loopback address to a guest port, or list / remove forwards. */
final class PortCommand extends Verb {
    private final PositionalParamSpec id;
    private final PositionalParamSpec guestPort;
    private final OptionSpec hostPort;
    private final OptionSpec remove;

    PortCommand(CliContext context) {
        super(context, "port", "Forward a host address to a port of a networked sandbox (prints HOST:PORT), or list its forwards.");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        guestPort = positional("1", "0..1", Integer.class, "GUEST_PORT", "Port in the guest; none: list the forwards.");
        hostPort = option(int.class, "N", "0", "Host port on 127.0.0.1 (default: any free port).", "-p", "--host-port");
        remove = flag("Stop forwarding GUEST_PORT.", "--remove");
    }

    @Override
    public Integer call() {
        String sandbox = value(id);
        Integer guest = value(guestPort);
        if (guest == null) {
            for (PortForward f : sandboxes().portForwards(sandbox)) {
                context.out().println(f.guestPort() + " -> " + f.hostAddress() + ":" + f.hostPort());
            }
            return 0;
        }
        if (Verb.<Boolean>value(remove)) {
            sandboxes().unforwardPort(sandbox, guest);
            return 0;
        }
        PortForward f = sandboxes().forwardPort(sandbox, guest, Verb.<Integer>value(hostPort));
        context.out().println(f.hostAddress() + ":" + f.hostPort());
        return 0;
    }
}
