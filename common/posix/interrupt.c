/* SIGINT, SIGTERM and SIGHUP, caught, and SIGPIPE (the reader of our
 * output went away: `cowlab-server ... | head`), so that the run ends as
 * when asked and leaves no socket behind: the handler only notes the first
 * (a signal handler can reach nothing but a static), without SA_RESTART,
 * so that the hub's epoll_wait returns with EINTR. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "interrupt.h"

static volatile sig_atomic_t pending;

static void on_signal(int sig)
{
	if (pending == 0)
		pending = sig;
}

int interrupt_catch(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* one ignored when we started (nohup) stays ignored */
		if (sigaction(sigs[i], NULL, &old) != 0)
			return err_from_os();
		if (old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return err_from_os();
	}
	return COWLAB_OK;
}

int interrupt_pending(void)
{
	return pending;
}

const char *interrupt_name(int request)
{
	switch (request) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	case SIGPIPE: return "SIGPIPE";
	}
	return "a signal";
}

_Noreturn void interrupt_exit(int request)
{
	signal(request, SIG_DFL);
	raise(request);
	/* not reached unless the signal is blocked */
	_Exit(128 + request);
}

/* --step: SIGUSR1, noted as the others are (no SA_RESTART: the hub's wait
 * returns at once) */
static volatile sig_atomic_t step_pending;

static void on_step(int sig)
{
	(void)sig;
	step_pending = 1;
}

int step_signal_open(const char *name)
{
	struct sigaction sa;

	(void)name;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_step;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL) == 0 ? COWLAB_OK : err_from_os();
}

void step_signal_close(void)
{
	signal(SIGUSR1, SIG_DFL);
}

bool step_signal_take(void)
{
	bool got = step_pending != 0;

	step_pending = 0;
	return got;
}

bool step_enter_take(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char line[256];

	if (!isatty(STDIN_FILENO) || poll(&pfd, 1, 0) != 1)
		return false;
	/* the terminal gives a line at a time: what was typed, up to Enter */
	return read(STDIN_FILENO, line, sizeof(line)) > 0;
}

int step_signal_send(const char *name, long pid)
{
	(void)name;
	return kill((pid_t)pid, SIGUSR1) == 0 ? COWLAB_OK : err_from_os();
}

void step_signal_how(const char *name, long pid, char *buf, size_t cap)
{
	(void)name;
	snprintf(buf, cap, "kill -USR1 %ld", pid);
}
