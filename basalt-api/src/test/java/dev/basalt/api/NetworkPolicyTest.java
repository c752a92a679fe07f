package dev.basalt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetworkPolicyTest {

    private static void rejects(String rule, String message) {
        assertThatThrownBy(() -> EgressRule.parse(rule)).as(rule)
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining(message);
    }

    @Test
    void parsesDomainsWildcardsAddressesAndRanges() {
        assertThat(EgressRule.parse("Example.COM.")).isEqualTo(new EgressRule.Domain("example.com", false));
        assertThat(EgressRule.parse(" *.pypi.org ")).isEqualTo(new EgressRule.Domain("pypi.org", true));
        assertThat(EgressRule.parse("xn--bcher-kva.example")).isEqualTo(new EgressRule.Domain("xn--bcher-kva.example", false));
        assertThat(EgressRule.parse("203.0.113.7")).isEqualTo(new EgressRule.Cidr(EgressRule.Cidr.parseAddress("203.0.113.7", ""), 32));
        assertThat(EgressRule.parse("203.0.113.0/24").text()).isEqualTo("203.0.113.0/24");
        assertThat(EgressRule.parse("0.0.0.0/0").text()).isEqualTo("0.0.0.0/0");
        assertThat(EgressRule.parse("*.example.com").text()).isEqualTo("*.example.com");
    }

    @Test
    void refusesMalformedRulesWithTheReason() {
        rejects("10.0.0.1/8", "has host bits set: did you mean 10.0.0.0/8?");
        rejects("203.0.113.0/33", "prefix length");
        rejects("203.0.113.0/", "prefix length");
        rejects("256.1.1.1", "0..255");
        rejects("01.2.3.4", "leading zeros");
        rejects("1.2.3", "four numbers");
        rejects("2001:db8::/32", "IPv6");
        rejects("example.com:443", "ports");
        rejects("foo.*.com", "only as the whole first label");
        rejects("*example.com", "only as the whole first label");
        rejects("ex*ample.com", "only as the whole first label");
        rejects("*.*.example.com", "only as the whole first label");
        rejects("*", "only as the whole first label");
        rejects("*.com", "whole top-level domain");
        rejects("localhost", "at least two labels");
        rejects("a..b", "empty label");
        rejects("-a.example.com", "starts or ends with '-'");
        rejects("a_b.example.com", "contains '_'");
        rejects("bücher.example", "punycode");
        rejects("example.123", "last label is a number");
        rejects("a".repeat(64) + ".com", "longer than 63");
        rejects(("a".repeat(60) + ".").repeat(5) + "com", "longer than 253");
        rejects("", "empty");
    }

    @Test
    void wildcardsMatchNamesStrictlyUnderTheirDomain() {
        EgressRule.Domain w = EgressRule.Domain.parse("*.example.com");
        assertThat(w.matches("a.example.com")).isTrue();
        assertThat(w.matches("a.b.example.com")).isTrue();
        assertThat(w.matches("example.com")).isFalse();
        assertThat(w.matches("badexample.com")).isFalse();
        assertThat(w.matches("example.com.evil.net")).isFalse();
        assertThat(EgressRule.Domain.parse("example.com").matches("a.example.com")).isFalse();
        EgressRule.Cidr c = EgressRule.Cidr.parse("203.0.113.0/24");
        assertThat(c.contains(EgressRule.Cidr.parseAddress("203.0.113.255", ""))).isTrue();
        assertThat(c.contains(EgressRule.Cidr.parseAddress("203.0.114.0", ""))).isFalse();
        assertThat(EgressRule.Cidr.parse("0.0.0.0/0").contains(-1)).isTrue();
    }

    @Test
    void modesAcceptOnlyTheListsThatMeanSomething() {
        assertThat(NetworkPolicy.none().mode()).isEqualTo(NetworkMode.NONE);
        assertThat(NetworkPolicy.allow("a.example.com", "a.example.com", "203.0.113.0/24").allow()).hasSize(2);
        assertThat(NetworkPolicy.open().withDeny("evil.example").hasDomainRules()).isTrue();
        assertThat(NetworkPolicy.allow("203.0.113.0/24").hasDomainRules()).isFalse();
        assertThatThrownBy(() -> new NetworkPolicy(NetworkMode.OPEN, List.of(EgressRule.parse("example.com")), List.of()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("--net allow");
        assertThatThrownBy(() -> NetworkPolicy.none().withDeny("example.com"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("need a network");
        assertThat(NetworkMode.parse("ALLOW")).isEqualTo(NetworkMode.ALLOW);
        assertThatThrownBy(() -> NetworkMode.parse("bridge")).hasMessageContaining("none, open, allow or proxy");
    }
}
