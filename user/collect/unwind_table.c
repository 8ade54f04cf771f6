// SPDX-License-Identifier: MIT
/*
 * Call frame information to unwind rows.  elfutils' libdw interprets the CFA
 * programs (dwarf_cfi_addrframe gives the rules at an address and the range
 * they hold for); this file enumerates the FDEs from the .eh_frame_hdr index,
 * walks each one range by range and keeps the three rules the BPF unwinder
 * needs on x86-64: the CFA, the return address and the caller's %rbp.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unwind_table.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16 /* the return address column */

/* .eh_frame_hdr encodings that every linker writes for the index. */
#define EH_PE_udata4 0x03
#define EH_PE_sdata4 0x0b
#define EH_PE_pcrel 0x10
#define EH_PE_datarel 0x30
#define EH_PE_omit 0xff

static int32_t read_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The FDEs' start addresses from the .eh_frame_hdr index (sorted by the
 * linker): version 1, three encodings, the .eh_frame pointer, the count and
 * (start, FDE) pairs relative to the index itself.
 */
static int fde_starts(Elf *elf, uint64_t **starts, size_t *count)
{
	size_t phnum;
	GElf_Phdr phdr;
	const uint8_t *hdr = NULL;
	uint64_t hdr_vaddr = 0, hdr_size = 0, n;

	if (elf_getphdrnum(elf, &phnum))
		return -EINVAL;
	for (size_t i = 0; i < phnum && !hdr; i++) {
		Elf_Data *data;

		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_GNU_EH_FRAME)
			continue;
		data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_BYTE);
		if (!data || !data->d_buf)
			return -EINVAL;
		hdr = data->d_buf;
		hdr_vaddr = phdr.p_vaddr;
		hdr_size = data->d_size;
	}
	if (!hdr)
		return -ENOENT;
	if (hdr_size < 12 || hdr[0] != 1 || hdr[2] != EH_PE_udata4 ||
	    hdr[3] != (EH_PE_datarel | EH_PE_sdata4) || (hdr[1] & 0x0f) != EH_PE_sdata4)
		return -ENOTSUP;
	n = (uint32_t)read_s32(hdr + 8);
	if (n > (hdr_size - 12) / 8)
		return -EINVAL;
	*starts = malloc((n ? n : 1) * sizeof(**starts));
	if (!*starts)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		(*starts)[i] = hdr_vaddr + (int64_t)read_s32(hdr + 12 + 8 * i);
	*count = n;
	return 0;
}

static int compare_addresses(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Bytes of a value in pointer encoding enc; 0 for encodings not handled. */
static size_t encoded_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x00: case 0x04: case 0x0c: return 8; /* absptr, udata8, sdata8 */
	case 0x03: case 0x0b: return 4;            /* udata4, sdata4 */
	case 0x02: case 0x0a: return 2;            /* udata2, sdata2 */
	}
	return 0;
}

/* The encoding of its FDEs' addresses that a CIE's augmentation gives ('R'). */
static int cie_fde_encoding(const Dwarf_CIE *cie)
{
	const uint8_t *data = cie->augmentation_data;
	const uint8_t *end = data ? data + cie->augmentation_data_size : NULL;
	const char *aug = cie->augmentation;

	if (!aug || aug[0] != 'z')
		return 0; /* absptr */
	for (const char *c = aug + 1; *c; c++) {
		if (*c == 'R')
			return data && data < end ? *data : -1;
		if (*c == 'L') {
			data++;
		} else if (*c == 'P') {
			size_t size;

			if (!data || data >= end || !(size = encoded_size(*data)))
				return -1;
			data += 1 + size;
		} else if (*c != 'S' && *c != 'B') {
			return -1;
		}
	}
	return 0;
}

/* An FDE's first address, decoded as its CIE says; false when it cannot be. */
static bool fde_start(const uint8_t *field, const uint8_t *end, uint64_t field_vaddr, int enc,
		      uint64_t *start)
{
	size_t size = encoded_size((uint8_t)enc);
	uint64_t value = 0;

	if (enc < 0 || !size || (enc & 0x70 & ~EH_PE_pcrel) || end - field < (ptrdiff_t)size)
		return false;
	memcpy(&value, field, size); /* little-endian */
	if ((enc & 0x08) && size < 8 && (value >> (8 * size - 1)) & 1)
		value |= ~0ULL << (8 * size); /* signed: extend */
	*start = (enc & 0x70) == EH_PE_pcrel ? field_vaddr + value : value;
	return true;
}

/*
 * Without the index (static executables, musl-gcc's output), the FDEs are
 * read one by one from the .eh_frame section, and their starts sorted.
 */
