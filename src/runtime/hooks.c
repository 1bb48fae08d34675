/*
 * hooks.c -- the one instance of runtime_hooks (see hooks.h). Zero: the
 * engine runs with no framework plugged in (unit tests, tools).
 *
 * Owns: the table. Must never: be written after the first fork.
 */
#include "runtime/hooks.h"

runtime_hooks kiln_hooks;
