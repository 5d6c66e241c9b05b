/* An access that must fault, caught by a vectored exception handler. The
 * handler resumes the thread at a context captured just before the access
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
	volatile LONG catch_guard;
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

	if (p->state != PROBE_ARMED)
		return EXCEPTION_CONTINUE_SEARCH;
	if (er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION &&
	    !(p->catch_guard && er->ExceptionCode == STATUS_GUARD_PAGE_VIOLATION))
		return EXCEPTION_CONTINUE_SEARCH;
	p->code = er->ExceptionCode;
	p->addr = er->NumberParameters >= 2 ? (uintptr_t)er->ExceptionInformation[1] : 0;
	p->access = er->NumberParameters >= 1 ? er->ExceptionInformation[0] : (ULONG_PTR)-1;
	p->state = PROBE_FAULTED;
	/* Resume where the context was captured, before the access. */
	*ep->ContextRecord = p->ctx;
	return EXCEPTION_CONTINUE_EXECUTION;
}

static void name_fault(const struct probe *p, struct fault_info *out)
{
	const char *kind = p->code == EXCEPTION_ACCESS_VIOLATION ? "EXCEPTION_ACCESS_VIOLATION" :
			   "STATUS_GUARD_PAGE_VIOLATION";
	const char *access = p->access == 1 ? "write" : p->access == 0 ? "read" : "other";

	/* an access violation on a write is fault_protection_code */
	snprintf(out->code, sizeof(out->code), "%s/%s", kind, access);
}

int fault_try_access32(volatile uint32_t *addr, uint32_t *value, unsigned flags,
		       struct fault_info *out)
{
	PVOID handler = AddVectoredExceptionHandler(1, on_exception);
	struct probe *p = &probe_tls;

	memset(out, 0, sizeof(*out));
	if (handler == NULL)
		return err_from_os();
	p->state = PROBE_IDLE;
	p->catch_guard = (flags & FAULT_CATCH_GUARD) != 0;
	RtlCaptureContext(&p->ctx);
	/* Execution comes back here a second time after a fault. */
	if (p->state == PROBE_IDLE) {
		p->state = PROBE_ARMED;
		if (flags & FAULT_WRITE)
			*addr = *value;
		else
			*value = *addr;
	}
	if (p->state == PROBE_FAULTED) {
		out->faulted = true;
		out->address = p->addr;
		out->os_code = (uint32_t)p->code;
		name_fault(p, out);
	}
	p->state = PROBE_IDLE;
	p->catch_guard = 0;
	RemoveVectoredExceptionHandler(handler);
	return COWLAB_OK;
}

void fault_os_code_text(const struct fault_info *f, char *buf, size_t cap)
{
	snprintf(buf, cap, "0x%08X", (unsigned)f->os_code);
}
