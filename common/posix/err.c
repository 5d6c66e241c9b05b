#include <errno.h>

#include "err.h"

int err_from_os(void)
{
	switch (errno) {
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
