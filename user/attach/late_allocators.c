// SPDX-License-Identifier: MIT
/*
 * Allocators mapped after attach (late_allocators.h): the ring buffer's
 * mappings read, each process's executable files judged once, allocators
 * handed to the caller to probe and the delay from mmap to probe kept.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/clock.h"
#include "late_allocators.h"
#include "leaksnoop.h"
#include "procs.h"
#include "target/procmaps.h"

/* A mapping told but not in /proc/PID/maps yet is looked at again, this many times. */
#define MAX_LOOKS 50

/* A file judged for a process (0: for every process). */
struct judged_file {
	pid_t pid;
	unsigned dev_major, dev_minor;
	uint64_t inode;
};

/* A process whose mappings are to be read, and the time of the mmap that told of it. */
struct waiting_process {
	pid_t pid;
	uint64_t ino;
	unsigned long long time_ns;
	unsigned looks;
};

struct late_allocators {
	struct ring_buffer *ring;
	bool system_wide, verbose;
	probe_allocator_fn probe;
	void *arg;
	struct judged_file *judged; /* sorted */
	size_t judged_count, judged_cap;
	struct waiting_process *waiting;
	size_t waiting_count, waiting_cap;
	struct late_allocator *probed;
	size_t probed_count, probed_cap;
};

static int compare_judged(const void *a, const void *b)
{
	const struct judged_file *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->dev_major != y->dev_major)
		return x->dev_major < y->dev_major ? -1 : 1;
	return x->dev_minor < y->dev_minor ? -1 : x->dev_minor > y->dev_minor;
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
	size_t at = 0;

	if (la->judged_count == la->judged_cap) {
		size_t cap = la->judged_cap ? la->judged_cap * 2 : 256;
		struct judged_file *grown = realloc(la->judged, cap * sizeof(*grown));

		if (!grown)
			return false;
		la->judged = grown;
		la->judged_cap = cap;
	}
	while (at < la->judged_count && compare_judged(&la->judged[at], key) < 0)
		at++;
	memmove(&la->judged[at + 1], &la->judged[at], (la->judged_count - at) * sizeof(*key));
	la->judged[at] = *key;
	la->judged_count++;
	return true;
}

static void *grow(void *items, size_t *cap, size_t count, size_t size)
{
	size_t wanted = *cap ? *cap * 2 : 16;
	void *grown;

	if (count < *cap)
		return items;
	grown = realloc(items, wanted * size);
	if (grown)
		*cap = wanted;
	return grown;
}

static int on_mapping(void *ctx, void *data, size_t size)
{
	struct late_allocators *la = ctx;
	const struct mapping_event *event = data;
	struct waiting_process *grown;

	if (size < sizeof(*event))
		return 0;
	grown = grow(la->waiting, &la->waiting_cap, la->waiting_count, sizeof(*grown));
	if (!grown)
		return 0;
	la->waiting = grown;
	la->waiting[la->waiting_count++] = (struct waiting_process){
		.pid = (pid_t)event->tgid, .ino = event->ino, .time_ns = event->time_ns,
	};
	return 0;
}

struct late_allocators *late_allocators_new(int ring_fd, bool system_wide,
					    probe_allocator_fn probe, void *arg, bool verbose)
{
	struct late_allocators *la = calloc(1, sizeof(*la));

	if (!la)
		return NULL;
	la->system_wide = system_wide;
	la->verbose = verbose;
	la->probe = probe;
	la->arg = arg;
	la->ring = ring_buffer__new(ring_fd, on_mapping, la, NULL);
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
	free(la->waiting);
	free(la->probed);
	free(la);
}

void late_allocators_probed(struct late_allocators *la, pid_t pid, const char *path)
{
	struct stat st;
	struct judged_file key;

	if (!la || stat(path, &st))
		return;
	key = (struct judged_file){
		.pid = la->system_wide ? 0 : pid, .dev_major = major(st.st_dev),
		.dev_minor = minor(st.st_dev), .inode = st.st_ino,
	};
	if (!is_judged(la, &key))
		add_judged(la, &key);
}

