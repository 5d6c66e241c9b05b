/* A write that must fault, caught by a vectored exception handler. The
 * handler resumes the thread at a context captured just before the write
 * (RtlCaptureContext), the Win32 counterpart of sigsetjmp/siglongjmp that
 * needs no compiler extension (no __try, no inline assembly). The state
 * the handler reads is per thread and armed only for one probe. */
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include "err.h"
#include "fault.h"

const char fault_protection_code[] = "EXCEPTION_ACCESS_VIOLATION/write";

enum { PROBE_IDLE, PROBE_ARMED, PROBE_FAULTED };

struct probe {
	volatile LONG state;
	volatile uintptr_t addr;
	volatile DWORD code;
	volatile ULONG_PTR access;  /* 0 read, 1 write, 8 execute */
	CONTEXT ctx;
};

/* Reached only through a pointer: mingw-w64's emulated TLS drops the
 * volatile qualifier of a _Thread_local object accessed by name. */
static _Thread_local struct probe probe_tls;

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
	const EXCEPTION_RECORD *er = ep->ExceptionRecord;
	struct probe *p = &probe_tls;

	if (p->state != PROBE_ARMED || er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION)
		return EXCEPTION_CONTINUE_SEARCH;
	p->code = er->ExceptionCode;
	p->addr = er->NumberParameters >= 2 ? (uintptr_t)er->ExceptionInformation[1] : 0;
	p->access = er->NumberParameters >= 1 ? er->ExceptionInformation[0] : (ULONG_PTR)-1;
	p->state = PROBE_FAULTED;
	/* Resume where the context was captured, before the write. */
	*ep->ContextRecord = p->ctx;
	return EXCEPTION_CONTINUE_EXECUTION;
}

int fault_try_write32(volatile uint32_t *addr, uint32_t value, struct fault_info *out)
{
	PVOID handler = AddVectoredExceptionHandler(1, on_exception);
	struct probe *p = &probe_tls;

	memset(out, 0, sizeof(*out));
	if (handler == NULL)
		return err_from_os();
	p->state = PROBE_IDLE;
	RtlCaptureContext(&p->ctx);
	/* Execution comes back here a second time after a fault. */
	if (p->state == PROBE_IDLE) {
		p->state = PROBE_ARMED;
		*addr = value;
	}
	if (p->state == PROBE_FAULTED) {
		out->faulted = true;
		out->address = p->addr;
		snprintf(out->code, sizeof(out->code), "%s",
			 p->code != EXCEPTION_ACCESS_VIOLATION ? "?" :
			 p->access == 1 ? fault_protection_code :
			 p->access == 0 ? "EXCEPTION_ACCESS_VIOLATION/read" :
			 "EXCEPTION_ACCESS_VIOLATION/other");
	}
	p->state = PROBE_IDLE;
	RemoveVectoredExceptionHandler(handler);
	return COWLAB_OK;
}
