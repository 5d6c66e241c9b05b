#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
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

/* A descriptor of the parent's as the child's fd `to`, kept across exec. */
static int child_fd(int fd, int to)
{
	if (fd == to)
		return fcntl(fd, F_SETFD, 0); /* dup2 would keep close-on-exec */
	return dup2(fd, to) < 0 ? -1 : 0;
}

/* The vfork, alone in a frame whose variables nothing changes after it.
 * An exec that fails writes its errno to `report`, close-on-exec: the
 * parent reads 0 bytes when the exec succeeded. (A pipe, not a variable the
 * child shares with the parent: valgrind and ThreadSanitizer turn vfork
 * into fork.) */
static __attribute__((noinline)) pid_t start_child(const char *path, const char *const argv[],
						    int in, int to, int to_err, bool own_group,
						    const sigset_t *old, int report)
{
	pid_t pid = vfork();

	if (pid == 0) {
		static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
		struct sigaction sa;
		int e;

		/* The server's handlers (interrupt.c) would run here, in its
		 * memory, for a signal that came before the exec: the child's
		 * own table goes back to the default first (an ignored signal
		 * stays ignored, as exec keeps it). */
		for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
			if (sigaction(caught[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
			    sa.sa_handler != SIG_DFL) {
				sa.sa_handler = SIG_DFL;
				sigaction(caught[i], &sa, NULL);
			}
		/* A process group of its own: the terminal's Ctrl-C goes to the
		 * server alone, which ends its run and its clients itself,
		 * rather than killing clients under it mid-step. */
		if (own_group)
			setpgid(0, 0);
		if (child_fd(in, STDIN_FILENO) == 0 && (to < 0 || child_fd(to, STDOUT_FILENO) == 0) &&
		    (to_err < 0 || child_fd(to_err, STDERR_FILENO) == 0) &&
		    pthread_sigmask(SIG_SETMASK, old, NULL) == 0)
			execve(path, (char *const *)argv, environ);
		e = errno != 0 ? errno : EINVAL;
		if (write(report, &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(126);
		_exit(127);
	}
	return pid;
}

/* vfork and execve, not posix_spawn: glibc's posix_spawn resets each of the
 * 64 signals in the child before its exec, some 130 system calls, about
 * 50 µs a start on this VM, on the server's longest serial chain (1000
 * starts with --spawn 1000). The child runs in the parent's memory until
 * its exec and makes system calls only; the files it gets are opened by
 * the parent beforehand (close-on-exec, put in place by dup2). Every signal
 * is blocked from before the vfork until the child has restored the mask,
 * right before execve, and the only handlers cowlab installs for an
 * asynchronous signal (the server's, interrupt.c: SIGINT, SIGTERM, SIGHUP)
 * are reset to the default in the child before that (fault.c's are for
 * SIGSEGV and SIGBUS while it probes), so none can run in the child. */
int process_start(struct process **out, const char *path, const char *const argv[],
		  const char *stdout_path)
{
	return process_start_files(out, path, argv, stdout_path, NULL, false);
}

int process_start_files(struct process **out, const char *path, const char *const argv[],
			const char *stdout_path, const char *stderr_path, bool own_group)
{
	struct process *p = calloc(1, sizeof(*p));
	int in = -1, to = -1, to_err = -1, report[2] = { -1, -1 }, err = COWLAB_OK, child_err = 0;
	sigset_t all, old;
	pid_t pid;

	if (p == NULL)
		return COWLAB_E_NOMEM;
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in >= 0 && stdout_path != NULL)
		to = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in >= 0 && stderr_path != NULL)
		to_err = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || (stdout_path != NULL && to < 0) || (stderr_path != NULL && to_err < 0) ||
	    pipe2(report, O_CLOEXEC) != 0) {
		err = err_from_os();
		goto done;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = start_child(path, argv, in, to, to_err, own_group, &old, report[1]);
	if (pid < 0)
		err = err_from_os();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	report[1] = -1;
	if (pid > 0) {
		ssize_t n;

		while ((n = read(report[0], &child_err, sizeof(child_err))) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(child_err)) {
			int status;

			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			errno = child_err;
			err = err_from_os();
		} else {
			p->pid = pid;
		}
	}
done:
	for (int i = 0; i < 2; i++)
		if (report[i] >= 0)
			close(report[i]);
	if (in >= 0)
		close(in);
	if (to >= 0)
		close(to);
	if (to_err >= 0)
		close(to_err);
	if (err != COWLAB_OK) {
		free(p);
		return err;
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

int process_interrupt(struct process *p)
{
	if (!p->reaped && kill(p->pid, SIGTERM) != 0)
		return err_from_os();
	return COWLAB_OK;
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

int process_bind_children(void)
{
	return COWLAB_OK; /* see process.h */
}
