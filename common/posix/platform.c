#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__ /* (features.h, through errno.h, has said) */
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "err.h"
#include "internal.h"
#include "linux-uapi.h"
#include "platform.h"
#include "text.h"

const char platform_path_sep = '/';
const char platform_exe_suffix[] = "";

void platform_describe(struct platform_info *info)
{
	struct utsname u;

	memset(info, 0, sizeof(*info));
	if (uname(&u) == 0) {
		snprintf(info->os, sizeof(info->os), "%.31s", u.sysname);
		snprintf(info->version, sizeof(info->version), "%.95s", u.release);
		snprintf(info->arch, sizeof(info->arch), "%.15s", u.machine);
	} else {
		snprintf(info->os, sizeof(info->os), "POSIX");
	}
	info->page_size = platform_page_size();
	info->allocation_granularity = info->page_size;
}

int64_t platform_now_us(void)
{
	return platform_now_ns() / 1000;
}

int64_t platform_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int platform_page_faults(uint64_t *out)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return err_from_os();
	*out = (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
	return COWLAB_OK;
}

int64_t platform_now_ms(void)
{
	return platform_now_us() / 1000;
}

void platform_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

size_t platform_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

long platform_parent_pid(void)
{
	return (long)getppid();
}

/* /sys/kernel/mm/hugepages/hugepages-<kB>kB/<what>, or -1. */
static long huge_count(size_t size, const char *what)
{
	char path[128], buf[32];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/%s", size / 1024,
		 what);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL)
		n = strtol(buf, NULL, 10);
	fclose(f);
	return n;
}

static int size_order(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

size_t platform_huge_sizes(size_t *sizes, size_t cap)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *e;
	size_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		unsigned long kb;
		char tail[8];

		if (sscanf(e->d_name, "hugepages-%lukB%7s", &kb, tail) == 1 && n < cap)
			sizes[n++] = (size_t)kb * 1024;
	}
	if (d != NULL)
		closedir(d);
	qsort(sizes, n, sizeof(*sizes), size_order);
	return n;
}

void platform_huge_pages(size_t size, struct platform_huge *out)
{
	long total = huge_count(size, "nr_hugepages"), free = huge_count(size, "free_hugepages");
	long resv = huge_count(size, "resv_hugepages");

	memset(out, 0, sizeof(*out));
	out->total = total;
	/* free but promised to mappings already made are not free to us */
	out->free = free >= 0 && resv >= 0 && free >= resv ? free - resv : free;
	out->usable = total >= 0;
	if (!out->usable)
		snprintf(out->why, sizeof(out->why), "this kernel has no huge pages of %zu KiB "
			 "(/sys/kernel/mm/hugepages has no hugepages-%zukB)", size / 1024,
			 size / 1024);
}

long platform_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	return pid < 0 ? err_from_os() : (long)pid;
}

long platform_pid(void)
{
	return (long)getpid();
}

int platform_self_dir(char *buf, size_t cap)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n < 0)
		return err_from_os();
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		return COWLAB_E_NOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, cap, "%s", path) >= cap)
		return COWLAB_E_NAMETOOLONG;
	return COWLAB_OK;
}

void platform_steady_heap(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
#endif
}

void platform_trim_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

int platform_utf8_argv(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return COWLAB_OK;
}

int platform_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_from_os();
		}
		p += got;
		n -= (size_t)got;
	}
	return COWLAB_OK;
}

int platform_resources(struct platform_resources *r)
{
	DIR *d = opendir("/proc/self/fd");
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	r->descriptors = -1;
	r->rss_kib = -1;
	r->peak_rss_kib = -1;
	if (d != NULL) {
		r->descriptors = 0;
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			r->descriptors += e->d_name[0] != '.';
		r->descriptors--; /* the directory's own descriptor */
		closedir(d);
	}
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "VmHWM: %ld kB", &r->peak_rss_kib);
		if (sscanf(line, "VmRSS: %ld kB", &r->rss_kib) == 1)
			break; /* VmHWM comes just before it */
	}
	if (f != NULL)
		fclose(f);
	return r->descriptors >= 0 && r->rss_kib >= 0 ? COWLAB_OK : COWLAB_E_IO;
}

