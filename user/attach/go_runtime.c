// SPDX-License-Identifier: MIT
/*
 * The Go runtime of one executable: runtime.newproc, goexit1, profilealloc
 * and mallocgc placed (on their stack checks' jumps where the code allows),
 * runtime.g's layout and the runtime's globals (go_offsets.c), and
 * MemProfileRate read through /proc/PID/mem.  It never writes to the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target/elf_module.h"
#include "go_runtime.h"
#include "probe_point.h"
#include "target/procmaps.h"

bool go_is_binary(const char *path)
{
	static const char *const names[] = { "runtime.newproc", "runtime.goexit1", NULL };

	return elf_file_defines(path, names);
}

/*
 * File offset of the probe for a Go function: past the stack-bound check
 * (cmp 0x10(%r14),%rsp; jbe) to the emulated jump, which leaves every
 * register and the stack as they were at entry.  *on_stack_check is cleared
 * when the probe lands anywhere else: the probes can then not tell a
 * morestack re-entry by the jump's flags (bpf/goroutines.bpf.c).
 */
static int probe_offset(const struct elf_module *mod, uint64_t vaddr, uint64_t *offset,
			bool *on_stack_check)
{
	struct probe_choice choice;
	uint8_t insn[2];
	int err;

	*offset = 0;
	err = probe_point_place(mod, vaddr, PROBE_GO_ARGS, offset, &choice);
	/* The check's jbe (rel8 or rel32) after the cmp, not the entry. */
	if (err || !choice.delta || elf_module_read(mod, vaddr + choice.delta, insn, sizeof(insn)) ||
	    !(insn[0] == 0x76 || (insn[0] == 0x0f && insn[1] == 0x86)))
		*on_stack_check = false;
	return err;
}

int go_runtime_resolve(const char *path, struct go_runtime *rt)
{
	struct elf_module *mod;
	uint64_t newproc, goexit1, profilealloc, mallocgc;
	int err;

	memset(rt, 0, sizeof(*rt));
	snprintf(rt->path, sizeof(rt->path), "%s", path);
	err = elf_module_open(path, &mod);
	if (err)
		return err;
	rt->pie = mod->is_dyn;
	newproc = elf_module_function_vaddr(mod, "runtime.newproc");
	goexit1 = elf_module_function_vaddr(mod, "runtime.goexit1");
	rt->probes_on_stack_check = true;
	err = !newproc || !goexit1 ||
	      probe_offset(mod, newproc, &rt->newproc_offset, &rt->probes_on_stack_check) ||
	      probe_offset(mod, goexit1, &rt->goexit1_offset, &rt->probes_on_stack_check) ?
		      -ENOENT : 0;
	/* Optional: 0 when absent. */
	profilealloc = elf_module_function_vaddr(mod, "runtime.profilealloc");
	mallocgc = elf_module_function_vaddr(mod, "runtime.mallocgc");
	if (profilealloc && probe_offset(mod, profilealloc, &rt->profilealloc_offset,
					 &rt->probes_on_stack_check))
		rt->profilealloc_offset = 0;
	if (mallocgc && probe_offset(mod, mallocgc, &rt->mallocgc_offset,
				     &rt->probes_on_stack_check))
		rt->mallocgc_offset = 0;
	if (go_build_version(mod, rt->version, sizeof(rt->version)))
		rt->version[0] = '\0';
	if (!err) {
		rt->g_from_dwarf = !go_g_layout_from_dwarf(mod, &rt->g);
		if (!rt->g_from_dwarf)
			err = go_g_layout_for_version(rt->version, &rt->g);
	}
	go_globals_find(mod, &rt->globals);
	go_wait_reasons_find(mod, rt->version, &rt->reasons);
	elf_module_close(mod);
	return err;
}

static int read_mem(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -EIO;
}

uint64_t go_exe_bias(pid_t pid, const struct go_runtime *rt)
{
	struct mapping_list maps;
	struct elf_module *mod;
	uint64_t bias = 0, vaddr;
	char exe[4096], link[64];
	ssize_t n;

	/* ET_EXEC (go build's default): linked where it runs; no file to read again. */
	if (!rt->pie || elf_module_open(rt->path, &mod))
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (mod->is_dyn && n > 0 && !mappings_read_pid(pid, &maps)) {
		for (size_t i = 0; i < maps.count; i++) {
			const struct mapping *m = &maps.items[i];

			if (!strcmp(m->path, exe) &&
			    !elf_module_offset_to_vaddr(mod, m->file_offset, &vaddr)) {
				bias = m->start - vaddr;
				break;
			}
		}
		mappings_free(&maps);
	}
	elf_module_close(mod);
	return bias;
}

long go_read_memprofilerate(pid_t pid, const struct go_runtime *rt)
{
	char path[64];
	int64_t rate;
	int fd, err;

	if (!rt->globals.memprofilerate)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_mem(fd, rt->globals.memprofilerate + go_exe_bias(pid, rt), &rate, sizeof(rate));
	close(fd);
	return err ? err : (long)rate;
}
