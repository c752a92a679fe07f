package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code basalt cp SRC DST}: copy files or directory trees between the host and a sandbox.
 * Exactly one side is {@code SANDBOX:/absolute/path}; {@code -} is stdin (as SRC) or stdout (as DST).
 */
final class CopyCommand extends Verb {
    private final PositionalParamSpec sourceArg;
    private final PositionalParamSpec destinationArg;

    CopyCommand(CliContext context) {
        super(context, "cp", "Copy files or directories between the host and a sandbox.",
                "  basalt cp ./data.csv SANDBOX:/work/      upload (into a directory if DST ends with /)",
                "  basalt cp SANDBOX:/work/out ./out        download a file or a whole directory",
                "  basalt cp SANDBOX:/etc/os-release -      print a guest file");
        sourceArg = positional("0", "1", String.class, "SRC", "A host path, SANDBOX:/path or - (stdin).");
        destinationArg = positional("1", "1", String.class, "DST", "A host path, SANDBOX:/path or - (stdout).");
    }

    @Override
    public Integer call() {
        String source = value(sourceArg);
        String destination = value(destinationArg);
        GuestRef from = GuestRef.parse(source);
        GuestRef to = GuestRef.parse(destination);
        if ((from == null) == (to == null)) {
            throw new BasaltException.InvalidArgument("exactly one of SRC and DST must be SANDBOX:/path "
                    + "(got '" + source + "' and '" + destination + "')");
        }
        Transfers transfers = new Transfers(sandboxes(), context.err());
        if (to != null) {
            if (source.equals("-")) {
                transfers.uploadStream(context.in(), to);
            } else {
                transfers.upload(java.nio.file.Path.of(source), to);
            }
        } else if (destination.equals("-")) {
            transfers.downloadToStream(from, context.out());
        } else {
            transfers.download(from, java.nio.file.Path.of(destination));
        }
        return 0;
    }

    /** {@code SANDBOX:/path} split into its parts. */
    record GuestRef(String sandbox, String path) {
        static GuestRef parse(String arg) {
            int colon = arg.indexOf(':');
            if (colon <= 0 || arg.startsWith("/") || arg.startsWith(".")) {
                return null;
            }
            String path = arg.substring(colon + 1);
            if (!path.startsWith("/")) {
                throw new BasaltException.InvalidArgument("guest path in '" + arg + "' must be absolute, e.g. "
                        + arg.substring(0, colon) + ":/tmp/file");
            }
            return new GuestRef(arg.substring(0, colon), path);
        }
    }
}