static void note_probed(struct late_allocators *la, pid_t pid, const struct allocator *alloc,
			unsigned long long mapped_ns)
{
	struct late_allocator *grown = grow(la->probed, &la->probed_cap, la->probed_count,
					    sizeof(*grown));
	struct late_allocator *p;

	if (!grown)
		return;
	la->probed = grown;
	p = &la->probed[la->probed_count++];
	p->pid = pid;
	snprintf(p->path, sizeof(p->path), "%s", alloc->shown_path);
	snprintf(p->name, sizeof(p->name), "%s", alloc->name);
	p->probed_after_ms = (double)(monotonic_ns() - mapped_ns) / 1e6;
	if (la->verbose)
		fprintf(stderr, "leaksnoop: PID %d mapped %s (%s) after attach: probed %.2f ms "
			"after its mmap\n", (int)pid, p->path, p->name, p->probed_after_ms);
}

/*
 * Judge the executable files pid maps that were not judged yet; mapped_ns:
 * when the mmap that told of them happened (0 at a scan).  *seen: set when
 * a mapping of inode ino is among them, or any file was new.  Returns how
 * many were probed.
 */
static unsigned judge_mappings(struct late_allocators *la, pid_t pid, uint64_t ino,
			       unsigned long long mapped_ns, bool probe, bool *seen)
{
	struct mapping_list maps;
	char exe[PATH_MAX], link[64];
	unsigned probed = 0;
	ssize_t n;

	if (mappings_read_pid(pid, &maps))
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* The file told of first: the others (its dependencies) would delay its probes. */
	for (size_t k = 0; k < 2 * maps.count; k++) {
		const struct mapping *m = &maps.items[k % maps.count];
		struct judged_file key = {
			.pid = la->system_wide ? 0 : pid, .dev_major = m->dev_major,
			.dev_minor = m->dev_minor, .inode = m->inode,
		};
		struct allocator alloc;
		int err;

		if (!m->executable || !mapping_is_file(m) || (k < maps.count) != (m->inode == ino))
			continue;
		if (m->inode == ino)
			*seen = true;
		if (is_judged(la, &key) || !add_judged(la, &key))
			continue;
		*seen = true;
		if (!probe || allocator_from_mapping(pid, m, n > 0 && !strcmp(m->path, exe), &alloc))
			continue;
		err = la->probe(la->arg, pid, &alloc);
		if (err) {
			fprintf(stderr, "leaksnoop: PID %d mapped %s after attach and it cannot be "
				"probed (%s): what it allocates is not seen\n", (int)pid, m->path,
				strerror(-err));
			continue;
		}
		if (mapped_ns)
			note_probed(la, pid, &alloc, mapped_ns);
		else if (la->verbose)
			fprintf(stderr, "leaksnoop: also probing %s (%s), mapped by PID %d\n",
				alloc.shown_path, alloc.name, (int)pid);
		probed++;
	}
	mappings_free(&maps);
	return probed;
}

unsigned late_allocators_scan(struct late_allocators *la, pid_t pid)
{
	bool seen = false;

	return la ? judge_mappings(la, pid, 0, 0, true, &seen) : 0;
}

void late_allocators_mapped_at_attach(struct late_allocators *la, pid_t pid)
{
	bool seen = false;

	if (la)
		judge_mappings(la, pid, 0, 0, false, &seen);
}

int late_allocators_fd(const struct late_allocators *la)
{
	return ring_buffer__epoll_fd(la->ring);
}

void late_allocators_poll(struct late_allocators *la)
{
	size_t kept = 0;

	ring_buffer__consume(la->ring);
	for (size_t i = 0; i < la->waiting_count; i++) {
		struct waiting_process *w = &la->waiting[i];
		bool seen = false;

		judge_mappings(la, w->pid, w->ino, w->time_ns, true, &seen);
		/* The event comes before the mapping exists: looked at again until it does. */
		if (!seen && ++w->looks < MAX_LOOKS && !process_gone(w->pid))
			la->waiting[kept++] = *w;
	}
	la->waiting_count = kept;
}

bool late_allocators_waiting(const struct late_allocators *la)
{
	return la->waiting_count > 0;
}

const struct late_allocator *late_allocators_list(const struct late_allocators *la,
						  size_t *count)
{
	*count = la ? la->probed_count : 0;
	return la ? la->probed : NULL;
}
