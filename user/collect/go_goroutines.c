// SPDX-License-Identifier: MIT
/*
 * Reading runtime.allgs (go_goroutines.h) in batches: the slice header, its
 * pointers, then each g's fields, then the parked stacks one frame level at
 * a time for all goroutines together, IOV_BATCH pieces per
 * process_vm_readv.  Go keeps frame pointers: a frame's saved %rbp is at
 * [bp], its return address at [bp+8].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "go_goroutines.h"

#define IOV_BATCH 512
#define MAX_GOROUTINES (1u << 24) /* more is not a slice of g */

struct go_goroutines {
	pid_t pid;
	uint64_t allgs_addr;
	struct go_g_layout layout;
	size_t g_bytes;          /* how much of each g is read */
	uint64_t *gs;            /* the g pointers */
	uint8_t *g_data;         /* g_bytes per g */
	uint64_t *frame_bp;      /* per goroutine: the frame being walked */
	struct go_goroutine *list;
	size_t cap;
};

struct go_goroutines *go_goroutines_new(pid_t pid, uint64_t allgs_addr,
					const struct go_g_layout *layout)
{
	struct go_goroutines *r = calloc(1, sizeof(*r));
	uint64_t last = 0;
	const uint64_t fields[] = { layout->goid, layout->gopc, layout->startpc, layout->status,
				    layout->waitreason, layout->sched_sp, layout->sched_pc,
				    layout->sched_bp };

	if (!r)
		return NULL;
	r->pid = pid;
	r->allgs_addr = allgs_addr;
	r->layout = *layout;
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		last = fields[i] > last ? fields[i] : last;
	r->g_bytes = last + 8;
	return r;
}

void go_goroutines_free(struct go_goroutines *r)
{
	if (!r)
		return;
	free(r->gs);
	free(r->g_data);
	free(r->frame_bp);
	free(r->list);
	free(r);
}

static int reserve(struct go_goroutines *r, size_t n)
{
	void *gs, *data, *bp, *list;

	if (n <= r->cap)
		return 0;
	gs = realloc(r->gs, n * sizeof(*r->gs));
	if (gs)
		r->gs = gs;
	data = realloc(r->g_data, n * r->g_bytes);
	if (data)
		r->g_data = data;
	bp = realloc(r->frame_bp, n * sizeof(*r->frame_bp));
	if (bp)
		r->frame_bp = bp;
	list = realloc(r->list, n * sizeof(*r->list));
	if (list)
		r->list = list;
	if (!gs || !data || !bp || !list)
		return -ENOMEM;
	r->cap = n;
	return 0;
}

/*
 * Read count pieces of len bytes, from[i] into to + i * len, in batches.  A
 * piece that cannot be read (the g was freed and unmapped: never, in Go's
 * heap; a frame past its stack) is zeroed.
 */
static void read_pieces(pid_t pid, const uint64_t *from, size_t count, size_t len, uint8_t *to)
{
	struct iovec local[IOV_BATCH], remote[IOV_BATCH];

	for (size_t base = 0; base < count; base += IOV_BATCH) {
		size_t n = count - base < IOV_BATCH ? count - base : IOV_BATCH, done = 0;

		for (size_t i = 0; i < n; i++) {
			local[i] = (struct iovec){ to + (base + i) * len, len };
			remote[i] = (struct iovec){ (void *)(uintptr_t)from[base + i], len };
		}
		/* A failed piece ends a call short: zero it and go on past it. */
		while (done < n) {
			ssize_t got = process_vm_readv(pid, local + done, n - done, remote + done,
						       n - done, 0);
			size_t whole = got > 0 ? (size_t)got / len : 0;

			done += whole;
			if (done < n) {
				memset(local[done].iov_base, 0, len);
				done++;
			}
		}
	}
}

static uint64_t field(const uint8_t *g, uint64_t offset, size_t width)
{
	uint64_t value = 0;

	memcpy(&value, g + offset, width);
	return value;
}

