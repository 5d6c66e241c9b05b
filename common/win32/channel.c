/* Channels over named pipes in message mode (PIPE_TYPE_MESSAGE,
 * PIPE_READMODE_MESSAGE): a message arrives whole, and one over the cap is
 * read to its end (ERROR_MORE_DATA) and reported, leaving the next one
 * whole. The hub serves every instance from one I/O completion port: one
 * instance waits in ConnectNamedPipe, each connection has one read pending.
 * Pipes are local only (PIPE_REJECT_REMOTE_CLIENTS), carry a DACL for the
 * current user alone, and the first instance refuses a name that exists
 * (FILE_FLAG_FIRST_PIPE_INSTANCE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "channel.h"
#include "err.h"
#include "internal.h"
#include "platform.h"

#define PIPE_PREFIX "\\\\.\\pipe\\cowlab-"
#define SEND_TIMEOUT_MS 5000

struct channel {
	HANDLE pipe;
	HANDLE event;              /* for sends, and a client's reads */
	struct channel_hub *hub;   /* NULL for a connected (client) channel */
	struct channel *prev, *next;
	OVERLAPPED ov_read;        /* hub: the read pending on it */
	OVERLAPPED ov_connect;     /* hub: ConnectNamedPipe while listening */
	bool reading;              /* a completion for ov_read is still to come */
	bool discarding;           /* reading the rest of an oversize message */
	DWORD read_error;          /* a read that failed at once */
	bool closing;              /* closed; freed when its read completes */
	uint8_t *buf;
	void *data;
};

struct channel_hub {
	HANDLE iocp;
	wchar_t *wpath;
	char path[CHANNEL_NAME_MAX + 32];
	PSECURITY_DESCRIPTOR sd;
	HANDLE owner;              /* the named mutex that says the name is ours */
	struct channel *listener;
	struct channel *conns;
	struct channel *zombies;
	struct channel *rearm;     /* delivered a message: read again next wait */
};

static void list_add(struct channel **head, struct channel *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

static void list_del(struct channel **head, struct channel *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (*head == c)
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static struct channel *channel_new(HANDLE pipe, struct channel_hub *hub)
{
	struct channel *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->pipe = pipe;
	c->hub = hub;
	c->event = CreateEventW(NULL, TRUE, FALSE, NULL);
	c->buf = malloc(CHANNEL_MSG_MAX);
	if (c->event == NULL || c->buf == NULL) {
		if (c->event != NULL)
			CloseHandle(c->event);
		free(c->buf);
		free(c);
		return NULL;
	}
	return c;
}

static void channel_free(struct channel *c)
{
	CloseHandle(c->event);
	free(c->buf);
	free(c);
}

/* ---- the hub ---- */

static int new_instance(struct channel_hub *hub, bool first)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), hub->sd, FALSE };
	DWORD open = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
		     (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
	DWORD mode = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
		     PIPE_REJECT_REMOTE_CLIENTS;
	HANDLE pipe = CreateNamedPipeW(hub->wpath, open, mode, PIPE_UNLIMITED_INSTANCES,
				       CHANNEL_MSG_MAX, CHANNEL_MSG_MAX, 0, &sa);
	struct channel *c;
	int err;

	if (pipe == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		/* the first instance of a name that exists: another server's */
		if (first && (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY))
			return COWLAB_E_EXISTS;
		return err_from_os();
	}
	c = channel_new(pipe, hub);
	if (c == NULL) {
		CloseHandle(pipe);
		return COWLAB_E_NOMEM;
	}
	if (CreateIoCompletionPort(pipe, hub->iocp, (ULONG_PTR)c, 0) == NULL)
		goto error_os;
	hub->listener = c;
	if (!ConnectNamedPipe(pipe, &c->ov_connect)) {
		DWORD e = GetLastError();

		/* Connected between CreateNamedPipe and here: no packet comes. */
		if (e == ERROR_PIPE_CONNECTED)
			PostQueuedCompletionStatus(hub->iocp, 0, (ULONG_PTR)c, &c->ov_connect);
		else if (e != ERROR_IO_PENDING)
			goto error_os;
	}
	return COWLAB_OK;
error_os:
	err = err_from_os();
	hub->listener = NULL;
	CloseHandle(pipe);
	channel_free(c);
	return err;
}

/* Owns the name for the hub's life with a named mutex (same DACL): a
 * second server finds it and refuses. FILE_FLAG_FIRST_PIPE_INSTANCE says
 * the same on Windows, but Wine 8.0 lets a second first instance through;
 * the mutex also goes away with a server that dies, so nothing is stale. */
