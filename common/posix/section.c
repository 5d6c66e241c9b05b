#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "internal.h"
#include "platform.h"
#include "section.h"

struct section {
	int fd;
	uint64_t size;
	char name[SECTION_NAME_MAX];
};

static int section_new(struct section **out, int fd, const char *name, uint64_t size)
{
	struct section *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return COWLAB_E_NOMEM;
	s->fd = fd;
	s->size = size;
	snprintf(s->name, sizeof(s->name), "%s", name);
	*out = s;
	return COWLAB_OK;
}

int section_create(struct section **out, const char *name, uint64_t size)
{
	int fd, err;

	if (size == 0 || size % platform_page_size() != 0 || size > (uint64_t)INT64_MAX)
		return COWLAB_E_INVAL;
	/* memfd: anonymous, tmpfs-backed (swap is its paging file), no name in
	 * any namespace, so nobody can squat on it or open it uninvited. */
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return err_from_os();
	/* Sealed at its size: a client that could shrink it would make every
	 * reader of the section, the server first, die of SIGBUS. Its pages
	 * come with section_fill. */
	if (ftruncate(fd, (off_t)size) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		err = err_from_os();
		close(fd);
		return err;
	}
	err = section_new(out, fd, name, size);
	if (err != 0)
		close(fd);
	return err;
}

int section_open(struct section **out, const char *name, uint64_t size,
		 struct channel *from)
{
	int fd = channel_take_fd(from);
	struct stat st;
	int err;

	if (fd < 0)
		return fd;
	/* Trust the descriptor's own size, not the message, and only a size
	 * sealed for good: mapping past the end of the file raises SIGBUS. */
	int seals = fcntl(fd, F_GET_SEALS); /* -1 for anything but a memfd */

	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		close(fd);
		return COWLAB_E_INVAL;
	}
	err = section_new(out, fd, name, size);
	if (err != 0)
		close(fd);
	return err;
}

void section_destroy(struct section *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}

/* Where a cow view goes: low in the address space, below the executable,
 * its heap and the libraries. /proc/self/smaps lists mappings by address,
 * so the cow view comes first there, and the evidence's smaps read
 * (evidence.c), which stops at the view, has the kernel format one mapping
 * instead of the thirty or so that the default place, under the libraries,
 * puts before it (measured in docs/benchmarks.md). Each view takes the next
 * place, a page apart, from a start chosen at random (getrandom: not the
 * AT_RANDOM bytes, which glibc's stack protector uses) in the 64 GiB above
 * 4 GiB. A place that is taken (a sanitizer's shadow, another mapping)
 * makes section_map use the kernel's default place instead: only the
 * smaps read's cost depends on it. NULL on a 32-bit system: no place. */
/* 1 until the first place is drawn: initialized, so that it sits in .data
 * with the other written data rather than on a .bss page of its own (two
 * page faults in every client). */
#define LOW_UNSET 1

static void *low_place(size_t len)
{
	static _Atomic uintptr_t next = LOW_UNSET;
	const size_t ps = platform_page_size();
	uintptr_t start = atomic_load(&next);

	if (sizeof(uintptr_t) < 8)
		return NULL;
	if (start == LOW_UNSET) {
		uint32_t r = 0;
		uint64_t first;

		platform_random(&r, sizeof(r)); /* 0 if it fails: still a place */
		first = (UINT64_C(4) << 30) + (uint64_t)(r & 0xffffff) * ((UINT64_C(64) << 30) >> 24);
		first &= ~(uint64_t)(ps - 1);
		atomic_compare_exchange_strong(&next, &start, (uintptr_t)first);
	}
	return (void *)atomic_fetch_add(&next, (len + 2 * ps - 1) / ps * ps);
}

