/* --explore on Linux: the Virtual API's walk done with mmap, mprotect,
 * madvise and munmap, and what /proc/self/maps says at each step. Linux
 * has no page states in Windows's sense: a mapping is there or not, and
 * its protection is all there is, so the walk maps "reserved" to a
 * PROT_NONE mapping and "committed" to an accessible one, and says where
 * the correspondence ends. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "evidence.h"
#include "explore.h"
#include "internal.h"
#include "platform.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17 */
#endif

/* x86-64's user space with 4-level paging ends at 2^47 minus one page:
 * the kernel's TASK_SIZE (and its default mmap window under 5-level). */
#define TASK_SIZE_47 UINT64_C(0x7ffffffff000)

#define NORESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

/* The first number after `key` in a small /proc file, or false. */
static bool proc_number(const char *path, const char *key, uint64_t *out)
{
	char line[256];
	FILE *f = fopen(path, "r");
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long v;

		if (strncmp(line, key, strlen(key)) == 0 &&
		    sscanf(line + strlen(key), " %llu", &v) == 1) {
			*out = v;
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Whether one page at `addr` can be mapped: 0 yes (and unmapped again),
 * else the errno (EEXIST: something is mapped there already). */
static int try_map_page(uint64_t addr, size_t ps)
{
	void *p = mmap((void *)(uintptr_t)addr, ps, PROT_NONE,
		       NORESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, ps);
	/* Kernels before 4.17 take the flag as a mere hint. */
	return p == (void *)(uintptr_t)addr ? 0 : EINVAL;
}

static void find_top(struct explore_system *s)
{
	int below = try_map_page(TASK_SIZE_47 - s->page_size, (size_t)s->page_size);
	int at = try_map_page(TASK_SIZE_47, (size_t)s->page_size);

	s->max_address = TASK_SIZE_47 - 1;
	snprintf(s->max_address_source, sizeof(s->max_address_source),
		 "x86-64's 47-bit TASK_SIZE 0x%" PRIx64 " less one byte; probed with mmap "
		 "MAP_FIXED_NOREPLACE: the page below it %s, the page at it %s", TASK_SIZE_47,
		 below == 0 ? "maps" : below == EEXIST ? "is mapped already" : strerror(below),
		 at == 0 ? "maps too (5-level paging: more above, on request)" :
		 at == ENOMEM ? "is refused (ENOMEM: beyond user space)" : strerror(at));
}

static void describe_system(struct explore_system *s)
{
	uint64_t kib = 0;

	explore_describe_platform(s);
	snprintf(s->page_size_source, sizeof(s->page_size_source),
		 "sysconf(_SC_PAGESIZE); mmap places mappings at any page, so the "
		 "granularity is the page");
	if (proc_number("/proc/meminfo", "Hugepagesize:", &kib))
		snprintf(s->large_page_source, sizeof(s->large_page_source),
			 "Hugepagesize in /proc/meminfo");
	else
		snprintf(s->large_page_source, sizeof(s->large_page_source),
			 "no Hugepagesize in /proc/meminfo: no huge pages");
	s->large_page_minimum = kib * 1024;
	if (proc_number("/proc/sys/vm/mmap_min_addr", "", &s->min_address))
		snprintf(s->min_address_source, sizeof(s->min_address_source),
			 "/proc/sys/vm/mmap_min_addr: nothing may be mapped below it");
	else
		snprintf(s->min_address_source, sizeof(s->min_address_source),
			 "/proc/sys/vm/mmap_min_addr unreadable: the page size assumed");
	if (s->min_address == 0)
		s->min_address = s->page_size;
	find_top(s);
}

/* What /proc/self/maps says about addr: its line, or none (free). */
void explore_query(const void *addr, struct explore_query *q)
{
	uintptr_t a = (uintptr_t)addr;
	char line[POSIX_MAPS_LINE_MAX];
	unsigned long lo, hi, inode;
	char perms[8];
	int path = 0, err = posix_maps_find(a, line);

	memset(q, 0, sizeof(*q));
	q->state = EXPLORE_UNKNOWN;
	if (err != 0 && !err_is(err, COWLAB_E_NOENT)) {
		snprintf(q->raw, sizeof(q->raw), "/proc/self/maps unreadable");
		return;
	}
	q->state = EXPLORE_FREE;
	snprintf(q->raw, sizeof(q->raw), "no line in /proc/self/maps covers 0x%" PRIxPTR, a);
	if (err != 0 || sscanf(line, "%lx-%lx %7s %*x %*x:%*x %lu %n", &lo, &hi, perms, &inode,
			       &path) < 4)
		return;
	posix_maps_line(q->raw, sizeof(q->raw), line);
	snprintf(q->protect, sizeof(q->protect), "%s", perms);
	snprintf(q->type, sizeof(q->type), "%s",
		 inode == 0 && (path == 0 || line[path] == '\0') ? "anonymous" :
		 perms[3] == 'p' ? "file, private" : "file, shared");
	q->base = lo;
	q->size = hi - lo;
	q->state = strncmp(perms, "---", 3) == 0 ? EXPLORE_RESERVED : EXPLORE_COMMITTED;
}

/* mprotect, then what /proc/self/maps says; false, the demo unexpected,
 * when mprotect fails. */
static bool protect(struct explore_demo *d, void *addr, size_t ps, int prot, const char *name)
{
	struct explore_query q;

	if (mprotect(addr, ps, prot) != 0) {
		explore_set(d, EXPLORE_UNEXPECTED, "mprotect(%s): %s", name, strerror(errno));
		return false;
	}
	explore_query(addr, &q);
	explore_fact(d, "after mprotect(%s): %s", name, q.raw);
	return true;
}

static void demo_readonly(struct explore_result *r, uint8_t *base, size_t ps)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_READONLY_WRITE];

	if (!protect(d, base, ps, PROT_READ, "PROT_READ"))
		return;
	explore_readonly_write(d, (volatile uint32_t *)(base + 32));
	if (mprotect(base, ps, PROT_READ | PROT_WRITE) != 0)
		explore_set(d, EXPLORE_UNEXPECTED, "mprotect back to read/write failed");
}

