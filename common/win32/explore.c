/* --explore on Windows: the Virtual API itself (VirtualAlloc, VirtualFree,
 * VirtualProtect) and what VirtualQuery says at each step. Under Wine a
 * result that differs from Windows's documented one is reported as a
 * platform deviation, and only when it is the deviation Wine is known for:
 * anything else is unexpected. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include "err.h"
#include "evidence.h"
#include "explore.h"
#include "internal.h"
#include "platform.h"

static const char *state_name(DWORD s)
{
	return s == MEM_FREE ? "MEM_FREE" : s == MEM_RESERVE ? "MEM_RESERVE" :
	       s == MEM_COMMIT ? "MEM_COMMIT" : "?";
}

static const char *type_name(DWORD t)
{
	return t == MEM_PRIVATE ? "MEM_PRIVATE" : t == MEM_MAPPED ? "MEM_MAPPED" :
	       t == MEM_IMAGE ? "MEM_IMAGE" : t == 0 ? "0" : "?";
}

/* What VirtualQuery says about addr; also its raw Protect. */
static DWORD query_page(const void *addr, struct explore_query *q)
{
	MEMORY_BASIC_INFORMATION mbi;
	char alloc_protect[48];

	memset(q, 0, sizeof(*q));
	q->state = EXPLORE_UNKNOWN;
	if (VirtualQuery(addr, &mbi, sizeof(mbi)) == 0) {
		snprintf(q->raw, sizeof(q->raw), "VirtualQuery failed (error %lu)", GetLastError());
		return 0;
	}
	q->state = mbi.State == MEM_FREE ? EXPLORE_FREE : mbi.State == MEM_RESERVE ?
		   EXPLORE_RESERVED : mbi.State == MEM_COMMIT ? EXPLORE_COMMITTED : EXPLORE_UNKNOWN;
	win32_protect_name(mbi.Protect, q->protect, sizeof(q->protect));
	win32_protect_name(mbi.AllocationProtect, alloc_protect, sizeof(alloc_protect));
	snprintf(q->type, sizeof(q->type), "%s", type_name(mbi.Type));
	q->base = (uintptr_t)mbi.BaseAddress;
	q->size = mbi.RegionSize;
	q->allocation_base = (uintptr_t)mbi.AllocationBase;
	q->has_allocation_base = true;
	snprintf(q->raw, sizeof(q->raw), "State=%s Protect=%s Type=%s RegionSize=0x%" PRIx64
		 " BaseAddress=0x%" PRIx64 " AllocationBase=0x%" PRIx64 " AllocationProtect=%s",
		 state_name(mbi.State), q->protect, q->type, q->size, q->base,
		 q->allocation_base, alloc_protect);
	return mbi.Protect;
}

void explore_query(const void *addr, struct explore_query *q)
{
	query_page(addr, q);
}

static void describe_system(struct explore_system *s)
{
	SYSTEM_INFO si;

	explore_describe_platform(s);
	GetSystemInfo(&si);
	snprintf(s->page_size_source, sizeof(s->page_size_source),
		 "GetSystemInfo: dwPageSize, dwAllocationGranularity (where VirtualAlloc "
		 "regions may start)");
	s->large_page_minimum = GetLargePageMinimum();
	snprintf(s->large_page_source, sizeof(s->large_page_source), "GetLargePageMinimum()");
	s->min_address = (uintptr_t)si.lpMinimumApplicationAddress;
	s->max_address = (uintptr_t)si.lpMaximumApplicationAddress;
	snprintf(s->min_address_source, sizeof(s->min_address_source),
		 "GetSystemInfo: lpMinimumApplicationAddress");
	snprintf(s->max_address_source, sizeof(s->max_address_source),
		 "GetSystemInfo: lpMaximumApplicationAddress");
}

/* VirtualProtect, then what VirtualQuery says (into q); false, the demo
 * unexpected, when VirtualProtect fails. */
static bool protect(struct explore_demo *d, void *addr, size_t ps, DWORD prot, const char *name,
		    struct explore_query *q)
{
	char old_name[48];
	DWORD old;

	if (!VirtualProtect(addr, ps, prot, &old)) {
		explore_set(d, EXPLORE_UNEXPECTED, "VirtualProtect(%s) failed (%lu)", name,
			    GetLastError());
		return false;
	}
	win32_protect_name(old, old_name, sizeof(old_name));
	query_page(addr, q);
	explore_fact(d, "VirtualProtect(%s), old %s; %s", name, old_name, q->raw);
	return true;
}

