#ifndef BASALT_SPAWN_H
#define BASALT_SPAWN_H

#include "wire.h"
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int out, err, in; /* parent ends, -1 if absent; with a PTY out is the master */
    int pty;
} spawn_t;

/* Starts the process of an EXEC request. Returns 0, or sends ERROR and returns -1. */
int spawn(const msg_t *m, spawn_t *r);

#endif
