package dev.basalt.net.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandsTest {

    @Test
    void aMissingToolIsNamedWithItsDebianPackage() {
        assertThatThrownBy(() -> Commands.run(List.of("/nonexistent/nft", "--version"), null))
                .isInstanceOf(BasaltException.Unavailable.class)
                .hasMessageContaining("install the Debian package nftables (apt-get install nftables)");
        assertThatThrownBy(() -> Commands.run(List.of("/nonexistent/ip", "-V"), null)).hasMessageContaining("iproute2");
    }

    @Test
    void aFailingCommandIsReportedWithItsOutputAndInput() {
        assertThatThrownBy(() -> Commands.run(List.of("sh", "-c", "cat >/dev/null; echo broken >&2; exit 3"), "line one\nline two"))
                .isInstanceOf(BasaltException.Internal.class)
                .hasMessageContaining("failed (exit 3): broken").hasMessageContaining("   2  line two");
        assertThat(Commands.run(List.of("sh", "-c", "cat"), "echoed").stdout()).isEqualTo("echoed");
    }

    @Test
    void aRefusedNftablesScriptSaysWhatAndWhere() {
        String name = "btcmd" + ProcessHandle.current().pid();
        Commands.run(List.of("ip", "netns", "add", name), null);
        try (NetNamespace ns = NetNamespace.named(name)) {
            assertThatThrownBy(() -> ns.nft("add rule inet no_such_table c accept\n"))
                    .isInstanceOf(BasaltException.Internal.class).hasMessageContaining("no_such_table")
                    .hasMessageContaining("   1  add rule");
            ns.nft("table inet t {\n counter c {\n }\n}\n");
            assertThat(ns.nft("list counters table inet t\n")).contains("counter c");
        } finally {
            Commands.run(List.of("ip", "netns", "delete", name), null);
        }
    }
}