static int claim_name(struct channel_hub *hub, const char *name)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), hub->sd, FALSE };
	char mutex[CHANNEL_NAME_MAX + 32];
	wchar_t *wname;
	DWORD e;

	snprintf(mutex, sizeof(mutex), "Local\\cowlab-pipe-%s", name);
	if ((wname = win32_wide(mutex)) == NULL)
		return COWLAB_E_NOMEM;
	hub->owner = CreateMutexW(&sa, FALSE, wname);
	e = GetLastError();
	free(wname);
	if (hub->owner == NULL)
		return e == ERROR_ACCESS_DENIED ? COWLAB_E_EXISTS : err_from_os();
	if (e == ERROR_ALREADY_EXISTS) {
		CloseHandle(hub->owner);
		hub->owner = NULL;
		return COWLAB_E_EXISTS;
	}
	return COWLAB_OK;
}

int channel_hub_listen(struct channel_hub **out, const char *name, char *why, size_t wcap)
{
	struct channel_hub *hub;
	int err;

	why[0] = '\0';
	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	hub = calloc(1, sizeof(*hub));
	if (hub == NULL)
		return COWLAB_E_NOMEM;
	snprintf(hub->path, sizeof(hub->path), PIPE_PREFIX "%s", name);
	hub->wpath = win32_wide(hub->path);
	hub->sd = win32_user_only_sd();
	hub->iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
	if (hub->wpath == NULL || hub->sd == NULL || hub->iocp == NULL) {
		err = hub->iocp == NULL ? err_from_os() : COWLAB_E_NOMEM;
		channel_hub_destroy(hub);
		return err;
	}
	err = claim_name(hub, name);
	if (err == 0 && (err = new_instance(hub, true)) != 0)
		snprintf(why, wcap, "cannot create the pipe %s: %s", hub->path,
			 cowlab_strerror(err));
	if (err != 0) {
		channel_hub_destroy(hub);
		return err;
	}
	*out = hub;
	return COWLAB_OK;
}

/* Starts the one read a connection has pending. */
static void start_read(struct channel *c)
{
	memset(&c->ov_read, 0, sizeof(c->ov_read));
	c->reading = true;
	if (!ReadFile(c->pipe, c->buf, CHANNEL_MSG_MAX, NULL, &c->ov_read)) {
		DWORD e = GetLastError();

		/* pending, or an oversize message: its packet comes */
		if (e == ERROR_IO_PENDING || e == ERROR_MORE_DATA)
			return;
		/* failed at once: no packet; make one */
		c->read_error = e;
		PostQueuedCompletionStatus(c->hub->iocp, 0, (ULONG_PTR)c, &c->ov_read);
	}
}

static void on_connect(struct channel_hub *hub, struct channel *c, BOOL ok,
		       struct channel_event *ev)
{
	DWORD e = ok ? ERROR_SUCCESS : GetLastError();

	hub->listener = NULL;
	/* Keep one instance listening; if that fails now, the next wait
	 * tries again (channel_hub_wait). */
	new_instance(hub, false);
	if (e != ERROR_SUCCESS && e != ERROR_PIPE_CONNECTED) {
		CloseHandle(c->pipe);
		channel_free(c);
		return;
	}
	list_add(&hub->conns, c);
	start_read(c);
	ev->type = CHANNEL_EVENT_ACCEPT;
	ev->chan = c;
}

static void on_read(struct channel_hub *hub, struct channel *c, BOOL ok, DWORD bytes,
		    struct channel_event *ev)
{
	DWORD e = c->read_error ? c->read_error : ok ? ERROR_SUCCESS : GetLastError();

	c->reading = false;
	c->read_error = 0;
	if (c->closing) {
		list_del(&hub->zombies, c);
		channel_free(c);
		return;
	}
	if (e == ERROR_MORE_DATA) {
		/* Over the cap: read the rest away, then report it. */
		c->discarding = true;
		start_read(c);
		return;
	}
	ev->chan = c;
	if (e != ERROR_SUCCESS) {
		ev->type = CHANNEL_EVENT_CLOSED;
		SetLastError(e);
		ev->err = err_from_os();
		return;
	}
	ev->type = CHANNEL_EVENT_MESSAGE;
	ev->data = c->buf;
	ev->len = bytes;
	if (c->discarding) {
		c->discarding = false;
		ev->err = COWLAB_E_TOOBIG;
		ev->data = NULL;
	}
	hub->rearm = c;
}

