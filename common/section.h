/* A section backed by the paging file (Windows) or by swap through memfd
 * (Linux), and views of it. Every view maps the whole section. */
#ifndef COWLAB_SECTION_H
#define COWLAB_SECTION_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct channel;
struct section;

enum section_view {
	SECTION_VIEW_RW,            /* FILE_MAP_WRITE / MAP_SHARED rw */
	SECTION_VIEW_COW,           /* FILE_MAP_COPY / MAP_PRIVATE rw */
	SECTION_VIEW_RO,            /* FILE_MAP_READ / MAP_SHARED ro */
	/* The negative control: a "copy-on-write" view that is really
	 * mapped shared, so isolation must be seen to fail. */
	SECTION_VIEW_COW_AS_SHARED,
};

/* Longest section name, terminator included. */
#define SECTION_NAME_MAX 96

/* Creates a new section of `size` bytes (a multiple of the page size)
 * named `name` (under Local\ on Windows; on Linux a memfd's name, which
 * nobody can open by); refuses a name that exists (COWLAB_E_EXISTS). */
int section_create(struct section **out, const char *name, uint64_t size);
/* The same in pages of `page_size` bytes: the platform's own, or a huge
 * page size (Linux: a hugetlb memfd, MFD_HUGETLB with that size, from the
 * pages the machine has reserved; Windows: SEC_LARGE_PAGES, which needs
 * SeLockMemoryPrivilege). `size` is a multiple of it. A size the platform
 * has no pages of is COWLAB_E_UNSUPPORTED; too few free, COWLAB_E_NOMEM. */
int section_create_paged(struct section **out, const char *name, uint64_t size,
			 size_t page_size);
/* The section's page size: the platform's, or its huge page size. */
size_t section_page_size(const struct section *s);

/* Opens the section a server handed over on `from` (the message just
 * received on it): by the handle that came with it, or by name. */
int section_open(struct section **out, const char *name, uint64_t size,
		 struct channel *from);
/* The same for a section of pages of `page_size` bytes (its assignment's):
 * a section whose pages are of another size is COWLAB_E_INVAL (Linux: the
 * memfd's block size; Windows: a large page section's views are mapped
 * with FILE_MAP_LARGE_PAGES, which fails for any other). */
int section_open_paged(struct section **out, const char *name, uint64_t size,
		       size_t page_size, struct channel *from);

/* Accepts NULL. Views must be unmapped first. */
void section_destroy(struct section *s);

int section_map(struct section *s, enum section_view kind, void **addr);
void section_unmap(struct section *s, void *addr);

/* Fills every page of a new section: fill(ctx, page, dst, page_size)
 * writes page `page` into dst. `rw_view` is the caller's rw view; the
 * backend picks the fastest way in (on Linux pwrite(2)s of a buffer, which
 * map nothing into this process, and for a large section a second thread
 * making the pattern a chunk ahead of the writer; on Windows through the
 * view). `fill` may be called from another thread than the caller's.
 * Returns 0 or a negative cowlab_err (a section the memory cannot hold
 * fails here, not with a fault later). */
typedef void section_fill_fn(void *ctx, uint64_t page, void *dst, size_t page_size);
int section_fill(struct section *s, void *rw_view, section_fill_fn *fill, void *ctx);

/* Stops this process holding pages [first, first + count) of a view
 * resident: they stay in the section unchanged and come back on the next
 * access. For a copy-on-write view only pages this process never wrote
 * through it (a private copy would be lost). Keeps the server's resident
 * memory independent of the section's size. Best effort. */
void section_release(struct section *s, void *view, uint64_t first, uint64_t count);

/* A page range's protection (VirtualProtect; mprotect). */
enum section_protect {
	SECTION_READONLY,           /* PAGE_READONLY; PROT_READ */
	SECTION_READWRITE,          /* PAGE_READWRITE; PROT_READ|PROT_WRITE */
	SECTION_WRITECOPY,          /* PAGE_WRITECOPY; on a MAP_PRIVATE view
				       PROT_READ|PROT_WRITE, which is write-copy
				       there (no such thing on a shared view) */
	SECTION_NOACCESS,           /* PAGE_NOACCESS; PROT_NONE */
};

/* Sets pages [first, first + count) of a view to `p`. A protection the
 * platform cannot give that view (POSIX: write-copy on a shared view) is
 * COWLAB_E_UNSUPPORTED; one the view refuses (Windows: write on a
 * FILE_MAP_READ view) the system's error. */
int section_protect(struct section *s, void *view, enum section_view kind, uint64_t first,
		    uint64_t count, enum section_protect p);

/* Drops this view's private copies of pages [first, first + count): they
 * track the section again (Linux MADV_DONTNEED). Windows has no such call
 * for a mapped view: COWLAB_E_UNSUPPORTED. */
int section_discard(struct section *s, void *view, uint64_t first, uint64_t count);

uint64_t section_size(const struct section *s);
/* Whether two handles are of one section (a forked child checks that the
 * section its assignment brings is the one its views map). */
bool section_same(const struct section *a, const struct section *b);
const char *section_name(const struct section *s);

/* The text name of a view kind ("rw", "cow", "ro", "cow-as-shared"). */
const char *section_view_name(enum section_view kind);

#endif
