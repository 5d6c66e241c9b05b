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

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26 /* <linux/memfd.h>: the huge page size's log2, here */
#endif

struct section {
	int fd;
	uint64_t size;
	size_t page_size;        /* the platform's, or a hugetlb memfd's huge page size */
	char name[SECTION_NAME_MAX];
};

static int section_new(struct section **out, int fd, const char *name, uint64_t size,
		       size_t page_size)
{
	struct section *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return COWLAB_E_NOMEM;
	s->fd = fd;
	s->size = size;
	s->page_size = page_size;
	snprintf(s->name, sizeof(s->name), "%s", name);
	*out = s;
	return COWLAB_OK;
}

int section_create(struct section **out, const char *name, uint64_t size)
{
	return section_create_paged(out, name, size, platform_page_size());
}

/* Whether the kernel has huge pages of `ps` bytes (a directory of
 * /sys/kernel/mm/hugepages for them). */
static bool huge_size_known(size_t ps)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB", ps / 1024);
	return stat(path, &st) == 0;
}

int section_create_paged(struct section **out, const char *name, uint64_t size, size_t ps)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd, err, shift = 0;

	if (ps < platform_page_size() || (ps & (ps - 1)) != 0 || size == 0 || size % ps != 0 ||
	    size > (uint64_t)INT64_MAX)
		return COWLAB_E_INVAL;
	if (ps != platform_page_size()) {
		/* a hugetlb memfd of that size, from the pages reserved */
		if (!huge_size_known(ps))
			return COWLAB_E_UNSUPPORTED;
		while (((size_t)1 << shift) < ps)
			shift++;
		flags |= MFD_HUGETLB | (unsigned)shift << MFD_HUGE_SHIFT;
	}
	/* memfd: anonymous, tmpfs-backed (swap is its paging file), no name in
	 * any namespace, so nobody can squat on it or open it uninvited. */
	fd = memfd_create(name, flags);
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
	err = section_new(out, fd, name, size, ps);
	if (err != 0)
		close(fd);
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
	/* a hugetlb memfd's block size is its huge page size; tmpfs's the
	 * platform's page size */
	size_t ps = (size_t)st.st_blksize > platform_page_size() ? (size_t)st.st_blksize :
								    platform_page_size();

	if (ps != page_size) {
		close(fd);
		return COWLAB_E_INVAL;
	}
	err = section_new(out, fd, name, size, ps);
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
	/* (a huge page view goes where the kernel aligns it) */
	if (kind == SECTION_VIEW_COW && s->page_size == platform_page_size() &&
	    (hint = low_place((size_t)s->size)) != NULL)
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
 * grow with the section. tmpfs takes one file's writes one at a time (the
 * inode lock), so one thread writes; for a large section, another makes
 * the pattern meanwhile, a few chunks ahead, so that the writer does
 * nothing but write: the fill then costs what the kernel's own pwrite of
 * the section costs (docs/benchmarks.md, section_1gib_setup_ratio). */

enum {
	FILL_CHUNK = 1 << 20,
	FILL_BUFS = 2,             /* chunks made ahead of the writer, at most */
	FILL_SPLIT_MIN = 64 << 20, /* below this one thread is as fast */
};

struct fill_job {
	struct section *s;
	section_fill_fn *fill;
	void *ctx;
	size_t page_size, chunk;
	uint64_t nchunks;
	uint8_t *buf[FILL_BUFS];
	/* under mu: chunks made, chunks written; stop when the writer failed */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t made, written;
	bool stop;
};

static size_t chunk_len(const struct fill_job *j, uint64_t c)
{
	uint64_t off = c * j->chunk;

	return (size_t)(j->s->size - off < j->chunk ? j->s->size - off : j->chunk);
}

/* The pages of chunk c, into dst. */
static void make_chunk(const struct fill_job *j, uint64_t c, uint8_t *dst)
{
	uint64_t first = c * j->chunk / j->page_size;

	for (size_t p = 0; p < chunk_len(j, c) / j->page_size; p++)
		j->fill(j->ctx, first + p, dst + p * j->page_size, j->page_size);
}

