/*
 * Shrinking a long-lived helper (the shim, the jail's init).  Most of a
 * static binary's text is touched once, while starting the jail, and the
 * kernel maps file pages in 64 KiB blocks around each touch; dropping the
 * program's read-only mappings afterwards leaves only what the
 * supervision loop touches again.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static int
drop_readonly(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start, end;

		/*
		 * Read-only segments hold nothing but the file's bytes (no
		 * text relocations here), so dropping them loses nothing.
		 */
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) &
		    ~(page - 1);
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
	}
	return 1;	/* the program only, not shared libraries */
}

void
jtd_backend_trim(void)
{
	(void)dl_iterate_phdr(drop_readonly, NULL);
}
