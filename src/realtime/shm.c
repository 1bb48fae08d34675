/*
 * shm.c -- shared tables for the real-time layer (shm.h).
 *
 * Owns: nothing after the call (the mapping lives as long as the process
 * tree). Must never: be called after the first fork (the workers would not
 * share it).
 */
#include "realtime/shm.h"
#include "core/core.h"

#include <errno.h>
#include <sys/mman.h>

void *shm_table(size_t bytes, const char *what)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) KILN_PANIC("%s: mmap of %zu bytes failed", what, bytes);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init((pthread_mutex_t *)p, &a);
    pthread_mutexattr_destroy(&a);
    return p;
}

void shm_lock(pthread_mutex_t *mu, const char *what)
{
    int r = pthread_mutex_lock(mu);
    if (r == EOWNERDEAD) pthread_mutex_consistent(mu);
    else if (r != 0) KILN_PANIC("%s: lock failed (%d)", what, r);
}