int section_map(struct section *s, enum section_view kind, void **addr)
{
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	void *p, *hint;

	switch (kind) {
	case SECTION_VIEW_RW:
	case SECTION_VIEW_COW_AS_SHARED:
		break;
	case SECTION_VIEW_COW:
		flags = MAP_PRIVATE;
		break;
	case SECTION_VIEW_RO:
		prot = PROT_READ;
		break;
	}
	p = MAP_FAILED;
	if (kind == SECTION_VIEW_COW && (hint = low_place((size_t)s->size)) != NULL)
		p = mmap(hint, (size_t)s->size, prot, flags | MAP_FIXED_NOREPLACE, s->fd, 0);
	if (p == MAP_FAILED)
		p = mmap(NULL, (size_t)s->size, prot, flags, s->fd, 0);
	if (p == MAP_FAILED)
		return err_from_os();
	*addr = p;
	return COWLAB_OK;
}

void section_unmap(struct section *s, void *addr)
{
	if (addr != NULL)
		munmap(addr, (size_t)s->size);
}

/* ---- filling a new section
 *
 * Writes of a buffer (pwrite) are the cheapest way to put pages into a
 * memfd: the kernel allocates each page and copies into it, and nothing
 * gets mapped into this process, so the server's resident memory does not
 * grow with the section. tmpfs takes one file's writes one at a time
 * (the inode lock), though, while page faults on a shared view do not: a
 * large section is filled by one writer and, on every other CPU, a worker
 * through the rw view (MADV_POPULATE_WRITE, which fails cleanly where a
 * fault would raise SIGBUS): the writer takes chunks from the start, the
 * view workers from the end, until they meet, so that the faster path
 * takes more of them. */

enum {
	FILL_CHUNK = 256 << 10,
	FILL_SPLIT_MIN = 64 << 20, /* below this one writer is as fast */
	FILL_VIEW_WORKERS_MAX = 7,
};

struct fill_job {
	struct section *s;
	uint8_t *view;
	section_fill_fn *fill;
	void *ctx;
	size_t page_size, chunk;
	uint64_t nchunks;
	atomic_uint_fast64_t claimed;   /* chunks taken, from either end */
	atomic_uint_fast64_t front, back; /* the writer's, the view workers' */
	atomic_int err;
};

struct fill_worker {
	struct fill_job *job;
	bool by_view;
	pthread_t thread;
};

/* The pages of the chunk at off, into dst. */
static void fill_pages(struct fill_job *j, uint64_t off, size_t len, uint8_t *dst)
{
	for (size_t p = 0; p < len / j->page_size; p++)
		j->fill(j->ctx, off / j->page_size + p, dst + p * j->page_size, j->page_size);
}

