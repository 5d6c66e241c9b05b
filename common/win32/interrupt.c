/* Ctrl-C, Ctrl-Break and the console closing, caught by a console control
 * handler, which Windows runs on a thread of its own: it notes the first
 * and says it is handled. The server's loop waits in slices and sees it.
 * (Under Wine 8.0 a Linux SIGINT reaches the handler as CTRL_C_EVENT when
 * the process has a console; Ctrl-Break never does, and SIGTERM cannot be
 * caught at all: the job object of process.c ends the clients then.) */
#include <stdio.h>
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

/* --step: a named auto-reset event, "Local\\cowlab-step-NAME" */
static HANDLE step_event;

static void step_event_name(const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "Local\\cowlab-step-%s", name);
}

int step_signal_open(const char *name)
{
	char ev[128];

	step_event_name(name, ev, sizeof(ev));
	step_event = CreateEventA(NULL, FALSE, FALSE, ev);
	return step_event != NULL ? COWLAB_OK : err_from_os();
}

void step_signal_close(void)
{
	if (step_event != NULL)
		CloseHandle(step_event);
	step_event = NULL;
}

bool step_signal_take(void)
{
	return step_event != NULL && WaitForSingleObject(step_event, 0) == WAIT_OBJECT_0;
}

bool step_enter_take(void)
{
	HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
	DWORD mode, n = 0;
	INPUT_RECORD rec[16];
	bool enter = false;

	/* a console only: a pipe or a file on stdin is not somebody typing */
	if (in == NULL || in == INVALID_HANDLE_VALUE || !GetConsoleMode(in, &mode))
		return false;
	while (GetNumberOfConsoleInputEvents(in, &n) && n > 0 &&
	       ReadConsoleInputW(in, rec, n < 16 ? n : 16, &n) && n > 0)
		for (DWORD i = 0; i < n; i++)
			enter |= rec[i].EventType == KEY_EVENT && rec[i].Event.KeyEvent.bKeyDown &&
				 rec[i].Event.KeyEvent.wVirtualKeyCode == VK_RETURN;
	return enter;
}

int step_signal_send(const char *name, long pid)
{
	char ev[128];
	HANDLE h;
	BOOL ok;

	(void)pid;
	step_event_name(name, ev, sizeof(ev));
	h = OpenEventA(EVENT_MODIFY_STATE, FALSE, ev);
	if (h == NULL)
		return err_from_os();
	ok = SetEvent(h);
	CloseHandle(h);
	return ok ? COWLAB_OK : err_from_os();
}

void step_signal_how(const char *name, long pid, char *buf, size_t cap)
{
	char ev[128];

	(void)pid;
	step_event_name(name, ev, sizeof(ev));
	snprintf(buf, cap, "SetEvent on the event \"%s\"", ev);
}
