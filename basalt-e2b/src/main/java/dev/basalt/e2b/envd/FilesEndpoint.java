package dev.basalt.e2b.envd;

import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.HttpJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.NameValuePair;
import org.apache.james.mime4j.stream.RawFieldParser;

/**
 * envd's {@code /files}: GET streams a guest file (gzip if the client asks for it: {@link #acceptsGzip}), POST writes
 * files from a multipart form (parts named {@code file}; the path is the {@code path} parameter or
 * the part's file name) or from a raw {@code application/octet-stream} body (gzip-encoded or not).
 * Writes are atomic, done as the request's user (its permissions; the file and the parent
 * directories they create owned by it) and create missing parent directories. Errors use envd's body
 * ({@code {"code", "message"}}) and statuses (400, 404, 507).
 */
final class FilesEndpoint {
    /** Permission bits of written files (envd: 0666 less the usual umask). */
    static final int FILE_MODE = 0644;

    private final Sandboxes port;

    FilesEndpoint(Sandboxes port) {
        this.port = port;
    }

    /** One uploaded file, as envd answers it. */
    record Written(String path, String name, String type) {
    }

    void serve(HttpExchange exchange, EnvdContext ctx) throws IOException {
        try {
            switch (exchange.getRequestMethod()) {
                case "GET" -> download(exchange, ctx);
                case "POST" -> upload(exchange, ctx);
                default -> {
                    exchange.getResponseHeaders().set("Allow", "GET, POST");
                    HttpJson.error(exchange, 405, "use GET to read a file, POST to write files");
                }
            }
        } catch (BasaltException e) {
            HttpJson.error(exchange, status(e), e.getMessage());
        }
    }

    private void download(HttpExchange exchange, EnvdContext ctx) throws IOException {
        String path = ctx.resolve(requirePath(exchange));
        FileInfo info;
        try {
            info = port.stat(ctx.sandboxId(), path);
        } catch (BasaltException.NotFound e) {
            throw new BasaltException.NotFound("path '" + path + "' does not exist", e);
        }
        if (info.type() == FileType.DIRECTORY) {
            throw new BasaltException.InvalidArgument("path '" + path + "' is a directory");
        }
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.getResponseHeaders().set("Content-Disposition", "inline; filename=\"" + GuestPaths.name(path).replace("\"", "") + "\"");
        if (info.size() == 0 && info.type() == FileType.FILE) {
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        boolean gzip = acceptsGzip(exchange.getRequestHeaders().getFirst("Accept-Encoding"));
        if (gzip) {
            exchange.getResponseHeaders().set("Content-Encoding", "gzip");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody();
                 OutputStream out = new GZIPOutputStream(body, 64 << 10)) {
                port.readFile(ctx.sandboxId(), path, out);
            }
            return;
        }
        // The length the file had when it was looked at (as envd does): a fixed-length body streams
        // through without chunk framing, which HTTP clients read far faster. Bytes the file grew by
        // since are left out, so the client gets a consistent prefix.
        exchange.sendResponseHeaders(200, info.size());
        try (OutputStream body = exchange.getResponseBody()) {
            port.readFile(ctx.sandboxId(), path, new Truncating(body, info.size()));
        }
    }

    /** Passes on the first {@code limit} bytes and drops the rest. */
    private static final class Truncating extends java.io.FilterOutputStream {
        private long left;

        Truncating(OutputStream out, long limit) {
            super(out);
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            if (left > 0) {
                out.write(b);
                left--;
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int n = (int) Math.min(len, left);
            if (n > 0) {
                out.write(b, off, n);
                left -= n;
            }
        }
    }

    /**
     * Whether a download is sent gzip-encoded: only when the client asks for gzip specifically — it
     * names gzip and no other coding but identity, which is what E2B's SDK sends for a read with
     * {@code gzip: true}. A blanket {@code gzip, deflate} (every fetch() sends it) gets the file as
     * it is: the server chooses among what the client accepts, and on this loopback endpoint gzip is
     * the slower choice (~55 MB/s for data that does not compress, against ~150 MB/s unencoded).
     */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        boolean gzip = false;
        for (String part : acceptEncoding.split(",")) {
            String[] codingAndParams = part.trim().split(";");
            String coding = codingAndParams[0].trim().toLowerCase(java.util.Locale.ROOT);
            boolean refused = codingAndParams.length > 1 && codingAndParams[1].replace(" ", "").matches("q=0(\\.0*)?");
            if (coding.isEmpty() || coding.equals("identity") || refused) {
                continue;
            }
            if (!coding.equals("gzip")) {
                return false;     // a list of codings the client can take, not a request for gzip
            }
            gzip = true;
        }
        return gzip;
    }

