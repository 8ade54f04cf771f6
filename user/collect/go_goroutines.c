// SPDX-License-Identifier: MIT
/*
 * Reading runtime.allgs (go_goroutines.h): the slice header, its pointers,
 * then the g's (the runtime allocates them side by side: read as few long
 * runs), then the parked stacks: the top STACK_WINDOW bytes of each, where
 * the frames up to the waiting one usually are, then any frame past it one
 * level at a time for all goroutines together, IOV_BATCH pieces per
 * process_vm_readv.  Each piece costs the kernel a page lookup: fewer,
 * longer reads are what makes 100,000 goroutines cheap.  Go keeps frame
 * pointers: a frame's saved %rbp is at [bp], its return address at [bp+8].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "go_goroutines.h"

#define IOV_BATCH 512
#define MAX_GOROUTINES (1u << 24) /* more is not a slice of g */
#define STACK_WINDOW 320          /* bytes read from a parked goroutine's sp */
#define RUN_GAP 1024              /* g's this close are read in one run */
#define RUN_MAX (1u << 20)        /* and a run is at most this long */

struct go_goroutines {
	pid_t pid;
	uint64_t allgs_addr;
	struct go_g_layout layout;
	size_t g_bytes;          /* how much of each g is read */
	uint64_t *gs;            /* the g pointers */
	uint8_t *g_data;         /* g_bytes per g */
	uint64_t *frame_bp;      /* per goroutine: the frame being walked */
	uint64_t *frame_sp;      /* per goroutine: where its window starts */
	uint8_t *windows;        /* STACK_WINDOW bytes per goroutine */
	size_t *order;           /* g's by address */
	uint8_t *run;            /* one run of g's */
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
	free(r->frame_sp);
	free(r->windows);
	free(r->order);
	free(r->run);
	free(r->list);
	free(r);
}

/* Grow *array to n items of size bytes; false when out of memory. */
static bool grow_array(void *array, size_t n, size_t size)
{
	void *grown = realloc(*(void **)array, n * size);

	if (grown)
		*(void **)array = grown;
	return grown != NULL;
}

static int reserve(struct go_goroutines *r, size_t n)
{
	bool ok;

	if (n <= r->cap)
		return 0;
	ok = grow_array(&r->gs, n, sizeof(*r->gs));
	ok &= grow_array(&r->g_data, n, r->g_bytes);
	ok &= grow_array(&r->frame_bp, n, sizeof(*r->frame_bp));
	ok &= grow_array(&r->frame_sp, n, sizeof(*r->frame_sp));
	ok &= grow_array(&r->windows, n, STACK_WINDOW);
	ok &= grow_array(&r->order, n, sizeof(*r->order));
	ok &= grow_array(&r->list, n, sizeof(*r->list));
	if (!ok || (!r->run && !(r->run = malloc(RUN_MAX))))
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

static const uint64_t *sort_keys;

static int compare_by_address(const void *a, const void *b)
{
	uint64_t x = sort_keys[*(const size_t *)a], y = sort_keys[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

/*
 * Read the g's, r->g_bytes each, into r->g_data: sorted by address, those
 * within RUN_GAP of each other read as one run.  A run that cannot be read
 * whole is read g by g.
 */
static void read_gs(struct go_goroutines *r, size_t count)
{
	size_t len = r->g_bytes;

	for (size_t i = 0; i < count; i++)
		r->order[i] = i;
	sort_keys = r->gs;
	qsort(r->order, count, sizeof(*r->order), compare_by_address);
	for (size_t first = 0, last; first < count; first = last) {
		uint64_t start = r->gs[r->order[first]], end = start + len;
		struct iovec local, remote;

		for (last = first + 1; last < count; last++) {
			uint64_t at = r->gs[r->order[last]];

			if (at > end + RUN_GAP || at + len - start > RUN_MAX)
				break;
			end = at + len > end ? at + len : end;
		}
		local = (struct iovec){ r->run, end - start };
		remote = (struct iovec){ (void *)(uintptr_t)start, end - start };
		if (process_vm_readv(r->pid, &local, 1, &remote, 1, 0) == (ssize_t)(end - start)) {
			for (size_t k = first; k < last; k++)
				memcpy(r->g_data + r->order[k] * len,
				       r->run + (r->gs[r->order[k]] - start), len);
			continue;
		}
		for (size_t k = first; k < last; k++)
			read_pieces(r->pid, &r->gs[r->order[k]], 1, len,
				    r->g_data + r->order[k] * len);
	}
}

static uint64_t field(const uint8_t *g, uint64_t offset, size_t width)
{
	uint64_t value = 0;

	memcpy(&value, g + offset, width);
	return value;
}

/* The goroutines' fields from the g's bytes; dead ones left out. */
static size_t decode(struct go_goroutines *r, size_t count, go_walk_on_fn walk_on, void *arg)
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
			r->frame_bp[n] = !walk_on || walk_on(gr->pcs[0], true, arg) ?
				field(g, l->sched_bp, 8) : 0;
			r->frame_sp[n] = field(g, l->sched_sp, 8);
		} else {
			r->frame_bp[n] = 0;
		}
		n++;
	}
	return n;
}

