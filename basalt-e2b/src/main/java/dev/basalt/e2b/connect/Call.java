package dev.basalt.e2b.connect;

import com.sun.net.httpserver.Headers;
import java.time.Duration;
import java.util.Optional;

/**
 * What a handler knows about the call it serves.
 *
 * @param context the caller's own context (for envd: the sandbox the request was routed to)
 * @param headers the request headers
 * @param timeout the client's deadline ({@code Connect-Timeout-Ms}), measured from when the request arrived
 * @param <C>     the context type of the router
 */
public record Call<C>(C context, Headers headers, Optional<Duration> timeout) {
}
