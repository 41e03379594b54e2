// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * glibc's _dl_find_object() for static musl executables (aarch64).
 *
 * Debian's gcc 12 libgcc_eh.a was built against glibc 2.36 and finds an
 * address's unwind tables with _dl_find_object(), which musl lacks. This
 * gives the unwinder the same answer through dl_iterate_phdr(): the loaded
 * object holding the address, its mapping and its PT_GNU_EH_FRAME segment
 * (the .eh_frame_hdr the unwinder then searches). board/cross/sysroots.sh
 * adds it to the libunwind.a that Rust's std links for the musl target.
 */
#include <link.h>
#include <stddef.h>
#include <stdint.h>

/*
 * glibc 2.36's struct dl_find_object for targets without
 * DLFO_STRUCT_HAS_EH_DBASE and DLFO_STRUCT_HAS_EH_COUNT (aarch64).
 */
struct dl_find_object {
	unsigned long long dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	struct link_map *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long dlfo_reserved[7];
};

int _dl_find_object(void *address, struct dl_find_object *result);

struct query {
	uintptr_t address;
	struct dl_find_object *result;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct query *q = data;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	void *eh_frame = NULL;
	int hit = 0;

	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD) {
			uintptr_t end = start + ph->p_memsz;

			if (start < lo)
				lo = start;
			if (end > hi)
				hi = end;
			if (q->address >= start && q->address < end)
				hit = 1;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			eh_frame = (void *)start;
		}
	}
	if (!hit)
		return 0;
	*q->result = (struct dl_find_object){
		.dlfo_map_start = (void *)lo,
		.dlfo_map_end = (void *)hi,
		.dlfo_eh_frame = eh_frame,
	};
	return 1;
}

int _dl_find_object(void *address, struct dl_find_object *result)
{
	struct query q = { (uintptr_t)address, result };

	return dl_iterate_phdr(visit, &q) ? 0 : -1;
}
