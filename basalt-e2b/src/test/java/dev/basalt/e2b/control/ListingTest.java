package dev.basalt.e2b.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.e2b.ApiKeys;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The control API's small parsers: metadata filters, cursors, API keys. */
class ListingTest {

    @Test
    void metadataFiltersAreDecodedAsTheSdkEncodesThem() {
        // the SDK URL-encodes keys and values, then form-encodes the pairs; the query parameter's
        // own encoding is gone by the time this parser sees it
        assertThat(Listing.metadata("user=a%2520b&app=prod")).isEqualTo(Map.of("user", "a b", "app", "prod"));
        assertThat(Listing.metadata(null)).isEmpty();
        assertThatThrownBy(() -> Listing.metadata("novalue")).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void cursorsRoundTripAndForgeriesAreRefused() {
        var cursor = new Listing.Cursor(Instant.parse("2026-03-04T05:06:07.123456789Z"), "abc123");
        assertThat(Listing.Cursor.decode(cursor.encode())).isEqualTo(cursor);
        assertThatThrownBy(() -> Listing.Cursor.decode("!!")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> Listing.Cursor.decode("bm90IGEgY3Vyc29y")).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void apiKeysAreCheckedWholeAndMustBeLongEnough() {
        ApiKeys keys = ApiKeys.of(List.of("0123456789abcdef-key"));
        assertThat(keys.accepts("0123456789abcdef-key")).isTrue();
        assertThat(keys.accepts("0123456789abcdef-ke")).isFalse();
        assertThat(keys.accepts(null)).isFalse();
        assertThat(keys.accepts("")).isFalse();
        assertThatThrownBy(() -> ApiKeys.of(List.of("short"))).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> ApiKeys.of(List.of())).isInstanceOf(BasaltException.InvalidArgument.class);
    }
}
