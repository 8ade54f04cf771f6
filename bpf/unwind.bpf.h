/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * --unwind dwarf: the user stack unwound from the modules' call frame
 * information instead of frame pointers, so that code built without them
 * (most distribution libraries) does not cut the stack short.  The rows come
 * from user space (include/leaksnoop.h, user/collect/unwind_table.c); per frame this
 * finds the mapping of the pc, the row of the pc in its module's rows (binary
 * searches), computes the CFA, reads the return address at CFA - 8 and the
 * caller's %rbp where the row says it was saved.  Stack words are read from
 * the copied top of the stack when they lie in it.
 */
#ifndef LS_UNWIND_BPF_H
#define LS_UNWIND_BPF_H

#include "stack.bpf.h"

/* Set by user space before load: walk with `unwind_rows` where a process has them. */
const volatile bool unwind_dwarf = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* written by user space in place */
	__uint(max_entries, 1);            /* sized before load */
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* LS_UNWIND_PROCS with --unwind dwarf */
	__type(key, __u32);
	__type(value, struct unwind_space);
} unwind_spaces SEC(".maps");

/* What each bpf_loop step needs; the walk's state is in scratch->unwind. */
struct unwind_walk {
	struct stack_scratch *scratch;
	struct unwind_space *space;
};

/* The searches keep their bounds in the scratch, not in registers (see struct stack_scratch). */
static __always_inline const struct unwind_mapping *mapping_of(struct stack_scratch *scratch,
							       struct unwind_space *space, __u64 pc)
{
	__u32 index;

	scratch->unwind.search_lo = 0;
	scratch->unwind.search_hi = space->count;
	/* The last mapping starting at or below pc: 7 steps cover LS_UNWIND_MAPPINGS. */
	for (int i = 0; i < 7; i++) {
		__u32 lo = scratch->unwind.search_lo, hi = scratch->unwind.search_hi, mid;

		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		if (space->mappings[mid & (LS_UNWIND_MAPPINGS - 1)].start <= pc)
			scratch->unwind.search_lo = mid + 1;
		else
			scratch->unwind.search_hi = mid;
	}
	index = scratch->unwind.search_lo;
	if (!index || index > LS_UNWIND_MAPPINGS)
		return NULL;
	index = (index - 1) & (LS_UNWIND_MAPPINGS - 1);
	return pc < space->mappings[index].end ? &space->mappings[index] : NULL;
}

static __always_inline const struct unwind_row *row_of(struct stack_scratch *scratch,
						       const struct unwind_mapping *m, __u64 pc)
{
	__u32 first = m->first_row, last;

	scratch->unwind.search_lo = first;
	scratch->unwind.search_hi = first + m->row_count;
	/* The last row starting at or below pc (user space ends each module with a gap row). */
	for (int i = 0; i < LS_UNWIND_SEARCH_STEPS; i++) {
		__u32 lo = scratch->unwind.search_lo, hi = scratch->unwind.search_hi, mid;
		const struct unwind_row *row;

		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		row = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!row)
			return NULL;
		if (row->pc <= pc)
			scratch->unwind.search_lo = mid + 1;
		else
			scratch->unwind.search_hi = mid;
	}
	last = scratch->unwind.search_lo;
	if (last == first || last < scratch->unwind.search_hi)
		return NULL;
	last--;
	return bpf_map_lookup_elem(&unwind_rows, &last);
}

static __always_inline bool read_stack_word(struct stack_scratch *scratch, __u64 addr,
					    __u64 *value)
{
	__u64 offset = addr - scratch->unwind.copy_base;

	if (!(addr & 7) && offset < scratch->unwind.window && offset / 8 < LS_STACK_COPY_WORDS) {
		*value = scratch->stack_copy[(offset / 8) & (LS_STACK_COPY_WORDS - 1)];
		return true;
	}
	return !bpf_probe_read_user(value, sizeof(*value), (void *)addr);
}

