/* The POSIX backend's own mechanisms, seen through its internal header:
 * /proc files read in pieces (posix_proc_scan) give back long lines whole
 * and find what follows them, and a line longer than the reader's buffer
 * is not taken for a free address, and the line PROCMAP_QUERY gives is the
 * file's; process_start's children (vfork, every
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
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
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

static int data_counter = 1; /* in this program's .data */

/* A mapping's line from PROCMAP_QUERY equals the file's, spaces squeezed
 * (as the report shows it): `prefix` bytes of it for a line the scan cuts.
 * Returns whether the ioctl answered. */
static bool query_matches(uintptr_t addr, size_t prefix, const char *what)
{
	static char q[POSIX_MAPS_LINE_MAX], s[POSIX_MAPS_LINE_MAX];
	static char qs[POSIX_MAPS_LINE_MAX], ss[POSIX_MAPS_LINE_MAX];

	if (!CHECK_OK(posix_maps_scan(addr, s) == 0))
		return false;
	if (!posix_maps_query(addr, q))
		return false;
	posix_maps_line(qs, sizeof(qs), q);
	posix_maps_line(ss, sizeof(ss), s);
	if (prefix > 0) {
		qs[prefix] = ss[prefix] = '\0';
		CHECK_MSG(strlen(ss) == prefix, "%s: the scan's line is short", what);
	}
	CHECK_MSG(strcmp(qs, ss) == 0, "%s: PROCMAP_QUERY says\n  %s\nthe file says\n  %s", what,
		  qs, ss);
	return true;
}

/* posix_maps_query against the file, for mappings of every kind the
 * report may show: this program, the C library, the section (a deleted
 * memfd), a file deleted while mapped, a name with a space and newlines,
 * a path of 6000 bytes; and no answer for an anonymous mapping, whose
 * line still comes from the file. On a kernel before 6.11, which has no
 * PROCMAP_QUERY, posix_maps_find must read the file, and the test says
 * that only that was compared. */
