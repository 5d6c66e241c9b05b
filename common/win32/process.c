/* Client processes with CreateProcessW. The command line is built with the
 * quoting rules of CommandLineToArgvW and the C runtime, so every argument
 * arrives exactly as given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "err.h"
#include "internal.h"
#include "process.h"

/* process_bind_children's job object, once made: every process started
 * afterwards goes in it. Written once, before any start. */
static HANDLE children_job;

struct process {
	HANDLE h;
	DWORD pid;
	bool ended;
	int exit_code;
};

/* Appends one argument, quoted when needed: backslashes are literal except
 * before a quote, where they are doubled, and the quote is escaped. */
static size_t quote_arg(wchar_t *out, const wchar_t *arg)
{
	size_t n = 0;

	if (*arg != L'\0' && wcspbrk(arg, L" \t\n\v\"") == NULL) {
		if (out)
			wcscpy(out, arg);
		return wcslen(arg);
	}
	if (out)
		out[n] = L'"';
	n++;
	for (const wchar_t *p = arg;; p++) {
		size_t slashes = 0;

		while (*p == L'\\') {
			p++;
			slashes++;
		}
		if (*p == L'\0' || *p == L'"') {
			/* double them: before the closing quote or an escaped one */
			size_t k = slashes * 2 + (*p == L'"');
			for (size_t i = 0; i < k; i++, n++)
				if (out)
					out[n] = L'\\';
			if (*p == L'\0')
				break;
		} else {
			for (size_t i = 0; i < slashes; i++, n++)
				if (out)
					out[n] = L'\\';
		}
		if (out)
			out[n] = *p;
		n++;
	}
	if (out)
		out[n] = L'"';
	return n + 1;
}

static wchar_t *command_line(const char *const argv[])
{
	size_t len = 1, at = 0;
	wchar_t *cmd, **wide;
	int n = 0;

	while (argv[n] != NULL)
		n++;
	wide = calloc((size_t)n + 1, sizeof(*wide));
	if (wide == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		if ((wide[i] = win32_wide(argv[i])) == NULL)
			goto error;
		len += quote_arg(NULL, wide[i]) + 1;
	}
	cmd = malloc(len * sizeof(wchar_t));
	if (cmd == NULL)
		goto error;
	for (int i = 0; i < n; i++) {
		if (i > 0)
			cmd[at++] = L' ';
		at += quote_arg(cmd + at, wide[i]);
	}
	cmd[at] = L'\0';
	for (int i = 0; i < n; i++)
		free(wide[i]);
	free(wide);
	return cmd;
error:
	for (int i = 0; i < n; i++)
		free(wide[i]);
	free(wide);
	return NULL;
}

static HANDLE inheritable(const wchar_t *path, DWORD access, DWORD disposition)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };

	return CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, disposition,
			   FILE_ATTRIBUTE_NORMAL, NULL);
}

/* The attribute list that puts a new process in children_job as it is
 * made, not after: a process killed while it starts another (CreateProcess
 * takes a while under Wine) must leave nothing outside the job. NULL when
 * there is no job, or the system cannot (then the process is put in the
 * job right after it is made). */
static PPROC_THREAD_ATTRIBUTE_LIST job_attributes(void)
{
	PPROC_THREAD_ATTRIBUTE_LIST list;
	SIZE_T size = 0;

	if (children_job == NULL)
		return NULL;
	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	if ((list = malloc(size)) == NULL)
		return NULL;
	if (!InitializeProcThreadAttributeList(list, 1, 0, &size)) {
		free(list);
		return NULL;
	}
	if (!UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_JOB_LIST, &children_job,
				       sizeof(children_job), NULL, NULL)) {
		DeleteProcThreadAttributeList(list);
		free(list);
		return NULL;
	}
	return list;
}

int process_start(struct process **out, const char *path, const char *const argv[],
		  const char *stdout_path)
{
	return process_start_files(out, path, argv, stdout_path, NULL, false);
}

