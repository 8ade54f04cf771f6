// SPDX-License-Identifier: MIT
/* The command line: every option, its defaults and its errors (user/options.c). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>

#include "options.h"

static int parse(struct options *o, int argc, const char **argv)
{
	return options_parse(argc, (char **)argv, o);
}

Test(options, defaults_follow_the_interface, .init = cr_redirect_stderr)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-p", "42" };

	cr_assert_eq(parse(&o, 3, argv), 0);
	cr_assert_eq(o.pid, 42);
	cr_assert_eq(o.interval_s, 5);
	cr_assert_eq(o.count, 0);
	cr_assert_eq(o.older_ms, 500);
	cr_assert_eq(o.top, 10);
	cr_assert_eq(o.format, FORMAT_TEXT);
}

Test(options, every_option_and_positionals)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-c", "./srv --port 1", "-o", "0", "-T", "3", "-f",
			       "json", "-w", "/tmp/x", "-z", "16", "-Z", "4096", "-O", "/lib/a.so",
			       "-v", "--max-allocs", "100", "--max-stacks", "50", "--no-mmap",
			       "2", "7" };

	cr_assert_eq(parse(&o, sizeof(argv) / sizeof(*argv), argv), 0);
	cr_assert_str_eq(o.command, "./srv --port 1");
	cr_assert_eq(o.older_ms, 0);
	cr_assert_eq(o.top, 3);
	cr_assert_eq(o.format, FORMAT_JSON);
	cr_assert_str_eq(o.output_path, "/tmp/x");
	cr_assert_eq(o.min_size, 16);
	cr_assert_eq(o.max_size, 4096);
	cr_assert_str_eq(o.obj_path, "/lib/a.so");
	cr_assert(o.verbose && o.no_mmap);
	cr_assert_eq(o.max_allocs, 100);
	cr_assert_eq(o.max_stacks, 50);
	cr_assert_eq(o.interval_s, 2);
	cr_assert_eq(o.count, 7);
}

Test(options, usage_errors, .init = cr_redirect_stderr)
{
	struct options o;
	const char *bad[][4] = {
		{ "leaksnoop", "-p", "0", NULL },       { "leaksnoop", "-p", "x", NULL },
		{ "leaksnoop", "-p", "1", "0" },        { "leaksnoop", "-p", "1", "1x" },
		{ "leaksnoop", "--nope", NULL, NULL },  { "leaksnoop", "--growth", NULL, NULL },
		{ "leaksnoop", "-p", "1", "-fxml" },    { "leaksnoop", "-c", "", NULL },
		{ "leaksnoop", "-p", "99999999999", NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int argc = 0;

		while (argc < 4 && bad[i][argc])
			argc++;
		cr_assert_eq(parse(&o, argc, bad[i]), -EINVAL, "case %zu", i);
	}
}

Test(options, pid_given_again_adds_processes)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-p", "10", "-p", "20", "--pid", "30" };
	const char *with_growth[] = { "leaksnoop", "-p", "10", "-p", "20", "--growth" };

	cr_assert_eq(parse(&o, 7, argv), 0);
	cr_assert_eq(o.pid, 10);
	cr_assert_eq(o.more_pid_count, 2);
	cr_assert_eq(o.more_pids[0], 20);
	cr_assert_eq(o.more_pids[1], 30);
	cr_redirect_stderr();
	cr_assert_eq(parse(&o, 6, with_growth), -EINVAL);
}

Test(options, no_target_is_system_wide_without_thread_tracking)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "--kernel", "2" };

	cr_assert_eq(parse(&o, 3, argv), 0);
	cr_assert(o.system_wide);
	cr_assert(o.no_threads);
	cr_assert(o.kernel);
	cr_assert_eq(o.interval_s, 2);
}

Test(options, size_range_must_be_ordered, .init = cr_redirect_stderr)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-p", "1", "-z", "100", "-Z", "10" };

	cr_assert_eq(parse(&o, 7, argv), -EINVAL);
}

Test(options, help_is_served_not_an_error, .init = cr_redirect_stdout)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "--help" };

	cr_assert_eq(parse(&o, 2, argv), 1);
}

Test(options, leak_check_options, .init = cr_redirect_stderr)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-c", "./t", "--leak-check", "--error-exitcode", "23",
			       "--suppressions", "s.txt", "--sort", "lost",
			       "--leak-check-max-bytes", "512M" };
	const char *bad[][6] = {
		{ "leaksnoop", "--leak-check" },                            /* system-wide */
		{ "leaksnoop", "-c", "t", "--leak-check", "--growth" },
		{ "leaksnoop", "-c", "t", "--leak-check", "-s", "4" },
		{ "leaksnoop", "-c", "t", "--sort", "lost" },               /* no --leak-check */
		{ "leaksnoop", "-c", "t", "--error-exitcode", "256" },
		{ "leaksnoop", "-c", "t", "--leak-check-max-bytes", "0" },
	};
	const int bad_argc[] = { 2, 5, 6, 5, 5, 5 };

	cr_assert_eq(parse(&o, sizeof(argv) / sizeof(*argv), argv), 0);
	cr_assert(o.leak_check && o.sort_by_lost && !o.sort_by_growth);
	cr_assert_eq(o.error_exitcode, 23);
	cr_assert_str_eq(o.suppressions_path, "s.txt");
	cr_assert_eq(o.leak_check_max_bytes, 512ULL << 20);
	cr_assert_eq(parse(&o, 3, (const char *[]){ "leaksnoop", "-c", "t" }), 0);
	cr_assert_eq(o.error_exitcode, -1, "no --error-exitcode: the command's own status");
	cr_assert_eq(o.leak_check_max_bytes, LS_DEFAULT_LEAK_CHECK_MAX_BYTES);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(parse(&o, bad_argc[i], bad[i]), -EINVAL, "case %zu", i);
}

Test(options, escalation_options, .init = cr_redirect_stderr)
{
	struct options o;
	const char *argv[] = { "leaksnoop", "-p", "7", "--growth", "--escalate", "--escalate-after",
			       "4", "--escalate-bytes", "2M", "--escalate-for", "30" };
	const char *bad[][6] = {
		{ "leaksnoop", "-p", "7", "--escalate" },                  /* no --growth */
		{ "leaksnoop", "-p", "7", "--growth", "--escalate-after", "0" },
		{ "leaksnoop", "-p", "7", "--growth", "--escalate-bytes", "0" },
		{ "leaksnoop", "-p", "7", "--growth", "--escalate-for", "x" },
	};
	const int bad_argc[] = { 4, 6, 6, 6 };

	cr_assert_eq(parse(&o, sizeof(argv) / sizeof(*argv), argv), 0);
	cr_assert(o.growth && o.escalate);
	cr_assert_eq(o.escalate_after, 4);
	cr_assert_eq(o.escalate_bytes, 2ULL << 20);
	cr_assert_eq(o.escalate_for_s, 30);
	cr_assert_eq(parse(&o, 6, (const char *[]){ "leaksnoop", "-p", "7", "--growth", "--escalate",
						  "--leak-check" }), 0);
	cr_assert(o.leak_check); /* each escalation checked */
	cr_assert_eq(parse(&o, 4, (const char *[]){ "leaksnoop", "-p", "7", "--growth" }), 0);
	cr_assert(!o.escalate);
	cr_assert_eq(o.escalate_after, 3);
	cr_assert_eq(o.escalate_bytes, 1ULL << 20);
	cr_assert_eq(o.escalate_for_s, 60);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(parse(&o, bad_argc[i], bad[i]), -EINVAL, "case %zu", i);
}
