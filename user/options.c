// SPDX-License-Identifier: MIT
/*
 * Parsing the command line (getopt_long) into struct options, with one line
 * for each bad input and --help's text; and fail(), every failure's one line.
 * Checks that need the target or the kernel are attach/preflight.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaksnoop.h"
#include "options.h"
#include "version.h"

static const char usage_text[] =
"Usage: leaksnoop [OPTIONS] [INTERVAL [COUNT]]\n"
"Report the call stacks holding memory that a running process has not freed.\n"
"\n"
"  -p, --pid PID          attach to running process PID (no restart)\n"
"  -c, --command \"CMD\"    start CMD with the probes already attached\n"
"                         (neither: system-wide, every process using the\n"
"                         allocator, reported per process)\n"
"  INTERVAL               seconds between reports (default 5)\n"
"  COUNT                  reports to print, then exit (default: until Ctrl-C\n"
"                         or the target exits)\n"
"  -o, --older MS         report only allocations older than MS ms (default 500)\n"
"  -T, --top N            show the N biggest stacks (default 10)\n"
"      --sample TYPE      what folded and svg output weigh: inuse_space (default),\n"
"                         inuse_objects, alloc_space, alloc_objects, fds (--fds)\n"
"      --sort KEY         bytes (default: most held first), growth (steadiest\n"
"                         growth first: the leak score) or lost (with\n"
"                         --leak-check: most definitely and indirectly lost first)\n"
"  -f, --format FMT       text (default), json (one object per line), folded,\n"
"                         pprof (gzip'd profile.proto per report: PATH, PATH.1...),\n"
"                         svg (interactive flame graph per report, same naming)\n"
"  -w, --output PATH      write reports to PATH instead of stdout\n"
"      --top-view         on a terminal: one screen per report, redrawn in place\n"
"      --listen ADDR:PORT serve /metrics (Prometheus) and /debug/pprof/heap (pprof)\n"
"                         while tracing; loopback only unless --listen-public\n"
"  -z, --min-size BYTES   ignore allocations smaller than BYTES\n"
"  -Z, --max-size BYTES   ignore allocations larger than BYTES\n"
"  -O, --obj PATH         allocator library/binary to probe (default: detected)\n"
"  -s, --sample-rate N    record about one allocation in N, scale estimates by N\n"
"                         (default 1: every allocation, exact)\n"
"      --growth           growth mode: no probe on any call; new memory (pages\n"
"                         first written) per stack, for always-on use\n"
"      --escalate         with --growth: when the target's new memory grows for\n"
"                         --escalate-after reports in a row (default 3) by at least\n"
"                         --escalate-bytes each (default 1M), trace it exactly for\n"
"                         --escalate-for SECONDS (default 60), report its exact\n"
"                         stacks (\"escalated\"), then go back to growth mode\n"
"      --near-limit PERCENT  an extra report when the target's memory cgroup\n"
"                         nears its limit: v1, usage at PERCENT of it (default\n"
"                         90); v2, memory.high or memory.max events; 0: none\n"
"      --comm NAME        system-wide: only processes named NAME (as in ps -o comm)\n"
"      --cgroup PATH      system-wide: only processes in cgroup v2 directory PATH\n"
"                         or below it\n"
"      --kernel           also trace the kernel allocations made on the target's\n"
"                         behalf, or system-wide every process's (kmalloc,\n"
"                         kmem_cache, pages, percpu, vmalloc), per kernel stack\n"
"      --unwind fp|dwarf  how stacks are walked: frame pointers (default), or\n"
"                         each module's .eh_frame call frame information, for\n"
"                         code built without frame pointers (costs more per\n"
"                         allocation; see the README)\n"
"      --fds              also track file descriptors (open, socket, accept, pipe,\n"
"                         dup, eventfd, ...) until closed, per opening stack\n"
"      --max-fds N        open descriptors tracked (default 65536)\n"
"      --no-mmap          do not track anonymous mmap regions\n"
"      --no-threads       do not track thread creation, join, detach and exit\n"
"      --children-when-seen  probe a child the target forks when it is seen (~20 ms\n"
"                         after fork) instead of inheriting the probes in fork:\n"
"                         cheaper pthread_create and fork, a window in each child\n"
"      --go               track goroutines (automatic for Go executables)\n"
"      --go-allocs        Go: sample allocations through runtime.mallocgc (about\n"
"                         1 us per Go allocation; without it the runtime's own\n"
"                         memory-profile samples are used when it takes them)\n"
"      --leak-check       at each report, hold the target still for a moment and\n"
"                         tell which blocks are definitely, indirectly or\n"
"                         possibly lost or still reachable, as valgrind does; with\n"
"                         -c the last check is made as the command exits\n"
"      --leak-check-max-bytes BYTES  memory copied for a check at most (default\n"
"                         4G; suffixes K, M, G); past it the check is skipped\n"
"      --suppressions FILE  LeakSanitizer's leak:PATTERN lines: stacks matching\n"
"                         are left out of the verdicts and of --error-exitcode\n"
"      --error-exitcode N exit with N when the final report shows a leak: a\n"
"                         definitely or indirectly lost block (--leak-check), a\n"
"                         leaked thread, a goroutine started after attach\n"
"      --max-allocs N     outstanding blocks tracked (default 1048576)\n"
"      --max-stacks N     distinct stacks tracked (default 16384)\n"
"  -v, --verbose          say what is attached and why\n"
"      --floor entry|chosen|fds  benchmarking: attach empty probes only (at the\n"
"                         functions' entries, where leaksnoop would, or on --fds's\n"
"                         system call tracepoints), no reports\n"
"  -h, --help             this text\n"
"      --version          print the version\n"
"\n"
"Examples:\n"
"  sudo leaksnoop -p $(pidof server) 10     report every 10 s until Ctrl-C\n"
"  sudo leaksnoop -c ./demo 2 3 -f json      three JSON reports, 2 s apart\n";

enum long_only {
	OPT_VERSION = 0x100,
	OPT_NO_THREADS,
	OPT_CHILDREN_WHEN_SEEN,
	OPT_NO_MMAP,
	OPT_MAX_ALLOCS,
	OPT_MAX_STACKS,
	OPT_FLOOR,
	OPT_GO,
	OPT_GO_ALLOCS,
	OPT_SORT,
	OPT_LISTEN,
	OPT_LISTEN_PUBLIC,
	OPT_SAMPLE,
	OPT_TOP_VIEW,
	OPT_GROWTH,
	OPT_KERNEL,
	OPT_COMM,
	OPT_CGROUP,
	OPT_UNWIND,
	OPT_LEAK_CHECK,
	OPT_LEAK_CHECK_MAX_BYTES,
	OPT_SUPPRESSIONS,
	OPT_ERROR_EXITCODE,
	OPT_ESCALATE,
	OPT_ESCALATE_AFTER,
	OPT_ESCALATE_BYTES,
	OPT_ESCALATE_FOR,
	OPT_NEAR_LIMIT,
	OPT_FDS,
	OPT_MAX_FDS,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "command", required_argument, NULL, 'c' },
	{ "older", required_argument, NULL, 'o' },
	{ "top", required_argument, NULL, 'T' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'w' },
	{ "min-size", required_argument, NULL, 'z' },
	{ "max-size", required_argument, NULL, 'Z' },
	{ "obj", required_argument, NULL, 'O' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "no-threads", no_argument, NULL, OPT_NO_THREADS },
	{ "children-when-seen", no_argument, NULL, OPT_CHILDREN_WHEN_SEEN },
	{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "sample-rate", required_argument, NULL, 's' },
	{ "floor", required_argument, NULL, OPT_FLOOR },
	{ "go", no_argument, NULL, OPT_GO },
	{ "go-allocs", no_argument, NULL, OPT_GO_ALLOCS },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "top-view", no_argument, NULL, OPT_TOP_VIEW },
	{ "growth", no_argument, NULL, OPT_GROWTH },
	{ "escalate", no_argument, NULL, OPT_ESCALATE },
	{ "escalate-after", required_argument, NULL, OPT_ESCALATE_AFTER },
	{ "escalate-bytes", required_argument, NULL, OPT_ESCALATE_BYTES },
	{ "escalate-for", required_argument, NULL, OPT_ESCALATE_FOR },
	{ "near-limit", required_argument, NULL, OPT_NEAR_LIMIT },
	{ "fds", no_argument, NULL, OPT_FDS },
	{ "max-fds", required_argument, NULL, OPT_MAX_FDS },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "listen-public", no_argument, NULL, OPT_LISTEN_PUBLIC },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "leak-check", no_argument, NULL, OPT_LEAK_CHECK },
	{ "leak-check-max-bytes", required_argument, NULL, OPT_LEAK_CHECK_MAX_BYTES },
	{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "leaksnoop: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see leaksnoop --help)\n");
	return -EINVAL;
}

static int parse_u64(const char *text, uint64_t *value)
{
	char *end;
	unsigned long long parsed;

	if (!text || !*text || *text == '-')
		return -EINVAL;
	errno = 0;
	parsed = strtoull(text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*value = parsed;
	return 0;
}

int parse_positive(const char *text, unsigned *value)
{
	uint64_t parsed;

	if (parse_u64(text, &parsed) || parsed == 0 || parsed > UINT_MAX)
		return -EINVAL;
	*value = parsed;
	return 0;
}

static int parse_unsigned(const char *text, unsigned *value)
{
	uint64_t parsed;

	if (parse_u64(text, &parsed) || parsed > UINT_MAX)
		return -EINVAL;
	*value = parsed;
	return 0;
}

static int parse_format(const char *text, enum output_format *format)
{
	if (!strcmp(text, "text"))
		*format = FORMAT_TEXT;
	else if (!strcmp(text, "json"))
		*format = FORMAT_JSON;
	else if (!strcmp(text, "folded"))
		*format = FORMAT_FOLDED;
	else if (!strcmp(text, "pprof"))
		*format = FORMAT_PPROF;
	else if (!strcmp(text, "svg"))
		*format = FORMAT_SVG;
	else
		return -EINVAL;
	return 0;
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->interval_s = 5;
	opts->older_ms = 500;
	opts->top = 10;
	opts->max_size = UINT64_MAX;
	opts->sample_rate = 1;
	opts->max_allocs = LS_DEFAULT_MAX_ALLOCS;
	opts->max_stacks = LS_DEFAULT_MAX_STACKS;
	opts->leak_check_max_bytes = LS_DEFAULT_LEAK_CHECK_MAX_BYTES;
	opts->error_exitcode = -1;
	opts->escalate_after = 3;
	opts->escalate_bytes = 1 << 20;
	opts->escalate_for_s = 60;
	opts->near_limit_percent = 90;
	opts->max_fds = LS_DEFAULT_MAX_FDS;
}

/* Bytes, with an optional binary suffix K, M or G. */
static int parse_bytes(const char *text, uint64_t *value)
{
	char *end;
	unsigned long long parsed;
	unsigned shift = 0;

	if (!text[0] || text[0] == '-')
		return -EINVAL;
	errno = 0;
	parsed = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || !parsed || parsed > (UINT64_MAX >> shift))
		return -EINVAL;
	*value = (uint64_t)parsed << shift;
	return 0;
}

