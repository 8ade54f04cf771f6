// SPDX-License-Identifier: MIT
/*
 * Reading an ELF file with libelf (elf_module.h): loadable segments, function
 * symbols from .symtab and .dynsym sorted by address, build id and
 * debuglink; for a Go executable its .gopclntab, whose functions stand in for
 * a stripped .symtab.  The file may be hostile: every offset is checked
 * (fuzzed).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_module.h"
#include "gopclntab.h"

static int ensure_libelf(void)
{
	static int ready;

	if (!ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -EINVAL;
		ready = 1;
	}
	return 0;
}

/* Prefer the name a person would write: global over weak over local, fewer '_'. */
static int symbol_rank(const GElf_Sym *sym, const char *name)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int rank = bind == STB_GLOBAL ? 300 : bind == STB_WEAK ? 200 : 100;

	while (*name == '_') {
		rank--;
		name++;
	}
	return rank;
}

static const char *pool_add(struct elf_module *mod, const char *name)
{
	char **pool;
	char *copy = strdup(name);

	if (!copy)
		return NULL;
	pool = realloc(mod->string_pool, (mod->string_count + 1) * sizeof(*pool));
	if (!pool) {
		free(copy);
		return NULL;
	}
	mod->string_pool = pool;
	pool[mod->string_count++] = copy;
	return copy;
}

static int add_symbols_from_section(struct elf_module *mod, Elf *elf, Elf_Scn *scn,
				    const GElf_Shdr *shdr, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || shdr->sh_entsize == 0)
		return 0;
	n = shdr->sh_size / shdr->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (mod->symbol_count == *cap) {
			size_t grown = *cap ? *cap * 2 : 256;
			struct elf_symbol *syms = realloc(mod->symbols, grown * sizeof(*syms));

			if (!syms)
				return -ENOMEM;
			mod->symbols = syms;
			*cap = grown;
		}
		name = pool_add(mod, name);
		if (!name)
			return -ENOMEM;
		mod->symbols[mod->symbol_count++] = (struct elf_symbol){
			.addr = sym.st_value, .size = sym.st_size,
			.name = name, .rank = symbol_rank(&sym, name),
		};
	}
	return 0;
}

static int compare_symbols(const void *a, const void *b)
{
	const struct elf_symbol *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return y->rank - x->rank; /* best first */
	return strcmp(x->name, y->name);
}

/* Sort by address, best-ranked name first among aliases (all kept for by-name lookups). */
static void sort_symbols(struct elf_module *mod)
{
	if (mod->symbol_count)
		qsort(mod->symbols, mod->symbol_count, sizeof(*mod->symbols), compare_symbols);
}

static void read_build_id(struct elf_module *mod, Elf_Data *data)
{
	size_t offset = 0, name_off, desc_off;
	GElf_Nhdr nhdr;

	while ((offset = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
			continue;
		for (size_t i = 0; i < nhdr.n_descsz && i < 20; i++)
			snprintf(mod->build_id + 2 * i, 3, "%02x", desc[i]);
		return;
	}
}

/* Where .gopclntab lies in the file, found by read_sections. */
struct pclntab_place {
	uint64_t file_offset, size;
	uint64_t text_vaddr; /* .text: where a PIE's function offsets count from */
};

static int read_sections(struct elf_module *mod, Elf *elf, bool symbols_only,
			 struct pclntab_place *pclntab)
{
	size_t shstrndx, cap = mod->symbol_count;
	Elf_Scn *scn = NULL;
	int err;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name)
			continue;
		if (shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_DYNSYM) {
			err = add_symbols_from_section(mod, elf, scn, &shdr, &cap);
			if (err)
				return err;
			if (shdr.sh_type == SHT_SYMTAB)
				mod->has_symtab = true;
		}
		if (symbols_only)
			continue;
		if (shdr.sh_type == SHT_NOTE && !mod->build_id[0]) {
			Elf_Data *data = elf_getdata(scn, NULL);

			if (data)
				read_build_id(mod, data);
		} else if (!strcmp(name, ".gnu_debuglink")) {
			Elf_Data *data = elf_getdata(scn, NULL);

			if (data && data->d_size > 1 && memchr(data->d_buf, 0, data->d_size))
				mod->debuglink = strdup(data->d_buf);
		} else if (!strcmp(name, ".debug_info") && shdr.sh_type != SHT_NOBITS &&
			   shdr.sh_size > 0) {
			mod->has_dwarf = true;
		} else if (!strcmp(name, ".text")) {
			pclntab->text_vaddr = shdr.sh_addr;
		} else if ((!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab")) &&
			   shdr.sh_type == SHT_PROGBITS) {
			pclntab->file_offset = shdr.sh_offset;
			pclntab->size = shdr.sh_size;
		} else if (!strcmp(name, ".go.buildinfo") && shdr.sh_type == SHT_PROGBITS) {
			mod->go_buildinfo_vaddr = shdr.sh_addr;
			mod->go_buildinfo_size = shdr.sh_size;
		}
	}
	sort_symbols(mod);
	return 0;
}