static int fde_starts_from_section(Elf *elf, uint64_t **starts, size_t *count)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	size_t shstrndx, n = 0, cap = 256;
	Elf_Scn *scn = NULL;
	Elf_Data *data = NULL;
	GElf_Shdr shdr;
	Dwarf_Off offset = 0, next, cie_offset = (Dwarf_Off)-1;
	int enc = -1;

	if (!ident || elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (name && !strcmp(name, ".eh_frame")) {
			data = elf_getdata(scn, NULL);
			break;
		}
	}
	if (!data || !data->d_buf || !data->d_size)
		return -ENOENT;
	*starts = malloc(cap * sizeof(**starts));
	if (!*starts)
		return -ENOMEM;
	for (;;) {
		Dwarf_CFI_Entry entry, cie;
		int rc = dwarf_next_cfi(ident, data, true, offset, &next, &entry);
		uint64_t start;

		if (rc > 0 || (rc < 0 && (next == (Dwarf_Off)-1 || next <= offset)))
			break;
		offset = next;
		if (rc < 0 || dwarf_cfi_cie_p(&entry))
			continue;
		if (entry.fde.CIE_pointer != cie_offset) {
			Dwarf_Off after;

			cie_offset = entry.fde.CIE_pointer;
			enc = !dwarf_next_cfi(ident, data, true, cie_offset, &after, &cie) &&
				      dwarf_cfi_cie_p(&cie) ? cie_fde_encoding(&cie.cie) : -1;
		}
		if (!fde_start(entry.fde.start, entry.fde.end,
			       shdr.sh_addr + (uint64_t)(entry.fde.start - (const uint8_t *)data->d_buf),
			       enc, &start))
			continue;
		if (n == cap) {
			uint64_t *grown = realloc(*starts, 2 * cap * sizeof(*grown));

			if (!grown) {
				free(*starts);
				return -ENOMEM;
			}
			*starts = grown;
			cap *= 2;
		}
		(*starts)[n++] = start;
	}
	qsort(*starts, n, sizeof(**starts), compare_addresses);
	*count = n;
	return 0;
}

/* The CFA rule: a register plus an offset, or the PLT's fixed expression. */
static void cfa_rule(Dwarf_Frame *frame, struct unwind_row *row)
{
	/* %rsp + 8, plus 8 more once past the entry's push: ((%rip & 15) >= 11) << 3. */
	static const uint8_t plt[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and,
				       DW_OP_lit11, DW_OP_ge, DW_OP_lit3, DW_OP_shl, DW_OP_plus };
	Dwarf_Op *ops;
	size_t nops, i;
	int64_t reg, offset;

	row->cfa_rule = LS_CFA_UNKNOWN;
	if (dwarf_frame_cfa(frame, &ops, &nops) || !nops)
		return;
	if (nops == sizeof(plt)) {
		for (i = 0; i < nops && ops[i].atom == plt[i]; i++)
			;
		if (i == nops)
			row->cfa_rule = LS_CFA_PLT;
		return;
	}
	if (nops != 1)
		return;
	if (ops[0].atom == DW_OP_bregx) {
		reg = (int64_t)ops[0].number;
		offset = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		offset = (int64_t)ops[0].number;
	} else {
		return;
	}
	if ((reg != REG_RSP && reg != REG_RBP) || offset < INT32_MIN || offset > INT32_MAX)
		return;
	row->cfa_rule = reg == REG_RSP ? LS_CFA_SP : LS_CFA_BP;
	row->cfa_offset = (int32_t)offset;
}

/*
 * Where register regno of the caller was saved: 1 with *offset from the CFA,
 * 0 when it is unchanged, -1 when it is undefined, -2 for any other rule.
 */
static int saved_at_cfa(Dwarf_Frame *frame, int regno, int64_t *offset)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops))
		return -2;
	if (!nops)
		return ops ? -1 : 0;
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
	    ops[1].atom == DW_OP_plus_uconst) {
		*offset = (int64_t)ops[1].number;
		return 1;
	}
	return -2;
}

static void row_rules(Dwarf_Frame *frame, struct unwind_row *row)
{
	int64_t offset = 0;
	int ra = saved_at_cfa(frame, REG_RIP, &offset);

	cfa_rule(frame, row);
	if (ra == -1) {
		row->cfa_rule = LS_CFA_ROOT;
		return;
	}
	if (ra != 1 || offset != -8)
		row->cfa_rule = LS_CFA_UNKNOWN;
	if (saved_at_cfa(frame, REG_RBP, &offset) == 1 && offset >= INT16_MIN &&
	    offset <= INT16_MAX) {
		row->bp_rule = LS_BP_AT_CFA;
		row->bp_offset = (int16_t)offset;
	}
}

static bool same_rules(const struct unwind_row *a, const struct unwind_row *b)
{
	return a->cfa_rule == b->cfa_rule && a->cfa_offset == b->cfa_offset &&
	       a->bp_rule == b->bp_rule && a->bp_offset == b->bp_offset;
}