static int parse_option(int opt, const char *arg, struct options *opts)
{
	unsigned number;

	switch (opt) {
	case 'p':
		if (parse_positive(arg, &number) || number > INT_MAX)
			return usage_error("invalid PID '%s': expected a positive number", arg);
		if (!opts->pid) {
			opts->pid = number;
			return 0;
		}
		/* -p again: more processes, each traced and reported by PID. */
		if (opts->more_pid_count == LS_MAX_MORE_PIDS)
			return usage_error("too many -p: at most %s processes", "32");
		opts->more_pids[opts->more_pid_count++] = number;
		return 0;
	case 'c':
		if (!*arg)
			return usage_error("%s-c needs a command to run", "");
		opts->command = arg;
		return 0;
	case 'o':
		if (parse_unsigned(arg, &opts->older_ms))
			return usage_error("invalid age '%s': expected milliseconds >= 0", arg);
		return 0;
	case 'T':
		if (parse_positive(arg, &opts->top))
			return usage_error("invalid top count '%s': expected a positive number", arg);
		return 0;
	case 'f':
		if (parse_format(arg, &opts->format))
			return usage_error("unknown format '%s': use text, json, folded, pprof or svg", arg);
		return 0;
	case 'w':
		opts->output_path = arg;
		return 0;
	case 'z':
		if (parse_u64(arg, &opts->min_size))
			return usage_error("invalid size '%s': expected bytes", arg);
		return 0;
	case 'Z':
		if (parse_u64(arg, &opts->max_size))
			return usage_error("invalid size '%s': expected bytes", arg);
		return 0;
	case 'O':
		opts->obj_path = arg;
		return 0;
	case 'v':
		opts->verbose = true;
		return 0;
	case OPT_CHILDREN_WHEN_SEEN:
		opts->children_when_seen = true;
		return 0;
	case OPT_NO_THREADS:
		opts->no_threads = true;
		return 0;
	case OPT_SAMPLE: {
		static const char *const names[] = { "inuse_space", "inuse_objects", "alloc_space",
						     "alloc_objects", "fds" };

		for (int i = 0; i < 5; i++)
			if (!strcmp(arg, names[i])) {
				opts->sample_type = i;
				return 0;
			}
		return usage_error("unknown sample type '%s': use inuse_space, inuse_objects, "
				   "alloc_space, alloc_objects or fds", arg);
	}
	case OPT_GROWTH:
		opts->growth = true;
		return 0;
	case OPT_FDS:
		opts->fds = true;
		return 0;
	case OPT_MAX_FDS:
		if (parse_positive(arg, &number) || number > (1u << 24))
			return usage_error("invalid --max-fds '%s': expected a number from 1 to "
					   "16777216", arg);
		opts->max_fds = number;
		return 0;
	case OPT_ESCALATE:
		opts->escalate = true;
		return 0;
	case OPT_ESCALATE_AFTER:
		if (parse_positive(arg, &opts->escalate_after))
			return usage_error("invalid --escalate-after '%s': expected a positive number "
					   "of reports", arg);
		return 0;
	case OPT_ESCALATE_BYTES:
		if (parse_bytes(arg, &opts->escalate_bytes) || !opts->escalate_bytes)
			return usage_error("invalid --escalate-bytes '%s': expected bytes, e.g. 1M", arg);
		return 0;
	case OPT_NEAR_LIMIT: {
		char *end;
		unsigned long percent = strtoul(arg, &end, 10);

		if (!*arg || *end || percent > 100)
			return usage_error("invalid --near-limit '%s': expected a percentage, 0 to 100",
					   arg);
		opts->near_limit_percent = (unsigned)percent;
		return 0;
	}
	case OPT_ESCALATE_FOR:
		if (parse_positive(arg, &opts->escalate_for_s))
			return usage_error("invalid --escalate-for '%s': expected a positive number of "
					   "seconds", arg);
		return 0;
	case OPT_KERNEL:
		opts->kernel = true;
		return 0;
	case OPT_UNWIND:
		if (!strcmp(arg, "dwarf"))
			opts->unwind_dwarf = true;
		else if (strcmp(arg, "fp"))
			return usage_error("unknown unwinder '%s': use fp or dwarf", arg);
		return 0;
	case OPT_COMM:
		if (!*arg || strlen(arg) > 15)
			return usage_error("invalid --comm '%s': a process name of 1 to 15 characters", arg);
		opts->comm = arg;
		return 0;
	case OPT_CGROUP:
		opts->cgroup = arg;
		return 0;
	case OPT_TOP_VIEW:
		opts->top_view = true;
		return 0;
	case OPT_LISTEN:
		opts->listen = arg;
		return 0;
	case OPT_LISTEN_PUBLIC:
		opts->listen_public = true;
		return 0;
	case OPT_SORT:
		opts->sort_by_growth = !strcmp(arg, "growth");
		opts->sort_by_lost = !strcmp(arg, "lost");
		if (!opts->sort_by_growth && !opts->sort_by_lost && strcmp(arg, "bytes"))
			return usage_error("unknown sort '%s': use bytes, growth or lost", arg);
		return 0;
	case OPT_LEAK_CHECK:
		opts->leak_check = true;
		return 0;
	case OPT_LEAK_CHECK_MAX_BYTES:
		if (parse_bytes(arg, &opts->leak_check_max_bytes))
			return usage_error("invalid --leak-check-max-bytes '%s': expected bytes, "
					   "e.g. 512M or 8G", arg);
		return 0;
	case OPT_SUPPRESSIONS:
		opts->suppressions_path = arg;
		return 0;
	case OPT_ERROR_EXITCODE:
		if (parse_positive(arg, &number) || number > 255)
			return usage_error("invalid --error-exitcode '%s': expected 1 to 255", arg);
		opts->error_exitcode = (int)number;
		return 0;
	case OPT_GO_ALLOCS:
		opts->go_allocs = true;
		return 0;
	case OPT_GO:
		opts->force_go = true;
		return 0;
	case OPT_NO_MMAP:
		opts->no_mmap = true;
		return 0;
	case OPT_MAX_ALLOCS:
		if (parse_positive(arg, &opts->max_allocs))
			return usage_error("invalid --max-allocs '%s': expected a positive number", arg);
		return 0;
	case 's':
		if (parse_positive(arg, &opts->sample_rate))
			return usage_error("invalid sample rate '%s': expected a positive number", arg);
		return 0;
	case OPT_FLOOR:
		if (!strcmp(arg, "entry"))
			opts->floor = 1;
		else if (!strcmp(arg, "chosen"))
			opts->floor = 2;
		else if (!strcmp(arg, "fds"))
			opts->floor = 3;
		else
			return usage_error("unknown floor '%s': use entry, chosen or fds", arg);
		return 0;
	case OPT_MAX_STACKS:
		if (parse_positive(arg, &opts->max_stacks) || opts->max_stacks > LS_MAX_STACKS_LIMIT) /* 16777215 */
			return usage_error("invalid --max-stacks '%s': expected a number from 1 to 16777215",
					   arg);
		return 0;
	}
	return -EINVAL;
}

