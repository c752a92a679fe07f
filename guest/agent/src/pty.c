/* Pseudo-terminal helpers for EXEC with the PTY flag. */
#define _GNU_SOURCE
#include "agent.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void pty_resize(int master, unsigned rows, unsigned cols)
{
    if (rows == 0 && cols == 0) {
        rows = 24;
        cols = 80;
    }
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Opens a master/slave pair (both CLOEXEC, the slave not yet a controlling
 * terminal) sized rows x cols. Returns 0 or -1 with errno set. */
int pty_open(int *master, int *slave, unsigned rows, unsigned cols)
{
    char name[128];
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -1;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof name) != 0) {
        close(m);
        return -1;
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        close(m);
        return -1;
    }
    pty_resize(m, rows, cols);
    *master = m;
    *slave = s;
    return 0;
}
