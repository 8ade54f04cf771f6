// SPDX-License-Identifier: MIT
/* Probe placement on instruction sequences taken from real allocators. */
#include <criterion/criterion.h>

#include "attach/probe_point.h"

static uint64_t choose_for(const uint8_t *code, size_t len, unsigned kept)
{
	struct probe_choice c;

	probe_point_choose(code, len, 0x1000, kept, &c);
	return c.delta;
}

static uint64_t choose(const uint8_t *code, size_t len)
{
	return choose_for(code, len, PROBE_C_ARGS(6));
}

Test(probe_point, glibc_free_moves_past_test_to_the_emulated_jump)
{
	/* test %rdi,%rdi; je +0xbf; push %rbp */
	const uint8_t code[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55 };

	cr_assert_eq(choose(code, sizeof(code)), 3);
}

Test(probe_point, push_at_entry_stays_at_entry)
{
	/* glibc malloc: push %r12; push %rbp */
	const uint8_t code[] = { 0x41, 0x54, 0x55, 0x53 };

	cr_assert_eq(choose(code, sizeof(code)), 0);
}

Test(probe_point, rip_relative_compare_then_push)
{
	/* glibc posix_memalign: cmpb $0x0,0x140201(%rip); push %r12 */
	const uint8_t code[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54, 0x49 };

	cr_assert_eq(choose(code, sizeof(code)), 7);
}

Test(probe_point, an_argument_written_first_keeps_the_entry)
{
	/* glibc reallocarray: mov %rsi,%rax; mul %rdx (writes rdx); ... */
	const uint8_t code[] = { 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6, 0x70, 0x05 };
	/* mov %rsi,%rdi; push %rbx: the argument changed before the push */
	const uint8_t moved[] = { 0x48, 0x89, 0xf7, 0x53 };

	cr_assert_eq(choose(code, sizeof(code)), 0);
	cr_assert_eq(choose(moved, sizeof(moved)), 0);
}

Test(probe_point, stack_pointer_change_keeps_the_entry)
{
	/* sub $0x18,%rsp; push %rbx: a return probe there would miss the return address */
	const uint8_t code[] = { 0x48, 0x83, 0xec, 0x18, 0x53 };

	cr_assert_eq(choose(code, sizeof(code)), 0);
}

Test(probe_point, only_the_arguments_read_are_kept)
{
	/* glibc pthread_join: mov $1,%r8d; xor %ecx,%ecx; xor %edx,%edx; jmp clockjoin */
	const uint8_t code[] = { 0x41, 0xb8, 0x01, 0, 0, 0, 0x31, 0xc9, 0x31, 0xd2,
				 0xe9, 0, 0, 0, 0 };

	cr_assert_eq(choose_for(code, sizeof(code), PROBE_C_ARGS(1)), 10);
	cr_assert_eq(choose_for(code, sizeof(code), PROBE_C_ARGS(5)), 0);
}

Test(probe_point, go_stack_bound_check_is_passed)
{
	/* Go: cmp 0x10(%r14),%rsp; jbe morestack; sub $0x30,%rsp */
	const uint8_t code[] = { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x9c, 0, 0, 0,
				 0x48, 0x83, 0xec, 0x30 };

	cr_assert_eq(choose_for(code, sizeof(code), PROBE_GO_ARGS), 4);
}

Test(probe_point, endbr64_is_skipped)
{
	const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5 };

	cr_assert_eq(choose(code, sizeof(code)), 4);
}

Test(probe_point, emulated_instruction_classes)
{
	const uint8_t push_rbp[] = { 0x55 }, push_r15[] = { 0x41, 0x57 }, jmp8[] = { 0xeb, 0x02 },
		      jcc32[] = { 0x0f, 0x85, 0, 0, 0, 0 }, call[] = { 0xe8, 0, 0, 0, 0 },
		      nop[] = { 0x90 }, test[] = { 0x48, 0x85, 0xff }, ret[] = { 0xc3 };

	cr_assert(probe_insn_is_emulated(push_rbp, 1));
	cr_assert(probe_insn_is_emulated(push_r15, 2));
	cr_assert(probe_insn_is_emulated(jmp8, 2));
	cr_assert(probe_insn_is_emulated(jcc32, 6));
	cr_assert(probe_insn_is_emulated(call, 5));
	cr_assert(probe_insn_is_emulated(nop, 1));
	cr_assert_not(probe_insn_is_emulated(test, 3));
	cr_assert_not(probe_insn_is_emulated(ret, 1));
}
