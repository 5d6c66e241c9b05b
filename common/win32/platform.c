#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>
#include <shellapi.h>
#include <bcrypt.h>
#include <psapi.h>

#include "err.h"
#include "internal.h"
#include "platform.h"

const char platform_path_sep = '\\';
const char platform_exe_suffix[] = ".exe";

typedef const char *(CDECL *wine_get_version_fn)(void);
typedef LONG (WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *);

static FARPROC ntdll_proc(const char *name)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");

	return ntdll != NULL ? GetProcAddress(ntdll, name) : NULL;
}

const char *win32_wine_version(void)
{
	/* Casting between function pointer types goes through a void
	 * function pointer to keep every compiler quiet. */
	wine_get_version_fn fn = (wine_get_version_fn)(void (*)(void))ntdll_proc("wine_get_version");

	return fn != NULL ? fn() : NULL;
}

unsigned long win32_build(void)
{
	rtl_get_version_fn get = (rtl_get_version_fn)(void (*)(void))ntdll_proc("RtlGetVersion");
	OSVERSIONINFOW v = { .dwOSVersionInfoSize = sizeof(v) };

	return get != NULL && get(&v) == 0 ? v.dwBuildNumber : 0;
}

void platform_describe(struct platform_info *info)
{
	rtl_get_version_fn get = (rtl_get_version_fn)(void (*)(void))ntdll_proc("RtlGetVersion");
	OSVERSIONINFOW v = { .dwOSVersionInfoSize = sizeof(v) };
	const char *wine = win32_wine_version();
	SYSTEM_INFO si;

	memset(info, 0, sizeof(*info));
	snprintf(info->os, sizeof(info->os), "Windows");
	/* RtlGetVersion tells the truth where GetVersionEx lies to
	 * unmanifested programs. */
	if (get != NULL && get(&v) == 0)
		snprintf(info->version, sizeof(info->version), "%lu.%lu.%lu",
			 v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber);
	GetNativeSystemInfo(&si);
	snprintf(info->arch, sizeof(info->arch), "%s",
		 si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_AMD64 ? "x86_64" :
		 si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_ARM64 ? "arm64" :
		 si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_INTEL ? "x86" : "unknown");
	if (wine != NULL)
		snprintf(info->wine_version, sizeof(info->wine_version), "%s", wine);
	info->page_size = si.dwPageSize;
	info->allocation_granularity = si.dwAllocationGranularity;
}

int64_t platform_now_us(void)
{
	return platform_now_ns() / 1000;
}

int64_t platform_now_ns(void)
{
	static LARGE_INTEGER freq; /* constant for the life of the system */
	LARGE_INTEGER now;

	if (freq.QuadPart == 0)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&now);
	return (int64_t)(now.QuadPart / freq.QuadPart * 1000000000 +
			 now.QuadPart % freq.QuadPart * 1000000000 / freq.QuadPart);
}

int platform_page_faults(uint64_t *out)
{
	PROCESS_MEMORY_COUNTERS pmc;

	if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
		return err_from_os();
	*out = pmc.PageFaultCount;
	return COWLAB_OK;
}

int64_t platform_now_ms(void)
{
	return platform_now_us() / 1000;
}

void platform_sleep_ms(int ms)
{
	Sleep((DWORD)ms);
}

size_t platform_page_size(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return si.dwPageSize;
}

/* ProcessBasicInformation's layout, of which only the parent is read. */
struct basic_info {
	LONG exit_status;
	void *peb;
	ULONG_PTR affinity;
	LONG priority;
	ULONG_PTR pid, parent_pid;
};
typedef LONG (WINAPI *query_process_fn)(HANDLE, int, void *, ULONG, ULONG *);

size_t platform_huge_sizes(size_t *sizes, size_t cap)
{
	size_t min = GetLargePageMinimum();

	if (min == 0 || cap == 0)
		return 0;
	sizes[0] = min;
	return 1;
}

/* SeLockMemoryPrivilege, enabled in this process's token if the account
 * holds it: what SEC_LARGE_PAGES needs. */
