/*
 * basalt-launch: starts a VMM process the way a LaunchPolicy says, then execs it.
 *
 *   basalt-launch [OPTION]... -- PROGRAM [ARG]...
 *
 *   --fd N:MODE:PATH   open PATH as descriptor N (N >= 3); MODE is r (read-only),
 *                      w (write-only, created 0600 if missing, truncated), rw (read-write) or
 *                      rwc (read-write, created 0600 if missing), or tap: PATH is the name of a TAP
 *                      device in the network namespace of --netns, attached through /dev/net/tun
 *                      after that namespace is joined (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
 *   --pdeathsig        SIGKILL when the thread that started this process ends
 *   --idle             the SCHED_IDLE CPU policy (raised again by the host when needed)
 *   --netns PATH       join the network namespace PATH (e.g. /run/netns/NAME)
 *   --cgroup DIR       move into the cgroup DIR (writes the pid to DIR/cgroup.procs; repeatable,
 *                      one per cgroup v1 hierarchy)
 *   --gid G --uid U    drop to this group and user (supplementary groups cleared, no
 *                      capabilities kept), after everything above
 *   --no-new-privs     set no_new_privs (always set with --uid)
 *   --lock PATH        take an exclusive lock on PATH (created 0600) without waiting, kept by the
 *                      VMM for its whole life; exit 75 if another process holds it (the host then
 *                      picks another uid: the lock says which uids are taken)
 *   --jail DIR         confine the program: new mount, pid, ipc and uts namespaces; DIR becomes its
 *                      root (a tmpfs) holding only what --bind, --dev and --symlink put there and a
 *                      /proc of its own; it runs as pid 1 of the new pid namespace while this
 *                      process stays outside as its parent, waits for it and exits with its status
 *                      (128+N if a signal N ended it)
 *   --bind SRC:DST:MODE  (with --jail) bind SRC at DST inside the jail; MODE ro or rw
 *   --dev NAME         (with --jail) the device node /dev/NAME inside the jail
 *   --symlink TARGET:LINK  (with --jail) a symbolic link LINK -> TARGET inside the jail
 *   --pid-file PATH    (with --jail) write the program's pid (as the host sees it) to PATH
 *   --env NAME=VALUE   set an environment variable for the program
 *
 * Every step happens in this order: descriptors, lock, cgroups, network namespace, the jail
 * (namespaces, fork, file system), CPU policy, credentials, parent-death signal, exec. A failing step prints "basalt-launch: STEP: REASON" on stderr
 * (the VMM's log) and exits with 127, so the host reports it as the VMM's start-up failure.
 * No shell is involved: this is what lets the JDK, which passes only stdin/stdout/stderr to a
 * child, hand a VMM any number of descriptors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL 127
#define LOCK_BUSY 75
#define MAX_ITEMS 64

static void die(const char *step, const char *what) {
    fprintf(stderr, "basalt-launch: %s%s%s: %s\n", step, what ? " " : "", what ? what : "", strerror(errno));
    exit(FAIL);
}

static void usage(const char *why) {
    fprintf(stderr, "basalt-launch: %s (usage: basalt-launch [--fd N:MODE:PATH]... [--pdeathsig] [--idle] "
                    "[--netns PATH] [--cgroup DIR]... [--gid G --uid U] [--no-new-privs] -- PROGRAM [ARG]...)\n", why);
    exit(FAIL);
}

static long number(const char *s, const char *what) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 0) {
        fprintf(stderr, "basalt-launch: %s is not a number: '%s'\n", what, s);
        exit(FAIL);
    }
    return v;
}

/* Attaches the TAP device NAME (in the current network namespace) as descriptor FD. */
static void attach_tap(long fd, const char *name) {
    struct ifreq ifr;
    if (strlen(name) >= IFNAMSIZ) usage("--fd tap: the device name is too long");
    int tun = open("/dev/net/tun", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tun < 0) die("open", "/dev/net/tun");
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(tun, TUNSETIFF, &ifr) < 0) die("TUNSETIFF", name);
    if (tun != fd) {
        if (dup2(tun, (int) fd) < 0) die("dup2", name);
        close(tun);
    }
    int fdflags = fcntl((int) fd, F_GETFD);   /* dup2 cleared FD_CLOEXEC; keep it off when tun == fd too */
    if (fdflags < 0 || fcntl((int) fd, F_SETFD, fdflags & ~FD_CLOEXEC) < 0) die("fcntl", name);
}