    private void upload(HttpExchange exchange, EnvdContext ctx) throws IOException {
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        String mediaType = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
        String queryPath = HttpJson.first(HttpJson.query(exchange), "path");
        String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
        boolean gzip = encoding != null && encoding.trim().equalsIgnoreCase("gzip");
        if (encoding != null && !gzip && !encoding.trim().equalsIgnoreCase("identity")) {
            throw new BasaltException.InvalidArgument("Content-Encoding '" + encoding + "' is not supported: use gzip or none");
        }
        List<Written> written = new ArrayList<>();
        switch (mediaType) {
            case "multipart/form-data" -> multipart(exchange.getRequestBody(), contentType, queryPath, ctx, written);
            case "application/octet-stream" -> {
                if (queryPath == null || queryPath.isEmpty()) {
                    throw new BasaltException.InvalidArgument("the path query parameter is required for a raw (octet-stream) upload");
                }
                InputStream body = gzip ? new GZIPInputStream(exchange.getRequestBody(), 64 << 10) : exchange.getRequestBody();
                written.add(write(ctx, ctx.resolve(queryPath), body));
            }
            default -> throw new BasaltException.InvalidArgument("Content-Type '" + contentType
                    + "' is not supported: send multipart/form-data or application/octet-stream");
        }
        HttpJson.send(exchange, 200, written);
    }

    private void multipart(InputStream body, String contentType, String queryPath, EnvdContext ctx, List<Written> written)
            throws IOException {
        MimeConfig config = new MimeConfig.Builder().setMaxLineLen(-1).setMaxHeaderLen(64 << 10)
                .setMaxHeaderCount(100).setMaxContentLen(-1).build();
        MimeTokenStream parts = new MimeTokenStream(config);
        parts.parseHeadless(body, contentType);
        Set<String> seen = new LinkedHashSet<>();
        String formName = null;
        String fileName = null;
        try {
            for (EntityState state = parts.getState(); state != EntityState.T_END_OF_STREAM; state = parts.next()) {
                switch (state) {
                    case T_START_HEADER -> {
                        formName = null;
                        fileName = null;
                    }
                    case T_FIELD -> {
                        Field field = parts.getField();
                        if (field.getName().equalsIgnoreCase("Content-Disposition")) {
                            for (NameValuePair p : RawFieldParser.DEFAULT.parseRawBody(RawFieldParser.DEFAULT.parseField(field.getRaw())).getParams()) {
                                if (p.getName().equalsIgnoreCase("name")) {
                                    formName = p.getValue();
                                } else if (p.getName().equalsIgnoreCase("filename")) {
                                    fileName = p.getValue();
                                }
                            }
                        }
                    }
                    case T_BODY -> {
                        if (!"file".equals(formName)) {
                            continue;   // envd ignores other fields
                        }
                        String target = queryPath != null && !queryPath.isEmpty() ? queryPath : fileName;
                        if (target == null || target.isEmpty()) {
                            throw new BasaltException.InvalidArgument("a file part has no file name and there is no path parameter");
                        }
                        String path = ctx.resolve(target);
                        if (!seen.add(path)) {
                            throw new BasaltException.InvalidArgument("you cannot upload multiple files to the same path '" + path
                                    + "' in one upload request, only the first one was written");
                        }
                        written.add(write(ctx, path, parts.getDecodedInputStream()));
                    }
                    default -> { }
                }
            }
        } catch (MimeException e) {
            throw new BasaltException.InvalidArgument("malformed multipart body: " + e.getMessage(), e);
        }
        if (written.isEmpty()) {
            throw new BasaltException.InvalidArgument("the multipart body has no part named 'file'");
        }
    }

    private Written write(EnvdContext ctx, String path, InputStream data) {
        port.writeFile(ctx.sandboxId(), path, data, FILE_MODE, ctx.user().asGuestUser());
        return new Written(path, GuestPaths.name(path), "file");
    }

    private static String requirePath(HttpExchange exchange) {
        String path = HttpJson.first(HttpJson.query(exchange), "path");
        if (path == null || path.isEmpty()) {
            throw new BasaltException.InvalidArgument("the path query parameter is required");
        }
        return path;
    }

    /** envd's statuses for file errors. */
    static int status(BasaltException e) {
        return switch (e) {
            case BasaltException.NotFound x -> 404;
            case BasaltException.InvalidArgument x -> 400;
            case BasaltException.PermissionDenied x -> 403;
            case BasaltException.ResourceExhausted x -> 507;
            case BasaltException.AlreadyExists x -> 409;
            case BasaltException.WrongState x -> 409;
            case BasaltException.Unavailable x -> 502;
            case BasaltException.TimedOut x -> 504;
            case BasaltException.Internal x -> 500;
        };
    }
}
