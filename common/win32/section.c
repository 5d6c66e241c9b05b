/* Sections backed by the paging file: CreateFileMappingW with
 * INVALID_HANDLE_VALUE. The section is PAGE_READWRITE (a PAGE_WRITECOPY
 * section is read-only and refuses FILE_MAP_WRITE views); copy-on-write is
 * a property of the view (FILE_MAP_COPY). Clients open it by name: a
 * Local\ name (the server puts a random part in it), a DACL for the
 * current user alone, and creation refused when the name exists (no
 * squatting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "err.h"
#include "internal.h"
#include "platform.h"
#include "section.h"

struct section {
	HANDLE h;
	uint64_t size;
	size_t page_size;        /* the platform's, or the large page size */
	char name[SECTION_NAME_MAX];
};

static int section_new(struct section **out, HANDLE h, const char *name, uint64_t size)
{
	struct section *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		CloseHandle(h);
		return COWLAB_E_NOMEM;
	}
	s->h = h;
	s->size = size;
	s->page_size = platform_page_size();
	snprintf(s->name, sizeof(s->name), "%s", name);
	*out = s;
	return COWLAB_OK;
}

int section_create(struct section **out, const char *name, uint64_t size)
{
	return section_create_paged(out, name, size, platform_page_size());
}

int section_create_paged(struct section **out, const char *name, uint64_t size, size_t ps)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	DWORD flags = PAGE_READWRITE;
	char full[SECTION_NAME_MAX];
	wchar_t *wname;
	HANDLE h;
	int err;

	if (size == 0 || ps == 0 || size % ps != 0)
		return COWLAB_E_INVAL;
	if (ps != platform_page_size()) {
		/* large pages: committed at once, locked in memory; only with
		 * SeLockMemoryPrivilege enabled (platform_huge_pages) */
		if (ps != GetLargePageMinimum())
			return COWLAB_E_UNSUPPORTED;
		flags |= SEC_COMMIT | SEC_LARGE_PAGES;
	}
	if ((size_t)snprintf(full, sizeof(full), "Local\\%s", name) >= sizeof(full))
		return COWLAB_E_NAMETOOLONG;
	sa.lpSecurityDescriptor = win32_user_only_sd();
	if (sa.lpSecurityDescriptor == NULL)
		return COWLAB_E_ACCESS;
	wname = win32_wide(full);
	if (wname == NULL) {
		LocalFree(sa.lpSecurityDescriptor);
		return COWLAB_E_NOMEM;
	}
	h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, flags,
			       (DWORD)(size >> 32), (DWORD)size, wname);
	err = h == NULL ? err_from_os() : GetLastError() == ERROR_ALREADY_EXISTS ? COWLAB_E_EXISTS : 0;
	free(wname);
	LocalFree(sa.lpSecurityDescriptor);
	if (err != 0) {
		if (h != NULL)
			CloseHandle(h);
		return err;
	}
	err = section_new(out, h, full, size);
	if (err == 0)
		(*out)->page_size = ps;
	return err;
}

int section_open(struct section **out, const char *name, uint64_t size,
		 struct channel *from)
{
	return section_open_paged(out, name, size, platform_page_size(), from);
}

int section_open_paged(struct section **out, const char *name, uint64_t size,
		       size_t page_size, struct channel *from)
{
	MEMORY_BASIC_INFORMATION mbi;
	wchar_t *wname = win32_wide(name);
	HANDLE h;
	void *probe;
	int err;

	(void)from; /* by name: see docs/design.md */
	if (wname == NULL)
		return COWLAB_E_NOMEM;
	h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, wname);
	err = h == NULL ? err_from_os() : 0;
	free(wname);
	if (err != 0)
		return err;
	/* Trust the section's own size, not the message. */
	probe = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
	if (probe == NULL || VirtualQuery(probe, &mbi, sizeof(mbi)) == 0 || mbi.RegionSize < size) {
		if (probe != NULL)
			UnmapViewOfFile(probe);
		CloseHandle(h);
		return COWLAB_E_INVAL;
	}
	UnmapViewOfFile(probe);
	if (page_size != platform_page_size() && page_size != GetLargePageMinimum()) {
		CloseHandle(h);
		return COWLAB_E_INVAL;
	}
	err = section_new(out, h, name, size);
	if (err == 0)
		(*out)->page_size = page_size;
	return err;
}

void section_destroy(struct section *s)
{
	if (s == NULL)
		return;
	CloseHandle(s->h);
	free(s);
}

int section_map(struct section *s, enum section_view kind, void **addr)
{
	DWORD access = FILE_MAP_WRITE;
	void *p;

	switch (kind) {
	case SECTION_VIEW_RW:
	case SECTION_VIEW_COW_AS_SHARED:
		break;
	case SECTION_VIEW_COW:
		access = FILE_MAP_COPY;
		break;
	case SECTION_VIEW_RO:
		access = FILE_MAP_READ;
		break;
	}
	if (s->page_size != platform_page_size())
		access |= FILE_MAP_LARGE_PAGES;
	p = MapViewOfFile(s->h, access, 0, 0, (SIZE_T)s->size);
	if (p == NULL)
		return err_from_os();
	*addr = p;
	return COWLAB_OK;
}

void section_unmap(struct section *s, void *addr)
{
	(void)s;
	if (addr != NULL)
		UnmapViewOfFile(addr);
}

int section_fill(struct section *s, void *rw_view, section_fill_fn *fill, void *ctx)
{
	size_t ps = s->page_size;

	/* The section was committed whole at creation (SEC_COMMIT): the pages
	 * exist, and writing them through the view is all there is to do. */
	for (uint64_t p = 0; p < s->size / ps; p++)
		fill(ctx, p, (uint8_t *)rw_view + p * ps, ps);
	return COWLAB_OK;
}

void section_release(struct section *s, void *view, uint64_t first, uint64_t count)
{
	/* Windows trims a working set itself; no documented call drops a
	 * view's pages short of unmapping it. */
	(void)s;
	(void)view;
	(void)first;
	(void)count;
}

int section_protect(struct section *s, void *view, enum section_view kind, uint64_t first,
		    uint64_t count, enum section_protect p)
{
	static const DWORD prot[] = {
		[SECTION_READONLY] = PAGE_READONLY,
		[SECTION_READWRITE] = PAGE_READWRITE,
		[SECTION_WRITECOPY] = PAGE_WRITECOPY,
		[SECTION_NOACCESS] = PAGE_NOACCESS,
	};
	size_t ps = s->page_size;
	DWORD old;

	(void)kind; /* Windows says itself what a view may become */
	if (!VirtualProtect((uint8_t *)view + first * ps, (SIZE_T)(count * ps), prot[p], &old))
		return err_from_os();
	return COWLAB_OK;
}

int section_discard(struct section *s, void *view, uint64_t first, uint64_t count)
{
	/* DiscardVirtualMemory and OfferVirtualMemory are for private memory,
	 * not a mapped view's copies; nothing else drops them but unmapping */
	(void)s;
	(void)view;
	(void)first;
	(void)count;
	return COWLAB_E_UNSUPPORTED;
}

bool section_same(const struct section *a, const struct section *b)
{
	return strcmp(a->name, b->name) == 0 && a->size == b->size;
}

size_t section_page_size(const struct section *s)
{
	return s->page_size;
}

uint64_t section_size(const struct section *s)
{
	return s->size;
}

const char *section_name(const struct section *s)
{
	return s->name;
}
