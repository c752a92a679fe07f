package dev.basalt.cli;

import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt inspect ID}: everything about one sandbox, as JSON. */
final class InspectCommand extends Verb {
    private final PositionalParamSpec id;

    InspectCommand(CliContext context) {
        super(context, "inspect", "Show one sandbox as JSON (state, accelerator, failure reason...).");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
    }

    @Override
    public Integer call() {
        String sandbox = value(id);
        dev.basalt.api.SandboxInfo info = sandboxes().inspect(sandbox);
        java.util.Map<String, Object> view = Views.sandbox(info);
        if (info.spec().network().mode().hasNic() && !info.state().isTerminal()) {
            dev.basalt.api.NetworkStats s = sandboxes().networkStats(sandbox);
            java.util.Map<String, Object> traffic = new java.util.LinkedHashMap<>();
            traffic.put("bytesIn", s.bytesIn());
            traffic.put("bytesOut", s.bytesOut());
            traffic.put("deniedPackets", s.deniedPackets());
            traffic.put("deniedDns", s.deniedDns());
            traffic.put("deniedConnections", s.deniedConnections());
            view.put("traffic", traffic);
        }
        context.out().println(Views.json(view));
        return 0;
    }
}