static void demo_readonly(struct explore_result *r, uint8_t *base, size_t ps)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_READONLY_WRITE];
	struct explore_query q;
	DWORD old;

	if (!protect(d, base, ps, PAGE_READONLY, "PAGE_READONLY", &q))
		return;
	explore_readonly_write(d, (volatile uint32_t *)(base + 32));
	if (strcmp(q.protect, "PAGE_READONLY") != 0)
		explore_set(d, EXPLORE_UNEXPECTED, "VirtualQuery says %s", q.protect);
	if (!VirtualProtect(base, ps, PAGE_READWRITE, &old))
		explore_set(d, EXPLORE_UNEXPECTED, "VirtualProtect back to PAGE_READWRITE failed");
}

static void demo_guard(struct explore_result *r, uint8_t *page)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_GUARD_ONCE];
	volatile uint32_t *w = (volatile uint32_t *)(page + 64);
	struct explore_query q;
	DWORD old, after;

	if (!VirtualProtect(page, r->sys.page_size, PAGE_READWRITE | PAGE_GUARD, &old)) {
		explore_set(d, EXPLORE_UNEXPECTED, "VirtualProtect(PAGE_READWRITE|PAGE_GUARD) "
			    "failed (%lu)", GetLastError());
		return;
	}
	query_page(page, &q);
	explore_fact(d, "VirtualProtect(PAGE_READWRITE|PAGE_GUARD): %s", q.raw);
	explore_read(d, "the guard page, first touch", w, true, "STATUS_GUARD_PAGE_VIOLATION/read",
		     FAULT_CATCH_GUARD);
	after = query_page(page, &q);
	explore_fact(d, "after the fault: %s", q.raw);
	explore_read(d, "the same word, second touch", w, false, NULL, FAULT_CATCH_GUARD);
	explore_judge(d);
	if (after & PAGE_GUARD)
		explore_set(d, EXPLORE_UNEXPECTED, "PAGE_GUARD did not clear after the fault");
}

/* A pagefile-backed section through a FILE_MAP_COPY view: PAGE_WRITECOPY
 * to PAGE_READONLY and back, then a write that makes the page private. */
void explore_cow_protect(struct explore_demo *d, uint8_t *rw, uint8_t *cow, size_t ps)
{
	const char *wine = win32_wine_version();
	struct evidence_report ev;
	struct explore_query q;
	DWORD now;

	*(volatile uint32_t *)rw = 0x5ec7105e;
	query_page(cow, &q);
	explore_fact(d, "FILE_MAP_COPY view: %s", q.raw);
	if (!protect(d, cow, ps, PAGE_READONLY, "PAGE_READONLY", &q))
		return;
	explore_write(d, "the read-only cow view", (volatile uint32_t *)cow, 0xc0111de5, true,
		      fault_protection_code, 0);
	if (!protect(d, cow, ps, PAGE_WRITECOPY, "PAGE_WRITECOPY", &q))
		return;
	explore_write(d, "the cow view, PAGE_WRITECOPY again", (volatile uint32_t *)cow,
		      0xc0111de5, false, NULL, 0);
	explore_judge(d);
	now = query_page(cow, &q);
	explore_fact(d, "after the write: %s", q.raw);
	explore_fact(d, "the section (FILE_MAP_WRITE view) still holds 0x%08" PRIx32
		     ", the cow view 0x%08" PRIx32, *(volatile uint32_t *)rw,
		     *(volatile uint32_t *)cow);
	if (*(volatile uint32_t *)rw != 0x5ec7105e)
		explore_set(d, EXPLORE_UNEXPECTED, "the write through the cow view reached the section");
	if (evidence_query(cow, 2 * ps, 0, 1, &ev) == 0) {
		explore_fact(d, "QueryWorkingSetEx: Shared %s: the page is %s",
			     ev.private_pages == 1 ? "0" : "1",
			     ev.private_pages == 1 ? "a private copy now" : "still the section's");
		if (ev.private_pages != 1)
			explore_set(d, EXPLORE_UNEXPECTED, "QueryWorkingSetEx shows no private copy");
		evidence_free(&ev);
	} else {
		explore_set(d, EXPLORE_UNEXPECTED, "QueryWorkingSetEx failed");
	}
	/* Windows: the written page turns PAGE_READWRITE (its region splits
	 * off). Wine keeps PAGE_WRITECOPY: known, and said so. */
	if ((now & 0xff) == PAGE_READWRITE)
		return;
	if (wine != NULL && (now & 0xff) == PAGE_WRITECOPY)
		explore_set(d, EXPLORE_DEVIATION, "Wine %s's VirtualQuery still says PAGE_WRITECOPY "
			    "for the written page, where Windows says PAGE_READWRITE (the private "
			    "copy, its region split off); the copy itself happened "
			    "(QueryWorkingSetEx Shared 1 -> 0, the section unchanged)", wine);
	else
		explore_set(d, EXPLORE_UNEXPECTED, "after the write VirtualQuery says %s, not "
			    "PAGE_READWRITE", q.protect);
}

