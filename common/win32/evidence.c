/* Windows's own account of a view's pages:
 * - VirtualQuery: a copy-on-write page says PAGE_WRITECOPY until it is
 *   written; the private copy says PAGE_READWRITE, and the region splits;
 * - QueryWorkingSetEx: Valid, Shared (1 while the page is the section's,
 *   0 for a private copy), ShareCount and Win32Protection, and on Windows
 *   10 1709 and later SharedOriginal (bit 30 of the flags, which the SDK's
 *   psapi.h does not name: 1 while the page is the shared original, 0
 *   once copied).
 * Under Wine (8.0) VirtualQuery and Win32Protection still say
 * PAGE_WRITECOPY after the copy and ShareCount is always 1; the Shared bit
 * flips as on Windows. There the report names those as platform deviations
 * and the Shared bit is the evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <psapi.h>

#include "err.h"
#include "evidence.h"
#include "internal.h"
#include "platform.h"

const char evidence_primary_source[] = "workingset_shared";

/* VirtualQuery page by page: PAGE_READWRITE pages of a cow view are the
 * private copies; also counts the regions the range spans. */
/* Pages VirtualQuery calls PAGE_READWRITE (a copy, on Windows), and how
 * many regions the range spans (a copied page splits its region). */
static uint64_t query_protection(uint8_t *start, size_t count, size_t ps, size_t *regions)
{
	MEMORY_BASIC_INFORMATION mbi;
	void *last_base = NULL;
	uint64_t copies = 0;

	*regions = 0;
	for (size_t i = 0; i < count; i++) {
		if (VirtualQuery(start + i * ps, &mbi, sizeof(mbi)) == 0)
			continue;
		if (mbi.BaseAddress != last_base) {
			(*regions)++;
			last_base = mbi.BaseAddress;
		}
		copies += (mbi.Protect & 0xff) == PAGE_READWRITE;
	}
	return copies;
}

/* Bit 30 of PSAPI_WORKING_SET_EX_BLOCK.Flags: SharedOriginal (the WDK's
 * MEMORY_WORKING_SET_EX_BLOCK: Valid 1, ShareCount 3, Win32Protection 11,
 * Shared 1, Node 6, Locked 1, LargePage 1, Priority 3, Reserved 3,
 * SharedOriginal 1, Bad 1), from Windows 10 1709 (build 16299). */
#define WSEX_SHARED_ORIGINAL ((ULONG_PTR)1 << 30)
#define SHARED_ORIGINAL_BUILD 16299

struct wsex_counts {
	uint64_t not_shared;   /* valid and not shared: private copies */
	uint64_t not_original; /* valid and not SharedOriginal: copied */
	uint64_t rw_protect;   /* valid with Win32Protection PAGE_READWRITE */
	uint64_t valid;
	uint64_t max_share;
};

static int query_working_set(uint8_t *start, size_t count, size_t ps, char *pages,
			     struct wsex_counts *c)
{
	PSAPI_WORKING_SET_EX_INFORMATION *ws = calloc(count, sizeof(*ws));

	memset(c, 0, sizeof(*c));
	if (ws == NULL)
		return COWLAB_E_NOMEM;
	for (size_t i = 0; i < count; i++)
		ws[i].VirtualAddress = start + i * ps;
	if (!QueryWorkingSetEx(GetCurrentProcess(), ws, (DWORD)(count * sizeof(*ws)))) {
		int err = err_from_os();
		free(ws);
		return err;
	}
	for (size_t i = 0; i < count; i++) {
		PSAPI_WORKING_SET_EX_BLOCK a = ws[i].VirtualAttributes;

		if (!a.Valid) {
			pages[i] = EVIDENCE_PAGE_ABSENT;
			continue;
		}
		c->valid++;
		pages[i] = a.Shared ? EVIDENCE_PAGE_SHARED : EVIDENCE_PAGE_PRIVATE;
		c->not_shared += !a.Shared;
		c->not_original += (a.Flags & WSEX_SHARED_ORIGINAL) == 0;
		c->rw_protect += (a.Win32Protection & 0xff) == PAGE_READWRITE;
		if (a.ShareCount > c->max_share)
			c->max_share = a.ShareCount;
	}
	free(ws);
	return COWLAB_OK;
}

