#include <errno.h>
#include <fcntl.h>
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
	 * reader of the section, the server first, die of SIGBUS. */
	/* fallocate: the kernel takes every page at once (the server fills
	 * them all anyway), cheaper than one fault a page, and a section that
	 * does not fit fails here rather than with SIGBUS later. */
	if (ftruncate(fd, (off_t)size) != 0 || fallocate(fd, 0, 0, (off_t)size) != 0 ||
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
		return COWLAB_E_PROTO;
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

int section_map(struct section *s, enum section_view kind, void **addr)
{
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	void *p;

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

void section_populate(struct section *s, void *rw_view)
{
#ifdef MADV_POPULATE_WRITE
	madvise(rw_view, (size_t)s->size, MADV_POPULATE_WRITE); /* Linux 5.14+ */
#else
	(void)s;
	(void)rw_view;
#endif
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