static void demo_guard(struct explore_result *r)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_GUARD_ONCE];
	struct explore_query q;
	int local = 0;

	/* The stack's own line: the nearest thing Linux has. */
	explore_query(&local, &q);
	explore_fact(d, "this thread's stack: %s", q.raw);
	explore_set(d, EXPLORE_NOT_APPLICABLE,
		    "Linux has no PAGE_GUARD, no one-shot protection that faults once and "
		    "clears itself. The nearest thing is the stack guard gap: the kernel keeps "
		    "stack_guard_gap pages (256 by default, 1 MiB) below a growing stack free of "
		    "other mappings, and running into it is an ordinary SIGSEGV, every time; "
		    "the stack grows by faulting below its mapping instead of by a guard page. "
		    "Nothing is faked here.");
}

void explore_cow_protect(struct explore_demo *d, uint8_t *rw, uint8_t *cow, size_t ps)
{
	struct evidence_report ev;
	struct explore_query q;
	int err;

	*(volatile uint32_t *)rw = 0x5ec7105e;
	explore_query(cow, &q);
	explore_fact(d, "MAP_PRIVATE view of a memfd: %s", q.raw);
	if (!protect(d, cow, ps, PROT_READ, "PROT_READ"))
		return;
	explore_write(d, "the read-only cow view", (volatile uint32_t *)cow, 0xc0111de5,
		      true, fault_protection_code, 0);
	if (!protect(d, cow, ps, PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE"))
		return;
	explore_write(d, "the cow view, writable again", (volatile uint32_t *)cow, 0xc0111de5,
		      false, NULL, 0);
	explore_judge(d);
	explore_fact(d, "the memfd (shared view) still holds 0x%08" PRIx32 ", the cow view "
		     "0x%08" PRIx32, *(volatile uint32_t *)rw, *(volatile uint32_t *)cow);
	if (*(volatile uint32_t *)rw != 0x5ec7105e)
		explore_set(d, EXPLORE_UNEXPECTED, "the write through the cow view reached the memfd");
	err = evidence_query(cow, 2 * ps, 0, 1, &ev);
	if (err != 0) {
		explore_set(d, EXPLORE_UNEXPECTED, "no pagemap evidence: %s", cowlab_strerror(err));
		return;
	}
	explore_fact(d, "/proc/self/pagemap: present, bit 61 (file-page/shared-anon) %s: "
		     "the page is %s", ev.private_pages == 1 ? "clear" : "set",
		     ev.private_pages == 1 ? "a private copy now" : "still the memfd's");
	if (ev.private_pages != 1)
		explore_set(d, EXPLORE_UNEXPECTED, "pagemap does not show a private copy");
	evidence_free(&ev);
}

/* Reserve and commit: the two calls Windows has, made of mmap and
 * mprotect. Then the committed pages' demonstrations. */
static uint8_t *walk_to_committed(struct explore_result *r, size_t ps, size_t len)
{
	struct explore_demo *d;
	uint8_t *hint, *base;

	/* An address that was just free: map, unmap, look. The hole is
	 * four times the region and the region its bottom, since mmap
	 * fills a hole from the top should reading /proc map anything. */
	hint = mmap(NULL, 4 * len, PROT_NONE, NORESERVE_FLAGS, -1, 0);
	if (hint != MAP_FAILED)
		munmap(hint, 4 * len);
	explore_step(r, EXPLORE_STEP_FREE, hint != MAP_FAILED, EXPLORE_FREE, hint,
	     "an address mmap chose, unmapped again: nothing there yet");
	base = mmap(hint, len, PROT_NONE, NORESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
	explore_step(r, EXPLORE_STEP_RESERVED, hint != MAP_FAILED && base == hint,
		     EXPLORE_RESERVED, hint,
	     "mmap(PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_FIXED_NOREPLACE) there");
	snprintf(r->steps[EXPLORE_STEP_RESERVED].note, EXPLORE_NOTE,
		 "a PROT_NONE mapping with MAP_NORESERVE holds the addresses and charges no "
		 "commit, the nearest thing to MEM_RESERVE; Linux calls it no state of its own");
	if (base == MAP_FAILED)
		return NULL;
	if (base != hint) {
		munmap(base, len);
		return NULL;
	}

	d = &r->demos[EXPLORE_DEMO_RESERVED_TOUCH];
	explore_read(d, "reserved page 2", (volatile uint32_t *)(base + 2 * ps + 8), true,
		     fault_protection_code, 0);
	explore_judge(d);

	explore_step(r, EXPLORE_STEP_COMMITTED, mprotect(base, 2 * ps, PROT_READ | PROT_WRITE) == 0,
	     EXPLORE_COMMITTED, base, "mprotect(PROT_READ|PROT_WRITE) of pages 0-1");
	if (!r->steps[EXPLORE_STEP_COMMITTED].call_ok) {
		munmap(base, len);
		return NULL;
	}
	snprintf(r->steps[EXPLORE_STEP_COMMITTED].note, EXPLORE_NOTE,
		 "Linux has no separate commit: the pages become accessible (the mapping "
		 "splits) and each gets a zero-filled frame on first touch; with "
		 "MAP_NORESERVE nothing is charged against the commit limit, unlike MEM_COMMIT");

	explore_demo_committed_zero(r, base, ps);
	/* Something for the decommit to throw away. */
	memset(base, 0x5a, 2 * ps);
	demo_readonly(r, base, ps);
	return base;
}

int explore_run(struct explore_result *r)
{
	size_t ps = platform_page_size();
	size_t len = 16 * ps;
	struct explore_demo *d;
	uint8_t *base;
	bool ok;

	memset(r, 0, sizeof(*r));
	describe_system(&r->sys);
	r->region_size = len;
	base = walk_to_committed(r, ps, len);
	if (base == NULL)
		return COWLAB_E_IO;
	demo_guard(r);

	ok = madvise(base, 2 * ps, MADV_DONTNEED) == 0 && mprotect(base, 2 * ps, PROT_NONE) == 0;
	explore_step(r, EXPLORE_STEP_DECOMMITTED, ok, EXPLORE_RESERVED, base,
	     "madvise(MADV_DONTNEED) + mprotect(PROT_NONE) of pages 0-1");
	snprintf(r->steps[EXPLORE_STEP_DECOMMITTED].note, EXPLORE_NOTE,
		 "no equivalent state on Linux: decommitted (MEM_RESERVE again, its contents "
		 "gone) is only a PROT_NONE mapping whose frames were dropped, which "
		 "/proc/self/maps cannot tell from the reserved one (the split mapping "
		 "merges back)");

	/* The touch comes first: nothing may be mapped there in between. */
	ok = munmap(base, len) == 0;
	d = &r->demos[EXPLORE_DEMO_FREE_TOUCH];
	explore_read(d, "the released region", (volatile uint32_t *)(base + 8), true,
		     "SIGSEGV/SEGV_MAPERR", 0);
	explore_judge(d);
	explore_step(r, EXPLORE_STEP_RELEASED, ok, EXPLORE_FREE, base, "munmap of the whole region");
	if (d->outcome == EXPLORE_AS_DOCUMENTED)
		explore_fact(d, "SEGV_MAPERR (no mapping) where the reserved page gave "
			     "SEGV_ACCERR (a mapping that forbids it)");

	explore_demo_cow(r, ps);
	return COWLAB_OK;
}