/* True for a --fd spec of mode tap (attached after the network namespace is joined). */
static int is_tap(const char *spec) {
    const char *m = strchr(spec, ':');
    return m && strncmp(m + 1, "tap:", 4) == 0;
}

static void open_as(const char *spec) {
    char *copy = strdup(spec), *mode, *path;
    if (!copy) die("--fd", spec);
    mode = strchr(copy, ':');
    if (!mode) usage("--fd wants N:MODE:PATH");
    *mode++ = '\0';
    path = strchr(mode, ':');
    if (!path) usage("--fd wants N:MODE:PATH");
    *path++ = '\0';
    long fd = number(copy, "--fd descriptor");
    if (fd < 3 || fd > 1023) usage("--fd descriptor must be within 3..1023");
    int flags;
    if (strcmp(mode, "r") == 0) flags = O_RDONLY;
    else if (strcmp(mode, "w") == 0) flags = O_WRONLY | O_CREAT | O_TRUNC;
    else if (strcmp(mode, "rw") == 0) flags = O_RDWR;
    else if (strcmp(mode, "rwc") == 0) flags = O_RDWR | O_CREAT;
    else if (strcmp(mode, "tap") == 0) { attach_tap(fd, path); free(copy); return; }
    else usage("--fd MODE must be r, w, rw, rwc or tap");
    int opened = open(path, flags | O_NOCTTY, 0600);
    if (opened < 0) die("open", path);
    if (opened != fd) {
        if (dup2(opened, (int) fd) < 0) die("dup2", path);
        close(opened);
    }
    /* the descriptor must survive exec */
    int fdflags = fcntl((int) fd, F_GETFD);
    if (fdflags < 0 || fcntl((int) fd, F_SETFD, fdflags & ~FD_CLOEXEC) < 0) die("fcntl", path);
    free(copy);
}

static void join_cgroup(const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int) sizeof path) {
        errno = ENAMETOOLONG;
        die("cgroup", dir);
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("cgroup", path);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int) getpid());
    if (write(fd, pid, (size_t) n) != n) die("cgroup", path);
    close(fd);
}

static void join_netns(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("netns", path);
    if (setns(fd, CLONE_NEWNET) < 0) die("setns", path);
    close(fd);
}

static void take_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_NOCTTY, 0600);
    if (fd < 0) die("lock", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            fprintf(stderr, "basalt-launch: lock %s is held by another VM\n", path);
            exit(LOCK_BUSY);
        }
        die("flock", path);
    }
    /* kept open (no close-on-exec): the lock lives exactly as long as the program */
}

/* mkdir -p of an absolute path below the jail root */
static void make_dirs(char *path, mode_t mode) {
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, mode) < 0 && errno != EEXIST) die("mkdir", path);
            *p = '/';
        }
    }
    if (mkdir(path, mode) < 0 && errno != EEXIST) die("mkdir", path);
}

static void jail_path(char *out, size_t size, const char *root, const char *inside) {
    if (inside[0] != '/' || strstr(inside, "..")) usage("jail paths must be absolute, without '..'");
    if (snprintf(out, size, "%s%s", root, inside) >= (int) size) usage("jail path too long");
}

/* binds SRC (a directory or a file) at DST inside the jail, read-only unless rw */
static void jail_bind(const char *root, const char *spec) {
    char *copy = strdup(spec), *dst, *mode, target[4096];
    if (!copy) die("--bind", spec);
    dst = strchr(copy, ':');
    if (!dst) usage("--bind wants SRC:DST:MODE");
    *dst++ = '\0';
    mode = strrchr(dst, ':');
    if (!mode) usage("--bind wants SRC:DST:MODE");
    *mode++ = '\0';
    int rw = strcmp(mode, "rw") == 0;
    if (!rw && strcmp(mode, "ro") != 0) usage("--bind MODE must be ro or rw");
    struct stat st;
    if (stat(copy, &st) < 0) die("bind source", copy);
    jail_path(target, sizeof target, root, dst);
    if (S_ISDIR(st.st_mode)) {
        make_dirs(target, 0755);
    } else {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", target);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) { *slash = '\0'; make_dirs(parent, 0755); }
        int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) die("bind target", target);
        close(fd);
    }
    if (mount(copy, target, NULL, MS_BIND, NULL) < 0) die("bind", copy);
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (rw ? 0 : MS_RDONLY);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) flags |= MS_NODEV;
    if (mount(NULL, target, NULL, flags, NULL) < 0) die("remount", target);
    free(copy);
}

