#include "err.h"

const char *cowlab_strerror(int err)
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
