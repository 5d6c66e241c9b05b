/* Trying a memory access that must fault, and reporting the fault the way
 * the platform raises it (SIGSEGV on Linux, EXCEPTION_ACCESS_VIOLATION
 * through a vectored handler on Windows). */
#ifndef COWLAB_FAULT_H
#define COWLAB_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fault_info {
	bool faulted;
	char code[48];        /* "SIGSEGV/SEGV_ACCERR", "EXCEPTION_ACCESS_VIOLATION" */
	uintptr_t address;    /* the faulting address the OS reported */
	/* The raw number behind `code`: the exception code on Windows
	 * (0xC0000005, 0x80000001), the signal number on POSIX. */
	uint32_t os_code;
};

/* os_code as the platform says it: "signal 11" (POSIX), "0xC0000005"
 * (Windows). */
void fault_os_code_text(const struct fault_info *f, char *buf, size_t cap);

/* The code a write to a read-only page raises on this platform:
 * "SIGSEGV/SEGV_ACCERR" on Linux, "EXCEPTION_ACCESS_VIOLATION/write" on
 * Windows. Any other fault is not the one a read-only view must give. */
extern const char fault_protection_code[];

/* Writes `value` to *addr; if the write faults, records it in *out and
 * returns normally. Returns 0, or a negative cowlab_err if the probe
 * could not be set up. */
int fault_try_write32(volatile uint32_t *addr, uint32_t value,
		      struct fault_info *out);

/* What fault_try_access32 does and which faults it catches. */
#define FAULT_WRITE       0x1u /* write *value, else read into *value */
/* Also catch STATUS_GUARD_PAGE_VIOLATION ("STATUS_GUARD_PAGE_VIOLATION/
 * read" or "/write"). Without it a guard page fault is not caught; POSIX
 * has no guard pages and ignores the flag. */
#define FAULT_CATCH_GUARD 0x2u

/* The general probe fault_try_write32 is made of (common/fault.c); a read
 * leaves *value alone if it faults. */
int fault_try_access32(volatile uint32_t *addr, uint32_t *value, unsigned flags,
		       struct fault_info *out);

#endif