int process_start_files(struct process **out, const char *path, const char *const argv[],
			const char *stdout_path, const char *stderr_path, bool own_group)
{
	STARTUPINFOEXW six = { .StartupInfo = { .cb = sizeof(six),
						.dwFlags = STARTF_USESTDHANDLES } };
	STARTUPINFOW *si = &six.StartupInfo;
	PROCESS_INFORMATION pi;
	wchar_t *wpath = win32_wide(path), *cmd = command_line(argv), *wout = NULL, *werr = NULL;
	struct process *p = calloc(1, sizeof(*p));
	int err = COWLAB_E_NOMEM;

	if (wpath == NULL || cmd == NULL || p == NULL)
		goto done;
	si->hStdInput = inheritable(L"NUL", GENERIC_READ, OPEN_EXISTING);
	si->hStdError = GetStdHandle(STD_ERROR_HANDLE);
	si->hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
	if (stdout_path != NULL) {
		if ((wout = win32_wide(stdout_path)) == NULL)
			goto done;
		si->hStdOutput = inheritable(wout, GENERIC_WRITE, CREATE_ALWAYS);
		if (si->hStdOutput == INVALID_HANDLE_VALUE) {
			err = err_from_os();
			goto done;
		}
	}
	if (stderr_path != NULL) {
		if ((werr = win32_wide(stderr_path)) == NULL)
			goto done;
		si->hStdError = inheritable(werr, GENERIC_WRITE, CREATE_ALWAYS);
		if (si->hStdError == INVALID_HANDLE_VALUE) {
			err = err_from_os();
			goto done;
		}
	}
	/* Under load Wine 8.0 now and then fails a start with
	 * ERROR_INTERNAL_ERROR (1359) that succeeds when tried again. */
	BOOL started = FALSE;
	six.lpAttributeList = job_attributes();
	for (int attempt = 0; attempt < 5 && !started; attempt++) {
		started = CreateProcessW(wpath, cmd, NULL, NULL, TRUE,
					 (six.lpAttributeList != NULL ? EXTENDED_STARTUPINFO_PRESENT : 0) |
					 (own_group ? CREATE_NEW_PROCESS_GROUP : 0), NULL, NULL, si, &pi);
		if (!started && GetLastError() != ERROR_INTERNAL_ERROR &&
		    GetLastError() != ERROR_NO_SYSTEM_RESOURCES)
			break;
		if (!started)
			Sleep(50);
	}
	if (!started) {
		DWORD e = GetLastError();

		/* cowlab's codes are coarse: keep Windows's own number in sight */
		fprintf(stderr, "cowlab: CreateProcessW(%s) failed: Windows error %lu\n", path, e);
		err = err_from_os();
		goto done;
	}
	/* Made in the job; where the system could not do that, put there
	 * now (a process that cannot be put there runs unbound, said). */
	if (children_job != NULL && six.lpAttributeList == NULL &&
	    !AssignProcessToJobObject(children_job, pi.hProcess))
		fprintf(stderr, "cowlab: process %lu is not bound to this one (Windows error %lu)\n",
			pi.dwProcessId, GetLastError());
	CloseHandle(pi.hThread);
	p->h = pi.hProcess;
	p->pid = pi.dwProcessId;
	*out = p;
	p = NULL;
	err = COWLAB_OK;
done:
	if (si->hStdInput != NULL && si->hStdInput != INVALID_HANDLE_VALUE)
		CloseHandle(si->hStdInput);
	if (stdout_path != NULL && si->hStdOutput != NULL && si->hStdOutput != INVALID_HANDLE_VALUE)
		CloseHandle(si->hStdOutput);
	if (stderr_path != NULL && si->hStdError != NULL && si->hStdError != INVALID_HANDLE_VALUE)
		CloseHandle(si->hStdError);
	if (six.lpAttributeList != NULL) {
		DeleteProcThreadAttributeList(six.lpAttributeList);
		free(six.lpAttributeList);
	}
	free(p);
	free(wpath);
	free(cmd);
	free(wout);
	free(werr);
	return err;
}

long process_pid(const struct process *p)
{
	return (long)p->pid;
}

int process_wait(struct process *p, int timeout_ms, int *exit_code)
{
	DWORD code;

	if (!p->ended) {
		DWORD r = WaitForSingleObject(p->h, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);

		if (r == WAIT_TIMEOUT)
			return COWLAB_E_TIMEOUT;
		if (r != WAIT_OBJECT_0 || !GetExitCodeProcess(p->h, &code))
			return err_from_os();
		p->ended = true;
		p->exit_code = (int)code;
	}
	*exit_code = p->exit_code;
	return COWLAB_OK;
}

void process_kill(struct process *p)
{
	/* 128 + SIGKILL, as a shell on Linux would report a killed process */
	if (!p->ended)
		TerminateProcess(p->h, 137);
}

int process_interrupt(struct process *p)
{
	(void)p;
	return COWLAB_E_UNSUPPORTED;
}

void process_destroy(struct process *p)
{
	int code;

	if (p == NULL)
		return;
	if (!p->ended) {
		process_kill(p);
		process_wait(p, -1, &code);
	}
	CloseHandle(p->h);
	free(p);
}

bool process_is_executable(const char *path)
{
	wchar_t *w = win32_wide(path);
	DWORD attr = w != NULL ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;

	free(w);
	return attr != INVALID_FILE_ATTRIBUTES && !(attr & FILE_ATTRIBUTE_DIRECTORY);
}

void process_starter_thread_init(void)
{
	/* Nothing: CreateProcessW passes only inheritable handles, and the
	 * server's pipes are not. */
}

int process_bind_children(void)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
	HANDLE job;

	if (children_job != NULL)
		return COWLAB_OK;
	if ((job = CreateJobObjectW(NULL, NULL)) == NULL)
		return err_from_os();
	memset(&info, 0, sizeof(info));
	info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &info,
				     sizeof(info))) {
		int err = err_from_os();

		CloseHandle(job);
		return err;
	}
	/* never closed: it goes with the process, and its clients with it */
	children_job = job;
	return COWLAB_OK;
}
