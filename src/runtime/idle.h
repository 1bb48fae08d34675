/*
 * idle.h -- the activity board behind `--idle-exit SECONDS`: each worker
 * publishes its open connections and when it last saw activity; the master
 * reads the board to decide that the whole server has been idle long enough
 * to exit (socket activation starts it again on the next connection).
 */
#ifndef KILN_IDLE_H
#define KILN_IDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Master, before the first fork: a shared board with one row per worker
 * slot, every row "active now". Without this call the other functions do
 * nothing (and idle_board_idle_for is false). */
void idle_board_init(int slots);
/* Worker, after every loop turn: its open connections and its request
 * counter (a change in either, or any open connection, counts as activity
 * at now_ms, CLOCK_MONOTONIC). */
void idle_board_publish(int slot, size_t nconns, unsigned long long nrequests, uint64_t now_ms);
/* Master: true when no slot has an open connection and none saw activity
 * in the last `ms` milliseconds. */
bool idle_board_idle_for(uint64_t now_ms, uint64_t ms);
/* Master: the board goes (after the workers exited). */
void idle_board_free(void);

#endif
