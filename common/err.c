#include <limits.h>
#include <stdio.h>

#include "err.h"
#include "text.h"

static const char *kind_text(int err)
{
	switch (err) {
	case COWLAB_OK: return "success";
	case COWLAB_E_NOMEM: return "out of memory";
	case COWLAB_E_INVAL: return "invalid argument";
	case COWLAB_E_IO: return "operating system error";
	case COWLAB_E_TIMEOUT: return "timed out";
	case COWLAB_E_CLOSED: return "connection closed by peer";
	case COWLAB_E_TOOBIG: return "message too large";
	case COWLAB_E_EXISTS: return "name already in use";
	case COWLAB_E_NOENT: return "not found";
	case COWLAB_E_ACCESS: return "permission denied";
	case COWLAB_E_UNSUPPORTED: return "not supported on this platform";
	case COWLAB_E_PROTO: return "protocol error";
	case COWLAB_E_AGAIN: return "resource temporarily unavailable";
	case COWLAB_E_NAMETOOLONG: return "name too long";
	}
	return "unknown error";
}

int err_with_os(enum cowlab_err kind, long number)
{
	if (kind >= 0 || number <= 0 || number > INT_MAX / ERR_OS_SCALE - 1)
		return kind;
	return (int)kind - ERR_OS_SCALE * (int)number;
}

struct err_text err_describe(int err)
{
	struct err_text t;
	long os = err_os_number(err);
	char why[160];

	if (os == 0) {
		snprintf(t.text, sizeof(t.text), "%s", kind_text(err_kind(err)));
		return t;
	}
	err_os_text(os, why, sizeof(why));
	snprintf(t.text, sizeof(t.text), "%s (%.80s)", kind_text(err_kind(err)), why);
	text_utf8_trim(t.text);
	return t;
}