static int write_chunk(const struct fill_job *j, uint64_t c, const uint8_t *src)
{
	size_t len = chunk_len(j, c), done = 0;
	uint64_t off = c * j->chunk;

	while (done < len) {
		ssize_t n = pwrite(j->s->fd, src + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? err_from_os() : COWLAB_E_IO;
		done += (size_t)n;
	}
	return COWLAB_OK;
}

/* The maker: each chunk into a free buffer, until all are made or the
 * writer stops. */
static void *fill_maker(void *arg)
{
	struct fill_job *j = arg;

	for (uint64_t c = 0; c < j->nchunks; c++) {
		bool stop;

		pthread_mutex_lock(&j->mu);
		while (c - j->written >= FILL_BUFS && !j->stop)
			pthread_cond_wait(&j->cv, &j->mu);
		stop = j->stop;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		make_chunk(j, c, j->buf[c % FILL_BUFS]);
		pthread_mutex_lock(&j->mu);
		j->made = c + 1;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

/* The writer, with a maker on another thread. */
static int fill_pipelined(struct fill_job *j)
{
	pthread_t maker;
	int err = COWLAB_OK;

	if (pthread_create(&maker, NULL, fill_maker, j) != 0)
		return 1; /* not started: the caller fills alone */
	for (uint64_t c = 0; c < j->nchunks && err == COWLAB_OK; c++) {
		pthread_mutex_lock(&j->mu);
		while (j->made <= c)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		err = write_chunk(j, c, j->buf[c % FILL_BUFS]);
		pthread_mutex_lock(&j->mu);
		j->written = c + 1;
		j->stop = err != COWLAB_OK;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
	pthread_join(maker, NULL);
	return err;
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
	struct fill_job j = { .s = s, .fill = fill, .ctx = ctx };
	int nbufs = 1, err = 1;

	if (s->page_size != platform_page_size()) {
		/* hugetlbfs takes no write(2): through the view, whose huge
		 * pages were reserved when it was mapped */
		for (uint64_t p = 0; p < s->size / s->page_size; p++)
			fill(ctx, p, (uint8_t *)rw_view + p * s->page_size, s->page_size);
		return COWLAB_OK;
	}
	j.page_size = platform_page_size();
	j.chunk = FILL_CHUNK > j.page_size ? FILL_CHUNK / j.page_size * j.page_size : j.page_size;
	j.nchunks = (s->size + j.chunk - 1) / j.chunk;
	if (s->size >= FILL_SPLIT_MIN && usable_cpus() > 1)
		nbufs = FILL_BUFS;
	for (int i = 0; i < nbufs; i++) {
		if ((j.buf[i] = aligned_alloc(j.page_size, j.chunk)) == NULL) {
			for (int k = 0; k < i; k++)
				free(j.buf[k]);
			return COWLAB_E_NOMEM;
		}
	}
	if (nbufs > 1) {
		pthread_mutex_init(&j.mu, NULL);
		pthread_cond_init(&j.cv, NULL);
		err = fill_pipelined(&j);
		pthread_cond_destroy(&j.cv);
		pthread_mutex_destroy(&j.mu);
	}
	if (err == 1) { /* alone: make a chunk, write it */
		err = COWLAB_OK;
		for (uint64_t c = 0; c < j.nchunks && err == COWLAB_OK; c++) {
			make_chunk(&j, c, j.buf[0]);
			err = write_chunk(&j, c, j.buf[0]);
		}
	}
	for (int i = 0; i < nbufs; i++)
		free(j.buf[i]);
	return err;
}

void section_release(struct section *s, void *view, uint64_t first, uint64_t count)
{
	if (view != NULL && count > 0)
		(void)section_discard(s, view, first, count); /* best effort */
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
	size_t ps = s->page_size;

	/* only a MAP_PRIVATE mapping copies on write */
	if (p == SECTION_WRITECOPY && kind != SECTION_VIEW_COW)
		return COWLAB_E_UNSUPPORTED;
	if (mprotect((uint8_t *)view + first * ps, (size_t)count * ps, prot[p]) != 0)
		return err_from_os();
	return COWLAB_OK;
}

int section_discard(struct section *s, void *view, uint64_t first, uint64_t count)
{
	size_t ps = s->page_size;

	if (madvise((uint8_t *)view + first * ps, (size_t)count * ps, MADV_DONTNEED) != 0)
		return err_from_os();
	return COWLAB_OK;
}

bool section_same(const struct section *a, const struct section *b)
{
	struct stat x, y;

	return fstat(a->fd, &x) == 0 && fstat(b->fd, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
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

int section_fd(const struct section *s)
{
	return s->fd;
}
