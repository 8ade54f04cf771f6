// SPDX-License-Identifier: MIT
/* Containers named by cgroup v2 paths, and this process's own path (user/target/cgroup.c). */
#include <criterion/criterion.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "target/cgroup.h"

#define ID "4f1a9c0b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"

static void assert_names(const char *path, const char *want)
{
	char id[128] = "";

	cr_assert(cgroup_container_id(path, id, sizeof(id)), "%s names no container", path);
	cr_assert_str_eq(id, want, "%s", path);
}

Test(cgroup, docker_with_the_systemd_driver)
{
	assert_names("/system.slice/docker-" ID ".scope", ID);
}

Test(cgroup, docker_with_the_cgroupfs_driver)
{
	assert_names("/docker/" ID, ID);
}

Test(cgroup, kubernetes_with_containerd_and_cri_o)
{
	assert_names("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/"
		     "cri-containerd-" ID ".scope", ID);
	assert_names("/kubepods.slice/kubepods-burstable.slice/crio-" ID ".scope", ID);
	assert_names("/kubepods/besteffort/pod0c1d/" ID, ID);
}

Test(cgroup, podman_and_a_process_inside_its_container)
{
	assert_names("/machine.slice/libpod-" ID ".scope", ID);
	/* A process in a sub-cgroup the container made: the container's id still. */
	assert_names("/machine.slice/libpod-" ID ".scope/container/init.scope", ID);
}

Test(cgroup, a_systemd_nspawn_machine_by_name)
{
	assert_names("/machine.slice/machine-web\\x2dfront.scope", "web-front");
}

Test(cgroup, services_sessions_and_conmon_name_no_container)
{
	static const char *const none[] = {
		"/", "/system.slice/nginx.service", "/user.slice/user-1000.slice/session-3.scope",
		"/machine.slice/libpod-conmon-" ID ".scope", "/docker/" "abc",
		"/system.slice/docker-" ID "0.scope",
	};
	char id[128];

	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
		cr_assert_not(cgroup_container_id(none[i], id, sizeof(id)), "%s", none[i]);
}

Test(cgroup, this_process_has_a_path_and_its_directory_gives_it_back)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char path[4096], dir[8192], again[4096];
	struct statfs fs;
	struct stat st;
	size_t r = 0;

	cr_assert_eq(cgroup_of_pid(getpid(), path, sizeof(path)), 0);
	cr_assert_eq(path[0], '/');
	cr_assert_lt(cgroup_of_pid(999999999, again, sizeof(again)), 0);
	/* The directory's inode is the cgroup's id, as the BPF side reads it. */
	for (; r < sizeof(roots) / sizeof(*roots); r++) {
		snprintf(dir, sizeof(dir), "%s%s", roots[r], path);
		if (!statfs(dir, &fs) && fs.f_type == CGROUP2_SUPER_MAGIC && !stat(dir, &st))
			break;
	}
	cr_assert_lt(r, sizeof(roots) / sizeof(*roots), "no cgroup v2 mount holds %s", path);
	cr_assert_eq(cgroup_path_of_id(st.st_ino, again, sizeof(again)), 0);
	cr_assert_str_eq(again, path);
	cr_assert_lt(cgroup_path_of_id(1ULL << 62, again, sizeof(again)), 0);
}
