#include <stdio.h>
#include <stdlib.h>

#include <windows.h>

#include "err.h"
#include "internal.h"

static int kind_of(DWORD e)
{
	switch (e) {
	case ERROR_SUCCESS: return COWLAB_OK;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_COMMITMENT_LIMIT: return COWLAB_E_NOMEM;
	case ERROR_INVALID_PARAMETER:
	case ERROR_INVALID_HANDLE: return COWLAB_E_INVAL;
	case WAIT_TIMEOUT:
	case ERROR_SEM_TIMEOUT:
	case ERROR_TIMEOUT: return COWLAB_E_TIMEOUT;
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:
	case ERROR_PIPE_NOT_CONNECTED:
	case ERROR_HANDLE_EOF: return COWLAB_E_CLOSED;
	case ERROR_MORE_DATA: return COWLAB_E_TOOBIG;
	case ERROR_ALREADY_EXISTS:
	case ERROR_FILE_EXISTS: return COWLAB_E_EXISTS;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND: return COWLAB_E_NOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD: return COWLAB_E_ACCESS;
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED: return COWLAB_E_UNSUPPORTED;
	case ERROR_PIPE_BUSY:
	case ERROR_IO_PENDING: return COWLAB_E_AGAIN;
	case ERROR_FILENAME_EXCED_RANGE: return COWLAB_E_NAMETOOLONG;
	default: return COWLAB_E_IO;
	}
}

int err_from_os(void)
{
	DWORD e = GetLastError();

	return err_with_os(kind_of(e), (long)e);
}

/* FormatMessage's words and the number: "Access is denied, Windows error
 * 5" (without the message's closing full stop and line break). */
void err_os_text(long number, char *buf, size_t cap)
{
	wchar_t wide[256];
	DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
				 (DWORD)number, 0, wide, sizeof(wide) / sizeof(wide[0]), NULL);
	char *text;

	while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L'.' ||
			 wide[n - 1] == L' '))
		n--;
	wide[n] = L'\0';
	text = n > 0 ? win32_utf8(wide) : NULL;
	if (text != NULL)
		snprintf(buf, cap, "%s, Windows error %ld", text, number);
	else
		snprintf(buf, cap, "Windows error %ld", number);
	free(text);
}