static void test_maps_query(struct fixture *f)
{
	char dir[] = "/tmp/cowlab-test-query-XXXXXX", path[4096], name[251];
	static char line[POSIX_MAPS_LINE_MAX], scan[POSIX_MAPS_LINE_MAX];
	struct utsname u;
	int major = 0, minor = 0, fd, depth = 0;
	bool has_query;
	void *anon;

	CHECK(uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2);
	has_query = query_matches((uintptr_t)&data_counter, 0, "the program's .data");
	if (!has_query) {
		CHECK_MSG(major < 6 || (major == 6 && minor < 11),
			  "PROCMAP_QUERY does not answer on Linux %s", u.release);
		fprintf(stderr, "test-posix: Linux %s has no PROCMAP_QUERY: posix_maps_find reads "
			"/proc/self/maps, and only that is checked\n", u.release);
		CHECK(posix_maps_find((uintptr_t)&data_counter, line) == 0 &&
		      posix_maps_scan((uintptr_t)&data_counter, scan) == 0 && strcmp(line, scan) == 0);
		return;
	}
	CHECK(query_matches((uintptr_t)stdout, 0, "the C library's data"));
	CHECK(query_matches((uintptr_t)f->rw, 0, "the section"));
	anon = mmap(NULL, f->ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (CHECK_OK(anon != MAP_FAILED)) {
		CHECK_MSG(!posix_maps_query((uintptr_t)anon, line), "an anonymous mapping answered");
		CHECK(posix_maps_find((uintptr_t)anon, line) == 0 &&
		      posix_maps_scan((uintptr_t)anon, scan) == 0 && strcmp(line, scan) == 0);
		munmap(anon, f->ps);
		CHECK(!posix_maps_query((uintptr_t)anon, line));
		CHECK(err_is(posix_maps_find((uintptr_t)anon, line), COWLAB_E_NOENT));
	}
	if (!CHECK_OK(mkdtemp(dir) != NULL))
		return;
	/* a name with a space and newlines, then deleted while mapped */
	snprintf(path, sizeof(path), "%s/a b\nc\n", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (CHECK_OK(fd >= 0 && ftruncate(fd, (off_t)f->ps) == 0)) {
		void *m = mmap(NULL, f->ps, PROT_READ, MAP_SHARED, fd, 0);

		if (CHECK_OK(m != MAP_FAILED)) {
			CHECK(query_matches((uintptr_t)m, 0, "a name with a space and newlines"));
			unlink(path);
			CHECK(query_matches((uintptr_t)m, 0, "a file deleted while mapped"));
			munmap(m, f->ps);
		}
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	/* a path of six directories of 250 newlines: some 6000 bytes escaped */
	memset(name, '\n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(path, sizeof(path), "%s", dir);
	while (depth < 6 && mkdir(strcat(strcat(path, "/"), name), 0700) == 0)
		depth++;
	strcat(path, "/f");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (CHECK_OK(depth == 6 && fd >= 0 && ftruncate(fd, (off_t)f->ps) == 0)) {
		void *m = mmap(NULL, f->ps, PROT_READ, MAP_SHARED, fd, 0);

		if (CHECK_OK(m != MAP_FAILED)) {
			CHECK(query_matches((uintptr_t)m, 2000, "a path of 6000 escaped bytes"));
			munmap(m, f->ps);
		}
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	for (*strrchr(path, '/') = '\0'; depth > 0; depth--) {
		rmdir(path);
		*strrchr(path, '/') = '\0';
	}
	rmdir(dir);
	CHECK(data_counter == 1);
}

/* The child: exits 0 if no signal is blocked in it. */
static int child_mask(void)
{
	sigset_t blocked;

	return sigprocmask(SIG_SETMASK, NULL, &blocked) == 0 && sigisemptyset(&blocked) ? 0 : 2;
}

/* The child's process group: its own (exit 0) or its parent's (exit 3). */
static int child_group(void)
{
	return getpgrp() == getpid() ? 0 : 3;
}

/* A process the server starts for a client is a group of its own, so that
 * a terminal's Ctrl-C reaches the server alone; any other stays in ours. */
static void test_child_group(const char *self)
{
	const char *argv[] = { self, "group", NULL };
	struct process *p = NULL;
	int code = -1;

	for (int own = 0; own < 2; own++) {
		p = NULL;
		CHECK(process_start_files(&p, self, argv, NULL, NULL, own == 1) == 0);
		if (p == NULL)
			continue;
		CHECK(process_wait(p, 60000, &code) == 0);
		CHECK_MSG(code == (own ? 0 : 3), "own group %d: the child exited %d", own, code);
		process_destroy(p);
	}
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

/* ---- the memory a process may take: fake /proc and /sys trees ---- */

static void put_file(const char *root, const char *path, const char *text)
{
	char full[512], dir[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	for (char *p = full + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - full), full);
		mkdir(dir, 0700);
	}
	f = fopen(full, "w");
	if (CHECK_OK(f != NULL)) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_memory_room(void)
{
	static const struct {
		const char *name;
		const char *files[12][2]; /* path, content */
		long long mib;            /* the room expected, -1: none known */
		const char *says;
	} cases[] = {
		{ "meminfo only", { { "/proc/meminfo", "MemTotal: 9 kB\nMemAvailable: 2097152 kB\n"
				      "SwapFree: 1048576 kB\n" } }, 3072, "MemAvailable 2048 MiB" },
		{ "v1 limit, and the parent's is lower",
		  { { "/proc/meminfo", "MemAvailable: 8388608 kB\nSwapFree: 0 kB\n" },
		    { "/proc/self/cgroup", "5:cpu,cpuacct:/\n4:memory:/a/b\n0::/\n" },
		    { "/sys/fs/cgroup/memory/a/b/memory.limit_in_bytes", "536870912\n" },
		    { "/sys/fs/cgroup/memory/a/b/memory.usage_in_bytes", "104857600\n" },
		    { "/sys/fs/cgroup/memory/a/memory.limit_in_bytes", "268435456\n" },
		    { "/sys/fs/cgroup/memory/a/memory.usage_in_bytes", "167772160\n" },
		    { "/sys/fs/cgroup/memory/a/memory.stat", "cache 40000000\nrss 1\n"
		      "total_inactive_file 33554432\n" },
		    { "/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n" } },
		  128, "memory cgroup (v1) /a: limit 256 MiB, 128 MiB in use" },
		{ "v2 unified, max above",
		  { { "/proc/meminfo", "MemAvailable: 8388608 kB\n" },
		    { "/proc/self/cgroup", "0::/user.slice/x.scope\n" },
		    { "/sys/fs/cgroup/cgroup.controllers", "cpu memory\n" },
		    { "/sys/fs/cgroup/user.slice/x.scope/memory.max", "max\n" },
		    { "/sys/fs/cgroup/user.slice/memory.max", "1073741824\n" },
		    { "/sys/fs/cgroup/user.slice/memory.current", "1048576\n" } },
		  1023, "memory cgroup (v2) /user.slice: limit 1024 MiB, 1 MiB in use" },
		{ "v2 with reclaimable cache: not counted as in use",
		  { { "/proc/self/cgroup", "0::/c\n" },
		    { "/sys/fs/cgroup/cgroup.controllers", "memory\n" },
		    { "/sys/fs/cgroup/c/memory.max", "536870912\n" },
		    { "/sys/fs/cgroup/c/memory.current", "461373440\n" },
		    { "/sys/fs/cgroup/c/memory.stat", "anon 1048576\nfile 450000000\n"
		      "inactive_file 440401920\nactive_file 9000000\n" } },
		  492, "memory cgroup (v2) /c: limit 512 MiB, 20 MiB in use besides" },
		{ "v2 in a hybrid tree (unified/), over its limit",
		  { { "/proc/self/cgroup", "4:memory:/\n0::/t\n" },
		    { "/sys/fs/cgroup/unified/t/memory.max", "67108864\n" },
		    { "/sys/fs/cgroup/unified/t/memory.current", "70000000\n" } },
		  0, "memory cgroup (v2) /t: limit 64 MiB, 66 MiB in use" },
		{ "nothing readable", { { "/proc/self/cgroup", "garbage\n" } }, -1, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char root[] = "/tmp/cowlab-room-XXXXXX", how[200], cmd[64];
		uint64_t room = 0;
		int err;

		if (!CHECK_OK(mkdtemp(root) != NULL))
			return;
		for (int k = 0; k < 12 && cases[i].files[k][0] != NULL; k++)
			put_file(root, cases[i].files[k][0], cases[i].files[k][1]);
		err = posix_memory_room(root, &room, how, sizeof(how));
		if (cases[i].mib < 0)
			CHECK_MSG(err_is(err, COWLAB_E_UNSUPPORTED), "%s: %d", cases[i].name, err);
		else
			CHECK_MSG(err == 0 && (long long)(room >> 20) == cases[i].mib &&
				  strstr(how, cases[i].says) != NULL,
				  "%s: %lld MiB, \"%s\"", cases[i].name, (long long)(room >> 20), how);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		CHECK(system(cmd) == 0);
	}
	/* this machine: some figure, named */
	{
		char how[200];
		uint64_t room = 0;

		CHECK(platform_memory_room(&room, how, sizeof(how)) == 0 && room > 0 && how[0]);
	}
}

int main(int argc, char **argv)
{
	struct fixture f = { NULL, platform_page_size(), NULL };
	char self[1200];
	void *rw = NULL;

	if (argc > 1 && strcmp(argv[1], "group") == 0)
		return child_group();
	if (argc > 1 && strcmp(argv[1], "mask") == 0)
		return child_mask();
	CHECK(platform_self_dir(self, sizeof(self) - 32) == 0);
	snprintf(self + strlen(self), 32, "/test-posix");
	test_child_mask(self);
	test_child_group(self);
	test_memory_room();
	if (CHECK_OK(section_create(&f.sec, "cowlab-test-posix", PAGES * f.ps) == 0) &&
	    CHECK_OK(section_map(f.sec, SECTION_VIEW_RW, &rw) == 0)) {
		f.rw = rw;
		test_evidence_long_line(&f);
		test_maps_escaped_line(&f);
		test_maps_query(&f);
		section_unmap(f.sec, rw);
	}
	section_destroy(f.sec);
	return check_exit("test-posix");
}
