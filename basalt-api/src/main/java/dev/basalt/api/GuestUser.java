package dev.basalt.api;

/**
 * A user of the guest, by number: what a command runs as and who owns the files a call writes.
 * Basalt does not look names up: resolve them in the guest's {@code /etc/passwd} first.
 *
 * @param uid user id, 0..2^31-1
 * @param gid primary group id, 0..2^31-1 (also the only supplementary group of a command)
 */
public record GuestUser(int uid, int gid) {
    /** The agent's own user. */
    public static final GuestUser ROOT = new GuestUser(0, 0);

    public GuestUser {
        if (uid < 0 || gid < 0) {
            throw new BasaltException.InvalidArgument("uid and gid must be between 0 and 2^31-1, got " + uid + ":" + gid);
        }
    }
}
