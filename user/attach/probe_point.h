/* SPDX-License-Identifier: MIT */
/*
 * Where in a function its uprobe goes: the first instruction the kernel
 * emulates on every path from the entry, with nothing before it that changes
 * what the probe reads.
 */
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
/*
 * Registers a probe reads, which nothing before the probe point may change
 * (%rsp is always kept).  C functions read their first N arguments.
 */
enum {
	PROBE_REG_RDI = 1 << 0, PROBE_REG_RSI = 1 << 1, PROBE_REG_RDX = 1 << 2,
	PROBE_REG_RCX = 1 << 3, PROBE_REG_R8 = 1 << 4, PROBE_REG_R9 = 1 << 5,
	PROBE_REG_RAX = 1 << 6, PROBE_REG_RBX = 1 << 7, PROBE_REG_R14 = 1 << 8,
};
#define PROBE_C_ARGS(n) ((1u << (n)) - 1)
/* Go's register ABI: arguments in RAX, RBX, RCX..., the current g in R14. */
#define PROBE_GO_ARGS (PROBE_REG_RAX | PROBE_REG_RBX | PROBE_REG_RCX | PROBE_REG_R14)

struct probe_choice {
	uint64_t delta;     /* bytes from the function's entry */
	const char *reason; /* why the entry was kept, or "emulated <insn>" */
};

/* code: the function's first bytes, at link-time address vaddr. */
void probe_point_choose(const uint8_t *code, size_t len, uint64_t vaddr, unsigned kept_regs,
			struct probe_choice *choice);

struct elf_module;

/*
 * Choose the probe point of the function at link-time address vaddr in mod
 * and translate it to the file offset a uprobe takes.  Returns 0 or -errno.
 */
int probe_point_place(const struct elf_module *mod, uint64_t vaddr, unsigned kept_regs,
		      uint64_t *file_offset, struct probe_choice *choice);

/* True when the kernel emulates (does not single-step) this instruction. */
int probe_insn_is_emulated(const uint8_t *insn, size_t len);

#endif
