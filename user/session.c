// SPDX-License-Identifier: MIT
/*
 * The reporting loop: wait for the next interval, a signal, the target's
 * exit or a --listen request; look for new children and new images meanwhile
 * (they run untraced until attached); write each report and the final one.
 * What a report holds is built in session_report.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "attach/late_allocators.h"
#include "attach/launch.h"
#include "attach/oom_watch.h"
#include "attach/procs.h"
#include "collect/unwinder.h"
#include "report/live.h"
#include "session_state.h"
#include "symbols/symbolize.h"

/* How often new children are looked for, in milliseconds; held ones wait for it. */
#define FOLLOW_POLL_MS 20
#define HELD_POLL_MS 2

int session_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	return sigprocmask(SIG_BLOCK, &set, NULL) ? -errno : 0;
}

bool session_stop_requested(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
}

/* pidfd of the target: readable once it exits.  -1 when unsupported. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

/* -c: the command exec'd, reached its entry point or is exiting: read its mappings again. */
static void reload_images(void *arg)
{
	struct session *s = arg;

	symbolizer_refresh(s->symbolizer);
	if (!s->unwinder)
		return;
	if (s->procs)
		proc_follower_poll(s->procs); /* the new image's proc */
	unwinder_poll(s->unwinder, s->procs);
	unwinder_reload_pid(s->unwinder, s->pid);
}

static bool target_gone(struct session *s)
{
	if (s->child)
		return launch_poll(s->child, reload_images, s);
	if (!s->pid)
		return false; /* system-wide: no target to lose */
	if (!(kill(s->pid, 0) && errno == ESRCH))
		return false;
	return !s->more_targets || proc_follower_given_gone(s->procs);
}

/* OOM victims told by the watch in one poll, handled by the loop after it. */
#define MAX_PENDING_KILLS 16
struct pending_kills {
	struct oom_kill kill[MAX_PENDING_KILLS];
	size_t count;
};

static void queue_kill(void *arg, const struct oom_kill *kill)
{
	struct pending_kills *pending = arg;

	if (pending->count < MAX_PENDING_KILLS)
		pending->kill[pending->count++] = *kill;
}

/* The target, or a process followed with it (its children; system-wide, every one). */
static bool traces_process(struct session *s, pid_t tgid)
{
	if (tgid == s->pid)
		return true;
	return s->procs && proc_follower_image_of(s->procs, tgid) != LS_NO_PROC;
}

/* -c: the command's status, once the kill has ended it (at most a few seconds). */
static void await_killed_command(struct session *s)
{
	const struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };

	for (int waited = 0; s->child && waited < 2000 && !target_gone(s); waited++)
		nanosleep(&pause, NULL);
}

/*
 * Each traced process the OOM killer chose gets its report now, while its
 * blocks are still in the maps.  True when the target was one: that report
 * was the session's final one.
 */
static bool report_oom_kills(struct session *s, struct report_state *st, int *err)
{
	struct pending_kills pending = { .count = 0 };
	bool target_killed = false;

	oom_watch_poll(s->oom, queue_kill, &pending);
	for (size_t i = 0; i < pending.count && !target_killed && !*err; i++) {
		const struct oom_kill *kill = &pending.kill[i];

		if (!traces_process(s, kill->tgid))
			continue;
		target_killed = kill->tgid == s->pid && !s->more_targets;
		fprintf(stderr, "leaksnoop: the OOM killer chose pid %d (%s): %s\n",
			(int)kill->tgid, kill->comm, target_killed ? "writing the final report" :
			"writing its report");
		*err = write_oom_report(s, st, kill, target_killed);
	}
	if (target_killed)
		await_killed_command(s);
	return target_killed;
}

int session_run(struct session *s)
{
	const struct options *o = s->opts;
	struct report_state st = { 0 };
	unsigned long long interval_ns = (unsigned long long)o->interval_s * 1000000000ULL;
	unsigned long long next_ns;
	struct pollfd fds[6];
	struct pressure_watch *pressure;
	struct live_context live = { s, &st };
	struct escalation *escalation;
	sigset_t set;
	int sfd, pidfd, err = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	escalation = escalation_new(s);
	pressure = pressure_watch_new(s);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	/* With several -p, the end is when the last one exits: polled, not one pidfd. */
	pidfd = s->more_targets ? -1 : open_pidfd(s->pid);
	if (sfd < 0 || report_state_init(&st, s)) {
		err = -ENOMEM;
		goto out;
	}
	next_ns = s->attach_ns + interval_ns;
	fds[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	fds[3] = (struct pollfd){ .fd = s->late ? late_allocators_fd(s->late) : -1,
				  .events = POLLIN };
	fds[4] = (struct pollfd){ .fd = oom_watch_fd(s->oom), .events = POLLIN };
	fds[5] = (struct pollfd){ .fd = -1 };
	fds[5].fd = pressure_watch_fd(pressure, &fds[5].events);
	for (;;) {
		unsigned long long now = monotonic_ns();
		int timeout_ms = now >= next_ns ? 0 : (int)((next_ns - now + 999999) / 1000000);
		bool final = false, exited = false;
		int ready;

		/*
		 * New children run untraced until attached: look for them often,
		 * unless they inherit the probes (then they are named at reports).
		 */
		if (s->procs && (!s->children_inherit || s->unwinder) && timeout_ms > FOLLOW_POLL_MS)
			timeout_ms = FOLLOW_POLL_MS;
		if (s->children_held && timeout_ms > HELD_POLL_MS)
			timeout_ms = HELD_POLL_MS;
		ready = poll(fds, 6, timeout_ms); /* negative fds are skipped */
		if (s->procs)
			proc_follower_poll(s->procs);
		if (s->late)
			late_allocators_poll(s->late);
		if (s->unwinder)
			unwinder_poll(s->unwinder, s->procs);

		if (ready < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		/* Before the exit is seen: the kill's report is the one that says why. */
		if (s->oom && s->collector && (report_oom_kills(s, &st, &err) || err))
			break;
		if (ready > 0 && fds[5].revents && s->collector &&
		    (err = pressure_watch_handle(pressure, s, &st)))
			break;
		if (ready > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo info;

			if (read(sfd, &info, sizeof(info)) == sizeof(info) &&
			    info.ssi_signo != SIGCHLD)
				final = true;
		}
		if (ready > 0 && s->listen_fd >= 0 && (fds[2].revents & POLLIN) && s->collector)
			live_serve_one(s->listen_fd, render_live, &live);
		/* target_gone first: with -c it reaps the command, whose status is kept. */
		if (target_gone(s) || (ready > 0 && pidfd >= 0 && (fds[1].revents & POLLIN)))
			final = exited = true;
		if (!final && monotonic_ns() < next_ns)
			continue;
		if (!final && o->count && st.seq + 1 >= o->count)
			final = true;
		if (!s->collector) { /* --floor: probes only, nothing to report */
			if (final)
				break;
			next_ns += interval_ns;
			continue;
		}
		if (escalation_active(escalation)) {
			err = escalation_write_report(escalation, s, &st, final, exited);
		} else {
			err = write_report(s, &st, final, exited);
			if (!err && !final)
				escalation_after_report(escalation, s, &st);
		}
		if (err || final)
			break;
		next_ns += interval_ns;
		pressure_watch_rearm(pressure, s);
		fds[5].fd = pressure_watch_fd(pressure, &fds[5].events);
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	if (sfd >= 0)
		close(sfd);
	escalation_free(escalation, s);
	pressure_watch_free(pressure);
	report_state_free(&st);
	return err;
}
