/* Starting a process for EXEC: environment, pipes or PTY, a vfork-style clone and exec. */
#define _GNU_SOURCE
#include "agent.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

enum { FLAG_STDIN = 1, FLAG_PTY = 2, FLAG_CLEAR_ENV = 4, FLAG_USER = 8 };

static const char *DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* Adds or replaces NAME=value in env (n entries, room for one more). */
static void env_put(char **env, size_t *n, char *kv)
{
    size_t name_len = (size_t)(strchr(kv, '=') - kv);
    for (size_t i = 0; i < *n; i++)
        if (strncmp(env[i], kv, name_len + 1) == 0) {
            env[i] = kv;
            return;
        }
    env[(*n)++] = kv;
}

/* The working directory of an EXEC: its cwd, "/" when empty. */
static const char *exec_cwd(const msg_t *m)
{
    const char *cwd = EXEC_cwd(m);
    return cwd[0] ? cwd : "/";
}

/* Returns a NULL-terminated array (pointers into m and static strings), or
 * NULL with *bad set to the offending entry. */
static char **build_env(const msg_t *m, int flags, const char **bad)
{
    wire_A_t e = EXEC_env(m);
    char **env = must(calloc(e.n + 4, sizeof(char *)));
    size_t n = 0;
    if (!(flags & FLAG_CLEAR_ENV)) {
        env[n++] = (char *)DEFAULT_PATH;
        env[n++] = "HOME=/root";
        env[n++] = (flags & FLAG_PTY) ? "TERM=xterm" : "TERM=dumb";
    }
    for (uint32_t i = 0; i < e.n; i++) {
        char *eq = strchr(e.v[i], '=');
        if (!eq || eq == e.v[i]) {
            *bad = e.v[i];
            free(env);
            return NULL;
        }
        env_put(env, &n, e.v[i]);
    }
    env[n] = NULL;
    return env;
}

/* What the child needs, and where it reports a failure to start. The child runs on its own
 * stack in the agent's memory (CLONE_VM|CLONE_VFORK, like posix_spawn): no page tables are
 * copied and no page is copied on write, which under TCG is most of what fork costs. The agent
 * is suspended until the child has exec'd or exited, so the child may write here and the
 * agent reads it afterwards; it must not touch any other state of the agent. */
struct launch {
    const msg_t *m;
    int fd_in, fd_out, fd_err, pty;
    int stage; /* -1 started, 0 chdir, 1 exec, 2 setup, 3 user */
    int err;
};

static _Noreturn void child_fail(struct launch *l, int stage)
{
    l->err = errno;
    l->stage = stage;
    _exit(127);
}

/* execvp(argv[0], argv) with environ's PATH, without its cost: a failed execve builds a new
 * address space before it looks the file up (~0.2 ms each under TCG, five misses for "true"
 * with the default PATH), so each candidate is probed with access() first. Same search order and
 * errors as execvp; execvp itself runs the file found (so scripts without #! still go to sh).
 * Returns only on failure, with errno set. Uses the stack only (it runs in the vforked child). */
static void exec_path(char *const argv[])
{
    const char *file = argv[0];
    if (strchr(file, '/')) {
        execvp(file, argv);
        return;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    char cand[PATH_MAX];
    int denied = 0;
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        int len = (int)(end - dir);
        int n = len ? snprintf(cand, sizeof cand, "%.*s/%s", len, dir, file)
                    : snprintf(cand, sizeof cand, "./%s", file);
        if (n > 0 && (size_t)n < sizeof cand && access(cand, F_OK) == 0) {
            execvp(cand, argv);
            if (errno == EACCES)
                denied = 1;
            else if (errno != ENOENT && errno != ENOTDIR)
                return;
        }
        if (!*end)
            break;
        dir = end;
    }
    errno = denied ? EACCES : ENOENT;
}

/* The child, on its own stack; never returns. environ is the request's environment (set by the
 * agent around the clone). */
static int child(void *arg)
{
    struct launch *l = arg;
    sigset_t none;
    sigemptyset(&none);
    /* exec resets caught signals itself; only ignored ones survive it, and the agent
     * ignores SIGPIPE alone. The handler table is the child's own (no CLONE_SIGHAND). */
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0)
        child_fail(l, 2);
    if (l->pty && ioctl(l->fd_in, TIOCSCTTY, 0) < 0)
        child_fail(l, 2);
    /* dup2 clears CLOEXEC on the targets; the sources all carry it */
    if (dup2(l->fd_in, 0) < 0 || dup2(l->fd_out, 1) < 0 || dup2(l->fd_err, 2) < 0)
        child_fail(l, 2);
    umask(022);
    setrlimit(RLIMIT_NOFILE, &orig_nofile);
    /* Raw system calls: they change this task's credentials only. The child shares the agent's
     * memory (CLONE_VM), and libc's set*id would try to bring the agent's thread along. */
    if (EXEC_flags(l->m) & FLAG_USER) {
        gid_t gid = (gid_t)EXEC_gid(l->m);
        uid_t uid = (uid_t)EXEC_uid(l->m);
        if (syscall(SYS_setgroups, 1, &gid) < 0 || syscall(SYS_setresgid, gid, gid, gid) < 0 ||
            syscall(SYS_setresuid, uid, uid, uid) < 0)
            child_fail(l, 3);
    }
    if (chdir(exec_cwd(l->m)) < 0)
        child_fail(l, 0);
    exec_path(EXEC_argv(l->m).v);
    child_fail(l, 1);
}

