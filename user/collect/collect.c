// SPDX-License-Identifier: MIT
/*
 * The collector (collect.h): `stack_stats` and the per-CPU banks read in
 * batches, the banks swapped and folded (slot_deltas.c), each stack's frames
 * fetched from `stack_traces` once and cached.  It reads maps and writes only
 * the banks' switch; no policy, no symbols.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "collect.h"

struct trace_cache_entry {
	uint64_t hash; /* 0: empty */
	struct stack_trace *trace;
};

struct collector {
	int stats_fd, slots_used_fd, traces_fd, counters_fd;
	int ncpus;
	uint32_t max_stacks;
	uint32_t sample_rate;
	struct stack_slot *entries;
	struct stack_sample *samples;
	uint64_t *percpu;
	struct trace_cache_entry *cache;
	size_t cache_cap, cache_used;
	struct delta_banks banks;
	int live_bank;                /* index in banks.bank_fd the probes count into */
	struct slot_totals *totals;   /* per banked slot, over every bank read */
	struct slot_delta *cells;     /* a retired bank as read: slot-major, one per CPU */
	struct slot_delta *zeros;     /* as many, to clear it with */
	__u32 *bank_keys;
};

struct collector *collector_new(const struct stats_maps *maps, uint32_t max_stacks,
				 uint32_t sample_rate)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sample_rate = sample_rate ? sample_rate : 1;
	c->stats_fd = maps->stats_fd;
	c->slots_used_fd = maps->slots_used_fd;
	c->traces_fd = maps->traces_fd;
	c->counters_fd = maps->counters_fd;
	c->max_stacks = max_stacks;
	c->ncpus = libbpf_num_possible_cpus();
	c->entries = calloc(max_stacks, sizeof(*c->entries));
	c->samples = calloc(max_stacks, sizeof(*c->samples));
	c->percpu = calloc(c->ncpus > 0 ? c->ncpus : 1, sizeof(uint64_t));
	c->cache_cap = 1024;
	c->cache = calloc(c->cache_cap, sizeof(*c->cache));
	c->banks = maps->banks;
	if (c->banks.slots > max_stacks)
		c->banks.slots = max_stacks;
	if (c->banks.slots && c->ncpus > 0) {
		size_t cells = (size_t)c->banks.slots * c->ncpus;

		c->totals = calloc(c->banks.slots, sizeof(*c->totals));
		c->cells = calloc(cells, sizeof(*c->cells));
		c->zeros = calloc(cells, sizeof(*c->zeros));
		c->bank_keys = calloc(c->banks.slots, sizeof(*c->bank_keys));
		if (!c->totals || !c->cells || !c->zeros || !c->bank_keys) {
			collector_free(c);
			return NULL;
		}
		for (__u32 i = 0; i < c->banks.slots; i++)
			c->bank_keys[i] = i;
	}
	if (c->ncpus <= 0 || !c->entries || !c->samples || !c->percpu || !c->cache) {
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
	free(c->bank_keys);
	free(c->zeros);
	free(c->cells);
	free(c->totals);
	free(c->percpu);
	free(c->samples);
	free(c->entries);
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

/* Slots of `stack_stats` handed out so far (the array's used prefix). */
static uint32_t slots_used(struct collector *c)
{
	__u32 zero = 0, used = 0;

	if (bpf_map_lookup_elem(c->slots_used_fd, &zero, &used))
		return 0;
	return used < c->max_stacks ? used : c->max_stacks;
}

/* The used prefix of `stack_stats` in as few syscalls as the kernel allows. */
static int read_entries(struct collector *c, uint32_t used)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(used ? used : 1, sizeof(*keys));
	__u32 batch_key, total = 0;
	void *in = NULL;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (total < used) {
		__u32 n = used - total;

		err = bpf_map_lookup_batch(c->stats_fd, in, &batch_key, keys + total,
					   c->entries + total, &n, &opts);
		total += n;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		in = &batch_key;
	}
	free(keys);
	if (err != -EINVAL && err != -EOPNOTSUPP)
		return err;
	/* Old kernels: one lookup per slot. */
	for (__u32 slot = 0; slot < used; slot++)
		if (bpf_map_lookup_elem(c->stats_fd, &slot, &c->entries[slot]))
			return -errno;
	return 0;
}