static bool lock_memory_privilege(void)
{
	TOKEN_PRIVILEGES tp = { .PrivilegeCount = 1 };
	HANDLE token;
	bool ok;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token))
		return false;
	ok = LookupPrivilegeValueW(NULL, L"SeLockMemoryPrivilege", &tp.Privileges[0].Luid) &&
	     (tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED,
	      AdjustTokenPrivileges(token, FALSE, &tp, 0, NULL, NULL)) &&
	     GetLastError() != ERROR_NOT_ALL_ASSIGNED;
	CloseHandle(token);
	return ok;
}

/* What Wine does with SEC_LARGE_PAGES, probed: a section of one large
 * page, a page of it written, and what QueryWorkingSetEx says of it. */
static void wine_large_pages(const char *wine, size_t size, char *why, size_t cap)
{
	HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
				      PAGE_READWRITE | SEC_COMMIT | SEC_LARGE_PAGES, 0, (DWORD)size,
				      NULL);
	PSAPI_WORKING_SET_EX_INFORMATION ws = { 0 };
	void *v;

	if (h == NULL) {
		snprintf(why, cap, "Wine %s refuses SEC_LARGE_PAGES (error %lu)", wine,
			 GetLastError());
		return;
	}
	v = MapViewOfFile(h, FILE_MAP_WRITE | FILE_MAP_LARGE_PAGES, 0, 0, size);
	if (v != NULL) {
		*(volatile char *)v = 1;
		ws.VirtualAddress = v;
		if (!QueryWorkingSetEx(GetCurrentProcess(), &ws, sizeof(ws)))
			ws.VirtualAttributes.Flags = 0;
		UnmapViewOfFile(v);
	}
	CloseHandle(h);
	snprintf(why, cap, "Wine %s accepts SEC_LARGE_PAGES without SeLockMemoryPrivilege and "
		 "backs the section with ordinary pages (a page written says %s; "
		 "GetLargePageMinimum is a constant): a copy of a large page could not be "
		 "told from one of 4 KiB, so none is made here", wine,
		 v == NULL ? "nothing: its view did not map" : ws.VirtualAttributes.LargePage ?
		 "LargePage 1" : "LargePage 0 in QueryWorkingSetEx");
}

void platform_huge_pages(size_t size, struct platform_huge *out)
{
	const char *wine = win32_wine_version();
	size_t min = GetLargePageMinimum();

	memset(out, 0, sizeof(*out));
	out->total = out->free = -1;
	if (wine != NULL)
		wine_large_pages(wine, size, out->why, sizeof(out->why));
	else if (min == 0 || size != min)
		snprintf(out->why, sizeof(out->why), "this system's large pages are %zu KiB "
			 "(GetLargePageMinimum), not %zu KiB", min / 1024, size / 1024);
	else if (!lock_memory_privilege())
		snprintf(out->why, sizeof(out->why), "SEC_LARGE_PAGES needs SeLockMemoryPrivilege "
			 "(\"Lock pages in memory\", secpol.msc, then sign in again), which this "
			 "account lacks");
	else
		out->usable = true;
}

long platform_fork(void)
{
	return COWLAB_E_UNSUPPORTED;
}

long platform_parent_pid(void)
{
	query_process_fn query =
		(query_process_fn)(void (*)(void))ntdll_proc("NtQueryInformationProcess");
	struct basic_info info;

	/* 0: ProcessBasicInformation */
	if (query == NULL || query(GetCurrentProcess(), 0, &info, sizeof(info), NULL) < 0)
		return 0;
	return (long)info.parent_pid;
}

long platform_pid(void)
{
	return (long)GetCurrentProcessId();
}

int platform_self_dir(char *buf, size_t cap)
{
	wchar_t path[MAX_PATH * 2];
	DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH * 2);
	wchar_t *slash;
	char *utf8;

	if (n == 0 || n >= MAX_PATH * 2)
		return COWLAB_E_NAMETOOLONG;
	slash = wcsrchr(path, L'\\');
	if (slash == NULL)
		return COWLAB_E_NOENT;
	*slash = L'\0';
	utf8 = win32_utf8(path);
	if (utf8 == NULL)
		return COWLAB_E_NOMEM;
	n = (DWORD)snprintf(buf, cap, "%s", utf8);
	free(utf8);
	return n >= cap ? COWLAB_E_NAMETOOLONG : COWLAB_OK;
}