/* Each Go function as a symbol, sized up to the next one's entry. */
static int add_go_symbols(struct elf_module *mod, struct gopclntab *t)
{
	size_t count = gopclntab_count(t), cap = mod->symbol_count + count;
	struct elf_symbol *syms = realloc(mod->symbols, (cap ? cap : 1) * sizeof(*syms));

	if (!syms)
		return -ENOMEM;
	mod->symbols = syms;
	for (size_t i = 0; i < count; i++) {
		uint64_t entry = gopclntab_entry(t, i);
		struct go_pc_info info;
		const char *name;

		if (!gopclntab_lookup(t, entry, &info) || !(name = pool_add(mod, info.function)))
			continue;
		mod->symbols[mod->symbol_count++] = (struct elf_symbol){
			.addr = entry, .size = gopclntab_entry(t, i + 1) - entry,
			.name = name, .rank = 300,
		};
	}
	sort_symbols(mod);
	return 0;
}

/*
 * Map .gopclntab from the file (pages are read only when a lookup touches
 * them) and, when .symtab was stripped, take the functions from it.
 */
static int read_go_pclntab(struct elf_module *mod, const struct pclntab_place *place)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = place->file_offset & ~(uint64_t)(page - 1);
	uint32_t magic;
	uint8_t *map;

	if (!place->size)
		return 0;
	mod->go_pclntab_map_len = place->file_offset - start + place->size;
	map = mmap(NULL, mod->go_pclntab_map_len, PROT_READ, MAP_PRIVATE, mod->fd, (off_t)start);
	if (map == MAP_FAILED) {
		mod->go_pclntab_map_len = 0;
		return 0; /* named as a stripped ELF file is: no worse */
	}
	mod->go_pclntab_map = map;
	mod->go_pclntab = gopclntab_open(map + (place->file_offset - start), place->size, &magic);
	if (!mod->go_pclntab)
		return 0;
	gopclntab_set_text_start_if_unset(mod->go_pclntab, place->text_vaddr);
	if (mod->has_symtab)
		return 0;
	return add_go_symbols(mod, mod->go_pclntab);
}

static int read_segments(struct elf_module *mod, Elf *elf)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum))
		return -EINVAL;
	mod->segments = calloc(phnum ? phnum : 1, sizeof(*mod->segments));
	if (!mod->segments)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		mod->segments[mod->segment_count++] = (struct elf_segment){
			.vaddr = phdr.p_vaddr, .memsz = phdr.p_memsz,
			.file_offset = phdr.p_offset, .filesz = phdr.p_filesz,
			.executable = phdr.p_flags & PF_X,
		};
	}
	return 0;
}

static int open_elf(const char *path, int *fd_out, Elf **elf_out)
{
	int fd, err;
	Elf *elf;

	err = ensure_libelf();
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	*fd_out = fd;
	*elf_out = elf;
	return 0;
}

int elf_module_open(const char *path, struct elf_module **out)
{
	struct pclntab_place pclntab = { 0 };
	struct elf_module *mod;
	GElf_Ehdr ehdr;
	Elf *elf;
	int fd, err;

	err = open_elf(path, &fd, &elf);
	if (err)
		return err;
	mod = calloc(1, sizeof(*mod));
	if (!mod) {
		err = -ENOMEM;
		goto fail;
	}
	mod->fd = fd;
	mod->path = strdup(path);
	if (!mod->path || !gelf_getehdr(elf, &ehdr)) {
		err = mod->path ? -ENOEXEC : -ENOMEM;
		goto fail;
	}
	mod->is_dyn = ehdr.e_type == ET_DYN;
	err = read_segments(mod, elf);
	if (!err)
		err = read_sections(mod, elf, false, &pclntab);
	if (!err)
		err = read_go_pclntab(mod, &pclntab);
	if (err)
		goto fail;
	elf_end(elf);
	*out = mod;
	return 0;
fail:
	elf_end(elf);
	if (mod) {
		mod->fd = -1;
		elf_module_close(mod);
	}
	close(fd);
	return err;
}

int elf_module_merge_symbols(struct elf_module *mod, const char *path)
{
	struct pclntab_place unused = { 0 };
	Elf *elf;
	int fd, err;

	err = open_elf(path, &fd, &elf);
	if (err)
		return err;
	err = read_sections(mod, elf, true, &unused);
	elf_end(elf);
	close(fd);
	return err;
}

void elf_module_close(struct elf_module *mod)
{
	if (!mod)
		return;
	for (size_t i = 0; i < mod->string_count; i++)
		free(mod->string_pool[i]);
	free(mod->string_pool);
	gopclntab_free(mod->go_pclntab);
	if (mod->go_pclntab_map)
		munmap(mod->go_pclntab_map, mod->go_pclntab_map_len);
	free(mod->symbols);
	free(mod->segments);
	free(mod->debuglink);
	free(mod->path);
	if (mod->fd >= 0)
		close(mod->fd);
	free(mod);
}

