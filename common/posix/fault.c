/* An access that must fault, caught with a SIGSEGV handler and siglongjmp.
 * The handler needs the jump buffer and the fault it saw: that state is
 * per thread and armed only for the duration of one probe. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fault.h"

const char fault_protection_code[] = "SIGSEGV/SEGV_ACCERR";

static _Thread_local sigjmp_buf probe_jmp;
static _Thread_local volatile sig_atomic_t probe_armed;
static _Thread_local volatile uintptr_t probe_addr;
static _Thread_local volatile int probe_signo, probe_code;

static void on_fault(int signo, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!probe_armed) {
		/* Not ours: die of it the ordinary way. */
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	probe_armed = 0;
	probe_addr = (uintptr_t)si->si_addr;
	probe_signo = signo;
	probe_code = si->si_code;
	siglongjmp(probe_jmp, 1);
}

static const char *code_name(int signo, int code)
{
	if (signo == SIGSEGV && code == SEGV_ACCERR)
		return "SIGSEGV/SEGV_ACCERR";
	if (signo == SIGSEGV && code == SEGV_MAPERR)
		return "SIGSEGV/SEGV_MAPERR";
	return signo == SIGSEGV ? "SIGSEGV" : "SIGBUS";
}

int fault_try_access32(volatile uint32_t *addr, uint32_t *value, unsigned flags,
		       struct fault_info *out)
{
	struct sigaction sa, old_segv, old_bus;

	memset(out, 0, sizeof(*out));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv) != 0)
		return err_from_os();
	if (sigaction(SIGBUS, &sa, &old_bus) != 0) {
		sigaction(SIGSEGV, &old_segv, NULL);
		return err_from_os();
	}
	/* The mask need not be saved: with SA_NODEFER nothing is blocked
	 * while the handler runs, so it is the same when it jumps back (two
	 * system calls less a probe). */
	if (sigsetjmp(probe_jmp, 0) == 0) {
		probe_armed = 1;
		if (flags & FAULT_WRITE)
			*addr = *value;
		else
			*value = *addr;
		probe_armed = 0;
	} else {
		out->faulted = true;
		out->address = probe_addr;
		out->os_code = (uint32_t)probe_signo;
		snprintf(out->code, sizeof(out->code), "%s", code_name(probe_signo, probe_code));
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return COWLAB_OK;
}

void fault_os_code_text(const struct fault_info *f, char *buf, size_t cap)
{
	snprintf(buf, cap, "signal %u", (unsigned)f->os_code);
}
