/* cowlab's error codes: one small set of negative values shared by every
 * module and platform. Each backend translates its own error numbers
 * (errno, GetLastError) into these in one place: err_from_os(). */
#ifndef COWLAB_ERR_H
#define COWLAB_ERR_H

#include <stddef.h>

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

/* An error that came from the operating system keeps the OS's own number
 * beside cowlab's kind, so that its text can be said too: the value is
 * kind - ERR_OS_SCALE * number (still negative, still an error). Compare
 * errors by kind, with err_is(), never with ==. */
#define ERR_OS_SCALE 256

static inline int err_kind(int err)
{
	return err >= 0 ? err : -(-err % ERR_OS_SCALE);
}

static inline int err_is(int err, enum cowlab_err kind)
{
	return err_kind(err) == (int)kind;
}

/* The OS's number behind an error (errno, GetLastError()), 0 if none. */
static inline long err_os_number(int err)
{
	return err >= 0 ? 0 : (long)(-err / ERR_OS_SCALE);
}

/* `kind` with the OS's `number` beside it (0: none, or too large). */
int err_with_os(enum cowlab_err kind, long number);

/* The text of an error: cowlab's words, and the OS's own where it came
 * from the OS, e.g. "operating system error (Is a directory, EISDIR)".
 * Returned in a structure, so that the text lives to the end of the
 * expression that asked for it: printf("%s", cowlab_strerror(err)). */
struct err_text {
	char text[120];
};
struct err_text err_describe(int err);
#define cowlab_strerror(err) (err_describe(err).text)

/* The last operating-system error of this thread as a cowlab error, with
 * the OS's number kept (errno on POSIX, GetLastError() on Windows), and
 * the OS's text for such a number. Implemented per platform. */
int err_from_os(void);
void err_os_text(long number, char *buf, size_t cap);

#endif
