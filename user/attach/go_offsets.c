// SPDX-License-Identifier: MIT
/*
 * Finding a Go executable's runtime structures (go_offsets.h).  With DWARF,
 * runtime.g's offsets are read from its type; without, from a table of the
 * releases it was checked on (tests/unit/attach/test_go_offsets.c compares
 * the two).  Globals come from .symtab, or from one instruction of a runtime
 * function known to load them: the first load from memory after a given call.
 */
#include <capstone/capstone.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "go_offsets.h"
#include "target/elf_module.h"

/* runtime.gobuf: sp, pc, g, ctxt, ret, lr, bp (fixed: the assembly knows them). */
#define GOBUF_SP 0
#define GOBUF_PC 8
#define GOBUF_BP 48

/* .go.buildinfo: a 14-byte magic, pointer size, flags, then the version. */
static const char BUILDINFO_MAGIC[] = "\xff Go buildinf:";
#define BUILDINFO_INLINE_STRINGS 0x2 /* Go 1.18+: varint-prefixed strings at 32 */

struct layout_entry {
	const char *release; /* matches "go1.19" and "go1.19.N" */
	struct go_g_layout layout;
};

/* Checked against DWARF of the same release (test_go_offsets.c). */
static const struct layout_entry layouts[] = {
	{ "go1.19", { .goid = 152, .gopc = 296, .startpc = 312, .status = 144, .waitreason = 176,
		      .sched_sp = 56 + GOBUF_SP, .sched_pc = 56 + GOBUF_PC,
		      .sched_bp = 56 + GOBUF_BP } },
};

static bool release_matches(const char *version, const char *release)
{
	size_t n = strlen(release);

	return !strncmp(version, release, n) && (version[n] == '\0' || version[n] == '.');
}