int channel_hub_wait(struct channel_hub *hub, int timeout_ms, struct channel_event *ev)
{
	int64_t deadline = timeout_ms < 0 ? -1 : platform_now_ms() + timeout_ms;

	if (hub->rearm != NULL) {
		start_read(hub->rearm);
		hub->rearm = NULL;
	}
	if (hub->listener == NULL && new_instance(hub, false) != 0)
		fprintf(stderr, "cowlab: cannot create a pipe instance: new clients wait\n");
	for (;;) {
		DWORD bytes = 0, wait = INFINITE;
		ULONG_PTR key = 0;
		OVERLAPPED *ov = NULL;
		BOOL ok;

		memset(ev, 0, sizeof(*ev));
		if (deadline >= 0) {
			int64_t left = deadline - platform_now_ms();
			wait = left > 0 ? (DWORD)left : 0;
		}
		ok = GetQueuedCompletionStatus(hub->iocp, &bytes, &key, &ov, wait);
		if (ov == NULL) {
			if (GetLastError() == WAIT_TIMEOUT) {
				ev->type = CHANNEL_EVENT_TIMEOUT;
				return COWLAB_OK;
			}
			return err_from_os();
		}
		struct channel *c = (struct channel *)key;
		if (ov == &c->ov_connect)
			on_connect(hub, c, ok, ev);
		else
			on_read(hub, c, ok, bytes, ev);
		if (ev->type != CHANNEL_EVENT_TIMEOUT)
			return COWLAB_OK;
	}
}

void channel_hub_destroy(struct channel_hub *hub)
{
	if (hub == NULL)
		return;
	while (hub->conns != NULL)
		channel_close(hub->conns);
	if (hub->listener != NULL) {
		CancelIoEx(hub->listener->pipe, NULL);
		CloseHandle(hub->listener->pipe);
		hub->listener->closing = true;
		list_add(&hub->zombies, hub->listener);
		hub->listener->reading = true; /* its connect completes as cancelled */
		hub->listener = NULL;
	}
	/* Wait for the cancelled operations before freeing their buffers, for
	 * 5 s at most (what is left then is a leak at exit, never a use). */
	for (int64_t until = platform_now_ms() + 5000;
	     hub->zombies != NULL && platform_now_ms() < until;) {
		DWORD bytes;
		ULONG_PTR key;
		OVERLAPPED *ov = NULL;

		GetQueuedCompletionStatus(hub->iocp, &bytes, &key, &ov, 50);
		if (ov != NULL && ((struct channel *)key)->closing) {
			list_del(&hub->zombies, (struct channel *)key);
			channel_free((struct channel *)key);
		}
	}
	if (hub->iocp != NULL)
		CloseHandle(hub->iocp);
	if (hub->owner != NULL)
		CloseHandle(hub->owner);
	if (hub->sd != NULL)
		LocalFree(hub->sd);
	free(hub->wpath);
	free(hub);
}

const char *channel_hub_path(const struct channel_hub *hub)
{
	return hub->path;
}

/* ---- either side ---- */

/* Waits for an overlapped operation on c->event; cancels it on timeout. */
static int finish_io(struct channel *c, OVERLAPPED *ov, BOOL started, int timeout_ms,
		     DWORD *bytes)
{
	DWORD e = started ? ERROR_SUCCESS : GetLastError();

	if (!started && e != ERROR_IO_PENDING)
		goto done;
	if (!started && WaitForSingleObject(c->event, timeout_ms < 0 ? INFINITE :
					    (DWORD)timeout_ms) == WAIT_TIMEOUT) {
		CancelIoEx(c->pipe, ov);
		GetOverlappedResult(c->pipe, ov, bytes, TRUE);
		return COWLAB_E_TIMEOUT;
	}
	e = GetOverlappedResult(c->pipe, ov, bytes, TRUE) ? ERROR_SUCCESS : GetLastError();
done:
	if (e == ERROR_SUCCESS)
		return COWLAB_OK;
	SetLastError(e);
	return err_from_os();
}

/* An OVERLAPPED whose completion is not queued to a completion port
 * (the low bit of hEvent set). */
static void quiet_overlapped(struct channel *c, OVERLAPPED *ov)
{
	memset(ov, 0, sizeof(*ov));
	ResetEvent(c->event);
	ov->hEvent = (HANDLE)((uintptr_t)c->event | 1);
}

static int send_bytes(struct channel *c, const void *buf, size_t len)
{
	OVERLAPPED ov;
	DWORD done = 0;
	int err;

	quiet_overlapped(c, &ov);
	err = finish_io(c, &ov, WriteFile(c->pipe, buf, (DWORD)len, NULL, &ov),
			SEND_TIMEOUT_MS, &done);
	if (err_is(err, COWLAB_E_TIMEOUT))
		return COWLAB_E_AGAIN; /* the peer does not read */
	if (err == 0 && done != len)
		return COWLAB_E_IO;
	return err;
}

