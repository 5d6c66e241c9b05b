/* The POSIX backend's own mechanisms, seen through its internal header:
 * /proc files read in pieces (posix_proc_scan) give back long lines whole
 * and find what follows them, and a line longer than the reader's buffer
 * is not taken for a free address; process_start's children (vfork, every
 * signal blocked until the exec) start with no signal blocked, and the
 * parent is left with none. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "evidence.h"
#include "platform.h"
#include "posix/internal.h"
#include "process.h"
#include "section.h"

#define PAGES 8

struct fixture {
	struct section *sec;
	size_t ps;
	uint8_t *rw;
};

/* smaps is read in pieces of 1 KiB (posix_proc_scan): a mapping listed
 * before the view whose line spans several pieces (a file under a path of
 * some 4000 bytes) is put back together, and the view is still found. The
 * file is mapped at the first free page below the rw view, so it is listed
 * before it. */
static void test_evidence_long_line(struct fixture *f)
{
	char path[4096] = "/tmp/cowlab-test-section-XXXXXX", name[251];
	size_t len, depth = 0;
	struct evidence_report ev;
	void *map = MAP_FAILED;
	int fd = -1;

	if (!CHECK_OK(mkdtemp(path) != NULL))
		return;
	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	while ((len = strlen(path)) + 1 + 250 < 4000 && mkdir(strcat(strcat(path, "/"), name), 0700) == 0)
		depth++;
	/* the file's own name takes the path to 4060 bytes */
	len = strlen(path);
	name[4060 - len - 1 < 250 ? 4060 - len - 1 : 250] = '\0';
	strcat(strcat(path, "/"), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK_MSG(fd >= 0 && strlen(path) > 4040, "a file under a %zu-byte path", strlen(path));
	/* the first free page below the rw view: listed before it */
	for (size_t k = 1; fd >= 0 && k <= 4096 && map == MAP_FAILED; k++) {
		uint8_t *at = f->rw - k * f->ps;

		if (k == 1 && ftruncate(fd, (off_t)f->ps) != 0)
			break;
		map = mmap(at, f->ps, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if (map != MAP_FAILED && map != at) { /* a kernel that took it as a hint */
			munmap(map, f->ps);
			map = MAP_FAILED;
		}
	}
	CHECK(map != MAP_FAILED && (uint8_t *)map < f->rw);
	if (map != MAP_FAILED) {
		/* its line, whole, from pieces of 1 KiB */
		static char line[POSIX_MAPS_LINE_MAX];
		size_t n = 0, plen = strlen(path);

		CHECK(posix_maps_find((uintptr_t)map, line) == 0);
		n = strlen(line);
		CHECK_MSG(n > plen && strcmp(line + n - plen, path) == 0,
			  "the %zu-byte line of the file was not put back together", n);
	}
	if (map != MAP_FAILED && evidence_query(f->rw, PAGES * f->ps, 0, PAGES, &ev) == 0) {
		bool found = false;

		for (size_t i = 0; i < ev.nsources; i++)
			if (strcmp(ev.sources[i].name, "smaps") == 0)
				found = ev.sources[i].supported && ev.sources[i].private_pages == 0;
		CHECK_MSG(found, "smaps did not find the rw view past the long line");
		evidence_free(&ev);
	}
	if (map != MAP_FAILED)
		munmap(map, f->ps);
	if (fd >= 0)
		close(fd);
	/* down again: the file, then each directory */
	unlink(path);
	for (; depth > 0; depth--) {
		*strrchr(path, '/') = '\0';
		rmdir(path);
	}
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

/* A maps line longer than the reader's buffer: the kernel writes each
 * newline of a path as "\\012", so six directories named with 250 of them
 * give a line of some 6000 bytes. posix_maps_find still finds its mapping
 * (the start of the line is looked at), not a free address. */
static void test_maps_escaped_line(struct fixture *f)
{
	char path[4096] = "/tmp/cowlab-test-section-XXXXXX", name[251];
	static char line[POSIX_MAPS_LINE_MAX];
	int depth = 0, fd = -1;
	void *map = MAP_FAILED;

	if (!CHECK_OK(mkdtemp(path) != NULL))
		return;
	memset(name, '\n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	while (depth < 6 && mkdir(strcat(strcat(path, "/"), name), 0700) == 0)
		depth++;
	strcat(path, "/f");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (CHECK_OK(depth == 6 && fd >= 0 && ftruncate(fd, (off_t)f->ps) == 0))
		map = mmap(NULL, f->ps, PROT_READ, MAP_SHARED, fd, 0);
	if (CHECK_OK(map != MAP_FAILED)) {
		CHECK_MSG(posix_maps_find((uintptr_t)map, line) == 0,
			  "a mapping under a path of escaped newlines was taken for a free address");
		CHECK(strtoull(line, NULL, 16) == (uintptr_t)map);
		munmap(map, f->ps);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	for (*strrchr(path, '/') = '\0'; depth >= 0; depth--) {
		rmdir(path);
		*strrchr(path, '/') = '\0';
	}
}

/* The child: exits 0 if no signal is blocked in it. */
static int child_mask(void)
{
	sigset_t blocked;

	return sigprocmask(SIG_SETMASK, NULL, &blocked) == 0 && sigisemptyset(&blocked) ? 0 : 2;
}

static void test_child_mask(const char *self)
{
	const char *mask[] = { self, "mask", NULL };
	struct process *p = NULL;
	sigset_t none, blocked;
	int code = -1;

	/* whatever the test was started with: the checks compare with none */
	sigemptyset(&none);
	CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0);
	CHECK(process_start(&p, self, mask, NULL) == 0);
	if (p != NULL) {
		CHECK(process_wait(p, 60000, &code) == 0);
		CHECK_MSG(code == 0, "the child %s", code == 2 ? "started with signals blocked" :
			  "failed");
		process_destroy(p);
	}
	/* nor is the parent left with any */
	CHECK(sigprocmask(SIG_SETMASK, NULL, &blocked) == 0 && sigisemptyset(&blocked));
}

int main(int argc, char **argv)
{
	struct fixture f = { NULL, platform_page_size(), NULL };
	char self[1200];
	void *rw = NULL;

	if (argc > 1 && strcmp(argv[1], "mask") == 0)
		return child_mask();
	CHECK(platform_self_dir(self, sizeof(self) - 32) == 0);
	snprintf(self + strlen(self), 32, "/test-posix");
	test_child_mask(self);
	if (CHECK_OK(section_create(&f.sec, "cowlab-test-posix", PAGES * f.ps) == 0) &&
	    CHECK_OK(section_map(f.sec, SECTION_VIEW_RW, &rw) == 0)) {
		f.rw = rw;
		test_evidence_long_line(&f);
		test_maps_escaped_line(&f);
		section_unmap(f.sec, rw);
	}
	section_destroy(f.sec);
	return check_exit("test-posix");
}