long platform_descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

/* ---- memory room ---- */

/* A file's first number ("max" and absent files read as none). */
static bool read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	unsigned long long n;
	bool ok = f != NULL && fscanf(f, "%llu", &n) == 1;

	if (f != NULL)
		fclose(f);
	if (ok)
		*v = (uint64_t)n;
	return ok;
}

struct room {
	uint64_t bytes;
	char *how;
	size_t cap;
};

/* Takes a limit in, if it is the least so far. */
static void room_take(struct room *r, uint64_t bytes, const char *fmt, ...) COWLAB_PRINTF(3, 4);

static void room_take(struct room *r, uint64_t bytes, const char *fmt, ...)
{
	va_list ap;

	if (bytes >= r->bytes)
		return;
	r->bytes = bytes;
	va_start(ap, fmt);
	vsnprintf(r->how, r->cap, fmt, ap);
	va_end(ap);
}

/* A key's number in a memory.stat file ("inactive_file 123"), 0 if none. */
static uint64_t stat_u64(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[256];
	size_t n = strlen(key);
	uint64_t v = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, n) == 0 && line[n] == ' ') {
			v = strtoull(line + n + 1, NULL, 10);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	return v;
}

/* A cgroup directory and each of its ancestors (a child can use no more
 * than any of them allows): limit less usage, where usage leaves out the
 * inactive file cache, which the kernel reclaims before it would refuse
 * (as `docker stats` counts). No limit: from 2^60 up. */
static void cgroup_walk(struct room *r, const char *base, const char *path, const char *limit_file,
			const char *usage_file, const char *cache_key, const char *kind)
{
	char rel[1024], file[1700];

	snprintf(rel, sizeof(rel), "%s", strcmp(path, "/") == 0 ? "" : path);
	for (;;) {
		uint64_t limit, usage = 0, cache;
		char *slash;

		snprintf(file, sizeof(file), "%s%s/%s", base, rel, limit_file);
		if (read_u64(file, &limit) && limit < ((uint64_t)1 << 60)) {
			snprintf(file, sizeof(file), "%s%s/%s", base, rel, usage_file);
			read_u64(file, &usage);
			snprintf(file, sizeof(file), "%s%s/memory.stat", base, rel);
			cache = stat_u64(file, cache_key);
			usage = cache < usage ? usage - cache : 0;
			room_take(r, usage < limit ? limit - usage : 0, "memory cgroup (%s) %s: "
				  "limit %llu MiB, %llu MiB in use besides reclaimable cache", kind,
				  rel[0] ? rel : "/",
				  (unsigned long long)(limit >> 20), (unsigned long long)(usage >> 20));
		}
		if ((slash = strrchr(rel, '/')) == NULL)
			break;
		*slash = '\0';
	}
}

int posix_memory_room(const char *root, uint64_t *room, char *how, size_t cap)
{
	struct room r = { UINT64_MAX, how, cap };
	char path[512], line[1024], base[600];
	unsigned long long avail = 0, swap = 0, kib;
	bool have_avail = false;
	FILE *f;

	how[0] = '\0';
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
				avail = kib;
				have_avail = true;
			}
			if (sscanf(line, "SwapFree: %llu kB", &kib) == 1)
				swap = kib;
		}
		fclose(f);
	}
	if (have_avail)
		room_take(&r, (uint64_t)(avail + swap) << 10, "MemAvailable %llu MiB and SwapFree "
			  "%llu MiB", avail >> 10, swap >> 10);
	snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *ctl = strchr(line, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL;

			if (cg == NULL)
				continue;
			*ctl++ = '\0';
			*cg++ = '\0';
			cg[strcspn(cg, "\n")] = '\0';
			if (strcmp(line, "0") == 0 && *ctl == '\0') {
				/* v2: where the unified hierarchy is mounted */
				snprintf(base, sizeof(base), "%s/sys/fs/cgroup/cgroup.controllers", root);
				snprintf(base, sizeof(base), access(base, F_OK) == 0 ?
					 "%s/sys/fs/cgroup" : "%s/sys/fs/cgroup/unified", root);
				cgroup_walk(&r, base, cg, "memory.max", "memory.current",
					    "inactive_file", "v2");
			} else {
				for (char *c = strtok(ctl, ","); c != NULL; c = strtok(NULL, ","))
					if (strcmp(c, "memory") == 0) {
						snprintf(base, sizeof(base), "%s/sys/fs/cgroup/memory",
							 root);
						cgroup_walk(&r, base, cg, "memory.limit_in_bytes",
							    "memory.usage_in_bytes",
							    "total_inactive_file", "v1");
					}
			}
		}
		fclose(f);
	}
	if (r.bytes == UINT64_MAX)
		return COWLAB_E_UNSUPPORTED;
	*room = r.bytes;
	return COWLAB_OK;
}

