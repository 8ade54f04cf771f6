/* SPDX-License-Identifier: MIT */
#ifndef LS_PROBE_POINT_H
#define LS_PROBE_POINT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Where in a function to place its uprobe.  The kernel emulates a few x86
 * instructions at a probe (push reg, jmp/jcc/call rel, nop) and must
 * single-step every other one out of line, which costs ten times more.  So
 * the probe goes on the first emulated instruction reached on every path from
 * the entry, provided that nothing before it changes the argument registers
 * or the stack pointer (a uretprobe finds the return address at %rsp).
 */
struct probe_choice {
	uint64_t delta;     /* bytes from the function's entry */
	const char *reason; /* why the entry was kept, or "emulated <insn>" */
};

/* code: the function's first bytes, at link-time address vaddr. */
void probe_point_choose(const uint8_t *code, size_t len, uint64_t vaddr,
			struct probe_choice *choice);

/* True when the kernel emulates (does not single-step) this instruction. */
int probe_insn_is_emulated(const uint8_t *insn, size_t len);

#endif