/*
 * Make the other bank live and return the fd of the one retired.  The
 * update of the switch returns only after every program that may have
 * looked up the old bank has finished (the kernel waits for a grace period
 * on a map-in-map update), so the retired bank no longer changes.
 */
static int swap_banks(struct collector *c)
{
	__u32 zero = 0;
	int next = !c->live_bank, retired = c->live_bank;

	if (bpf_map_update_elem(c->banks.switch_fd, &zero, &c->banks.bank_fd[next], BPF_ANY))
		return -errno;
	c->live_bank = next;
	return c->banks.bank_fd[retired];
}

/* Cells of a per-CPU array's first n slots (values laid out slot-major, CPU-minor). */
static int read_cells(int fd, __u32 *keys, struct slot_delta *cells, __u32 n, int ncpus)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch_key, total = 0;
	void *in = NULL;

	while (total < n) {
		__u32 got = n - total;
		int err = bpf_map_lookup_batch(fd, in, &batch_key, keys + total,
					       cells + (size_t)total * ncpus, &got, &opts);

		total += got;
		if (err) {
			if (errno == ENOENT)
				return 0;
			if (errno != EINVAL && errno != EOPNOTSUPP)
				return -errno;
			break; /* old kernels: one lookup per slot */
		}
		in = &batch_key;
	}
	for (__u32 slot = total; slot < n; slot++)
		if (bpf_map_lookup_elem(fd, &slot, cells + (size_t)slot * ncpus))
			return -errno;
	return 0;
}

/* Zero the first n slots of a retired bank before it is made live again. */
static int clear_cells(int fd, const __u32 *keys, const struct slot_delta *zeros, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;

	if (!n || !bpf_map_update_batch(fd, keys, zeros, &count, &opts))
		return 0;
	if (errno != EINVAL && errno != EOPNOTSUPP)
		return -errno;
	for (__u32 slot = 0; slot < n; slot++)
		if (bpf_map_update_elem(fd, &slot, zeros, BPF_ANY))
			return -errno;
	return 0;
}

/* Retire the live bank and fold what it counted for the first `used` slots. */
static int read_banks(struct collector *c, uint32_t used)
{
	uint32_t n = used < c->banks.slots ? used : c->banks.slots;
	uint64_t now_ns;
	int fd, err;

	if (!c->banks.slots)
		return 0;
	fd = swap_banks(c);
	if (fd < 0)
		return fd;
	now_ns = monotonic_ns(); /* after the swap: no cell is of a later epoch */
	err = read_cells(fd, c->bank_keys, c->cells, n, c->ncpus);
	if (err)
		return err;
	for (uint32_t slot = 0; slot < n; slot++)
		slot_totals_fold(&c->totals[slot], c->cells + (size_t)slot * c->ncpus, c->ncpus,
				 now_ns, c->banks.age_epoch_ns);
	return clear_cells(fd, c->bank_keys, c->zeros, n);
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
	uint32_t used = slots_used(c);
	size_t count = 0;
	int err;

	err = read_banks(c, used);
	if (!err)
		err = read_entries(c, used);
	if (err)
		return err;
	read_counters(c, snap->counters);
	/* The clock is read last: every block counted was allocated before it. */
	snap->time_ns = monotonic_ns();
	for (uint32_t i = 0; i < used; i++) {
		struct stack_sample *sample = &c->samples[count];

		if (!c->entries[i].used)
			continue; /* lost to a race: its stack has another slot */
		sample->key = c->entries[i].key;
		sample->stats = c->entries[i].stats;
		if (i < c->banks.slots)
			slot_totals_apply(&c->totals[i], &sample->stats);
		if (c->sample_rate > 1)
			scale_up(&sample->stats, c->sample_rate);
		sample->trace = trace_of(c, sample->key.stack_hash);
		sample->slot = i;
		sample->object_size = 0;
		count++;
	}
	snap->stacks = c->samples;
	snap->count = count;
	return 0;
}