/* One frame: from (ip, sp, bp) to the caller's; 1 ends the walk. */
static long unwind_step(__u64 index, void *ctx)
{
	struct unwind_walk *w = ctx;
	struct stack_scratch *scratch = w->scratch;
	/* A return address points past its call: look up the call itself. */
	__u64 ip = scratch->unwind.ip, sp = scratch->unwind.sp, pc = index ? ip - 1 : ip, cfa;
	const struct unwind_mapping *m = mapping_of(scratch, w->space, pc);
	const struct unwind_row *row;
	__u32 depth;

	if (!m) {
		__sync_fetch_and_add(&w->space->misses, 1); /* a module mapped since: reload */
		return 1;
	}
	row = row_of(scratch, m, pc - m->bias);
	if (!row)
		return 1;
	switch (row->cfa_rule) {
	case LS_CFA_SP:
		cfa = sp + row->cfa_offset;
		break;
	case LS_CFA_BP:
		cfa = scratch->unwind.bp + row->cfa_offset;
		break;
	case LS_CFA_PLT:
		cfa = sp + ((ip & 15) >= 11 ? 16 : 8);
		break;
	default:
		return 1; /* the thread's root, or no information */
	}
	if (cfa <= sp || !read_stack_word(scratch, cfa - 8, &scratch->unwind.ip) ||
	    !scratch->unwind.ip)
		return 1;
	scratch->unwind.ip = real_return(cfa - 8, scratch->unwind.ip);
	if (row->bp_rule == LS_BP_AT_CFA &&
	    !read_stack_word(scratch, cfa + row->bp_offset, &scratch->unwind.bp))
		return 1;
	scratch->unwind.sp = cfa;
	depth = scratch->unwind.depth;
	if (depth >= LS_MAX_STACK_DEPTH)
		return 1;
	scratch->trace.ips[depth & (LS_MAX_STACK_DEPTH - 1)] = scratch->unwind.ip;
	scratch->unwind.depth = depth + 1;
	return 0;
}

/*
 * The user stack from (ip, sp, bp) through the call frame information of
 * proc's modules; false when proc has no tables (the caller walks frame
 * pointers).
 */
static __always_inline bool unwind_with_tables(__u64 ip, __u64 sp, __u64 bp,
					       struct stack_scratch *scratch, __u32 proc)
{
	struct unwind_walk walk = { .scratch = scratch };

	walk.space = bpf_map_lookup_elem(&unwind_spaces, &proc);
	if (!walk.space || !walk.space->count)
		return false;
	scratch->unwind.ip = ip;
	scratch->unwind.sp = sp;
	scratch->unwind.bp = bp;
	scratch->unwind.copy_base = sp;
	scratch->unwind.window = copy_stack_window(scratch, sp);
	scratch->unwind.depth = 1;
	scratch->trace.ips[0] = ip;
	bpf_loop(LS_MAX_STACK_DEPTH - 1, unwind_step, &walk, 0);
	scratch->trace.depth = scratch->unwind.depth;
	return true;
}

/* A forked child's address space is its parent's: so are its mappings, until user space reloads them. */
static __always_inline void inherit_unwind_space(__u32 parent, __u32 child)
{
	struct unwind_space *space = bpf_map_lookup_elem(&unwind_spaces, &parent);

	if (space && space->count)
		bpf_map_update_elem(&unwind_spaces, &child, space, BPF_ANY);
}

/*
 * trace_stack with --unwind dwarf: in a system call the user registers are
 * those saved at its entry, so the walk starts in the libc wrapper itself.
 */
static __always_inline bool trace_stack_unwound(void *ctx, struct stack_scratch *scratch,
						bool in_syscall, __u32 proc)
{
	bool unwound;

	if (in_syscall) {
		struct pt_regs *user = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

		unwound = user && unwind_with_tables(BPF_CORE_READ(user, ip), BPF_CORE_READ(user, sp),
						     BPF_CORE_READ(user, bp), scratch, proc);
	} else {
		unwound = unwind_with_tables(PT_REGS_IP((struct pt_regs *)ctx),
					     PT_REGS_SP((struct pt_regs *)ctx),
					     PT_REGS_FP((struct pt_regs *)ctx), scratch, proc);
	}
	return unwound || trace_stack(ctx, scratch, in_syscall);
}

#endif /* LS_UNWIND_BPF_H */
