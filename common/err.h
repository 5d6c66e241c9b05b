/* cowlab's error codes: one small set of negative values shared by every
 * module and platform. Each backend translates its own error numbers
 * (errno, GetLastError) into these in one place: err_from_os(). */
#ifndef COWLAB_ERR_H
#define COWLAB_ERR_H

enum cowlab_err {
	COWLAB_OK = 0,
	COWLAB_E_NOMEM = -1,       /* out of memory */
	COWLAB_E_INVAL = -2,       /* invalid argument or value */
	COWLAB_E_IO = -3,          /* an operating system call failed */
	COWLAB_E_TIMEOUT = -4,     /* nothing arrived in time */
	COWLAB_E_CLOSED = -5,      /* the peer closed the connection */
	COWLAB_E_TOOBIG = -6,      /* a message over the size cap */
	COWLAB_E_EXISTS = -7,      /* a name is already in use */
	COWLAB_E_NOENT = -8,       /* no such name, file or server */
	COWLAB_E_ACCESS = -9,      /* permission denied */
	COWLAB_E_UNSUPPORTED = -10,/* this platform cannot do it */
	COWLAB_E_PROTO = -11,      /* a malformed or unexpected message */
	COWLAB_E_AGAIN = -12,      /* would block; try later */
	COWLAB_E_NAMETOOLONG = -13,/* a path or name is too long */
};

/* A short text for an error code; never NULL. */
const char *cowlab_strerror(int err);

/* The last operating-system error of this thread as a cowlab_err
 * (errno on POSIX, GetLastError() on Windows). Implemented per platform. */
int err_from_os(void);

#endif
