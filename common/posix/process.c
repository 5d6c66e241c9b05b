#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "platform.h"
#include "process.h"

extern char **environ;

struct process {
	pid_t pid;
	bool reaped;
	int exit_code;
};

int process_start(struct process **out, const char *path, const char *const argv[],
		  const char *stdout_path)
{
	posix_spawn_file_actions_t fa;
	struct process *p = calloc(1, sizeof(*p));
	int r;

	if (p == NULL)
		return COWLAB_E_NOMEM;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		free(p);
		return COWLAB_E_NOMEM;
	}
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (stdout_path != NULL)
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, stdout_path,
						 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	/* posix_spawn's argv is not const-qualified for historical reasons. */
	r = posix_spawn(&p->pid, path, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		free(p);
		errno = r;
		return err_from_os();
	}
	*out = p;
	return COWLAB_OK;
}

long process_pid(const struct process *p)
{
	return (long)p->pid;
}

static bool try_reap(struct process *p, int flags)
{
	int status;
	pid_t r;

	do
		r = waitpid(p->pid, &status, flags);
	while (r < 0 && errno == EINTR);
	if (r != p->pid)
		return false;
	p->reaped = true;
	p->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) :
		       WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
	return true;
}

int process_wait(struct process *p, int timeout_ms, int *exit_code)
{
	int64_t deadline = platform_now_ms() + timeout_ms;
	int pause = 1;

	while (!p->reaped) {
		if (timeout_ms < 0) {
			if (!try_reap(p, 0))
				return err_from_os();
			break;
		}
		if (try_reap(p, WNOHANG))
			break;
		if (platform_now_ms() >= deadline)
			return COWLAB_E_TIMEOUT;
		platform_sleep_ms(pause);
		pause = pause < 50 ? pause * 2 : 50;
	}
	*exit_code = p->exit_code;
	return COWLAB_OK;
}

void process_kill(struct process *p)
{
	if (!p->reaped)
		kill(p->pid, SIGKILL);
}

void process_destroy(struct process *p)
{
	int code;

	if (p == NULL)
		return;
	if (!p->reaped) {
		process_kill(p);
		process_wait(p, -1, &code);
	}
	free(p);
}

bool process_is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void process_starter_thread_init(void)
{
	/* A failure only costs time: every start then copies them all. */
	(void)unshare(CLONE_FILES);
}
