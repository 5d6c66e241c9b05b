#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int kind_of(int e)
{
	switch (e) {
	case 0: return COWLAB_OK;
	case ENOMEM: return COWLAB_E_NOMEM;
	case EINVAL: return COWLAB_E_INVAL;
	case ETIMEDOUT: return COWLAB_E_TIMEOUT;
	case EPIPE:
	case ECONNRESET: return COWLAB_E_CLOSED;
	case EMSGSIZE: return COWLAB_E_TOOBIG;
	case EEXIST:
	case EADDRINUSE: return COWLAB_E_EXISTS;
	case ENOENT:
	case ECONNREFUSED: return COWLAB_E_NOENT;
	case EACCES:
	case EPERM: return COWLAB_E_ACCESS;
	case ENOSYS:
	case EOPNOTSUPP: return COWLAB_E_UNSUPPORTED;
	case EAGAIN: return COWLAB_E_AGAIN;
	case ENAMETOOLONG: return COWLAB_E_NAMETOOLONG;
	default: return COWLAB_E_IO;
	}
}

int err_from_os(void)
{
	int e = errno;

	return err_with_os(kind_of(e), e);
}

/* strerror's words and the errno's name: "Is a directory, EISDIR". */
void err_os_text(long number, char *buf, size_t cap)
{
	char text[128];
	const char *words = strerror_r((int)number, text, sizeof(text)); /* GNU */
	const char *name = strerrorname_np((int)number);

	snprintf(buf, cap, "%s, %s", words, name != NULL ? name : "errno");
	if (name == NULL)
		snprintf(buf, cap, "%s, errno %ld", words, number);
}
