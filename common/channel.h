/* Whole-message channels between the server and its clients: a message
 * sent is received whole or not at all (SOCK_SEQPACKET on Linux,
 * PIPE_TYPE_MESSAGE named pipes on Windows).
 *
 * The server side is a hub: it listens on a name and delivers events
 * (a new connection, a message, a closed connection) from every peer
 * through one wait call, so that one thread serves every client. */
#ifndef COWLAB_CHANNEL_H
#define COWLAB_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct channel_hub;
struct section;

/* The largest message either side sends or accepts. */
#define CHANNEL_MSG_MAX (64 * 1024)
/* Longest channel name, terminator included. */
#define CHANNEL_NAME_MAX 64

enum channel_event_type {
	CHANNEL_EVENT_TIMEOUT,  /* nothing happened within the timeout, or a
				   signal cut the wait short (POSIX) */
	CHANNEL_EVENT_ACCEPT,   /* a new connection: ev.chan */
	CHANNEL_EVENT_MESSAGE,  /* a whole message (ev.data, ev.len), or
				   ev.err == COWLAB_E_TOOBIG for one over the cap */
	CHANNEL_EVENT_CLOSED,   /* the peer went away (ev.err says how) */
	CHANNEL_EVENT_REFUSED,  /* a connection had to be closed unseen: the
				   server is out of descriptors (no ev.chan) */
};

struct channel_event {
	enum channel_event_type type;
	struct channel *chan;
	const uint8_t *data;   /* valid until the next channel_hub_wait */
	size_t len;
	int err;
};

struct channel_peer {
	long pid;             /* the peer's process id as the OS reports it */
	bool same_user;       /* the peer runs as the server's user */
};

/* A name is 1 to CHANNEL_NAME_MAX-1 characters of [A-Za-z0-9._-], not
 * starting with a dot. */
bool channel_name_valid(const char *name);

/* Listens on `name`. COWLAB_E_EXISTS when a live server has it; a stale
 * endpoint left by a dead server is reclaimed. On failure `why` (wcap
 * bytes) says what failed, naming the path and keeping the OS's words
 * ("" where the error's own text says it all, as for a name in use). */
int channel_hub_listen(struct channel_hub **out, const char *name, char *why, size_t wcap);
/* Closes every connection and removes the endpoint. Accepts NULL. */
void channel_hub_destroy(struct channel_hub *hub);
/* The endpoint's path, for messages to people. */
const char *channel_hub_path(const struct channel_hub *hub);
/* Waits up to timeout_ms (-1: forever) for the next event. Returns 0 with
 * *ev filled, or a negative cowlab_err when the hub itself failed. After a
 * CLOSED event the channel is still valid until channel_close(). */
int channel_hub_wait(struct channel_hub *hub, int timeout_ms,
		     struct channel_event *ev);

/* Where a server of `name` listens, for people: the socket's path (POSIX),
 * the pipe's name (Windows). Returns 0 or a negative cowlab_err. */
int channel_path(const char *name, char *buf, size_t cap);

/* Client side: connects to the server listening on `name`, retrying for up
 * to timeout_ms while it is not there yet. On failure `why` says what
 * failed, as for channel_hub_listen. */
int channel_connect(struct channel **out, const char *name, int timeout_ms, char *why,
		    size_t wcap);
/* Receives one whole message into buf (cap bytes). */
int channel_recv(struct channel *c, void *buf, size_t cap, size_t *len,
		 int timeout_ms);

/* Sends one whole message; with `attach`, hands the section to the peer
 * with it (the peer calls section_open() after receiving it). Never blocks
 * on a hub connection: a peer that does not read gets COWLAB_E_AGAIN. */
int channel_send(struct channel *c, const void *buf, size_t len,
		 const struct section *attach);

/* Sends without the size cap: only for tests that play a hostile peer. */
int channel_send_uncapped(struct channel *c, const void *buf, size_t len);

/* The process at the other end, as the OS reports it: a hub connection's
 * client, or a connected channel's server (SO_PEERCRED; on Windows
 * GetNamedPipeClientProcessId / GetNamedPipeServerProcessId). */
int channel_peer(struct channel *c, struct channel_peer *peer);

/* Per-connection user data for the hub's owner. */
void channel_set_data(struct channel *c, void *data);
void *channel_data(const struct channel *c);

/* Closes and frees a connection (hub-owned or connected). Accepts NULL. */
void channel_close(struct channel *c);

#endif
