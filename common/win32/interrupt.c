/* Ctrl-C, Ctrl-Break and the console closing, caught by a console control
 * handler, which Windows runs on a thread of its own: it notes the first
 * and says it is handled. The server's loop waits in slices and sees it.
 * (Under Wine 8.0 a Linux SIGINT reaches the handler as CTRL_C_EVENT when
 * the process has a console; Ctrl-Break never does, and SIGTERM cannot be
 * caught at all: the job object of process.c ends the clients then.) */
#include <stdlib.h>

#include <windows.h>

#include "err.h"
#include "interrupt.h"

static volatile LONG pending;

static BOOL WINAPI on_control(DWORD event)
{
	switch (event) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
	case CTRL_CLOSE_EVENT:
		InterlockedCompareExchange(&pending, (LONG)event + 1, 0);
		return TRUE;
	}
	return FALSE;
}

int interrupt_catch(void)
{
	return SetConsoleCtrlHandler(on_control, TRUE) ? COWLAB_OK : err_from_os();
}

int interrupt_pending(void)
{
	return (int)InterlockedCompareExchange(&pending, 0, 0);
}

const char *interrupt_name(int request)
{
	switch (request - 1) {
	case CTRL_C_EVENT: return "Ctrl-C";
	case CTRL_BREAK_EVENT: return "Ctrl-Break";
	case CTRL_CLOSE_EVENT: return "the console closing";
	}
	return "a console event";
}

_Noreturn void interrupt_exit(int request)
{
	(void)request;
	ExitProcess((UINT)STATUS_CONTROL_C_EXIT);
	abort(); /* not reached */
}
