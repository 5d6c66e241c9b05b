/* Facts about the running system and a few small portable services:
 * a monotonic clock, sleeping, the page size, the process id and the
 * path of the running executable. */
#ifndef COWLAB_PLATFORM_H
#define COWLAB_PLATFORM_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

struct platform_info {
	char os[32];           /* "Linux" or "Windows" */
	char version[96];      /* kernel release, or Windows major.minor.build */
	char arch[16];         /* "x86_64", ... */
	char wine_version[32]; /* Wine's version when running under Wine, else "" */
	size_t page_size;
	size_t allocation_granularity; /* page size on Linux; 64 KiB on Windows */
};

void platform_describe(struct platform_info *info);

/* Milliseconds of a monotonic clock; only differences mean anything. */
int64_t platform_now_ms(void);
/* Microseconds of the same clock. */
int64_t platform_now_us(void);
/* A monotonic clock in nanoseconds (its resolution: the system's), for
 * timing one write. */
int64_t platform_now_ns(void);
/* The page faults this process has taken so far, as the kernel counts
 * them (POSIX: getrusage's minor and major faults; Windows:
 * GetProcessMemoryInfo's PageFaultCount). Returns 0 or a negative
 * cowlab_err. */
int platform_page_faults(uint64_t *out);
void platform_sleep_ms(int ms);
size_t platform_page_size(void);
long platform_pid(void);
/* The process that started this one (0 if the system cannot say); on
 * POSIX, once that process has died, whoever adopted this one. */
long platform_parent_pid(void);
/* fork(2): the child's pid in the parent, 0 in the child, or a negative
 * cowlab_err (COWLAB_E_UNSUPPORTED on Windows, which has no fork). stdout
 * and stderr are flushed first, so that neither prints the other's. */
long platform_fork(void);

/* Huge (large) pages of `size` bytes: whether a section of them can be
 * made here, how many the machine has and how many are free (-1 where it
 * cannot say), and if none can be used, why, in words with what to do. */
struct platform_huge {
	bool usable;
	long total, free;
	char why[320];
};
void platform_huge_pages(size_t size, struct platform_huge *out);
/* The huge page sizes the machine offers, smallest first: how many, at
 * most cap written to sizes. */
size_t platform_huge_sizes(size_t *sizes, size_t cap);

/* What this process holds now: open descriptors (handles on Windows) and
 * resident memory in KiB, -1 where the platform cannot say. For checking
 * that a run leaks nothing. */
struct platform_resources {
	long descriptors;
	long rss_kib;
	long peak_rss_kib;      /* the most this process has been resident */
};
int platform_resources(struct platform_resources *r);

/* Raises this process's limit of open descriptors as far as it may go
 * and returns it; -1 where there is no such fixed limit (Windows). */
long platform_descriptor_limit(void);

/* How much more memory this process may take before the system or its
 * memory cgroup refuses it (Linux: MemAvailable + SwapFree, and each memory
 * cgroup's limit less its usage, v1 and v2, the least of them), with a
 * sentence naming what sets the figure. COWLAB_E_UNSUPPORTED where nothing
 * can say (Windows commits a section whole when it is made, so a section
 * too big fails there, cleanly). */
int platform_memory_room(uint64_t *room, char *how, size_t cap);

/* Whether standard error is a terminal (progress lines go only there). */
bool platform_stderr_is_terminal(void);
bool platform_stdout_is_terminal(void);
/* Whether stream 1 (stdout) or 2 (stderr), a terminal, takes ANSI escape
 * sequences (colour, cursor moves): on Windows it asks the console to
 * (ENABLE_VIRTUAL_TERMINAL_PROCESSING), and says whether it would. */
bool platform_terminal_ansi(int stream);

/* Fills buf with n bytes from the system's random source. */
int platform_random(void *buf, size_t n);

/* A thread running fn(arg); platform_thread_join waits for it to return
 * and frees it. */
struct platform_thread;
int platform_thread_start(struct platform_thread **out, void (*fn)(void *), void *arg);
void platform_thread_join(struct platform_thread *t);

/* The directory holding the running executable, without a trailing
 * separator. Returns 0 or a negative cowlab_err. */
int platform_self_dir(char *buf, size_t cap);

/* fopen of a UTF-8 path (Windows: _wfopen, so that any name opens). */
FILE *platform_fopen(const char *path, const char *mode);

/* Calls fn with the name of every entry of a directory that ends in
 * `suffix`, in no particular order. Returns 0 or a negative cowlab_err
 * (COWLAB_E_NOENT: no such directory). */
int platform_list_dir(const char *dir, const char *suffix,
		      void (*fn)(void *ctx, const char *name), void *ctx);

/* For a process that frees and allocates large blocks run after run
 * (--repeat): every block of 128 KiB or more goes back to the system when
 * freed. With glibc, whose mmap threshold otherwise rises to the largest
 * block freed, the next run's report could come from the heap, which then
 * grew by a report a run (1 MiB at 500 clients) where the freed one could
 * not be reused (docs/design.md, "Memory across runs"). Elsewhere nothing. */
void platform_steady_heap(void);
/* Gives the memory freed at a run's end back to the system (glibc's
 * malloc_trim), so that what the server holds after a run
 * (server_resources.rss_kib_after) is what it still uses: the engine
 * frees a client's items step by step among blocks it keeps, and the
 * holes left made the figure wander by a MiB a run of 500 clients.
 * Elsewhere nothing. */
void platform_trim_heap(void);

/* Makes argv UTF-8 everywhere: on Windows the C runtime's argv is in the
 * ANSI code page, so it is rebuilt from GetCommandLineW (the new vector
 * lives as long as the process); elsewhere it is left as it is. Returns 0
 * or a negative cowlab_err. */
int platform_utf8_argv(int *argc, char ***argv);

/* The path separator and the executable suffix of this platform. */
extern const char platform_path_sep;
extern const char platform_exe_suffix[];

#endif
