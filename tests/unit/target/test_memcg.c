// SPDX-License-Identifier: MIT
/* Memory cgroups' paths, limits and counters as the OOM reports read them (user/target/memcg.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "target/memcg.h"

Test(memcg, a_hybrid_hierarchy_limits_with_v1s_memory_controller)
{
	const char *text = "12:pids:/user.slice\n"
			   "4:memory,kmem:/process_api/abc\n"
			   "1:name=systemd:/\n"
			   "0::/user.slice/session-1.scope\n";
	char path[256];

	cr_assert_eq(memcg_path_in(text, path, sizeof(path)), 1);
	cr_assert_str_eq(path, "/process_api/abc");
}

Test(memcg, v2_alone_is_the_empty_controllers_line)
{
	char path[256];

	cr_assert_eq(memcg_path_in("0::/system.slice/x.service\n", path, sizeof(path)), 2);
	cr_assert_str_eq(path, "/system.slice/x.service");
}

Test(memcg, a_controller_named_like_memory_is_not_it)
{
	char path[256];

	cr_assert_eq(memcg_path_in("3:memory_extra:/a\n0::/b\n", path, sizeof(path)), 2);
	cr_assert_str_eq(path, "/b");
	cr_assert_eq(memcg_path_in("", path, sizeof(path)), -ENOENT);
}

Test(memcg, limits_max_and_v1s_unlimited_are_none)
{
	uint64_t bytes = 1;

	cr_assert_eq(memcg_parse_limit("max\n", &bytes), 0);
	cr_assert_eq(bytes, 0);
	cr_assert_eq(memcg_parse_limit("9223372036854771712\n", &bytes), 0);
	cr_assert_eq(bytes, 0);
	cr_assert_eq(memcg_parse_limit("67108864\n", &bytes), 0);
	cr_assert_eq(bytes, 67108864);
	cr_assert_eq(memcg_parse_limit("lots\n", &bytes), -EINVAL);
}

Test(memcg, keyed_counters_by_whole_key)
{
	const char *events = "low 0\nhigh 12\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n";

	cr_assert_eq(memcg_parse_key(events, "oom_kill"), 2);
	cr_assert_eq(memcg_parse_key(events, "oom"), 1);
	cr_assert_eq(memcg_parse_key(events, "high"), 12);
	cr_assert_eq(memcg_parse_key(events, "swap"), 0);
	cr_assert_eq(memcg_parse_key("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n", "oom_kill"), 5);
}

Test(memcg, this_process_has_one)
{
	struct memcg m;

	cr_assert_eq(memcg_read(getpid(), &m), 0);
	cr_assert(m.version == 1 || m.version == 2);
	cr_assert_eq(m.path[0], '/');
	/* v2's root cgroup counts nothing of its own. */
	cr_assert(m.usage_bytes > 0 || !strcmp(m.path, "/"));
}
