// SPDX-License-Identifier: MIT
/* Parsing /proc/PID/maps lines and files (user/target/procmaps.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target/procmaps.h"

Test(procmaps, parses_a_file_mapping)
{
	struct mapping m;

	cr_assert_eq(mapping_parse_line("7f1c2a400000-7f1c2a428000 r-xp 00028000 fd:01 1835020"
					"                    /usr/lib/x86_64-linux-gnu/libc.so.6\n", &m), 0);
	cr_assert_eq(m.start, 0x7f1c2a400000ULL);
	cr_assert_eq(m.end, 0x7f1c2a428000ULL);
	cr_assert_eq(m.file_offset, 0x28000);
	cr_assert_eq(m.dev_major, 0xfd);
	cr_assert_eq(m.dev_minor, 1);
	cr_assert_eq(m.inode, 1835020);
	cr_assert(m.readable && m.executable && !m.writable);
	cr_assert_str_eq(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert(mapping_is_file(&m));
	free(m.path);
}

Test(procmaps, anonymous_and_pseudo_mappings_are_not_files)
{
	struct mapping m;

	cr_assert_eq(mapping_parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0\n", &m), 0);
	cr_assert_str_eq(m.path, "");
	cr_assert_not(mapping_is_file(&m));
	free(m.path);
	cr_assert_eq(mapping_parse_line("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0   [heap]",
					&m), 0);
	cr_assert_str_eq(m.path, "[heap]");
	cr_assert_not(mapping_is_file(&m));
	free(m.path);
}

Test(procmaps, keeps_spaces_and_the_deleted_marker)
{
	struct mapping m;

	cr_assert_eq(mapping_parse_line("1000-2000 r-xp 00000000 08:01 42 /opt/my app/bin (deleted)\n",
					&m), 0);
	cr_assert_str_eq(m.path, "/opt/my app/bin (deleted)");
	cr_assert(mapping_is_deleted(&m));
	free(m.path);
}

Test(procmaps, rejects_malformed_lines)
{
	struct mapping m;

	cr_assert_neq(mapping_parse_line("", &m), 0);
	cr_assert_neq(mapping_parse_line("garbage", &m), 0);
	cr_assert_neq(mapping_parse_line("2000-1000 r-xp 0 08:01 42 /x", &m), 0);
	cr_assert_neq(mapping_parse_line("1000-2000 rx 0 08:01 42 /x", &m), 0);
}

Test(procmaps, reads_a_stream_and_finds_addresses)
{
	static const char text[] =
		"1000-2000 r--p 00000000 08:01 7 /bin/a\n"
		"not a mapping line\n"
		"2000-3000 r-xp 00001000 08:01 7 /bin/a\n"
		"5000-6000 rw-p 00000000 00:00 0\n";
	FILE *stream = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct mapping_list list;

	cr_assert_eq(mappings_read_stream(stream, &list), 0);
	fclose(stream);
	cr_assert_eq(list.count, 3);
	cr_assert_eq(mappings_find(&list, 0x2abc)->file_offset, 0x1000);
	cr_assert_eq(mappings_find(&list, 0x1000)->start, 0x1000);
	cr_assert_null(mappings_find(&list, 0x3000));
	cr_assert_null(mappings_find(&list, 0x4fff));
	cr_assert_eq(mappings_find(&list, 0x5fff)->start, 0x5000);
	mappings_free(&list);
}

Test(procmaps, reads_this_process)
{
	struct mapping_list list;
	const struct mapping *m;

	cr_assert_eq(mappings_read_pid(getpid(), &list), 0);
	m = mappings_find(&list, (uint64_t)(uintptr_t)&mappings_find);
	cr_assert_not_null(m);
	cr_assert(m->executable);
	mappings_free(&list);
}
