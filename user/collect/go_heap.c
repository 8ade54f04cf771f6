// SPDX-License-Identifier: MIT
/*
 * Reading runtime.mbuckets (go_heap.h).  A bucket is six words (next,
 * allnext, type, hash, size, nstk), nstk return addresses, then a memRecord:
 * the active cycle (allocs, frees, alloc_bytes, free_bytes) and three future
 * ones.  The runtime only prepends buckets and never frees one, so walking
 * allnext while it runs is safe; the active counts change only when a GC
 * cycle is published.
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "go_heap.h"

#define BUCKET_WORDS 6
#define BUCKET_MEMORY_PROFILE 1 /* runtime.memProfile */
#define RECORD_WORDS 16         /* active + future[3], four words each */
/* The runtime keeps at most 32 frames (Go 1.19's maxStack); room for more. */
#define MAX_BUCKET_FRAMES LS_MAX_STACK_DEPTH
/* A bound on the walk: a list longer than this is not the runtime's. */
#define MAX_BUCKETS (1u << 22)

/* One read of the list. */
struct bucket_set {
	struct stack_sample *samples;
	struct stack_trace *traces;
	size_t count, cap;
};

struct go_heap {
	pid_t pid;
	uint64_t mbuckets_addr, rate_addr;
	int64_t rate;
	struct bucket_set last, next; /* the last complete read, and the one being made */
	bool have_last;
};

struct go_heap *go_heap_new(pid_t pid, uint64_t mbuckets_addr, uint64_t memprofilerate_addr)
{
	struct go_heap *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->pid = pid;
	h->mbuckets_addr = mbuckets_addr;
	h->rate_addr = memprofilerate_addr;
	return h;
}

void go_heap_free(struct go_heap *h)
{
	if (!h)
		return;
	free(h->last.samples);
	free(h->last.traces);
	free(h->next.samples);
	free(h->next.traces);
	free(h);
}

int64_t go_heap_rate(const struct go_heap *h)
{
	return h->rate;
}

void go_heap_scale(int64_t count, int64_t bytes, int64_t rate, int64_t *scaled_count,
		   int64_t *scaled_bytes)
{
	double scale;

	if (count <= 0 || bytes <= 0) {
		*scaled_count = 0;
		*scaled_bytes = 0;
		return;
	}
	if (rate <= 1) {
		*scaled_count = count;
		*scaled_bytes = bytes;
		return;
	}
	scale = 1 / (1 - exp(-((double)bytes / (double)count) / (double)rate));
	*scaled_count = (int64_t)((double)count * scale);
	*scaled_bytes = (int64_t)((double)bytes * scale);
}

/* Read up to len bytes at addr; how many were read (a bucket may end a mapping). */
static ssize_t peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

static int grow(struct bucket_set *set, size_t need)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	struct stack_sample *samples;
	struct stack_trace *traces;

	if (need <= set->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	samples = realloc(set->samples, cap * sizeof(*samples));
	if (!samples)
		return -ENOMEM;
	set->samples = samples;
	traces = realloc(set->traces, cap * sizeof(*traces));
	if (!traces)
		return -ENOMEM;
	set->traces = traces;
	set->cap = cap;
	return 0;
}

/* One bucket's sample from its words (header, frames, record). */
static void fill_sample(const struct go_heap *h, struct bucket_set *set, uint64_t addr,
			const uint64_t *words)
{
	uint64_t nstk = words[5];
	const uint64_t *record = words + BUCKET_WORDS + nstk;
	struct stack_sample *s = &set->samples[set->count];
	struct stack_trace *t = &set->traces[set->count++];
	int64_t allocs = (int64_t)record[0], frees = (int64_t)record[1];
	int64_t alloc_bytes = (int64_t)record[2], free_bytes = (int64_t)record[3];
	int64_t count, bytes;

	memset(s, 0, sizeof(*s));
	memset(t, 0, sizeof(*t));
	t->depth = (uint32_t)nstk;
	memcpy(t->ips, words + BUCKET_WORDS, nstk * sizeof(uint64_t));
	s->key.stack_hash = addr;
	s->key.kind = LS_KIND_GO_HEAP;
	s->trace = t;
	s->slot = UINT32_MAX;
	s->object_size = words[4];
	go_heap_scale(allocs, alloc_bytes, h->rate, &count, &bytes);
	s->stats.alloc_count = (uint64_t)count;
	s->stats.alloc_bytes = (uint64_t)bytes;
	go_heap_scale(allocs - frees, alloc_bytes - free_bytes, h->rate, &count, &bytes);
	s->stats.outstanding_count = count;
	s->stats.outstanding_bytes = bytes;
}

/* Walk the list into h->next; 0 or -errno. */
static int walk(struct go_heap *h)
{
	uint64_t words[BUCKET_WORDS + MAX_BUCKET_FRAMES + RECORD_WORDS], addr;
	size_t walked = 0;
	int err;

	h->next.count = 0;
	if (peek(h->pid, h->rate_addr, &h->rate, sizeof(h->rate)) != sizeof(h->rate) ||
	    peek(h->pid, h->mbuckets_addr, &addr, sizeof(addr)) != sizeof(addr))
		return errno ? -errno : -EIO;
	for (; addr; addr = words[1]) {
		ssize_t got = peek(h->pid, addr, words, sizeof(words));
		size_t need;

		if (got < (ssize_t)(BUCKET_WORDS * 8))
			return errno == ESRCH ? -ESRCH : -EIO;
		if (words[2] != BUCKET_MEMORY_PROFILE || words[5] == 0 ||
		    words[5] > MAX_BUCKET_FRAMES || ++walked > MAX_BUCKETS)
			return -EPROTO;
		need = (BUCKET_WORDS + words[5] + 4) * 8;
		if ((size_t)got < need)
			return -EIO;
		if (!words[BUCKET_WORDS + words[5]] && !words[BUCKET_WORDS + words[5] + 1])
			continue; /* nothing published yet: MemProfile leaves it out too */
		err = grow(&h->next, h->next.count + 1);
		if (err)
			return err;
		fill_sample(h, &h->next, addr, words);
	}
	return 0;
}

int go_heap_read(struct go_heap *h, const struct stack_sample **samples)
{
	struct bucket_set swap;
	int err = walk(h);

	if (err == -ESRCH && h->have_last) {
		/* The process has gone: its profile as last read is its final one. */
		*samples = h->last.samples;
		return (int)h->last.count;
	}
	if (err)
		return err;
	swap = h->last;
	h->last = h->next;
	h->next = swap;
	h->have_last = true;
	*samples = h->last.samples;
	return (int)h->last.count;
}