static int write_chunk(struct fill_job *j, uint8_t **buf, uint64_t off, size_t len)
{
	size_t done = 0;

	if (*buf == NULL && (*buf = aligned_alloc(j->page_size, j->chunk)) == NULL)
		return COWLAB_E_NOMEM;
	fill_pages(j, off, len, *buf);
	while (done < len) {
		ssize_t n = pwrite(j->s->fd, *buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? err_from_os() : COWLAB_E_IO;
		done += (size_t)n;
	}
	return COWLAB_OK;
}

/* Whether the chunk could be filled through the view (the caller writes
 * it instead when not: the reason comes from there). */
static bool view_chunk(struct fill_job *j, uint64_t off, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uint8_t *dst = j->view + off;

	if (madvise(dst, len, MADV_POPULATE_WRITE) != 0)
		return false;
	fill_pages(j, off, len, dst);
	/* written: let go of it here, in parallel, not all at the end */
	madvise(dst, len, MADV_DONTNEED);
	return true;
#else
	(void)j;
	(void)off;
	(void)len;
	return false;
#endif
}

static void *fill_work(void *arg)
{
	struct fill_worker *w = arg;
	struct fill_job *j = w->job;
	uint8_t *buf = NULL;

	for (;;) {
		int err = COWLAB_OK;

		if (atomic_fetch_add(&j->claimed, 1) >= j->nchunks || atomic_load(&j->err) != 0)
			break;
		/* The writer works up from the start, the view workers down
		 * from the end: each in a part of the file of its own. */
		uint64_t c = w->by_view ? j->nchunks - 1 - atomic_fetch_add(&j->back, 1) :
					  atomic_fetch_add(&j->front, 1);
		uint64_t off = c * j->chunk;
		size_t len = (size_t)(j->s->size - off < j->chunk ? j->s->size - off : j->chunk);

		/* An old kernel (no MADV_POPULATE_WRITE), or a chunk the view
		 * could not take: write it instead, which also says why (ENOSPC
		 * rather than the fault path's EFAULT) if memory ran out. */
		if (w->by_view && !view_chunk(j, off, len))
			w->by_view = false;
		if (!w->by_view)
			err = write_chunk(j, &buf, off, len);
		if (err != 0) {
			int none = 0;

			atomic_compare_exchange_strong(&j->err, &none, err);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* The CPUs this process may run on (its affinity, as a container's
 * cpuset limits it), not every CPU of the machine. */
static long usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

int section_fill(struct section *s, void *rw_view, section_fill_fn *fill, void *ctx)
{
	struct fill_worker workers[1 + FILL_VIEW_WORKERS_MAX];
	struct fill_job j = { .s = s, .view = rw_view, .fill = fill, .ctx = ctx };
	long cpus = usable_cpus();
	int nview = 0;

	j.page_size = platform_page_size();
	j.chunk = FILL_CHUNK > j.page_size ? FILL_CHUNK / j.page_size * j.page_size : j.page_size;
	j.nchunks = (s->size + j.chunk - 1) / j.chunk;
	atomic_init(&j.claimed, 0);
	atomic_init(&j.front, 0);
	atomic_init(&j.back, 0);
	atomic_init(&j.err, 0);
	workers[0] = (struct fill_worker){ .job = &j, .by_view = false };
	if (s->size >= FILL_SPLIT_MIN && rw_view != NULL)
		nview = cpus - 1 < FILL_VIEW_WORKERS_MAX ? (int)cpus - 1 : FILL_VIEW_WORKERS_MAX;
	for (int i = 1; i <= nview; i++) {
		workers[i] = (struct fill_worker){ .job = &j, .by_view = true };
		if (pthread_create(&workers[i].thread, NULL, fill_work, &workers[i]) != 0) {
			nview = i - 1; /* fewer helpers, same result */
			break;
		}
	}
	fill_work(&workers[0]);
	for (int i = 1; i <= nview; i++)
		pthread_join(workers[i].thread, NULL);
	return atomic_load(&j.err);
}

void section_release(struct section *s, void *view, uint64_t first, uint64_t count)
{
	size_t ps = platform_page_size();

	(void)s;
	if (view != NULL && count > 0)
		madvise((uint8_t *)view + first * ps, (size_t)count * ps, MADV_DONTNEED);
}

int section_protect(struct section *s, void *view, enum section_view kind, uint64_t first,
		    uint64_t count, enum section_protect p)
{
	static const int prot[] = {
		[SECTION_READONLY] = PROT_READ,
		[SECTION_READWRITE] = PROT_READ | PROT_WRITE,
		[SECTION_WRITECOPY] = PROT_READ | PROT_WRITE,
		[SECTION_NOACCESS] = PROT_NONE,
	};
	size_t ps = platform_page_size();

	(void)s;
	/* only a MAP_PRIVATE mapping copies on write */
	if (p == SECTION_WRITECOPY && kind != SECTION_VIEW_COW)
		return COWLAB_E_UNSUPPORTED;
	if (mprotect((uint8_t *)view + first * ps, (size_t)count * ps, prot[p]) != 0)
		return err_from_os();
	return COWLAB_OK;
}

int section_discard(struct section *s, void *view, uint64_t first, uint64_t count)
{
	size_t ps = platform_page_size();

	(void)s;
	if (madvise((uint8_t *)view + first * ps, (size_t)count * ps, MADV_DONTNEED) != 0)
		return err_from_os();
	return COWLAB_OK;
}

uint64_t section_size(const struct section *s)
{
	return s->size;
}

const char *section_name(const struct section *s)
{
	return s->name;
}

int section_fd(const struct section *s)
{
	return s->fd;
}