struct row_buffer {
	struct unwind_row *rows;
	size_t count, cap;
};

/* Append a row at pc unless the last one already says the same. */
static int push_row(struct row_buffer *buf, uint64_t pc, const struct unwind_row *rules)
{
	struct unwind_row row = *rules;

	row.pc = pc;
	if (buf->count && same_rules(&buf->rows[buf->count - 1], &row))
		return 0;
	if (buf->count && buf->rows[buf->count - 1].pc == row.pc) {
		buf->rows[buf->count - 1] = row; /* an empty range: the later row holds */
		return 0;
	}
	if (buf->count == buf->cap) {
		size_t cap = buf->cap ? 2 * buf->cap : 1024;
		struct unwind_row *rows = realloc(buf->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		buf->rows = rows;
		buf->cap = cap;
	}
	buf->rows[buf->count++] = row;
	return 0;
}

/* The rows of the FDE at start, up to limit (the next FDE), then a gap row. */
static int add_fde_rows(Dwarf_CFI *cfi, uint64_t start, uint64_t limit, struct row_buffer *buf)
{
	static const struct unwind_row unknown = { .cfa_rule = LS_CFA_UNKNOWN };
	uint64_t addr = start;
	int err = 0;

	while (addr < limit && !err) {
		struct unwind_row rules = { 0 };
		Dwarf_Frame *frame;
		Dwarf_Addr from, to;

		if (dwarf_cfi_addrframe(cfi, addr, &frame))
			break;
		if (dwarf_frame_info(frame, &from, &to, NULL) < 0 || to <= addr) {
			free(frame);
			break;
		}
		row_rules(frame, &rules);
		free(frame);
		err = push_row(buf, addr, &rules);
		addr = to;
	}
	if (!err && addr < limit)
		err = push_row(buf, addr, &unknown);
	return err;
}

static void read_segments(Elf *elf, struct unwind_table *out)
{
	size_t phnum;
	GElf_Phdr phdr;

	if (elf_getphdrnum(elf, &phnum))
		return;
	for (size_t i = 0; i < phnum && out->segment_count < UNWIND_MAX_SEGMENTS; i++) {
		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_LOAD || !(phdr.p_flags & PF_X))
			continue;
		out->segments[out->segment_count].vaddr = phdr.p_vaddr;
		out->segments[out->segment_count].offset = phdr.p_offset;
		out->segments[out->segment_count].filesz = phdr.p_filesz;
		out->segment_count++;
	}
}

static int build_from_elf(Elf *elf, struct unwind_table *out)
{
	struct row_buffer buf = { 0 };
	uint64_t *starts = NULL;
	size_t count = 0;
	Dwarf_CFI *cfi;
	int err = fde_starts(elf, &starts, &count);

	if (err == -ENOENT)
		err = fde_starts_from_section(elf, &starts, &count);
	if (err)
		return err;
	cfi = count ? dwarf_getcfi_elf(elf) : NULL;
	if (!cfi) {
		free(starts);
		return -ENOENT;
	}
	for (size_t i = 0; i < count && !err; i++) {
		uint64_t limit = i + 1 < count ? starts[i + 1] : UINT64_MAX;

		if (limit > starts[i])
			err = add_fde_rows(cfi, starts[i], limit, &buf);
	}
	dwarf_cfi_end(cfi);
	free(starts);
	if (err) {
		free(buf.rows);
		return err;
	}
	out->rows = buf.rows;
	out->count = buf.count;
	return 0;
}

int unwind_table_build(const char *path, struct unwind_table *out)
{
	Elf *elf;
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
	} else {
		read_segments(elf, out);
		err = build_from_elf(elf, out);
	}
	elf_end(elf);
	close(fd);
	return err;
}

void unwind_table_free(struct unwind_table *table)
{
	free(table->rows);
	table->rows = NULL;
	table->count = 0;
}

int unwind_table_bias(const struct unwind_table *table, uint64_t map_start, uint64_t map_offset,
		      uint64_t *bias)
{
	for (size_t i = 0; i < table->segment_count; i++) {
		uint64_t vaddr = table->segments[i].vaddr, offset = table->segments[i].offset;

		/* The mapping starts at the page holding the segment's first byte. */
		if (map_offset < (offset & ~4095ULL) || map_offset >= offset + table->segments[i].filesz)
			continue;
		*bias = map_start - (vaddr + (map_offset - offset));
		return 0;
	}
	return -ENOENT;
}

const struct unwind_row *unwind_table_find(const struct unwind_row *rows, size_t count,
					   uint64_t pc)
{
	size_t lo = 0, hi = count;

	/* The last row whose pc is <= pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &rows[lo - 1] : NULL;
}