int channel_send(struct channel *c, const void *buf, size_t len, const struct section *attach)
{
	(void)attach; /* clients open the section by name: docs/design.md */
	if (len > CHANNEL_MSG_MAX)
		return COWLAB_E_TOOBIG;
	return send_bytes(c, buf, len);
}

int channel_send_uncapped(struct channel *c, const void *buf, size_t len)
{
	return send_bytes(c, buf, len);
}

int channel_path(const char *name, char *buf, size_t cap)
{
	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	snprintf(buf, cap, PIPE_PREFIX "%s", name);
	return COWLAB_OK;
}

int channel_connect(struct channel **out, const char *name, int timeout_ms, char *why,
		    size_t wcap)
{
	int64_t deadline = platform_now_ms() + timeout_ms;
	char path[CHANNEL_NAME_MAX + 32];
	DWORD mode = PIPE_READMODE_MESSAGE;
	wchar_t *wpath;
	HANDLE pipe;

	why[0] = '\0';
	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	snprintf(path, sizeof(path), PIPE_PREFIX "%s", name);
	if ((wpath = win32_wide(path)) == NULL)
		return COWLAB_E_NOMEM;
	for (;;) {
		/* SECURITY_IDENTIFICATION: the server may identify us, never act as us. */
		pipe = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
				   FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
				   SECURITY_IDENTIFICATION, NULL);
		if (pipe != INVALID_HANDLE_VALUE)
			break;
		DWORD e = GetLastError();
		int64_t left = deadline - platform_now_ms();
		if ((e != ERROR_FILE_NOT_FOUND && e != ERROR_PIPE_BUSY) || left <= 0) {
			int err;

			free(wpath);
			SetLastError(e);
			err = err_from_os();
			snprintf(why, wcap, "cannot open the pipe %s: %s", path, cowlab_strerror(err));
			return err;
		}
		if (e == ERROR_PIPE_BUSY)
			WaitNamedPipeW(wpath, left < 1000 ? (DWORD)left : 1000);
		else
			platform_sleep_ms(20);
	}
	free(wpath);
	if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL) ||
	    (*out = channel_new(pipe, NULL)) == NULL) {
		int err = err_from_os();
		CloseHandle(pipe);
		return err ? err : COWLAB_E_NOMEM;
	}
	return COWLAB_OK;
}

int channel_recv(struct channel *c, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	OVERLAPPED ov;
	DWORD got = 0;
	int err;

	quiet_overlapped(c, &ov);
	err = finish_io(c, &ov, ReadFile(c->pipe, buf, (DWORD)cap, NULL, &ov), timeout_ms, &got);
	if (err_is(err, COWLAB_E_TOOBIG)) {
		/* Read the rest of the oversize message away. */
		do {
			quiet_overlapped(c, &ov);
			err = finish_io(c, &ov, ReadFile(c->pipe, c->buf, CHANNEL_MSG_MAX, NULL, &ov),
					timeout_ms, &got);
		} while (err_is(err, COWLAB_E_TOOBIG));
		return err == 0 ? COWLAB_E_TOOBIG : err;
	}
	if (err != 0)
		return err;
	*len = got;
	return COWLAB_OK;
}

int channel_peer(struct channel *c, struct channel_peer *peer)
{
	ULONG pid = 0;
	HANDLE proc;

	/* a connected (client) channel's peer is the server */
	if (!(c->hub != NULL ? GetNamedPipeClientProcessId(c->pipe, &pid) :
			       GetNamedPipeServerProcessId(c->pipe, &pid)))
		return err_from_os();
	peer->pid = (long)pid;
	proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	if (proc == NULL) {
		/* The pipe's DACL admits this user alone; that has to do. */
		peer->same_user = true;
		return COWLAB_OK;
	}
	peer->same_user = win32_same_user(proc);
	CloseHandle(proc);
	return COWLAB_OK;
}

void channel_set_data(struct channel *c, void *data)
{
	c->data = data;
}

void *channel_data(const struct channel *c)
{
	return c->data;
}

void channel_close(struct channel *c)
{
	struct channel_hub *hub;

	if (c == NULL)
		return;
	hub = c->hub;
	if (hub == NULL) {
		CloseHandle(c->pipe);
		channel_free(c);
		return;
	}
	list_del(&hub->conns, c);
	if (hub->rearm == c)
		hub->rearm = NULL;
	if (c->reading)
		CancelIoEx(c->pipe, &c->ov_read);
	CloseHandle(c->pipe);
	if (!c->reading) {
		channel_free(c);
		return;
	}
	/* Its read completes (cancelled) later; free it then. */
	c->closing = true;
	list_add(&hub->zombies, c);
}
