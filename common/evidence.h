/* What the operating system itself says about the pages of a view: which
 * are private copies and which still map the section. Several independent
 * sources where the platform has them; a source the platform lacks is
 * reported as unsupported, never as agreeing. */
#ifndef COWLAB_EVIDENCE_H
#define COWLAB_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Page states in evidence_report.pages, one character a page. */
#define EVIDENCE_PAGE_PRIVATE 'P' /* a private copy of its own */
#define EVIDENCE_PAGE_RELATIVE 'R' /* a private copy still shared with a fork
				      relative (Linux: pagemap bit 56 clear) */
#define EVIDENCE_PAGE_SHARED  's' /* present, still the section's page */
#define EVIDENCE_PAGE_ABSENT  '.' /* not present in this process */
#define EVIDENCE_PAGE_UNKNOWN '?' /* the source could not tell */

#define EVIDENCE_SOURCES_MAX 4
#define EVIDENCE_NOTE_MAX 200

struct evidence_source {
	char name[32];         /* "pagemap", "pagemap_scan", "smaps", ... */
	bool supported;
	uint64_t private_pages;
	char note[EVIDENCE_NOTE_MAX];
};

struct evidence_report {
	char *pages;           /* count characters + NUL, from the first source */
	size_t count;
	uint64_t private_pages;/* from the first (primary) source */
	struct evidence_source sources[EVIDENCE_SOURCES_MAX];
	size_t nsources;
	/* Where this platform is known to differ from what Windows shows,
	 * the difference in words; "" when there is none. */
	char deviation[EVIDENCE_NOTE_MAX];
	/* The whole view's dirty pages as smaps counts them (Linux), or -1:
	 * copies of its own count as private, copies still shared with fork
	 * relatives as shared; so does each page of the section the view
	 * maps, written, in one or the other: each is a bound of the copies */
	int64_t private_dirty, shared_dirty;
};

/* The source this platform always has ("pagemap" on Linux,
 * "workingset_shared" on Windows): a report without it is no evidence. */
extern const char evidence_primary_source[];

/* Examines `count` pages of the view at `view` starting at page `first`;
 * the view spans view_len bytes. Fills *out (free with evidence_free). */
int evidence_query(void *view, size_t view_len, size_t first, size_t count,
		   struct evidence_report *out);
/* The same for a view of pages of `page_size` bytes (a huge page section:
 * a page of the report is one huge page). */
int evidence_query_paged(void *view, size_t view_len, size_t first, size_t count,
			 size_t page_size, struct evidence_report *out);
void evidence_free(struct evidence_report *r);

/* For the backends: checks the range and gives *out an empty page string
 * of `count` pages. Returns 0 or a negative cowlab_err. */
int evidence_begin(struct evidence_report *out, size_t view_len, size_t first, size_t count);
int evidence_begin_paged(struct evidence_report *out, size_t view_len, size_t first,
			 size_t count, size_t page_size);

/* For the backends: appends one source to a report (at most
 * EVIDENCE_SOURCES_MAX; more are dropped). */
void evidence_add_source(struct evidence_report *r, const char *name, bool supported,
			 uint64_t private_pages, const char *note);

#endif
