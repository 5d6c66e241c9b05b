/* SIGINT, SIGTERM and SIGHUP, caught, and SIGPIPE (the reader of our
 * output went away: `cowlab-server ... | head`), so that the run ends as
 * when asked and leaves no socket behind: the handler only notes the first
 * (a signal handler can reach nothing but a static), without SA_RESTART,
 * so that the hub's epoll_wait returns with EINTR. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
