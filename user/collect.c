// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"

struct trace_cache_entry {
	uint64_t hash; /* 0: empty */
	struct stack_trace *trace;
};

struct collector {
	int stats_fd, traces_fd, counters_fd;
	int ncpus;
	uint32_t max_stacks;
	uint32_t sample_rate;
	struct stack_key *keys;
	struct stack_stats *values;
	struct stack_sample *samples;
	uint64_t *percpu;
	struct trace_cache_entry *cache;
	size_t cache_cap, cache_used;
};

struct collector *collector_new(int stats_fd, int traces_fd, int counters_fd,
				 uint32_t max_stacks, uint32_t sample_rate)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sample_rate = sample_rate ? sample_rate : 1;
	c->stats_fd = stats_fd;
	c->traces_fd = traces_fd;
	c->counters_fd = counters_fd;
	c->max_stacks = max_stacks;
	c->ncpus = libbpf_num_possible_cpus();
	c->keys = calloc(max_stacks, sizeof(*c->keys));
	c->values = calloc(max_stacks, sizeof(*c->values));
	c->samples = calloc(max_stacks, sizeof(*c->samples));
	c->percpu = calloc(c->ncpus > 0 ? c->ncpus : 1, sizeof(uint64_t));
	c->cache_cap = 1024;
	c->cache = calloc(c->cache_cap, sizeof(*c->cache));
	if (c->ncpus <= 0 || !c->keys || !c->values || !c->samples || !c->percpu || !c->cache) {
		collector_free(c);
		return NULL;
	}
	return c;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cache_cap; i++)
		free(c->cache[i].trace);
	free(c->cache);
	free(c->percpu);
	free(c->samples);
	free(c->values);
	free(c->keys);
	free(c);
}

static struct trace_cache_entry *cache_slot(struct trace_cache_entry *table, size_t cap,
					    uint64_t hash)
{
	size_t i = (hash ^ (hash >> 32)) & (cap - 1);

	while (table[i].hash && table[i].hash != hash)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int cache_grow(struct collector *c)
{
	size_t cap = c->cache_cap * 2;
	struct trace_cache_entry *table = calloc(cap, sizeof(*table));

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < c->cache_cap; i++)
		if (c->cache[i].hash)
			*cache_slot(table, cap, c->cache[i].hash) = c->cache[i];
	free(c->cache);
	c->cache = table;
	c->cache_cap = cap;
	return 0;
}

static const struct stack_trace *trace_of(struct collector *c, uint64_t hash)
{
	struct trace_cache_entry *slot;
	struct stack_trace *trace;

	if (hash == LS_UNKNOWN_STACK)
		return NULL;
	slot = cache_slot(c->cache, c->cache_cap, hash);
	if (slot->hash)
		return slot->trace;
	trace = malloc(sizeof(*trace));
	if (!trace)
		return NULL;
	if (bpf_map_lookup_elem(c->traces_fd, &hash, trace) || trace->depth > LS_MAX_STACK_DEPTH) {
		free(trace);
		return NULL;
	}
	if ((c->cache_used + 1) * 2 > c->cache_cap && cache_grow(c)) {
		free(trace);
		return NULL;
	}
	slot = cache_slot(c->cache, c->cache_cap, hash);
	slot->hash = hash;
	slot->trace = trace;
	c->cache_used++;
	return trace;
}

const struct stack_trace *collector_trace(struct collector *c, uint64_t hash)
{
	return trace_of(c, hash);
}

/* All of `stack_stats` in as few syscalls as the kernel allows. */
static int read_stats(struct collector *c, size_t *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct stack_key batch_key;
	void *in = NULL;
	size_t total = 0;
	int err = 0;

	while (total < c->max_stacks) {
		__u32 n = c->max_stacks - total;

		err = bpf_map_lookup_batch(c->stats_fd, in, &batch_key, c->keys + total,
					   c->values + total, &n, &opts);
		total += n;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		in = &batch_key;
	}
	if (err != -EINVAL && err != -EOPNOTSUPP) {
		*count = total;
		return err;
	}
	/* Old kernels: walk the keys one by one. */
	total = 0;
	for (void *prev = NULL; total < c->max_stacks; prev = &c->keys[total - 1]) {
		if (bpf_map_get_next_key(c->stats_fd, prev, &c->keys[total]))
			break;
		if (!bpf_map_lookup_elem(c->stats_fd, &c->keys[total], &c->values[total]))
			total++;
		else if (!total)
			break;
	}
	*count = total;
	return 0;
}

/* Each recorded block of a sampled run stands for sample_rate blocks. */
static void scale_up(struct stack_stats *stats, uint32_t rate)
{
	stats->outstanding_bytes *= rate;
	stats->outstanding_count *= rate;
	stats->alloc_bytes *= rate;
	stats->alloc_count *= rate;
	for (int i = 0; i < LS_AGE_SLOTS; i++) {
		stats->young[i].bytes *= rate;
		stats->young[i].count *= rate;
	}
}

static void read_counters(struct collector *c, uint64_t *counters)
{
	for (__u32 i = 0; i < LS_CNT_MAX; i++) {
		counters[i] = 0;
		if (bpf_map_lookup_elem(c->counters_fd, &i, c->percpu))
			continue;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			counters[i] += c->percpu[cpu];
	}
}

int collector_read(struct collector *c, struct snapshot *snap)
{
	struct timespec now;
	size_t count = 0;
	int err;

	err = read_stats(c, &count);
	if (err)
		return err;
	read_counters(c, snap->counters);
	/* The clock is read last: every block counted was allocated before it. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	snap->time_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	for (size_t i = 0; i < count; i++) {
		c->samples[i].key = c->keys[i];
		c->samples[i].stats = c->values[i];
		if (c->sample_rate > 1)
			scale_up(&c->samples[i].stats, c->sample_rate);
		c->samples[i].trace = trace_of(c, c->keys[i].stack_hash);
	}
	snap->stacks = c->samples;
	snap->count = count;
	return 0;
}