wchar_t *win32_wide(const char *utf8)
{
	int n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0 || (w = malloc((size_t)n * sizeof(wchar_t))) == NULL)
		return NULL;
	MultiByteToWideChar(CP_UTF8, 0, utf8, -1, w, n);
	return w;
}

char *win32_utf8(const wchar_t *wide)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
	char *s;

	if (n <= 0 || (s = malloc((size_t)n)) == NULL)
		return NULL;
	WideCharToMultiByte(CP_UTF8, 0, wide, -1, s, n, NULL, NULL);
	return s;
}

/* The token user's SID of a process (malloc'd), or NULL. */
static TOKEN_USER *token_user(HANDLE process)
{
	HANDLE token;
	DWORD n = 0;
	TOKEN_USER *tu = NULL;

	if (!OpenProcessToken(process, TOKEN_QUERY, &token))
		return NULL;
	GetTokenInformation(token, TokenUser, NULL, 0, &n);
	if (n > 0 && (tu = malloc(n)) != NULL && !GetTokenInformation(token, TokenUser, tu, n, &n)) {
		free(tu);
		tu = NULL;
	}
	CloseHandle(token);
	return tu;
}

PSECURITY_DESCRIPTOR win32_user_only_sd(void)
{
	TOKEN_USER *tu = token_user(GetCurrentProcess());
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t *sid = NULL, sddl[256];

	if (tu == NULL)
		return NULL;
	if (ConvertSidToStringSidW(tu->User.Sid, &sid)) {
		/* Protected DACL: the user alone, full access; nothing inherited. */
		_snwprintf(sddl, sizeof(sddl) / sizeof(sddl[0]), L"D:P(A;;GA;;;%ls)", sid);
		sddl[sizeof(sddl) / sizeof(sddl[0]) - 1] = L'\0';
		if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1,
									  &sd, NULL))
			sd = NULL;
		LocalFree(sid);
	}
	free(tu);
	return sd;
}

bool win32_same_user(HANDLE process)
{
	TOKEN_USER *me = token_user(GetCurrentProcess());
	TOKEN_USER *them = token_user(process);
	bool same = me != NULL && them != NULL && EqualSid(me->User.Sid, them->User.Sid);

	free(me);
	free(them);
	return same;
}

void platform_steady_heap(void)
{
}

void platform_trim_heap(void)
{
}

int platform_utf8_argv(int *argc, char ***argv)
{
	int n = 0;
	wchar_t **wide = CommandLineToArgvW(GetCommandLineW(), &n);
	char **utf8;

	if (wide == NULL)
		return err_from_os();
	utf8 = calloc((size_t)n + 1, sizeof(*utf8));
	for (int i = 0; utf8 != NULL && i < n; i++) {
		if ((utf8[i] = win32_utf8(wide[i])) == NULL) {
			while (i-- > 0)
				free(utf8[i]);
			free(utf8);
			utf8 = NULL;
		}
	}
	LocalFree(wide);
	if (utf8 == NULL)
		return COWLAB_E_NOMEM;
	*argc = n;
	*argv = utf8;
	return COWLAB_OK;
}

int platform_random(void *buf, size_t n)
{
	if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
		return COWLAB_E_IO;
	return COWLAB_OK;
}

int platform_resources(struct platform_resources *r)
{
	PROCESS_MEMORY_COUNTERS pmc = { .cb = sizeof(pmc) };
	DWORD handles = 0;

	/* Wine 8.0's GetProcessHandleCount answers 0: unknown, not zero. */
	r->descriptors = GetProcessHandleCount(GetCurrentProcess(), &handles) && handles > 0 ?
			 (long)handles : -1;
	if (GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc))) {
		r->rss_kib = (long)(pmc.WorkingSetSize / 1024);
		r->peak_rss_kib = (long)(pmc.PeakWorkingSetSize / 1024);
	} else {
		r->rss_kib = r->peak_rss_kib = -1;
	}
	return r->rss_kib >= 0 ? COWLAB_OK : COWLAB_E_IO;
}

long platform_descriptor_limit(void)
{
	return -1; /* handles have no small fixed limit */
}

