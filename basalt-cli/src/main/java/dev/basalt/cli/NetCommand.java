package dev.basalt.cli;

import dev.basalt.api.NetworkStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt net ID [--net MODE] [--allow ...] [--deny ...]}: change a live sandbox's egress policy; show its traffic. */
final class NetCommand extends Verb {
    private final PositionalParamSpec id;
    private final OptionSpec net;
    private final OptionSpec allow;
    private final OptionSpec deny;

    NetCommand(CliContext context) {
        super(context, "net", "Show a networked sandbox's traffic and refusals as JSON; with --net/--allow/--deny, "
                + "replace its egress policy first (new connections follow it at once).");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        net = option(String.class, "MODE", null, "open, allow or proxy (the sandbox's own kind).", "--net");
        allow = list("ENTRY", "Reachable domain or IPv4 range; repeatable or comma-separated.", "--allow");
        deny = list("ENTRY", "Refused domain or range; repeatable or comma-separated.", "--deny");
    }

    @Override
    public Integer call() {
        String sandbox = value(id);
        String mode = value(net);
        List<String> a = value(allow);
        List<String> d = value(deny);
        if (mode != null || !a.isEmpty() || !d.isEmpty()) {
            if (mode == null) {   // keep the sandbox's kind: proxy stays proxy, otherwise allow with entries, open without
                var current = sandboxes().inspect(sandbox).spec().network().mode();
                mode = current == dev.basalt.api.NetworkMode.PROXY ? "proxy" : a.isEmpty() ? "open" : "allow";
            }
            sandboxes().setNetworkPolicy(sandbox, SpecOptions.policy(mode, a, d));
        }
        NetworkStats s = sandboxes().networkStats(sandbox);
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", sandbox);
        view.put("bytesIn", s.bytesIn());
        view.put("bytesOut", s.bytesOut());
        view.put("deniedPackets", s.deniedPackets());
        view.put("deniedDns", s.deniedDns());
        view.put("deniedConnections", s.deniedConnections());
        context.out().println(Views.json(view));
        return 0;
    }
}