/* Starts the child and waits until it has exec'd or failed. Returns its pid (a failed child
 * exits 127 and is reaped as an unknown pid), or -1 with errno set if none could be made. */
static pid_t start_child(struct launch *l, char **env)
{
    /* Only one child starts at a time and the agent waits for it: one stack is enough. It is as
     * large as exec's own limit on arguments can make execvp's script fallback (one pointer per
     * argument on the stack), reserved but only touched as used, with a guard page below: an
     * overflow kills the child instead of writing over the agent's memory. */
    static char *stack;
    enum { STACK_SIZE = 8 << 20, GUARD = 4096 };
    if (!stack) {
        char *m = mmap(NULL, STACK_SIZE + GUARD, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (m == MAP_FAILED)
            return -1;
        if (mprotect(m, GUARD, PROT_NONE) < 0) {
            munmap(m, STACK_SIZE + GUARD);
            return -1;
        }
        stack = m + GUARD;
    }
    char **saved = environ;
    environ = env;
    pid_t pid = clone(child, stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, l);
    int err = errno;
    environ = saved;
    errno = err;
    return pid;
}

/* Sends the error of a child that could not start. */
static void send_start_error(const msg_t *m, const struct launch *l)
{
    const char *prog = EXEC_argv(m).v[0];
    if (l->stage == 0)
        send_errno(m->stream, l->err, "chdir", exec_cwd(m));
    else if (l->stage == 1)
        send_errno(m->stream, l->err, "exec", prog);
    else if (l->stage == 3)
        send_errno(m->stream, l->err, "become the user of", prog);
    else
        send_errno(m->stream, l->err, "start", prog);
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

int spawn(const msg_t *m, spawn_t *r)
{
    int flags = EXEC_flags(m);
    wire_A_t argv = EXEC_argv(m);
    const char *bad = NULL;
    if (argv.n == 0 || argv.v[0][0] == 0) {
        send_error(m->stream, E_INVALID_ARGUMENT, "exec: argv must not be empty");
        return -1;
    }
    char **env = build_env(m, flags, &bad);
    if (!env) {
        send_error(m->stream, E_INVALID_ARGUMENT, "exec %s: env entry \"%s\" is not NAME=value",
                   argv.v[0], bad);
        return -1;
    }
    /* child ends: [0] stdin [1] stdout [2] stderr; parent ends: [3] stdout/pty [4] stderr [5] stdin */
    int fd[6] = {-1, -1, -1, -1, -1, -1};
    int p[2], pty = (flags & FLAG_PTY) != 0, ok = 1;
    r->pty = pty;
    if (pty) {
        ok = pty_open(&fd[3], &fd[0], EXEC_rows(m), EXEC_cols(m)) == 0;
        if (ok) {
            fd[1] = fd[2] = fd[0];
            if (flags & FLAG_STDIN) { /* a second fd: epoll watches it for writing */
                fd[5] = fcntl(fd[3], F_DUPFD_CLOEXEC, 0);
                ok = fd[5] >= 0;
            }
        }
    } else {
        ok = pipe2(p, O_CLOEXEC) == 0 && ((fd[3] = p[0]), (fd[1] = p[1]), pipe2(p, O_CLOEXEC) == 0);
        if (ok) {
            fd[4] = p[0];
            fd[2] = p[1];
            if (flags & FLAG_STDIN) {
                ok = pipe2(p, O_CLOEXEC) == 0;
                fd[0] = ok ? p[0] : -1;
                fd[5] = ok ? p[1] : -1;
            } else {
                fd[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
                ok = fd[0] >= 0;
            }
        }
    }
    struct launch l = {.m = m, .fd_in = fd[0], .fd_out = fd[1], .fd_err = fd[2], .pty = pty, .stage = -1};
    pid_t pid = ok ? start_child(&l, env) : -1;
    int err = errno;
    if (pty)
        fd[1] = fd[2] = -1; /* aliases of fd[0] */
    close_all(fd, 3);
    free(env);
    if (pid < 0) {
        close_all(fd + 3, 3);
        int code = (err == EAGAIN || err == EMFILE || err == ENFILE || err == ENOMEM)
                       ? E_RESOURCE_EXHAUSTED : errno_code(err);
        send_error(m->stream, code, "start %s: %s", argv.v[0], strerror(err));
        return -1;
    }
    if (l.stage >= 0) {
        close_all(fd + 3, 3);
        send_start_error(m, &l);
        return -1; /* the child exits 127 and is reaped as an unknown pid */
    }
    r->pid = pid;
    r->out = fd[3];
    r->err = fd[4];
    r->in = fd[5];
    for (int i = 3; i < 6; i++)
        if (fd[i] >= 0)
            set_nonblock(fd[i]);
    return 0;
}
