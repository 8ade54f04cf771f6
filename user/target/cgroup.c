// SPDX-License-Identifier: MIT
/* Cgroup v2 paths of processes and the containers they name (cgroup.h). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"

int cgroup_of_pid(pid_t pid, char *path, size_t size)
{
	char file[64], line[4096];
	int err = -ENOENT;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, size, "%s", line + 3);
		err = 0;
	}
	fclose(f);
	return err;
}

/* Does a mount's super options field ("rw,memory") name controller? */
static bool names_controller(const char *options, const char *controller)
{
	size_t n = strlen(controller);

	for (const char *at = options; (at = strstr(at, controller)); at += n)
		if ((at == options || at[-1] == ',') && (at[n] == ',' || at[n] == '\0' ||
							 at[n] == '\n'))
			return true;
	return false;
}

int cgroup_mount(const char *controller, char *dir, size_t size)
{
	char line[4096], mount_point[4096], fstype[64], options[1024];
	int err = -ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER" */
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) != 1 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, options) != 2)
			continue;
		if (controller ? strcmp(fstype, "cgroup") || !names_controller(options, controller)
			       : strcmp(fstype, "cgroup2"))
			continue;
		snprintf(dir, size, "%s", mount_point);
		err = 0;
	}
	fclose(f);
	return err;
}

/* nftw has no context argument: the search's, one at a time. */
static struct {
	uint64_t id;
	char found[4096];
} search;

static int match_inode(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || (uint64_t)st->st_ino != search.id)
		return 0;
	snprintf(search.found, sizeof(search.found), "%s", path);
	return 1;
}

int cgroup_path_of_id_in(const char *controller, uint64_t id, char *path, size_t size)
{
	char root[4096];
	size_t root_len;
	int err = cgroup_mount(controller, root, sizeof(root));

	if (err)
		return err;
	search.id = id;
	search.found[0] = '\0';
	if (nftw(root, match_inode, 16, FTW_PHYS | FTW_MOUNT) != 1)
		return -ENOENT;
	root_len = strlen(root);
	snprintf(path, size, "%s", search.found[root_len] ? search.found + root_len : "/");
	return 0;
}

int cgroup_path_of_id(uint64_t id, char *path, size_t size)
{
	return cgroup_path_of_id_in(NULL, id, path, size);
}

static bool is_hex_id(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* One path component: a container id in it, or false. */
static bool component_id(const char *name, size_t len, char *id, size_t size)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-",
						"containerd-", "" };
	static const char scope[] = ".scope", machine[] = "machine-";

	if (len > sizeof(scope) - 1 && !memcmp(name + len - (sizeof(scope) - 1), scope,
					       sizeof(scope) - 1))
		len -= sizeof(scope) - 1;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(*prefixes); p++) {
		size_t plen = strlen(prefixes[p]);

		if (len > plen && !memcmp(name, prefixes[p], plen) &&
		    is_hex_id(name + plen, len - plen)) {
			snprintf(id, size, "%.*s", (int)(len - plen), name + plen);
			return true;
		}
	}
	/* systemd escapes a machine name's '-' as \x2d. */
	if (len > sizeof(machine) - 1 && !memcmp(name, machine, sizeof(machine) - 1) &&
	    size) {
		size_t out = 0;

		for (size_t i = sizeof(machine) - 1; i < len && out + 1 < size; i++) {
			if (i + 3 < len && !memcmp(name + i, "\\x2d", 4)) {
				id[out++] = '-';
				i += 3;
			} else {
				id[out++] = name[i];
			}
		}
		id[out] = '\0';
		return out > 0;
	}
	return false;
}

bool cgroup_container_id(const char *path, char *id, size_t size)
{
	size_t end = strlen(path);

	while (end > 0) {
		size_t start = end;

		while (start > 0 && path[start - 1] != '/')
			start--;
		if (end > start && component_id(path + start, end - start, id, size))
			return true;
		end = start ? start - 1 : 0;
	}
	return false;
}