int platform_memory_room(uint64_t *room, char *how, size_t cap)
{
	/* CreateFileMapping commits the section whole, or fails cleanly */
	(void)room;
	(void)how;
	(void)cap;
	return COWLAB_E_UNSUPPORTED;
}

bool platform_stderr_is_terminal(void)
{
	DWORD mode;

	return GetConsoleMode(GetStdHandle(STD_ERROR_HANDLE), &mode) != 0;
}

bool platform_stdout_is_terminal(void)
{
	DWORD mode;

	return GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}

bool platform_terminal_ansi(int stream)
{
	HANDLE h = GetStdHandle(stream == 1 ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
	DWORD mode;

	if (!GetConsoleMode(h, &mode))
		return false;
	return (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0 ||
	       SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}

static const char *protect_base_name(DWORD p)
{
	switch (p & 0xff) {
	case 0: return "0";
	case PAGE_NOACCESS: return "PAGE_NOACCESS";
	case PAGE_READONLY: return "PAGE_READONLY";
	case PAGE_READWRITE: return "PAGE_READWRITE";
	case PAGE_WRITECOPY: return "PAGE_WRITECOPY";
	case PAGE_EXECUTE: return "PAGE_EXECUTE";
	case PAGE_EXECUTE_READ: return "PAGE_EXECUTE_READ";
	case PAGE_EXECUTE_READWRITE: return "PAGE_EXECUTE_READWRITE";
	case PAGE_EXECUTE_WRITECOPY: return "PAGE_EXECUTE_WRITECOPY";
	default: return "PAGE_?";
	}
}

void win32_protect_name(DWORD p, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s", protect_base_name(p), p & PAGE_GUARD ? "|PAGE_GUARD" : "",
		 p & PAGE_NOCACHE ? "|PAGE_NOCACHE" : "",
		 p & PAGE_WRITECOMBINE ? "|PAGE_WRITECOMBINE" : "");
}

struct platform_thread {
	HANDLE handle;
	void (*fn)(void *);
	void *arg;
};

static DWORD WINAPI thread_main(LPVOID p)
{
	struct platform_thread *t = p;

	t->fn(t->arg);
	return 0;
}

int platform_thread_start(struct platform_thread **out, void (*fn)(void *), void *arg)
{
	struct platform_thread *t = malloc(sizeof(*t));

	if (t == NULL)
		return COWLAB_E_NOMEM;
	t->fn = fn;
	t->arg = arg;
	t->handle = CreateThread(NULL, 0, thread_main, t, 0, NULL);
	if (t->handle == NULL) {
		int err = err_from_os();

		free(t);
		return err;
	}
	*out = t;
	return COWLAB_OK;
}

void platform_thread_join(struct platform_thread *t)
{
	if (t == NULL)
		return;
	WaitForSingleObject(t->handle, INFINITE);
	CloseHandle(t->handle);
	free(t);
}

FILE *platform_fopen(const char *path, const char *mode)
{
	wchar_t *wpath = win32_wide(path), *wmode = win32_wide(mode);
	FILE *f = wpath != NULL && wmode != NULL ? _wfopen(wpath, wmode) : NULL;

	free(wpath);
	free(wmode);
	return f;
}

int platform_list_dir(const char *dir, const char *suffix,
		      void (*fn)(void *ctx, const char *name), void *ctx)
{
	char pattern[1200];
	wchar_t *wpattern;
	WIN32_FIND_DATAW fd;
	HANDLE h;

	snprintf(pattern, sizeof(pattern), "%s\\*%s", dir, suffix);
	if ((wpattern = win32_wide(pattern)) == NULL)
		return COWLAB_E_NOMEM;
	h = FindFirstFileW(wpattern, &fd);
	free(wpattern);
	if (h == INVALID_HANDLE_VALUE)
		return GetLastError() == ERROR_FILE_NOT_FOUND ? COWLAB_OK : err_from_os();
	do {
		char *name = win32_utf8(fd.cFileName);

		if (name != NULL && name[0] != '.')
			fn(ctx, name);
		free(name);
	} while (FindNextFileW(h, &fd));
	FindClose(h);
	return COWLAB_OK;
}