/* The 16 bytes at bp from goroutine i's window, when they are in it. */
static bool from_window(const struct go_goroutines *r, size_t i, uint64_t bp, uint64_t frame[2])
{
	uint64_t sp = r->frame_sp[i];

	if (!sp || bp < sp || bp + 16 > sp + STACK_WINDOW)
		return false;
	memcpy(frame, r->windows + i * STACK_WINDOW + (bp - sp), 16);
	return true;
}

/* One frame of goroutine i: its return address, and the next frame's bp or 0. */
static void step(struct go_goroutines *r, size_t i, uint64_t bp, const uint64_t frame[2],
		 go_walk_on_fn walk_on, void *arg)
{
	struct go_goroutine *g = &r->list[i];
	uint64_t caller_bp = frame[0], ret = frame[1];

	if (!ret) {
		r->frame_bp[i] = 0;
		return;
	}
	g->pcs[g->depth++] = ret;
	/* Stacks grow down: a caller's frame is above; anything else ends it. */
	r->frame_bp[i] = caller_bp > bp && (!walk_on || walk_on(ret, false, arg)) ? caller_bp : 0;
}

/*
 * Walk the parked stacks: [bp] the caller's bp, [bp+8] the return address.
 * Frames in a goroutine's window cost nothing more; the others are read a
 * level at a time for every goroutine still walking.
 */
static int walk_stacks(struct go_goroutines *r, size_t count, go_walk_on_fn walk_on, void *arg)
{
	uint64_t *at = malloc(count * sizeof(*at)), (*frame)[2] = malloc(count * 16);
	size_t *who = malloc(count * sizeof(*who)), windowed = 0;
	int err = at && frame && who ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < count; i++)
		if (r->frame_bp[i] && r->frame_sp[i]) {
			who[windowed] = i;
			at[windowed++] = r->frame_sp[i];
		}
	/* The windows: one piece per parked goroutine, packed, then moved to their slots. */
	if (!err && windowed)
		read_pieces(r->pid, at, windowed, STACK_WINDOW, r->windows);
	for (size_t k = windowed; !err && k-- > 0;)
		if (who[k] != k)
			memcpy(r->windows + who[k] * STACK_WINDOW, r->windows + k * STACK_WINDOW,
			       STACK_WINDOW); /* who[k] >= k: back to front keeps the unmoved */
	for (size_t i = 0, k = 0; !err && i < count; i++)
		if (k < windowed && who[k] == i)
			k++;
		else
			r->frame_sp[i] = 0; /* no window */
	for (unsigned level = 1; !err && level < GO_PARKED_FRAMES; level++) {
		size_t n = 0;

		for (size_t i = 0; i < count; i++) {
			uint64_t local[2];

			if (!r->frame_bp[i] || r->list[i].depth != level)
				continue;
			if (from_window(r, i, r->frame_bp[i], local)) {
				step(r, i, r->frame_bp[i], local, walk_on, arg);
				continue;
			}
			who[n] = i;
			at[n++] = r->frame_bp[i];
		}
		if (n)
			read_pieces(r->pid, at, n, 16, (uint8_t *)frame);
		for (size_t k = 0; k < n; k++)
			step(r, who[k], at[k], frame[k], walk_on, arg);
		if (!n) {
			bool walking = false;

			for (size_t i = 0; i < count && !walking; i++)
				walking = r->frame_bp[i] && r->list[i].depth == level + 1;
			if (!walking)
				break;
		}
	}
	free(at);
	free(frame);
	free(who);
	return err;
}

int go_goroutines_read(struct go_goroutines *r, const struct go_goroutine **out,
		       go_walk_on_fn walk_on, void *arg)
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
	read_gs(r, count);
	count = decode(r, count, walk_on, arg);
	err = walk_stacks(r, count, walk_on, arg);
	if (err)
		return err;
	*out = r->list;
	return (int)count;
}