static int parse_positionals(int argc, char **argv, struct options *opts)
{
	if (argc > 2)
		return usage_error("unexpected argument '%s'", argv[2]);
	if (argc >= 1 && parse_positive(argv[0], &opts->interval_s))
		return usage_error("invalid INTERVAL '%s': expected a positive number of seconds", argv[0]);
	if (argc == 2 && parse_positive(argv[1], &opts->count))
		return usage_error("invalid COUNT '%s': expected a positive number", argv[1]);
	return 0;
}

int options_parse(int argc, char **argv, struct options *opts)
{
	int opt;

	set_defaults(opts);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":p:c:o:T:f:w:z:Z:O:s:vh", long_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (opt == OPT_VERSION) {
			printf("leaksnoop %s\n", LEAKSNOOP_VERSION);
			return 1;
		}
		if (opt == '?') {
			if (optopt) {
				char shown[3] = { '-', (char)optopt, '\0' };

				return usage_error("unknown option '%s'", shown);
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (opt == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		if (parse_option(opt, optarg, opts))
			return -EINVAL;
	}
	if (parse_positionals(argc - optind, argv + optind, opts))
		return -EINVAL;
	if (opts->pid && opts->command)
		return usage_error("%suse either -p PID or -c CMD, not both", "");
	if (opts->more_pid_count && (opts->growth || opts->force_go || opts->command))
		return usage_error("%s-p more than once traces heaps: not with --growth, --go or -c",
				   "");
	if ((opts->comm || opts->cgroup) && (opts->pid || opts->command))
		return usage_error("%s--comm and --cgroup choose processes system-wide: drop -p/-c",
				   "");
	if (!opts->pid && !opts->command) {
		opts->system_wide = true;
		opts->no_threads = true; /* thread tracking follows one process */
		if (opts->growth || opts->force_go || opts->go_allocs)
			return usage_error("%s--growth and Go tracking follow one process: add -p PID "
					   "or -c CMD", "");
	}
	if (opts->unwind_dwarf && (opts->growth || opts->force_go))
		return usage_error("%s--unwind dwarf walks the stacks of allocator calls: not with "
				   "--growth or --go", "");
	if ((opts->format == FORMAT_PPROF || opts->format == FORMAT_SVG) && !opts->output_path)
		return usage_error("%s-f pprof and -f svg write one file per report: name it with "
				   "-w PATH", "");
	if (opts->leak_check && (opts->system_wide || opts->more_pid_count))
		return usage_error("%s--leak-check reads one process's memory: give one -p PID or "
				   "-c CMD", "");
	if (opts->fds && (opts->system_wide || opts->growth))
		return usage_error("%s--fds follows one program's descriptors: give -p PID or -c CMD, "
				   "without --growth", "");
	if (opts->escalate && !opts->growth)
		return usage_error("%s--escalate turns growth mode exact for a while: add --growth", "");
	if (opts->leak_check && opts->growth && !opts->escalate)
		return usage_error("%s--leak-check needs every block's address: not with --growth "
				   "(with --escalate, each escalation is checked)", "");
	if (opts->leak_check && opts->sample_rate > 1)
		return usage_error("%s--leak-check needs every block: not with -s", "");
	if (opts->sort_by_lost && !opts->leak_check)
		return usage_error("%s--sort lost ranks the leak check's verdicts: add --leak-check",
				   "");
	if (opts->min_size > opts->max_size)
		return usage_error("%s--min-size is larger than --max-size", "");
	return 0;
}
