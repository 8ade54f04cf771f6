/* SPDX-License-Identifier: MIT */
/*
 * Taking the probes down fast.  Each BPF link's release waits for the kernel
 * (~40 ms) but not for the others: they are released in parallel.  Each perf
 * event's teardown waits ~0.1 s more, one event at a time (the kernel's
 * event_mutex is held across its grace periods): the events, disabled and
 * with no program left on them, are closed by a child process, so that
 * leaksnoop exits without waiting for it.
 */
#ifndef LS_DETACH_H
#define LS_DETACH_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;

/* Destroy every link, several at once; the array is left as it was. */
void links_destroy_parallel(struct bpf_link **links, size_t count);

/*
 * Disable the perf events fds (sorted in place) and close them in a child
 * process that holds nothing else (no output, no map, no program), in its own
 * session; last_fd (or -1) is closed after them, there and here (its end of
 * file tells the janitor of uprobe_events.h that every event is closed).
 * Without a child (fork fails) they are closed here.  verbose: say how many,
 * and where.
 */
void events_release_in_background(int *fds, size_t count, int last_fd, bool verbose);

#endif