int go_g_layout_for_version(const char *version, struct go_g_layout *layout)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(*layouts); i++) {
		if (release_matches(version, layouts[i].release)) {
			*layout = layouts[i].layout;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* Go 1.19's waitReasonStrings (runtime2.go), for executables without .symtab. */
static const char *const go119_wait_reasons[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "timer goroutine (idle)", "trace reader (blocked)",
	"wait for GC cycle", "GC worker (idle)", "preempted", "debug call",
};

/* runtime.gStatusStrings: the names of statuses other than waiting with a reason. */
static const char *const status_names[] = {
	"idle", "runnable", "running", "syscall", "waiting", "moribund", "dead", "enqueue",
	"copystack", "preempted",
};

/* Read runtime.waitReasonStrings: string headers pointing into read-only data. */
static bool read_wait_reasons(const struct elf_module *mod, uint64_t vaddr,
			      struct go_wait_reasons *reasons)
{
	uint64_t headers[2 * GO_MAX_WAIT_REASONS];
	size_t total = 0, n = 0, at = 0;

	if (!vaddr || elf_module_read(mod, vaddr, headers, sizeof(headers)))
		return false;
	/*
	 * The array ends where a header stops looking like a short name's (only
	 * the first, waitReasonZero, is empty); whatever follows it that looks
	 * like one names reasons the runtime never sets.
	 */
	for (; n < GO_MAX_WAIT_REASONS; n++) {
		uint64_t ptr = headers[2 * n], len = headers[2 * n + 1];

		if (len >= 64 || (len && !ptr) || (n && !len))
			break;
		total += len + 1;
	}
	if (n < 2 || !(reasons->owned = malloc(total)))
		return false;
	for (size_t i = 0; i < n; i++) {
		char *name = reasons->owned + at;

		if (headers[2 * i + 1] &&
		    elf_module_read(mod, headers[2 * i], name, headers[2 * i + 1]))
			break;
		name[headers[2 * i + 1]] = '\0';
		reasons->name[i] = name;
		at += headers[2 * i + 1] + 1;
	}
	return true;
}

void go_wait_reasons_find(const struct elf_module *mod, const char *version,
			  struct go_wait_reasons *reasons)
{
	memset(reasons, 0, sizeof(*reasons));
	if (mod->has_symtab &&
	    read_wait_reasons(mod, elf_file_object_vaddr(mod->path, "runtime.waitReasonStrings"),
			      reasons))
		return;
	if (release_matches(version, "go1.19"))
		for (size_t i = 0; i < sizeof(go119_wait_reasons) / sizeof(*go119_wait_reasons); i++)
			reasons->name[i] = go119_wait_reasons[i];
}

void go_wait_reasons_free(struct go_wait_reasons *reasons)
{
	free(reasons->owned);
	memset(reasons, 0, sizeof(*reasons));
}

const char *go_state_name(const struct go_wait_reasons *reasons, uint32_t status,
			  unsigned reason)
{
	status &= ~(uint32_t)GO_STATUS_SCAN;
	if (status == GO_STATUS_WAITING && reason && reason < GO_MAX_WAIT_REASONS) {
		const char *name = reasons->name[reason];

		return name && name[0] ? name : NULL;
	}
	return status < sizeof(status_names) / sizeof(*status_names) ? status_names[status] : "???";
}

const char *go_g_layout_versions(void)
{
	return "go1.19";
}

static bool read_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *value)
{
	*value = 0;
	for (unsigned shift = 0; *at < len && shift < 64; shift += 7) {
		uint8_t b = p[(*at)++];

		*value |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

int go_build_version(const struct elf_module *mod, char *buf, size_t size)
{
	uint8_t head[32 + 10 + 64];
	uint64_t len, str[2];
	size_t at = 32;

	if (!mod->go_buildinfo_vaddr || mod->go_buildinfo_size < 32 || size < 2 ||
	    elf_module_read(mod, mod->go_buildinfo_vaddr, head, 32) ||
	    memcmp(head, BUILDINFO_MAGIC, 14) || head[14] != 8)
		return -ENOENT;
	if (head[15] & BUILDINFO_INLINE_STRINGS) {
		size_t avail = mod->go_buildinfo_size < sizeof(head) ? mod->go_buildinfo_size :
								       sizeof(head);

		if (elf_module_read(mod, mod->go_buildinfo_vaddr, head, avail) ||
		    !read_varint(head, avail, &at, &len) || len >= size || at + len > avail)
			return -ENOENT;
		memcpy(buf, head + at, len);
	} else {
		/* Before Go 1.18: a pointer to the version's string header. */
		uint64_t header;

		memcpy(&header, head + 16, 8);
		if (elf_module_read(mod, header, str, sizeof(str)) || str[1] >= size ||
		    elf_module_read(mod, str[0], buf, str[1]))
			return -ENOENT;
		len = str[1];
	}
	buf[len] = '\0';
	return strncmp(buf, "go", 2) ? -ENOENT : 0;
}

static bool member_offset(Dwarf_Die *member, uint64_t *offset)
{
	Dwarf_Attribute attr;
	Dwarf_Word value;

	if (!dwarf_attr(member, DW_AT_data_member_location, &attr) ||
	    dwarf_formudata(&attr, &value))
		return false;
	*offset = value;
	return true;
}

/* The fields of one runtime.g type DIE; true when all were found. */
static bool read_g_members(Dwarf_Die *g, struct go_g_layout *layout)
{
	struct { const char *name; uint64_t *at; } fields[] = {
		{ "goid", &layout->goid }, { "gopc", &layout->gopc },
		{ "startpc", &layout->startpc }, { "atomicstatus", &layout->status },
		{ "waitreason", &layout->waitreason }, { "sched", &layout->sched_sp },
	};
	unsigned found = 0;
	Dwarf_Die member;

	if (dwarf_child(g, &member))
		return false;
	do {
		const char *name = dwarf_diename(&member);

		for (size_t i = 0; name && i < sizeof(fields) / sizeof(*fields); i++)
			if (!strcmp(name, fields[i].name) && member_offset(&member, fields[i].at))
				found |= 1u << i;
	} while (dwarf_siblingof(&member, &member) == 0);
	layout->sched_pc = layout->sched_sp + GOBUF_PC;
	layout->sched_bp = layout->sched_sp + GOBUF_BP;
	layout->sched_sp += GOBUF_SP;
	return found == (1u << (sizeof(fields) / sizeof(*fields))) - 1;
}

static bool find_g_type(Dwarf *dwarf, struct go_g_layout *layout)
{
	Dwarf_Off offset = 0, next;
	size_t header;

	while (dwarf_nextcu(dwarf, offset, &next, &header, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;

		if (dwarf_offdie(dwarf, offset + header, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				const char *name = dwarf_diename(&child);

				if (dwarf_tag(&child) == DW_TAG_structure_type && name &&
				    !strcmp(name, "runtime.g"))
					return read_g_members(&child, layout);
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		offset = next;
	}
	return false;
}

int go_g_layout_from_dwarf(const struct elf_module *mod, struct go_g_layout *layout)
{
	Dwarf *dwarf;
	bool found;

	if (!mod->has_dwarf || !(dwarf = dwarf_begin(mod->fd, DWARF_C_READ)))
		return -ENODATA;
	found = find_g_type(dwarf, layout);
	dwarf_end(dwarf);
	return found ? 0 : -ENODATA;
}

/* Which 8-byte load from a RIP-relative address in a function names the global. */
enum load_rule {
	FIRST_LOAD,               /* the function's first */
	FIRST_LOAD_AFTER_A_CALL,  /* the first after its first call */
	LAST_RAX_LOAD_BEFORE,     /* the last into %rax before its first call to callee */
};

static uint64_t rip_target(const cs_insn *insn, const cs_x86 *x86)
{
	return insn->address + insn->size + (uint64_t)x86->operands[1].mem.disp;
}

static bool is_rip_load(const cs_insn *insn, const cs_x86 *x86)
{
	return insn->id == X86_INS_MOV && x86->op_count == 2 &&
	       x86->operands[0].type == X86_OP_REG && x86->operands[1].type == X86_OP_MEM &&
	       x86->operands[1].size == 8 && x86->operands[1].mem.base == X86_REG_RIP &&
	       x86->operands[1].mem.index == X86_REG_INVALID;
}

static bool calls(const cs_x86 *x86, uint64_t target)
{
	return x86->op_count == 1 && x86->operands[0].type == X86_OP_IMM &&
	       (uint64_t)x86->operands[0].imm == target;
}

/* The link-time address a load of function's code names by rule; 0 if none. */
static uint64_t global_loaded_in(const struct elf_module *mod, const char *function,
				 enum load_rule rule, const char *callee)
{
	uint64_t vaddr = elf_module_function_vaddr(mod, function);
	uint64_t target = callee ? elf_module_function_vaddr(mod, callee) : 0, found = 0;
	const struct elf_symbol *sym;
	uint8_t code[4096];
	const uint8_t *cursor = code;
	uint64_t address = vaddr, offset;
	bool called = false, reached = false;
	size_t left;
	cs_insn *insn;
	csh handle;

	if (!vaddr || (rule == LAST_RAX_LOAD_BEFORE && !target) ||
	    !(sym = elf_module_lookup(mod, vaddr, &offset)))
		return 0;
	left = sym->size && sym->size < sizeof(code) ? sym->size : sizeof(code);
	if (elf_module_read(mod, vaddr, code, left) ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
		return 0;
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(handle);
	while (insn && cs_disasm_iter(handle, &cursor, &left, &address, insn)) {
		const cs_x86 *x86 = &insn->detail->x86;

		if (insn->id == X86_INS_CALL) {
			if (rule == LAST_RAX_LOAD_BEFORE && calls(x86, target)) {
				reached = true;
				break;
			}
			called = true;
		} else if (is_rip_load(insn, x86)) {
			if (rule == LAST_RAX_LOAD_BEFORE) {
				if (x86->operands[0].reg == X86_REG_RAX)
					found = rip_target(insn, x86);
			} else if (rule == FIRST_LOAD || called) {
				found = rip_target(insn, x86);
				break;
			}
		}
	}
	if (rule == LAST_RAX_LOAD_BEFORE && !reached)
		found = 0; /* the call never came */
	if (insn)
		cs_free(insn, 1);
	cs_close(&handle);
	return found;
}

void go_globals_from_code(const struct elf_module *mod, struct go_globals *globals)
{
	/* forEachG: lock(&allglock); for _, gp := range allgs { ... } */
	globals->allgs = global_loaded_in(mod, "runtime.forEachG", FIRST_LOAD_AFTER_A_CALL, NULL);
	/* mProf_FlushLocked: for b := mbuckets; b != nil; b = b.allnext { ... } */
	globals->mbuckets = global_loaded_in(mod, "runtime.mProf_FlushLocked", FIRST_LOAD, NULL);
	/* profilealloc: c.nextSample = fastexprand(MemProfileRate), the mean in %rax. */
	globals->memprofilerate = global_loaded_in(mod, "runtime.profilealloc",
						   LAST_RAX_LOAD_BEFORE, "runtime.fastexprand");
}

void go_globals_find(const struct elf_module *mod, struct go_globals *globals)
{
	go_globals_from_code(mod, globals);
	if (!mod->has_symtab)
		return;
	globals->allgs = elf_file_object_vaddr(mod->path, "runtime.allgs");
	globals->mbuckets = elf_file_object_vaddr(mod->path, "runtime.mbuckets");
	globals->memprofilerate = elf_file_object_vaddr(mod->path, "runtime.MemProfileRate");
}
