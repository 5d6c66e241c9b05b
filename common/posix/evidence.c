/* Linux's own account of a view's pages, from these sources:
 * - /proc/self/pagemap: bit 63 present, bit 61 "file page or shared
 *   anonymous"; present with bit 61 clear is a private (anonymous) copy,
 *   and bit 56 "exclusively mapped" tells one of its own (P) from one
 *   still shared with a fork relative (R);
 * - the PAGEMAP_SCAN ioctl (Linux 6.7+): the runs of present, non-file
 *   pages, counted by the kernel itself;
 * - /proc/self/smaps: the mapping's "Anonymous:" size, i.e. the copied
 *   pages of the whole view, and its Private_Dirty: and Shared_Dirty:
 *   sizes (copies of its own count in the first, copies shared with fork
 *   relatives in the second; so do the section's written pages the view
 *   maps, in one or the other: each is a bound). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "err.h"
#include "evidence.h"
#include "internal.h"
#include "linux-uapi.h"
#include "platform.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE_OR_SHARED (1ULL << 61)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)

const char evidence_primary_source[] = "pagemap";

/* pagemap has an entry a base page; a huge page's are alike, and the
 * first stands for it: one entry a page of the view read (ps, the view's
 * page size, is `step` base pages). */
static int from_pagemap(int fd, uintptr_t start, size_t ps, struct evidence_report *r)
{
	size_t base = platform_page_size(), step = ps / base;
	uint64_t ent[512];
	size_t done = 0;

	while (done < r->count) {
		size_t n = r->count - done < 512 ? r->count - done : 512;
		off_t off = (off_t)((start / base + done * step) * sizeof(uint64_t));
		ssize_t got;

		if (step == 1) {
			got = pread(fd, ent, n * sizeof(uint64_t), off);
		} else {
			got = 0;
			for (size_t i = 0; i < n && got >= 0; i++) {
				ssize_t one = pread(fd, &ent[i], sizeof(uint64_t),
						    off + (off_t)(i * step * sizeof(uint64_t)));

				got = one == sizeof(uint64_t) ? got + one : -1;
			}
		}
		if (got != (ssize_t)(n * sizeof(uint64_t)))
			return got < 0 ? err_from_os() : COWLAB_E_IO;
		for (size_t i = 0; i < n; i++) {
			char c = EVIDENCE_PAGE_ABSENT;

			if ((ent[i] & PM_PRESENT) && (ent[i] & PM_FILE_OR_SHARED))
				c = EVIDENCE_PAGE_SHARED;
			else if (ent[i] & PM_PRESENT)
				c = (ent[i] & PM_MMAP_EXCLUSIVE) ? EVIDENCE_PAGE_PRIVATE
								 : EVIDENCE_PAGE_RELATIVE;
			else if (ent[i] & PM_SWAPPED)
				c = EVIDENCE_PAGE_UNKNOWN;
			r->pages[done + i] = c;
			r->private_pages += c == EVIDENCE_PAGE_PRIVATE ||
					    c == EVIDENCE_PAGE_RELATIVE;
		}
		done += n;
	}
	evidence_add_source(r, "pagemap", true, r->private_pages,
	       "present and bit 61 clear: an anonymous private copy; bit 56 clear: "
	       "shared with a fork relative");
	return COWLAB_OK;
}

static void from_scan(int fd, uintptr_t start, uintptr_t end, size_t ps,
		      struct evidence_report *r)
{
	struct page_region vec[64];
	struct pm_scan_arg arg;
	uint64_t pages = 0;
	uintptr_t at = start;

	while (at < end) {
		memset(&arg, 0, sizeof(arg));
		/* Cleared so that tools that do not know this ioctl (valgrind
		 * 3.19) see defined memory where the kernel writes. */
		memset(vec, 0, sizeof(vec));
		arg.size = sizeof(arg);
		arg.start = at;
		arg.end = end;
		arg.vec = (uintptr_t)vec;
		arg.vec_len = 64;
		arg.category_mask = PAGE_IS_PRESENT | PAGE_IS_FILE;
		arg.category_inverted = PAGE_IS_FILE;
		arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_FILE;
		long n = ioctl(fd, PAGEMAP_SCAN, &arg);
		if (n < 0) {
			char note[EVIDENCE_NOTE_MAX];

			snprintf(note, sizeof(note), "PAGEMAP_SCAN ioctl: %s (needs Linux 6.7+)",
				 strerror(errno));
			evidence_add_source(r, "pagemap_scan", false, 0, note);
			return;
		}
		for (long i = 0; i < n; i++)
			pages += (vec[i].end - vec[i].start) / ps;
		if (arg.walk_end <= at)
			break;
		at = (uintptr_t)arg.walk_end;
	}
	evidence_add_source(r, "pagemap_scan", true, pages, "kernel-counted present, non-file pages");
}