static void jail_symlink(const char *root, const char *spec) {
    char *copy = strdup(spec), *link, path[4096];
    if (!copy) die("--symlink", spec);
    link = strchr(copy, ':');
    if (!link) usage("--symlink wants TARGET:LINK");
    *link++ = '\0';
    jail_path(path, sizeof path, root, link);
    if (symlink(copy, path) < 0) die("symlink", path);
    free(copy);
}

/* builds the jail's file system in the new mount namespace and makes it the root */
static void enter_jail(const char *root, const char **binds, int nbinds, const char **devs, int ndevs,
                       const char **links, int nlinks) {
    char path[4096];
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        /* EINVAL: "/" is no mount point, e.g. Basalt runs in a plain chroot. Mounting on without
           making everything private could leak the jail's mounts into the host's namespace. */
        die("making / a private mount (the VMM jail needs the root to be a mount point: run Basalt in a "
            "mount namespace whose root is one, not in a plain chroot, or turn confinement off)", NULL);
    }
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0) die("mount tmpfs", root);
    for (int k = 0; k < nbinds; k++) jail_bind(root, binds[k]);
    for (int k = 0; k < nlinks; k++) jail_symlink(root, links[k]);
    jail_path(path, sizeof path, root, "/dev");
    make_dirs(path, 0755);
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755") < 0) die("mount tmpfs", path);
    for (int k = 0; k < ndevs; k++) {
        char spec[512];
        if (strchr(devs[k], '/') || strlen(devs[k]) > 64) usage("--dev takes a name in /dev");
        snprintf(spec, sizeof spec, "/dev/%s:/dev/%s:rw", devs[k], devs[k]);
        jail_bind(root, spec);
    }
    jail_path(path, sizeof path, root, "/proc");
    make_dirs(path, 0555);
    if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0) die("mount proc", path);
    jail_path(path, sizeof path, root, "/.old");
    make_dirs(path, 0700);
    if (syscall(SYS_pivot_root, root, path) < 0) die("pivot_root", root);
    if (chdir("/") < 0) die("chdir", "/");
    if (umount2("/.old", MNT_DETACH) < 0) die("umount", "/.old");
    if (rmdir("/.old") < 0) die("rmdir", "/.old");
    /* the jail's root becomes read-only: the program writes only where a rw bind says */
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1m,mode=0755") < 0) die("remount", "/");
    if (sethostname("basalt-vmm", 10) < 0) die("sethostname", NULL);
}

/* the parent outside the jail: waits for the program and exits as it did */
static void supervise(pid_t child) {
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid", NULL);
    }
    if (WIFSIGNALED(status)) exit(128 + WTERMSIG(status));
    exit(WEXITSTATUS(status));
}

