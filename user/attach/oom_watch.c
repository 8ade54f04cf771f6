// SPDX-License-Identifier: MIT
/* OOM victims from the mark_victim tracepoint's ring buffer (oom_watch.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leaksnoop.h"
#include "oom.skel.h"
#include "oom_watch.h"

struct oom_watch {
	struct oom_bpf *skel;
	struct ring_buffer *ring;
	oom_kill_fn told;
	void *arg;
	uint64_t page_bytes;
};

static int on_victim(void *ctx, void *data, size_t size)
{
	struct oom_watch *w = ctx;
	const struct oom_victim_event *event = data;
	struct oom_kill kill = { 0 };

	if (size < sizeof(*event))
		return 0;
	kill.tgid = (pid_t)event->tgid;
	kill.chooser = (pid_t)event->chooser_tgid;
	memcpy(kill.comm, event->comm, sizeof(kill.comm) - 1);
	kill.total_vm_bytes = event->total_vm_pages * w->page_bytes;
	kill.rss_anon_bytes = event->anon_pages * w->page_bytes;
	kill.rss_file_bytes = event->file_pages * w->page_bytes;
	kill.rss_shmem_bytes = event->shmem_pages * w->page_bytes;
	/*
	 * Its cgroup as the kernel had it when it chose (the dying process
	 * leaves it soon).
	 */
	kill.memcg_read = (event->memcg_id && !memcg_read_id(event->memcg_id, &kill.memcg)) ||
			  !memcg_read(kill.tgid, &kill.memcg);
	/* The usage when it was chosen: by now the OOM reaper is freeing its memory. */
	kill.limit_reached = event->limit_pages != 0;
	if (kill.memcg_read)
		kill.memcg.usage_bytes = event->usage_pages * w->page_bytes;
	w->told(w->arg, &kill);
	return 0;
}

struct oom_watch *oom_watch_new(void)
{
	struct oom_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->page_bytes = (uint64_t)sysconf(_SC_PAGESIZE);
	w->skel = oom_bpf__open_and_load();
	if (!w->skel)
		goto fail;
	err = oom_bpf__attach(w->skel);
	if (err) {
		errno = -err;
		goto fail;
	}
	w->ring = ring_buffer__new(bpf_map__fd(w->skel->maps.oom_victims), on_victim, w, NULL);
	if (!w->ring)
		goto fail;
	return w;
fail:
	err = errno;
	oom_watch_free(w);
	errno = err;
	return NULL;
}

void oom_watch_free(struct oom_watch *w)
{
	if (!w)
		return;
	ring_buffer__free(w->ring);
	oom_bpf__destroy(w->skel);
	free(w);
}

int oom_watch_fd(const struct oom_watch *w)
{
	return w ? ring_buffer__epoll_fd(w->ring) : -1;
}

void oom_watch_poll(struct oom_watch *w, oom_kill_fn told, void *arg)
{
	if (!w)
		return;
	w->told = told;
	w->arg = arg;
	ring_buffer__consume(w->ring);
}

uint64_t oom_watch_dropped(const struct oom_watch *w)
{
	return w && w->skel->bss ? w->skel->bss->oom_victims_dropped : 0;
}
