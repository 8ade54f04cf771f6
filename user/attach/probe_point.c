// SPDX-License-Identifier: MIT
/*
 * Choosing probe points with capstone's x86 decoder (probe_point.h) and
 * translating them to the file offsets uprobes take.  Pure decoding: no
 * process and no kernel are involved.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "target/elf_module.h"
#include "probe_point.h"

#define MAX_SCAN_INSNS 16

/* Mirrors arch/x86/kernel/uprobes.c: branch_setup_xol_ops() and push_setup_xol_ops(). */
int probe_insn_is_emulated(const uint8_t *insn, size_t len)
{
	uint8_t op;

	if (len == 0)
		return 0;
	op = insn[0];
	if (op == 0x41 && len >= 2 && insn[1] >= 0x50 && insn[1] <= 0x57)
		return 1; /* push %r8..%r15 */
	if (op >= 0x50 && op <= 0x57)
		return 1; /* push %rax..%rdi */
	if (op == 0xeb || op == 0xe9 || op == 0xe8 || op == 0x90)
		return 1; /* jmp rel8/rel32, call rel32, nop */
	if (op >= 0x70 && op <= 0x7f)
		return 1; /* jcc rel8 */
	if (op == 0x0f && len >= 2 && insn[1] >= 0x80 && insn[1] <= 0x8f)
		return 1; /* jcc rel32 */
	return 0;
}

/* Does writing reg change one of kept_regs (or %rsp)? */
static bool is_guarded_reg(unsigned reg, unsigned kept_regs)
{
	static const struct {
		unsigned bit;
		unsigned regs[4];
	} families[] = {
		{ PROBE_REG_RDI, { X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL } },
		{ PROBE_REG_RSI, { X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL } },
		{ PROBE_REG_RDX, { X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL } },
		{ PROBE_REG_RCX, { X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL } },
		{ PROBE_REG_R8, { X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B } },
		{ PROBE_REG_R9, { X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B } },
		{ PROBE_REG_RAX, { X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL } },
		{ PROBE_REG_RBX, { X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL } },
		{ PROBE_REG_R14, { X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B } },
		{ ~0u, { X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL } },
	};

	/* High-byte registers belong to their family too. */
	if ((reg == X86_REG_AH && (kept_regs & PROBE_REG_RAX)) ||
	    (reg == X86_REG_BH && (kept_regs & PROBE_REG_RBX)) ||
	    (reg == X86_REG_CH && (kept_regs & PROBE_REG_RCX)) ||
	    (reg == X86_REG_DH && (kept_regs & PROBE_REG_RDX)))
		return true;
	for (size_t f = 0; f < sizeof(families) / sizeof(*families); f++) {
		if (families[f].bit != ~0u && !(families[f].bit & kept_regs))
			continue;
		for (int i = 0; i < 4; i++)
			if (families[f].regs[i] == reg)
				return true;
	}
	return false;
}

/* The instruction leaves the arguments, the stack pointer and the control flow alone. */
static bool is_transparent(csh handle, const cs_insn *insn, unsigned kept_regs)
{
	cs_regs read, written;
	uint8_t nread = 0, nwritten = 0;

	if (cs_insn_group(handle, insn, CS_GRP_JUMP) || cs_insn_group(handle, insn, CS_GRP_CALL) ||
	    cs_insn_group(handle, insn, CS_GRP_RET) || cs_insn_group(handle, insn, CS_GRP_INT) ||
	    cs_insn_group(handle, insn, CS_GRP_IRET))
		return false;
	if (cs_regs_access(handle, insn, read, &nread, written, &nwritten))
		return false;
	for (uint8_t i = 0; i < nwritten; i++)
		if (is_guarded_reg(written[i], kept_regs))
			return false;
	return true;
}

int probe_point_place(const struct elf_module *mod, uint64_t vaddr, unsigned kept_regs,
		      uint64_t *file_offset, struct probe_choice *choice)
{
	uint8_t code[64];

	choice->delta = 0;
	choice->reason = "entry: code not readable";
	if (!vaddr)
		return -ENOENT;
	if (!elf_module_read(mod, vaddr, code, sizeof(code)))
		probe_point_choose(code, sizeof(code), vaddr, kept_regs, choice);
	return elf_module_vaddr_to_offset(mod, vaddr + choice->delta, file_offset);
}

void probe_point_choose(const uint8_t *code, size_t len, uint64_t vaddr, unsigned kept_regs,
			struct probe_choice *choice)
{
	const uint8_t *cursor = code;
	size_t left = len;
	uint64_t address = vaddr;
	cs_insn *insn;
	csh handle;

	choice->delta = 0;
	choice->reason = "entry: could not decode";
	if (probe_insn_is_emulated(code, len)) {
		choice->reason = "entry: emulated";
		return;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		return;
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(handle);
	choice->reason = "entry: no emulated instruction before the arguments change";
	for (int n = 0; insn && n < MAX_SCAN_INSNS; n++) {
		const uint8_t *at = cursor;

		if (!cs_disasm_iter(handle, &cursor, &left, &address, insn))
			break;
		if (n > 0 && probe_insn_is_emulated(at, insn->size)) {
			choice->delta = (uint64_t)(at - code);
			choice->reason = "emulated instruction";
			break;
		}
		if (!is_transparent(handle, insn, kept_regs))
			break;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&handle);
}
