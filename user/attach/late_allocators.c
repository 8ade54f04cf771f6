// SPDX-License-Identifier: MIT
/*
 * Allocators mapped after attach (late_allocators.h): the processes told of
 * listed, each file judged once, allocators handed to the caller to probe
 * and the delay from mmap to probe kept.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/array.h"
#include "common/clock.h"
#include "late_allocators.h"
#include "leaksnoop.h"
#include "target/procmaps.h"
#include "tracer.h"

/* A file judged for a process (0: for every process), by the inode under its mappings. */
struct judged_file {
	pid_t pid;
	uint32_t dev; /* the kernel's encoding */
	uint64_t ino;
};

struct late_allocators {
	struct tracer *tracer;
	struct ring_buffer *ring;
	bool system_wide, verbose;
	probe_allocator_fn probe;
	mapped_code_fn mapped;
	void *arg;
	struct judged_file *judged; /* sorted */
	size_t judged_count, judged_cap;
	struct mapping_event *told; /* this poll's events */
	size_t told_count, told_cap;
	struct late_allocator *probed;
	size_t probed_count, probed_cap;
};

static int compare_judged(const void *a, const void *b)
{
	const struct judged_file *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

static bool is_judged(const struct late_allocators *la, const struct judged_file *key)
{
	struct judged_file everyone = *key;

	everyone.pid = 0;
	return bsearch(&everyone, la->judged, la->judged_count, sizeof(*key), compare_judged) ||
	       (key->pid && bsearch(key, la->judged, la->judged_count, sizeof(*key),
				    compare_judged));
}

/* Remember key (kept sorted); false when out of memory. */
static bool add_judged(struct late_allocators *la, const struct judged_file *key)
{
	size_t at = la->judged_count;

	if (array_reserve_one((void **)&la->judged, &la->judged_cap, la->judged_count,
			      sizeof(*key)))
		return false;
	while (at > 0 && compare_judged(&la->judged[at - 1], key) > 0)
		at--;
	memmove(&la->judged[at + 1], &la->judged[at], (la->judged_count - at) * sizeof(*key));
	la->judged[at] = *key;
	la->judged_count++;
	return true;
}

static int on_mapping(void *ctx, void *data, size_t size)
{
	struct late_allocators *la = ctx;

	if (size >= sizeof(*la->told) &&
	    !array_reserve_one((void **)&la->told, &la->told_cap, la->told_count,
			       sizeof(*la->told)))
		memcpy(&la->told[la->told_count++], data, sizeof(*la->told));
	return 0;
}

struct late_allocators *late_allocators_new(struct tracer *t, bool system_wide,
					    probe_allocator_fn probe, mapped_code_fn mapped,
					    void *arg, bool verbose)
{
	struct late_allocators *la = calloc(1, sizeof(*la));

	if (!la)
		return NULL;
	la->tracer = t;
	la->system_wide = system_wide;
	la->verbose = verbose;
	la->probe = probe;
	la->mapped = mapped;
	la->arg = arg;
	la->ring = ring_buffer__new(tracer_new_mappings_fd(t), on_mapping, la, NULL);
	if (!la->ring) {
		free(la);
		return NULL;
	}
	return la;
}

void late_allocators_free(struct late_allocators *la)
{
	if (!la)
		return;
	ring_buffer__free(la->ring);
	free(la->judged);
	free(la->told);
	free(la->probed);
	free(la);
}

/*
 * Call each(la, record, ctx) for every file mapping of pid (0: of every
 * process), as the kernel lists them.  0 or a negative errno.
 */
static int list_vmas(struct late_allocators *la, pid_t pid,
		     void (*each)(struct late_allocators *, const struct vma_record *, void *),
		     void *ctx)
{
	struct vma_record records[256];
	int fd = tracer_open_vma_iter(la->tracer, pid);
	ssize_t n;

	if (fd < 0)
		return fd;
	while ((n = read(fd, records, sizeof(records))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(*records); i++)
			each(la, &records[i], ctx);
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The file at an address of this process, as the kernel has it under the mapping. */
struct own_mapping {
	uint64_t addr;
	struct judged_file key;
	bool found;
};

static void find_own_mapping(struct late_allocators *la, const struct vma_record *rec, void *ctx)
{
	struct own_mapping *own = ctx;

	(void)la;
	if (rec->start == own->addr) {
		own->key.dev = rec->dev;
		own->key.ino = rec->ino;
		own->found = true;
	}
}

void late_allocators_probed(struct late_allocators *la, pid_t pid, const char *path)
{
	struct own_mapping own = { .key.pid = la && !la->system_wide ? pid : 0 };
	int fd;
	void *page;

	if (!la || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	/* Mapped here for a moment: the kernel then says which inode the probes are on. */
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (page == MAP_FAILED)
		return;
	own.addr = (uint64_t)(uintptr_t)page;
	list_vmas(la, getpid(), find_own_mapping, &own);
	munmap(page, 4096);
	if (own.found && !is_judged(la, &own.key))
		add_judged(la, &own.key);
}

static void note_probed(struct late_allocators *la, pid_t pid, const struct allocator *alloc,
			unsigned long long mapped_ns)
{
	struct late_allocator *p;

	if (array_reserve_one((void **)&la->probed, &la->probed_cap, la->probed_count,
			      sizeof(*p)))
		return;
	p = &la->probed[la->probed_count++];
	p->pid = pid;
	snprintf(p->path, sizeof(p->path), "%s", alloc->shown_path);
	snprintf(p->name, sizeof(p->name), "%s", alloc->name);
	p->probed_after_ms = (double)(monotonic_ns() - mapped_ns) / 1e6;
	if (la->verbose)
		fprintf(stderr, "leaksnoop: PID %d mapped %s (%s) after attach: probed %.2f ms "
			"after its mmap\n", (int)pid, p->path, p->name, p->probed_after_ms);
}

/* One look at processes' mappings: what to do with the new files, and what was done. */
struct look {
	bool probe;                   /* false: judge only (what a target maps at attach) */
	unsigned long long mapped_ns; /* the mmap that told of them; 0 at start */
	pid_t maps_pid;               /* whose /proc/PID/maps is read into maps */
	struct mapping_list maps;
	char exe[PATH_MAX];
	unsigned probed;
};

/* The process's maps (paths) and executable, read once per process of a look. */
static void read_paths(struct look *look, pid_t pid)
{
	char link[64];
	ssize_t n;

	if (look->maps_pid == pid)
		return;
	mappings_free(&look->maps);
	look->maps_pid = pid;
	if (mappings_read_pid(pid, &look->maps))
		look->maps.count = 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, look->exe, sizeof(look->exe) - 1);
	look->exe[n > 0 ? n : 0] = '\0';
}

static void judge_vma(struct late_allocators *la, const struct vma_record *rec, void *ctx)
{
	struct look *look = ctx;
	pid_t pid = (pid_t)rec->tgid;
	struct judged_file key = { .pid = la->system_wide ? 0 : pid, .dev = rec->dev,
				   .ino = rec->ino };
	const struct mapping *m;
	struct allocator alloc;
	int err;

	if (!rec->exec || pid == getpid() || is_judged(la, &key) || !add_judged(la, &key) ||
	    !look->probe)
		return;
	read_paths(look, pid);
	m = mappings_find(&look->maps, rec->start);
	if (!m || !mapping_is_file(m) ||
	    allocator_from_mapping(pid, m, look->exe[0] && !strcmp(m->path, look->exe), &alloc))
		return;
	err = la->probe(la->arg, pid, &alloc);
	if (err) {
		fprintf(stderr, "leaksnoop: PID %d maps %s and it cannot be probed (%s): what it "
			"allocates is not seen\n", (int)pid, m->path, strerror(-err));
		return;
	}
	look->probed++;
	if (look->mapped_ns)
		note_probed(la, pid, &alloc, look->mapped_ns);
	else if (la->verbose)
		fprintf(stderr, "leaksnoop: also probing %s (%s), mapped by PID %d\n",
			alloc.shown_path, alloc.name, (int)pid);
}

static unsigned look_at(struct late_allocators *la, pid_t pid, bool probe,
			unsigned long long mapped_ns)
{
	struct look look = { .probe = probe, .mapped_ns = mapped_ns, .maps_pid = -1 };
	int err;

	if (!la)
		return 0;
	err = list_vmas(la, pid, judge_vma, &look);
	mappings_free(&look.maps);
	if (err && la->verbose)
		fprintf(stderr, "leaksnoop: cannot list the mappings of %s%.0d: %s\n",
			pid ? "PID " : "every process", (int)pid, strerror(-err));
	return look.probed;
}

unsigned late_allocators_scan(struct late_allocators *la, pid_t pid)
{
	return look_at(la, pid, true, 0);
}

void late_allocators_mapped_at_attach(struct late_allocators *la, pid_t pid)
{
	look_at(la, pid, false, 0);
}

int late_allocators_fd(const struct late_allocators *la)
{
	return ring_buffer__epoll_fd(la->ring);
}

void late_allocators_poll(struct late_allocators *la)
{
	la->told_count = 0;
	ring_buffer__consume(la->ring);
	for (size_t i = 0; i < la->told_count; i++) {
		bool again = false;

		/* A process told of twice in one poll is looked at once. */
		for (size_t j = 0; j < i && !again; j++)
			again = la->told[j].tgid == la->told[i].tgid;
		if (again)
			continue;
		look_at(la, (pid_t)la->told[i].tgid, true, la->told[i].time_ns);
		la->mapped(la->arg, (pid_t)la->told[i].tgid);
	}
}

const struct late_allocator *late_allocators_list(const struct late_allocators *la,
						  size_t *count)
{
	*count = la ? la->probed_count : 0;
	return la ? la->probed : NULL;
}