const struct elf_symbol *elf_module_lookup(const struct elf_module *mod, uint64_t vaddr,
					   uint64_t *offset)
{
	size_t lo = 0, hi = mod->symbol_count;
	const struct elf_symbol *sym;

	/* Last symbol starting at or below vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mod->symbols[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	sym = &mod->symbols[lo - 1];
	while (sym > mod->symbols && sym[-1].addr == sym->addr)
		sym--; /* the best-ranked alias */
	for (const struct elf_symbol *alias = sym; !sym->size && alias < mod->symbols + lo; alias++)
		if (alias->size)
			sym = alias;
	if (sym->size && vaddr >= sym->addr + sym->size)
		return NULL;
	*offset = vaddr - sym->addr;
	return sym;
}

uint64_t elf_module_function_vaddr(const struct elf_module *mod, const char *name)
{
	for (size_t i = 0; i < mod->symbol_count; i++)
		if (!strcmp(mod->symbols[i].name, name))
			return mod->symbols[i].addr;
	return 0;
}

uint64_t elf_file_object_vaddr(const char *path, const char *name)
{
	Elf_Scn *scn = NULL;
	uint64_t found = 0;
	Elf *elf;
	int fd;

	if (open_elf(path, &fd, &elf))
		return 0;
	while (!found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB ||
		    !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
			const char *sym_name;
			GElf_Sym sym;

			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
				continue;
			sym_name = elf_strptr(elf, shdr.sh_link, sym.st_name);
			if (sym_name && !strcmp(sym_name, name)) {
				found = sym.st_value;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

/* Whether the symbol table in scn defines the function name. */
static bool table_defines(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr, const char *name)
{
	Elf_Data *data = elf_getdata(scn, NULL);

	for (size_t i = 0; data && i < shdr->sh_size / shdr->sh_entsize; i++) {
		const char *sym_name;
		GElf_Sym sym;
		int type;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		sym_name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if ((type == STT_FUNC || type == STT_GNU_IFUNC) && sym_name && !strcmp(sym_name, name))
			return true;
	}
	return false;
}

bool elf_file_has_functions(const char *path, const char *const *names, bool exported)
{
	Elf_Scn *scn = NULL;
	bool defined = false;
	Elf *elf;
	int fd;

	if (open_elf(path, &fd, &elf))
		return false;
	while (!defined && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr) || !shdr.sh_entsize ||
		    !(shdr.sh_type == SHT_DYNSYM || (!exported && shdr.sh_type == SHT_SYMTAB)))
			continue;
		defined = true;
		for (const char *const *name = names; *name && defined; name++)
			defined = table_defines(elf, scn, &shdr, *name);
	}
	elf_end(elf);
	close(fd);
	return defined;
}

bool elf_file_defines(const char *path, const char *const *names)
{
	struct elf_module *mod;
	bool defined = true;

	if (elf_module_open(path, &mod))
		return false;
	for (; *names && defined; names++)
		defined = elf_module_function_vaddr(mod, *names) != 0;
	elf_module_close(mod);
	return defined;
}

int elf_module_vaddr_to_offset(const struct elf_module *mod, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < mod->segment_count; i++) {
		const struct elf_segment *seg = &mod->segments[i];

		if (vaddr >= seg->vaddr && vaddr < seg->vaddr + seg->filesz) {
			*offset = vaddr - seg->vaddr + seg->file_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_module_offset_to_vaddr(const struct elf_module *mod, uint64_t offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < mod->segment_count; i++) {
		const struct elf_segment *seg = &mod->segments[i];

		if (offset >= seg->file_offset && offset < seg->file_offset + seg->filesz) {
			*vaddr = offset - seg->file_offset + seg->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_module_has_frame_pointers(const struct elf_module *mod)
{
	static const uint8_t prologue[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	size_t step = mod->symbol_count / 256 + 1, sampled = 0, with_fp = 0;

	if (elf_module_function_vaddr(mod, "runtime.newproc"))
		return true;
	for (size_t i = 0; i < mod->symbol_count; i += step) {
		uint8_t code[8];

		if (mod->symbols[i].size < 16 || elf_module_read(mod, mod->symbols[i].addr, code, 8))
			continue;
		sampled++;
		if (!memcmp(code, prologue, 4) ||
		    (!memcmp(code, endbr64, 4) && !memcmp(code + 4, prologue, 4)))
			with_fp++;
	}
	return sampled && with_fp * 2 >= sampled;
}

int elf_module_read(const struct elf_module *mod, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t offset;
	ssize_t got;
	int err = elf_module_vaddr_to_offset(mod, vaddr, &offset);

	if (err)
		return err;
	got = pread(mod->fd, buf, len, (off_t)offset);
	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EIO;
}
