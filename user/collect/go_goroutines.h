/* SPDX-License-Identifier: MIT */
/*
 * Every goroutine of a Go process as its runtime has it now, read from
 * outside with no probe: runtime.allgs, each g's id, creation site, state and,
 * for a goroutine that is not running, the return addresses of its parked
 * stack (walked by frame pointer from its saved registers) up to where it
 * waits.  What a goroutine profile is made of.
 */
#ifndef LS_GO_GOROUTINES_H
#define LS_GO_GOROUTINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/go_offsets.h"

/* Frames kept of a parked stack: enough to get past the runtime's own. */
#define GO_PARKED_FRAMES 16

struct go_goroutine {
	uint64_t goid;
	uint64_t gopc;    /* the `go` statement's pc (0: the runtime's first goroutines) */
	uint64_t startpc; /* the function it runs */
	uint32_t status;  /* runtime._G*, the scan bit cleared */
	uint8_t waitreason;
	uint8_t depth;    /* of pcs: 0 for a running goroutine (its registers are live) */
	uint64_t pcs[GO_PARKED_FRAMES]; /* pcs[0] where it resumes, then return addresses */
};

struct go_goroutines;

/* The reader of pid's goroutines (allgs_addr: run-time address of runtime.allgs). */
struct go_goroutines *go_goroutines_new(pid_t pid, uint64_t allgs_addr,
					const struct go_g_layout *layout);
void go_goroutines_free(struct go_goroutines *r);

/*
 * Whether a parked stack's walk goes on past pc (resume: pcs[0], where the
 * goroutine resumes, else a return address): the caller stops it where the
 * goroutine waits, each level costing a read of every stack still walked.
 */
typedef bool (*go_walk_on_fn)(uint64_t pc, bool resume, void *arg);

/*
 * Read every goroutine that is not dead, each parked stack walked while
 * walk_on says so (NULL: up to GO_PARKED_FRAMES).  The array lives until the
 * next read; returns how many, or -errno (-EPROTO: allgs does not look like
 * a slice of g).  Read while the target runs: each g is as it was when read.
 */
int go_goroutines_read(struct go_goroutines *r, const struct go_goroutine **out,
		       go_walk_on_fn walk_on, void *arg);

#endif