/* The goroutines' fields from the g's bytes; dead ones left out. */
static size_t decode(struct go_goroutines *r, size_t count)
{
	const struct go_g_layout *l = &r->layout;
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		const uint8_t *g = r->g_data + i * r->g_bytes;
		struct go_goroutine *gr = &r->list[n];
		uint32_t status = (uint32_t)field(g, l->status, 4) & ~(uint32_t)GO_STATUS_SCAN;

		if (!r->gs[i] || status == GO_STATUS_DEAD || status == 0)
			continue;
		memset(gr, 0, sizeof(*gr));
		gr->goid = field(g, l->goid, 8);
		gr->gopc = field(g, l->gopc, 8);
		gr->startpc = field(g, l->startpc, 8);
		gr->status = status;
		gr->waitreason = (uint8_t)field(g, l->waitreason, 1);
		/* A running goroutine's saved registers are stale: no stack for it. */
		if (status != 2 && status != 3 && field(g, l->sched_pc, 8)) {
			gr->pcs[0] = field(g, l->sched_pc, 8);
			gr->depth = 1;
			r->frame_bp[n] = field(g, l->sched_bp, 8);
		} else {
			r->frame_bp[n] = 0;
		}
		n++;
	}
	return n;
}

/* Walk the parked stacks a level at a time: [bp] the caller's bp, [bp+8] the return. */
static int walk_stacks(struct go_goroutines *r, size_t count)
{
	uint64_t *at = malloc(count * sizeof(*at)), (*frame)[2] = malloc(count * 16);
	size_t *who = malloc(count * sizeof(*who));
	int err = at && frame && who ? 0 : -ENOMEM;

	for (unsigned level = 1; !err && level < GO_PARKED_FRAMES; level++) {
		size_t n = 0;

		for (size_t i = 0; i < count; i++)
			if (r->frame_bp[i] && r->list[i].depth == level) {
				who[n] = i;
				at[n++] = r->frame_bp[i];
			}
		if (!n)
			break;
		read_pieces(r->pid, at, n, 16, (uint8_t *)frame);
		for (size_t k = 0; k < n; k++) {
			struct go_goroutine *g = &r->list[who[k]];
			uint64_t caller_bp = frame[k][0], ret = frame[k][1];

			if (!ret) {
				r->frame_bp[who[k]] = 0;
				continue;
			}
			g->pcs[g->depth++] = ret;
			/* Stacks grow down: a caller's frame is above; anything else ends it. */
			r->frame_bp[who[k]] = caller_bp > at[k] ? caller_bp : 0;
		}
	}
	free(at);
	free(frame);
	free(who);
	return err;
}

int go_goroutines_read(struct go_goroutines *r, const struct go_goroutine **out)
{
	struct iovec local, remote;
	uint64_t slice[3];
	size_t count;
	int err;

	local = (struct iovec){ slice, sizeof(slice) };
	remote = (struct iovec){ (void *)(uintptr_t)r->allgs_addr, sizeof(slice) };
	if (process_vm_readv(r->pid, &local, 1, &remote, 1, 0) != sizeof(slice))
		return errno ? -errno : -EIO;
	if (slice[1] > slice[2] || slice[1] > MAX_GOROUTINES || (slice[1] && !slice[0]))
		return -EPROTO;
	count = slice[1];
	err = reserve(r, count ? count : 1);
	if (err)
		return err;
	local = (struct iovec){ r->gs, count * 8 };
	remote = (struct iovec){ (void *)(uintptr_t)slice[0], count * 8 };
	if (count && process_vm_readv(r->pid, &local, 1, &remote, 1, 0) != (ssize_t)(count * 8))
		return errno ? -errno : -EIO;
	read_pieces(r->pid, r->gs, count, r->g_bytes, r->g_data);
	count = decode(r, count);
	err = walk_stacks(r, count);
	if (err)
		return err;
	*out = r->list;
	return (int)count;
}