/* /proc/self/pagemap and /proc/self/smaps are opened once a process and
 * kept (close-on-exec): a client queries three times, and opening a /proc
 * file costs about as much as the read. Both are read with pread, which
 * keeps no position between queries (the kernel regenerates smaps from
 * offset 0). A forked child opens its own: "self" was resolved at the
 * open. */
struct proc_file {
	const char *path;
	pid_t pid;
	int fd;
};

static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc_file proc_pagemap = { "/proc/self/pagemap", 0, -1 };
static struct proc_file proc_smaps = { "/proc/self/smaps", 0, -1 };

static int proc_open(struct proc_file *f)
{
	pid_t me = getpid();
	int fd;

	pthread_mutex_lock(&proc_lock);
	if (f->pid != me || f->fd < 0) {
		/* the parent's, after a fork, is not ours to close */
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		f->pid = me;
	}
	fd = f->fd;
	pthread_mutex_unlock(&proc_lock);
	return fd;
}

/* The view's first line ("lo-hi ..."), then its dirty sizes and its
 * "Anonymous:" line. */
struct smaps_find {
	uintptr_t view;
	bool ours;
	unsigned long kib, private_dirty, shared_dirty;
};

static bool smaps_holds(char *line, void *ctx)
{
	struct smaps_find *f = ctx;
	char *end;

	if (!f->ours) {
		f->ours = strtoul(line, &end, 16) == f->view && *end == '-' && end != line;
		return false;
	}
	if (strncmp(line, "Private_Dirty:", 14) == 0)
		f->private_dirty = strtoul(line + 14, NULL, 10);
	if (strncmp(line, "Shared_Dirty:", 13) == 0)
		f->shared_dirty = strtoul(line + 13, NULL, 10);
	if (strncmp(line, "Anonymous:", 10) != 0)
		return false;
	f->kib = strtoul(line + 10, NULL, 10);
	return true;
}

static void from_smaps(uintptr_t view, size_t ps, struct evidence_report *r)
{
	/* The view is placed to be the first mapping listed (section_map):
	 * one read normally reaches its "Anonymous:" line. */
	struct smaps_find f = { view, false, 0, 0, 0 };
	int fd = proc_open(&proc_smaps);

	if (fd < 0) {
		evidence_add_source(r, "smaps", false, 0, "/proc/self/smaps cannot be opened");
		return;
	}
	if (ps != platform_page_size()) {
		/* hugetlb pages are not in Anonymous:, and Private_Hugetlb:
		 * counts the section's pages mapped once too */
		evidence_add_source(r, "smaps", false, 0, "a huge page view: smaps counts its pages "
				    "in Private_Hugetlb and Shared_Hugetlb, copies and the "
				    "section's alike, not in Anonymous");
		return;
	}
	if (posix_proc_scan(fd, smaps_holds, &f) == 1) {
		evidence_add_source(r, "smaps", true, (uint64_t)f.kib * 1024 / ps,
				    "Anonymous: of the whole view, in pages");
		r->private_dirty = (int64_t)(f.private_dirty * 1024 / ps);
		r->shared_dirty = (int64_t)(f.shared_dirty * 1024 / ps);
	} else {
		evidence_add_source(r, "smaps", false, 0, "the view is not in /proc/self/smaps");
	}
}

int evidence_query(void *view, size_t view_len, size_t first, size_t count,
		   struct evidence_report *out)
{
	return evidence_query_paged(view, view_len, first, count, platform_page_size(), out);
}

int evidence_query_paged(void *view, size_t view_len, size_t first, size_t count, size_t ps,
			 struct evidence_report *out)
{
	uintptr_t start = (uintptr_t)view + first * ps;
	int fd, err;

	if (ps < platform_page_size() || ps % platform_page_size() != 0)
		return COWLAB_E_INVAL;
	if ((err = evidence_begin_paged(out, view_len, first, count, ps)) != 0)
		return err;
	fd = proc_open(&proc_pagemap);
	if (fd < 0) {
		err = err_from_os();
		evidence_free(out);
		return err;
	}
	err = from_pagemap(fd, start, ps, out);
	if (err == 0)
		from_scan(fd, start, start + count * ps, ps, out);
	if (err != 0) {
		evidence_free(out);
		return err;
	}
	from_smaps((uintptr_t)view, ps, out);
	return COWLAB_OK;
}
