package dev.basalt.e2b.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.e2b.HttpJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/** E2B's allow_internet_access and network lists as Basalt policies, and what cannot be mapped. */
class EgressTest {

    private static NetworkPolicy policy(Boolean internet, String network) throws Exception {
        JsonNode n = network == null ? null : HttpJson.JSON.readTree(network);
        return Egress.policy(internet, n);
    }

    @Test
    void internetAccessIsOnUnlessCreateSaysFalse() throws Exception {
        assertThat(policy(null, null)).isEqualTo(NetworkPolicy.open());
        assertThat(policy(true, null)).isEqualTo(NetworkPolicy.open());
        assertThat(policy(false, null)).isEqualTo(NetworkPolicy.none());
        assertThat(policy(false, "{}")).isEqualTo(NetworkPolicy.none());
        assertThat(policy(true, "{\"allowPublicTraffic\": true, \"rules\": {}, \"httpsPorts\": []}")).isEqualTo(NetworkPolicy.open());
    }

    @Test
    void anAllowListMapsWhereEverythingElseIsDenied() throws Exception {
        NetworkPolicy listed = policy(null, "{\"allowOut\": [\"pypi.org\", \"203.0.113.7\"], \"denyOut\": [\"0.0.0.0/0\", \"10.0.0.0/8\"]}");
        assertThat(listed.mode()).isEqualTo(NetworkMode.ALLOW);
        assertThat(listed.allow()).containsExactly(EgressRule.parse("pypi.org"), EgressRule.parse("203.0.113.7/32"));
        assertThat(listed.deny()).isEmpty();      // E2B's allowOut wins: the other deny entries change nothing
        assertThat(policy(false, "{\"allowOut\": [\"pypi.org\"]}")).isEqualTo(NetworkPolicy.allow("pypi.org"));
        NetworkPolicy nothing = policy(null, "{\"denyOut\": [\"0.0.0.0/0\"]}");
        assertThat(nothing.mode()).isEqualTo(NetworkMode.ALLOW);   // a network interface that reaches nothing
        assertThat(nothing.allow()).isEmpty();
        assertThat(Egress.detail(listed)).isEqualTo(new ApiMessages.NetworkDetail(List.of("pypi.org", "203.0.113.7/32"), List.of("0.0.0.0/0")));
    }

    @Test
    void aDenyListMapsToOpenWithThoseRangesRefused() throws Exception {
        NetworkPolicy denied = policy(true, "{\"denyOut\": [\"198.51.100.0/24\", \"203.0.113.9\"]}");
        assertThat(denied).isEqualTo(NetworkPolicy.open().withDeny("198.51.100.0/24", "203.0.113.9"));
        assertThat(Egress.detail(denied)).isEqualTo(new ApiMessages.NetworkDetail(List.of(), List.of("198.51.100.0/24", "203.0.113.9/32")));
        assertThat(Egress.detail(NetworkPolicy.none())).isNull();
        assertThat(Egress.internet(null, denied)).isTrue();
        assertThat(Egress.internet(null, NetworkPolicy.none())).isFalse();
    }

    @Test
    void whatBasaltCannotHonourIsRefusedWithTheReason() {
        assertRefused("{\"allowOut\": [\"203.0.113.7\"], \"denyOut\": [\"203.0.113.0/24\"]}", "exceptions inside the denied ranges");
        assertRefused("{\"allowOut\": [\"pypi.org\"]}", "alone restricts nothing");
        assertRefused("{\"denyOut\": [\"example.com\"]}", "not domains");
        assertRefused("{\"allowOut\": [\"*\"], \"denyOut\": [\"0.0.0.0/0\"]}", "network.allowOut: ");
        assertRefused("{\"denyOut\": [\"10.0.0.1/8\"]}", "did you mean 10.0.0.0/8");
        assertRefused("{\"rules\": {\"api.example.com\": [{}]}}", "rules");
        assertRefused("{\"egressProxy\": {\"address\": \"p:1080\"}}", "egressProxy");
        assertRefused("{\"maskRequestHost\": \"localhost:${PORT}\"}", "maskRequestHost");
        assertRefused("{\"httpsPorts\": [8443]}", "httpsPorts");
        assertRefused("{\"allowPublicTraffic\": false}", "allowPublicTraffic");
        assertRefused("{\"allowout\": []}", "network.allowout is not a field");
        assertRefused("[]", "must be an object");
    }

    private static void assertRefused(String network, String why) {
        assertThatThrownBy(() -> policy(true, network)).isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining(why);
    }
}
