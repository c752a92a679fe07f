/* --run-as USER[:GROUP] -- PROGRAM ARGS...: the agent binary as a small helper that runs a
 * program as an image's user (a Dockerfile's USER, an OCI config's User). The host starts it as
 * /proc/1/exe, so it works in any root file system, whatever tools that has. USER and GROUP are
 * names (looked up in the root's /etc/passwd and /etc/group, no NSS) or numbers. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROUPS 64

static int is_number(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Splits one line of /etc/passwd or /etc/group into at most max fields (in place). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ':') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static int die(const char *fmt, const char *arg)
{
    fprintf(stderr, "basalt-agent --run-as: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 126;
}

int run_as(const char *spec, char **argv)
{
    char user[64], group[64] = "", line[1024], home[512] = "/", name[64] = "";
    const char *colon = strchr(spec, ':');
    snprintf(user, sizeof user, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
    if (colon)
        snprintf(group, sizeof group, "%s", colon + 1);
    long uid = -1, gid = -1;
    char *f[7];
    FILE *pw = fopen("/etc/passwd", "re");
    while (pw && fgets(line, sizeof line, pw))
        if (fields(line, f, 7) >= 6 && (is_number(user) ? strcmp(f[2], user) == 0 : strcmp(f[0], user) == 0)) {
            uid = atol(f[2]);
            gid = atol(f[3]);
            snprintf(home, sizeof home, "%s", f[5]);
            snprintf(name, sizeof name, "%s", f[0]);
            break;
        }
    if (pw)
        fclose(pw);
    if (uid < 0) {
        if (!is_number(user))
            return die("no user '%s' in /etc/passwd", user);
        uid = atol(user);
        gid = uid;
    }
    gid_t groups[MAX_GROUPS];
    int ngroups = 0;
    FILE *gr = fopen("/etc/group", "re");
    while (gr && fgets(line, sizeof line, gr)) {
        int n = fields(line, f, 4);
        if (n < 3)
            continue;
        if (group[0] && !is_number(group) && strcmp(f[0], group) == 0)
            gid = atol(f[2]);
        if (!group[0] && name[0] && n == 4 && in_list(f[3], name) && ngroups < MAX_GROUPS)
            groups[ngroups++] = (gid_t)atol(f[2]); /* supplementary groups, as login does */
    }
    if (gr)
        fclose(gr);
    if (group[0] && is_number(group))
        gid = atol(group);
    else if (group[0] && gid < 0)
        return die("no group '%s' in /etc/group", group);
    if (setgroups((size_t)ngroups, groups) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0)
        return die("cannot change to the user: %s", strerror(errno));
    setenv("HOME", home, 1); /* the agent's default HOME is root's */
    if (name[0]) {
        setenv("USER", name, 1);
        setenv("LOGNAME", name, 1);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "basalt-agent --run-as: %s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