/* Reserve and commit, then the committed pages' demonstrations. */
static uint8_t *walk_to_committed(struct explore_result *r, size_t ps, size_t len)
{
	struct explore_demo *d;
	uint8_t *hint, *base;

	/* An address that was just free: reserve, release, look. */
	hint = VirtualAlloc(NULL, len, MEM_RESERVE, PAGE_NOACCESS);
	if (hint != NULL)
		VirtualFree(hint, 0, MEM_RELEASE);
	explore_step(r, EXPLORE_STEP_FREE, hint != NULL, EXPLORE_FREE, hint,
	     "an address VirtualAlloc chose, released again: nothing there yet");
	base = VirtualAlloc(hint, len, MEM_RESERVE, PAGE_NOACCESS);
	explore_step(r, EXPLORE_STEP_RESERVED, base != NULL && base == hint, EXPLORE_RESERVED, hint,
	     "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS) there");
	if (base == NULL)
		return NULL;
	if (base != hint) {
		VirtualFree(base, 0, MEM_RELEASE);
		return NULL;
	}

	d = &r->demos[EXPLORE_DEMO_RESERVED_TOUCH];
	explore_read(d, "reserved page 2", (volatile uint32_t *)(base + 2 * ps + 8), true,
		     "EXCEPTION_ACCESS_VIOLATION/read", 0);
	explore_judge(d);

	explore_step(r, EXPLORE_STEP_COMMITTED,
	     VirtualAlloc(base, 2 * ps, MEM_COMMIT, PAGE_READWRITE) == base, EXPLORE_COMMITTED,
	     base, "VirtualAlloc(MEM_COMMIT, PAGE_READWRITE) of pages 0-1");
	if (!r->steps[EXPLORE_STEP_COMMITTED].call_ok) {
		VirtualFree(base, 0, MEM_RELEASE);
		return NULL;
	}

	explore_demo_committed_zero(r, base, ps);
	memset(base, 0x5a, 2 * ps);
	demo_readonly(r, base, ps);
	demo_guard(r, base + ps);
	return base;
}

static void decommit_note(struct explore_result *r, size_t ps)
{
	struct explore_step *s = &r->steps[EXPLORE_STEP_DECOMMITTED];
	const char *wine = win32_wine_version();
	int n;

	n = snprintf(s->note, sizeof(s->note), "decommitted pages are reserved again, their "
		     "contents gone: VirtualQuery cannot tell them from pages never committed");
	/* Seen under Wine 8.0: the region stops at the decommitted pages,
	 * though the reserved pages after them have the same State and
	 * Protect. Wine's decommit_pages clears only VPROT_COMMITTED and
	 * keeps the old protection bits, which VirtualQuery compares. */
	if (wine != NULL && s->q.size == 2 * ps && n > 0 && (size_t)n < sizeof(s->note))
		snprintf(s->note + n, sizeof(s->note) - (size_t)n, "; Wine %s: RegionSize stops "
			 "at the 2 decommitted pages (Wine keeps their old protection inside); "
			 "Windows should run it on over the reserved rest (not verified here)",
			 wine);
}

int explore_run(struct explore_result *r)
{
	size_t ps = platform_page_size();
	struct explore_demo *d;
	size_t len;
	uint8_t *base;
	bool ok;

	memset(r, 0, sizeof(*r));
	describe_system(&r->sys);
	/* One allocation granule: the smallest region VirtualAlloc reserves. */
	len = (size_t)r->sys.allocation_granularity;
	r->region_size = len;
	base = walk_to_committed(r, ps, len);
	if (base == NULL)
		return COWLAB_E_IO;

	ok = VirtualFree(base, 2 * ps, MEM_DECOMMIT) != 0;
	explore_step(r, EXPLORE_STEP_DECOMMITTED, ok, EXPLORE_RESERVED, base,
	     "VirtualFree(MEM_DECOMMIT) of pages 0-1");
	decommit_note(r, ps);

	/* The touch comes first: nothing may be allocated there in between. */
	ok = VirtualFree(base, 0, MEM_RELEASE) != 0;
	d = &r->demos[EXPLORE_DEMO_FREE_TOUCH];
	explore_read(d, "the released region", (volatile uint32_t *)(base + 8), true,
		     "EXCEPTION_ACCESS_VIOLATION/read", 0);
	explore_judge(d);
	explore_step(r, EXPLORE_STEP_RELEASED, ok, EXPLORE_FREE, base, "VirtualFree(MEM_RELEASE)");

	explore_demo_cow(r, ps);
	return COWLAB_OK;
}