int evidence_query(void *view, size_t view_len, size_t first, size_t count,
		   struct evidence_report *out)
{
	return evidence_query_paged(view, view_len, first, count, platform_page_size(), out);
}

/* SharedOriginal: where the system has it, the copies it counts; under
 * Wine, which never sets it, and before build 16299, unsupported. */
static void shared_original(struct evidence_report *out, const struct wsex_counts *ws,
			    const char *wine)
{
	unsigned long build = win32_build();
	char note[EVIDENCE_NOTE_MAX];

	if (wine != NULL) {
		evidence_add_source(out, "workingset_shared_original", false, ws->not_original,
				    "platform deviation: Wine 8.0 never sets SharedOriginal (it "
				    "fills Valid, Shared, ShareCount and Win32Protection only)");
		return;
	}
	if (build < SHARED_ORIGINAL_BUILD) {
		snprintf(note, sizeof(note), "SharedOriginal needs Windows 10 1709 (build %d); "
			 "this is build %lu", SHARED_ORIGINAL_BUILD, build);
		evidence_add_source(out, "workingset_shared_original", false, 0, note);
		return;
	}
	evidence_add_source(out, "workingset_shared_original", true, ws->not_original,
			    "valid and SharedOriginal clear: the page is no longer the shared "
			    "original, a private copy");
}

int evidence_query_paged(void *view, size_t view_len, size_t first, size_t count,
			 size_t ps, struct evidence_report *out)
{
	size_t regions;
	uint8_t *start = (uint8_t *)view + first * ps;
	const char *wine = win32_wine_version();
	char note[EVIDENCE_NOTE_MAX];
	struct wsex_counts ws;
	uint64_t vq;
	int err;

	if ((err = evidence_begin_paged(out, view_len, first, count, ps)) != 0)
		return err;
	vq = query_protection(start, count, ps, &regions);
	err = query_working_set(start, count, ps, out->pages, &ws);
	if (err != 0) {
		evidence_free(out);
		return err;
	}
	out->private_pages = ws.not_shared;
	snprintf(note, sizeof(note), "valid and not shared: a private copy (%llu valid pages)%s",
		 (unsigned long long)ws.valid, wine == NULL ? "" : "; Wine reads both bits from "
		 "Linux's /proc/self/pagemap (63 and 61)");
	evidence_add_source(out, "workingset_shared", true, ws.not_shared, note);
	if (wine == NULL) {
		/* Windows itself: every source must agree. */
		snprintf(note, sizeof(note), "PAGE_WRITECOPY until written, then PAGE_READWRITE; "
			 "%zu regions", regions);
		evidence_add_source(out, "virtualquery", true, vq, note);
		evidence_add_source(out, "workingset_protection", true, ws.rw_protect,
		       "Win32Protection PAGE_READWRITE: a private copy");
		shared_original(out, &ws, wine);
		return COWLAB_OK;
	}
	snprintf(note, sizeof(note), "platform deviation: Wine keeps PAGE_WRITECOPY after the "
		 "copy (%llu pages say PAGE_READWRITE, %zu regions: no split)",
		 (unsigned long long)vq, regions);
	evidence_add_source(out, "virtualquery", false, vq, note);
	snprintf(note, sizeof(note), "platform deviation: Wine keeps Win32Protection "
		 "PAGE_WRITECOPY and ShareCount %llu", (unsigned long long)ws.max_share);
	evidence_add_source(out, "workingset_protection", false, ws.rw_protect, note);
	shared_original(out, &ws, wine);
	snprintf(out->deviation, sizeof(out->deviation),
		 "Wine %s: VirtualQuery and Win32Protection still say PAGE_WRITECOPY after "
		 "the copy, ShareCount is 1; the evidence is the Shared bit, which Wine reads "
		 "from Linux's pagemap", wine);
	return COWLAB_OK;
}
