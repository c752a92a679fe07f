/*
 * basalt-launch: starts a VMM process the way a LaunchPolicy says, then execs it.
 *
 *   basalt-launch [OPTION]... -- PROGRAM [ARG]...
 *
 *   --fd N:MODE:PATH   open PATH as descriptor N (N >= 3); MODE is r (read-only),
 *                      w (write-only, created 0600 if missing, truncated) or rw (read-write)
 *   --pdeathsig        SIGKILL when the thread that started this process ends
 *   --idle             the SCHED_IDLE CPU policy (raised again by the host when needed)
 *   --netns PATH       join the network namespace PATH (e.g. /run/netns/NAME)
 *   --cgroup DIR       move into the cgroup DIR (writes the pid to DIR/cgroup.procs; repeatable,
 *                      one per cgroup v1 hierarchy)
 *   --gid G --uid U    drop to this group and user (supplementary groups cleared, no
 *                      capabilities kept), after everything above
 *   --no-new-privs     set no_new_privs (always set with --uid)
 *
 * Every step happens in this order: descriptors, cgroups, namespace, CPU policy, credentials,
 * parent-death signal, exec. A failing step prints "basalt-launch: STEP: REASON" on stderr
 * (the VMM's log) and exits with 127, so the host reports it as the VMM's start-up failure.
 * No shell is involved: this is what lets the JDK, which passes only stdin/stdout/stderr to a
 * child, hand a VMM any number of descriptors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define FAIL 127
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
    else usage("--fd MODE must be r, w or rw");
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

int main(int argc, char **argv) {
    const char *fds[MAX_ITEMS], *cgroups[MAX_ITEMS], *netns = NULL;
    int nfds = 0, ncgroups = 0, pdeathsig = 0, idle = 0, no_new_privs = 0;
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
        else if (strcmp(a, "--uid") == 0) uid = number(v, "--uid");
        else if (strcmp(a, "--gid") == 0) gid = number(v, "--gid");
        else usage("unknown option");
    }
    if (i >= argc) usage("no PROGRAM after --");
    if ((uid < 0) != (gid < 0)) usage("--uid and --gid go together");

    for (int k = 0; k < nfds; k++) open_as(fds[k]);
    for (int k = 0; k < ncgroups; k++) join_cgroup(cgroups[k]);
    if (netns) join_netns(netns);
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