int platform_memory_room(uint64_t *room, char *how, size_t cap)
{
	return posix_memory_room("", room, how, cap);
}

bool platform_stderr_is_terminal(void)
{
	return isatty(STDERR_FILENO) == 1;
}

bool platform_stdout_is_terminal(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

bool platform_terminal_ansi(int stream)
{
	return isatty(stream == 1 ? STDOUT_FILENO : STDERR_FILENO) == 1;
}

void posix_maps_line(char *dst, size_t cap, const char *line)
{
	const char *at = line;
	size_t n = 0;

	if (cap == 0)
		return;
	while (*at != '\0' && *at != '\n' && n + 1 < cap) {
		size_t len = text_utf8_char(at);

		if (len == 0) {
			dst[n++] = '?'; /* a byte that is no UTF-8: a path may hold any */
			at++;
			continue;
		}
		if (n + len >= cap)
			break;
		if (*at != ' ' || (n > 0 && dst[n - 1] != ' '))
			for (size_t k = 0; k < len; k++)
				dst[n++] = at[k];
		at += len;
	}
	if (*at != '\0' && *at != '\n' && cap > 4) {
		/* more than fits: room for "...", at a character boundary (dst
		 * holds whole characters, so only a cut inside it needs one) */
		if (n > cap - 4)
			n = text_utf8_cut(dst, cap - 4);
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

int posix_proc_scan(int fd, bool (*found)(char *line, void *ctx), void *ctx)
{
	char buf[POSIX_MAPS_LINE_MAX + 1024];
	size_t have = 0;
	off_t at = 0;
	bool skipping = false;
	ssize_t n;

	while ((n = pread(fd, buf + have, sizeof(buf) - 1 - have < 1024 ?
				sizeof(buf) - 1 - have : 1024, at)) > 0) {
		char *line = buf, *nl;

		at += n;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
			*nl = '\0';
			if (!skipping && found(line, ctx))
				return 1;
			skipping = false;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) {
			/* a line longer than the buffer (a path of escaped bytes):
			 * its start is looked at, the rest skipped */
			if (!skipping && found(buf, ctx))
				return 1;
			skipping = true;
			have = 0;
		}
	}
	return n < 0 ? err_from_os() : 0;
}

struct maps_find {
	uintptr_t addr;
	char *line;
};

static bool maps_holds(char *line, void *ctx)
{
	struct maps_find *m = ctx;
	char *end;
	unsigned long lo = strtoul(line, &end, 16), hi;

	if (end == line || *end != '-')
		return false;
	hi = strtoul(end + 1, &end, 16);
	if (m->addr < lo || m->addr >= hi)
		return false;
	snprintf(m->line, POSIX_MAPS_LINE_MAX, "%s", line);
	return true;
}

/* PROCMAP_QUERY (Linux 6.11, linux-uapi.h): one mapping's facts from an
 * ioctl on /proc/self/maps, without the kernel formatting every line before
 * it. */
enum {
	QUERY_READ = 0x01, QUERY_WRITE = 0x02, QUERY_EXEC = 0x04, QUERY_SHARED = 0x08,
	QUERY_FILE_BACKED = 0x20,
};

/* v in lower-case hex, at least `width` digits; returns how many. */
static size_t put_hex(char *dst, uint64_t v, size_t width)
{
	char digits[16];
	size_t n = 0, len = 0;

	do
		digits[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	while (len + n < width)
		dst[len++] = '0';
	while (n > 0)
		dst[len++] = digits[--n];
	return len;
}

bool posix_maps_query(uintptr_t addr, char *line)
{
	/* zeroed: valgrind does not know this ioctl writes it */
	char name[PATH_MAX + 64] = "";
	struct cowlab_procmap_query q = {
		.size = sizeof(q), .query_flags = QUERY_FILE_BACKED, .query_addr = addr,
		.vma_name_size = sizeof(name), .vma_name_addr = (uintptr_t)name,
	};
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), r;
	size_t n;

	if (fd < 0)
		return false;
	r = ioctl(fd, COWLAB_PROCMAP_QUERY, &q);
	close(fd);
	if (r != 0 || q.vma_name_size == 0)
		return false;
	/* "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", by hand: the only
	 * formatting a client would otherwise do with printf's number code */
	n = put_hex(line, q.vma_start, 8);
	line[n++] = '-';
	n += put_hex(line + n, q.vma_end, 8);
	line[n++] = ' ';
	line[n++] = q.vma_flags & QUERY_READ ? 'r' : '-';
	line[n++] = q.vma_flags & QUERY_WRITE ? 'w' : '-';
	line[n++] = q.vma_flags & QUERY_EXEC ? 'x' : '-';
	line[n++] = q.vma_flags & QUERY_SHARED ? 's' : 'p';
	line[n++] = ' ';
	n += put_hex(line + n, q.vma_offset, 8);
	line[n++] = ' ';
	n += put_hex(line + n, q.dev_major, 2);
	line[n++] = ':';
	n += put_hex(line + n, q.dev_minor, 2);
	line[n++] = ' ';
	n += text_u64(line + n, q.inode);
	line[n++] = ' ';
	for (const char *c = name; *c != '\0' && n + 1 < POSIX_MAPS_LINE_MAX; c++) {
		if (*c != '\n') {
			line[n++] = *c;
			continue;
		}
		for (const char *e = "\\012"; *e != '\0' && n + 1 < POSIX_MAPS_LINE_MAX; e++)
			line[n++] = *e;
	}
	line[n < POSIX_MAPS_LINE_MAX ? n : POSIX_MAPS_LINE_MAX - 1] = '\0';
	return true;
}

int posix_maps_scan(uintptr_t addr, char *line)
{
	struct maps_find m = { addr, line };
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return err_from_os();
	r = posix_proc_scan(fd, maps_holds, &m);
	close(fd);
	return r == 1 ? COWLAB_OK : r == 0 ? COWLAB_E_NOENT : r;
}

int posix_maps_find(uintptr_t addr, char *line)
{
	return posix_maps_query(addr, line) ? COWLAB_OK : posix_maps_scan(addr, line);
}

struct platform_thread {
	pthread_t id;
	void (*fn)(void *);
	void *arg;
};

static void *thread_main(void *p)
{
	struct platform_thread *t = p;

	t->fn(t->arg);
	return NULL;
}

int platform_thread_start(struct platform_thread **out, void (*fn)(void *), void *arg)
{
	struct platform_thread *t = malloc(sizeof(*t));
	int r;

	if (t == NULL)
		return COWLAB_E_NOMEM;
	t->fn = fn;
	t->arg = arg;
	if ((r = pthread_create(&t->id, NULL, thread_main, t)) != 0) {
		free(t);
		errno = r;
		return err_from_os();
	}
	*out = t;
	return COWLAB_OK;
}

void platform_thread_join(struct platform_thread *t)
{
	if (t == NULL)
		return;
	pthread_join(t->id, NULL);
	free(t);
}

FILE *platform_fopen(const char *path, const char *mode)
{
	return fopen(path, mode);
}

static bool ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n >= k && strcmp(name + n - k, suffix) == 0;
}

int platform_list_dir(const char *dir, const char *suffix,
		      void (*fn)(void *ctx, const char *name), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return err_from_os();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && ends_with(e->d_name, suffix))
			fn(ctx, e->d_name);
	closedir(d);
	return COWLAB_OK;
}