int main(int argc, char **argv) {
    const char *fds[MAX_ITEMS], *cgroups[MAX_ITEMS], *netns = NULL, *lock = NULL, *jail = NULL, *pid_file = NULL;
    const char *binds[MAX_ITEMS], *devs[MAX_ITEMS], *links[MAX_ITEMS], *envs[MAX_ITEMS];
    int nfds = 0, ncgroups = 0, nbinds = 0, ndevs = 0, nlinks = 0, nenvs = 0, pdeathsig = 0, idle = 0, no_new_privs = 0;
    long uid = -1, gid = -1;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "--pdeathsig") == 0) { pdeathsig = 1; continue; }
        if (strcmp(a, "--idle") == 0) { idle = 1; continue; }
        if (strcmp(a, "--no-new-privs") == 0) { no_new_privs = 1; continue; }
        if (i + 1 >= argc) usage("an option lacks its value");
        const char *v = argv[++i];
        if (strcmp(a, "--fd") == 0) { if (nfds == MAX_ITEMS) usage("too many --fd"); fds[nfds++] = v; }
        else if (strcmp(a, "--cgroup") == 0) { if (ncgroups == MAX_ITEMS) usage("too many --cgroup"); cgroups[ncgroups++] = v; }
        else if (strcmp(a, "--netns") == 0) netns = v;
        else if (strcmp(a, "--lock") == 0) lock = v;
        else if (strcmp(a, "--jail") == 0) jail = v;
        else if (strcmp(a, "--pid-file") == 0) pid_file = v;
        else if (strcmp(a, "--bind") == 0) { if (nbinds == MAX_ITEMS) usage("too many --bind"); binds[nbinds++] = v; }
        else if (strcmp(a, "--dev") == 0) { if (ndevs == MAX_ITEMS) usage("too many --dev"); devs[ndevs++] = v; }
        else if (strcmp(a, "--symlink") == 0) { if (nlinks == MAX_ITEMS) usage("too many --symlink"); links[nlinks++] = v; }
        else if (strcmp(a, "--env") == 0) { if (nenvs == MAX_ITEMS) usage("too many --env"); envs[nenvs++] = v; }
        else if (strcmp(a, "--uid") == 0) uid = number(v, "--uid");
        else if (strcmp(a, "--gid") == 0) gid = number(v, "--gid");
        else usage("unknown option");
    }
    if (i >= argc) usage("no PROGRAM after --");
    if ((uid < 0) != (gid < 0)) usage("--uid and --gid go together");
    if (!jail && (nbinds || ndevs || nlinks || pid_file)) usage("--bind, --dev, --symlink and --pid-file need --jail");

    for (int k = 0; k < nfds; k++) if (!is_tap(fds[k])) open_as(fds[k]);
    if (lock) take_lock(lock);
    for (int k = 0; k < ncgroups; k++) join_cgroup(cgroups[k]);
    if (netns) join_netns(netns);
    for (int k = 0; k < nfds; k++) if (is_tap(fds[k])) open_as(fds[k]);
    if (jail) {
        if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) < 0) die("unshare", "namespaces");
        int alive[2];   /* the child learns that the supervisor is gone when the write end closes */
        if (pipe2(alive, O_CLOEXEC) < 0) die("pipe", NULL);
        pid_t child = fork();
        if (child < 0) die("fork", NULL);
        if (child > 0) {
            close(alive[0]);
            if (pdeathsig && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) { kill(child, SIGKILL); die("prctl", "PR_SET_PDEATHSIG"); }
            if (pid_file) {
                int fd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0) { kill(child, SIGKILL); die("pid file", pid_file); }
                dprintf(fd, "%d\n", (int) child);
                close(fd);
            }
            /* the jail's own copies of the descriptors and the lock stay with the program */
            supervise(child);
        }
        /* pid 1 of the new namespace: dies with the supervisor (which may have died already) */
        close(alive[1]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die("prctl", "PR_SET_PDEATHSIG");
        struct pollfd gone = {.fd = alive[0], .events = POLLIN};
        if (poll(&gone, 1, 0) != 0) exit(FAIL);
        close(alive[0]);
        enter_jail(jail, binds, nbinds, devs, ndevs, links, nlinks);
        pdeathsig = 1;
    }
    for (int k = 0; k < nenvs; k++) {
        if (!strchr(envs[k], '=') || putenv((char *) envs[k]) != 0) usage("--env wants NAME=VALUE");
    }
    if (idle) {
        struct sched_param p = {0};
        if (sched_setscheduler(0, SCHED_IDLE, &p) < 0) die("sched_setscheduler", "SCHED_IDLE");
    }
    if (uid >= 0) {
        if (setgroups(0, NULL) < 0) die("setgroups", NULL);
        if (setresgid((gid_t) gid, (gid_t) gid, (gid_t) gid) < 0) die("setresgid", NULL);
        if (setresuid((uid_t) uid, (uid_t) uid, (uid_t) uid) < 0) die("setresuid", NULL);
        no_new_privs = 1;
    }
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("prctl", "PR_SET_NO_NEW_PRIVS");
    /* last before exec: a credential change clears the parent-death signal */
    if (pdeathsig && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die("prctl", "PR_SET_PDEATHSIG");
    execv(argv[i], &argv[i]);
    die("exec", argv[i]);
    return FAIL;
}
