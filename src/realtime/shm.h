/*
 * shm.h -- memory shared by the master and every worker, mapped before the
 * first fork, with a process-shared robust mutex: the one way the real-time
 * tables (channel ring, occupancy, presence) are made and locked.
 */
#ifndef KILN_REALTIME_SHM_H
#define KILN_REALTIME_SHM_H

#include <pthread.h>
#include <stddef.h>

/* bytes of zeroed MAP_SHARED memory whose first member is a
 * pthread_mutex_t, initialised process-shared and robust. Panics (naming
 * `what`) when the mapping fails. */
void *shm_table(size_t bytes, const char *what);
/* Lock it; a holder that died mid-way is forgiven (its writes are made so
 * that a half-done one never shows). */
void shm_lock(pthread_mutex_t *mu, const char *what);

#endif
