/* The server's connections: admitting clients (a valid hello first),
 * rejecting anything else, and one step's round trip with every client at
 * once, all through the channel hub's single wait. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "cowlab-config.h"
#include "err.h"
#include "interrupt.h"
#include "json.h"
#include "platform.h"
#include "process.h"
#include "section.h"
#include "server.h"
#include "text.h"

/* The longest single wait of the event loop (see interrupt.h). */
#define INTERRUPT_SLICE_MS 200

static struct invited_slot *invited_find(struct server *s, long pid);
static void let_go(struct server *s, struct client_state *cl);

static struct conn *conn_add(struct server *s, struct channel *chan)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct channel_peer peer = { 0, false };

	if (c == NULL)
		return NULL;
	c->chan = chan;
	c->hello_deadline = platform_now_ms() + s->opt.timeout_ms;
	if (channel_peer(chan, &peer) == 0) {
		c->pid = peer.pid;
		/* Rejected when its first message has been read: closing a
		 * socket with unread data resets it, and the peer would never
		 * see why. */
		c->other_user = !peer.same_user;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	channel_set_data(chan, c);
	return c;
}

/* s->conns holds the connections still on their way to a hello; an
 * admitted one is its client's conn alone. */
static void conn_unlink(struct server *s, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void conn_close(struct server *s, struct conn *c)
{
	if (c->client != NULL)
		c->client->conn = NULL;
	else
		conn_unlink(s, c);
	channel_close(c->chan);
	free(c->pending);
	free(c);
}

/* COWLAB_TRACE=FILE: every message in and out, a JSON line each:
 * {"dir": "in"|"out", "pid": N, "message": {...}}, or "text": "..." for
 * bytes that are not JSON (tests/protocol_schema.py holds them to
 * docs/protocol.schema.json). */
static FILE *trace_file;

static void trace_emit(void *ctx, const char *p, size_t n)
{
	fwrite(p, 1, n, ctx);
}

static void trace(const char *dir, long pid, const void *data, size_t len)
{
	char why[8];
	char *text;

	if (trace_file == NULL)
		return;
	fprintf(trace_file, "{\"dir\":\"%s\",\"pid\":%ld,", dir, pid);
	if (len > 0 && json_check(data, len, 64, why, sizeof(why))) {
		fputs("\"message\":", trace_file);
		fwrite(data, 1, len, trace_file);
	} else if ((text = malloc(len + 1)) != NULL) {
		memcpy(text, data, len);
		text[len] = '\0';
		fputs("\"text\":\"", trace_file);
		json_escape(text, trace_emit, trace_file);
		fputc('"', trace_file);
		free(text);
	}
	fputs("}\n", trace_file);
	fflush(trace_file);
}

static void send_error(struct conn *c, const char *code, const char *text)
{
	size_t len;
	char *msg = proto_build_error(code, text, &len);

	if (msg != NULL) {
		trace("out", c->pid, msg, len);
		channel_send(c->chan, msg, len, NULL); /* best effort: it may be gone */
	}
	free(msg);
}

/* A connection that never became a client: error message, close, and a
 * line in the report's "rejected" list. A peer of another user is told
 * that, whatever else it did. */
static void reject(struct server *s, struct conn *c, const char *code, const char *fmt, ...)
	COWLAB_PRINTF(4, 5);

static void reject(struct server *s, struct conn *c, const char *code, const char *fmt, ...)
{
	struct report_client *r = report_add_client(&s->report, true);
	char reason[REPORT_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	text_utf8_trim(reason); /* a peer's text cut inside a character */
	if (c->other_user) {
		code = "denied";
		snprintf(reason, sizeof(reason), "the peer runs as another user");
	}
	send_error(c, code, reason);
	if (r != NULL) {
		r->pid = c->pid;
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
	fprintf(stderr, "cowlab-server: rejected a connection (pid %ld): %s\n", c->pid, reason);
	conn_close(s, c);
}

void server_drop(struct server *s, struct client_state *cl, const char *code,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cl->reason, sizeof(cl->reason), fmt, ap);
	va_end(ap);
	text_utf8_trim(cl->reason);
	cl->lost = true;
	cl->waiting = false;
	if (cl->fork_state == FORK_FAILED) {
		/* a child of a fork that never joined is one of the run's
		 * clients all the same: in the report, lost, with why */
		struct report_client *rc = report_add_client(&s->report, false);

		if (rc != NULL) {
			rc->id = cl->id;
			rc->pid = cl->pid;
			rc->parent = cl->fork_parent;
		}
	}
	{
		char says[REPORT_TEXT_MAX + 64];

		snprintf(says, sizeof(says), "client %d (pid %ld) lost: %s", cl->id, cl->pid,
			 cl->reason);
		text_print_wrapped(stderr, "cowlab-server:", says, 2);
	}
	if (cl->conn != NULL) {
		send_error(cl->conn, code, cl->reason);
		conn_close(s, cl->conn);
	}
	/* whoever waited for it no longer does */
	s->plan->advance(s, cl);
	/* a fork it was sent, and never answered, makes no child */
	for (int i = s->opt.clients; i < s->nslots; i++) {
		struct client_state *ch = &s->clients[i];

		if (ch->id == 0 && ch->fork_state == FORK_SENT && ch->fork_parent == cl->id) {
			ch->fork_state = FORK_FAILED;
			ch->id = i + 1;
			server_drop(s, ch, "fork", "client %d was lost before it answered the fork "
				    "that was to make it", cl->id);
		}
	}
}

/* How long a client must be ready to wait for the server's next message:
 * its observe step waits for its neighbours, which may be admitted up to
 * --timeout after admission opened and then take --timeout to write, and
 * its `done` for the last observe step, --timeout after that. */
static int assign_wait_ms(const struct server *s)
{
	int64_t ms = 3 * (int64_t)s->opt.timeout_ms; /* at most PROTO_WAIT_MAX_MS */

	/* --step: as long as a person takes to go on */
	return ms < PROTO_WAIT_MAX_MS && !s->opt.step && !s->opt.hold ? (int)ms :
									 PROTO_WAIT_MAX_MS;
}

static int send_assign(struct server *s, struct client_state *cl)
{
	struct proto_assign a = {
		.id = cl->id, .section_size = section_size(s->section),
		.page_size = s->page_size, .seed = s->seed,
		.first_page = cl->first_page, .page_count = cl->page_count,
		.timeout_ms = assign_wait_ms(s),
	};
	size_t len;
	char *msg;
	int err;

	snprintf(a.section_name, sizeof(a.section_name), "%s", section_name(s->section));
	msg = proto_build_assign(&a, &len);
	if (msg == NULL)
		return COWLAB_E_NOMEM;
	trace("out", cl->pid, msg, len);
	err = channel_send(cl->conn->chan, msg, len, s->section);
	free(msg);
	return err;
}

/* Admits a connection as the next client the run starts, or (child) as
 * the child of a fork in its own slot. */
static void admit(struct server *s, struct conn *c, const struct proto_hello *h,
		  struct client_state *child)
{
	struct client_state *cl = child != NULL ? child : &s->clients[s->nclients];
	int parent = cl->fork_parent;
	int err;

	memset(cl, 0, sizeof(*cl));
	cl->id = child != NULL ? (int)(child - s->clients) + 1 : ++s->nclients;
	cl->fork_parent = child != NULL ? parent : 0;
	/* The OS's word for the pid, not the client's. */
	cl->pid = c->pid > 0 ? c->pid : h->pid;
	s->plan->place(s, cl);
	conn_unlink(s, c);
	cl->conn = c;
	c->client = cl;
	cl->has_image = h->has_image;
	cl->image = h->image;
	cl->no_verdict = h->no_verdict;
	if (invited_find(s, c->pid) != NULL)
		invited_find(s, c->pid)->admitted = true;
	err = send_assign(s, cl);
	if (err != 0) {
		server_drop(s, cl, "send", "cannot send the assignment: %s", cowlab_strerror(err));
		return;
	}
	if (child != NULL && s->opt.spawn == 0 && !s->progress)
		fprintf(stderr, "cowlab-server: client %d (pid %ld), the child of client %d's "
			"fork, joined\n", cl->id, cl->pid, parent);
	else if (s->opt.spawn == 0 && !s->progress)
		fprintf(stderr, "cowlab-server: %d of %d client%s connected (pid %ld)\n",
			s->nclients, s->opt.clients, text_s((uint64_t)s->opt.clients), cl->pid);
	s->plan->admitted(s, cl);
}

/* ---- --spawn: only the processes the server started are admitted ---- */

static struct invited_slot *invited_slot(struct invited *inv, long pid)
{
	size_t h = ((size_t)pid * 2654435761u) & inv->mask;

	while (inv->slots[h].pid != 0 && inv->slots[h].pid != pid)
		h = (h + 1) & inv->mask;
	return &inv->slots[h];
}

/* Takes in the pids of the processes started since the last call. */
static void invited_update(struct server *s)
{
	struct invited *inv = &s->invited;

	if (s->opt.spawn == 0)
		return;
	if (inv->slots == NULL) {
		size_t n = 16;

		while (n < 2 * (size_t)s->opt.spawn)
			n *= 2;
		inv->slots = calloc(n, sizeof(*inv->slots));
		if (inv->slots == NULL)
			return; /* then nobody is known: every hello waits, then is refused */
		inv->mask = n - 1;
	}
	for (; inv->known < s->nprocs; inv->known++) {
		long pid = process_pid(s->procs[inv->known]);
		struct invited_slot *slot = invited_slot(inv, pid);

		slot->pid = pid;
		slot->proc = inv->known;
	}
}

/* NULL unless the pid is one the server started. */
static struct invited_slot *invited_find(struct server *s, long pid)
{
	struct invited_slot *slot;

	if (s->invited.slots == NULL || pid <= 0)
		return NULL;
	slot = invited_slot(&s->invited, pid);
	return slot->pid == pid ? slot : NULL;
}

static void on_hello(struct server *s, struct conn *c, const uint8_t *data, size_t len,
		     int rerr);

/* ---- fork: a child joins by the pid its parent's result gave ---- */

void server_fork_sent(struct server *s, int parent, int child)
{
	struct client_state *cl = &s->clients[child - 1];

	if (child < 1 || child > s->nslots || cl->id != 0)
		return;
	cl->fork_parent = parent;
	cl->fork_state = FORK_SENT;
}

void server_fork_done(struct server *s, int child, long pid, const char *why)
{
	struct client_state *cl = &s->clients[child - 1];

	if (child < 1 || child > s->nslots || cl->id != 0 || cl->fork_state != FORK_SENT)
		return;
	if (pid > 0) {
		cl->fork_state = FORK_MADE;
		cl->fork_pid = pid;
		cl->fork_deadline = platform_now_ms() + s->opt.timeout_ms;
		return;
	}
	/* never born: lost, with its parent's reason */
	cl->fork_state = FORK_FAILED;
	cl->id = child;
	cl->pid = 0;
	server_drop(s, cl, "fork", "client %d's fork that was to make it failed: %s",
		    cl->fork_parent, why);
}

/* The child of a fork that this pid is, or NULL. */
static struct client_state *forked_child(struct server *s, long pid)
{
	for (int i = s->opt.clients; pid > 0 && i < s->nslots; i++)
		if (s->clients[i].id == 0 && s->clients[i].fork_state == FORK_MADE &&
		    s->clients[i].fork_pid == pid)
			return &s->clients[i];
	return NULL;
}

/* Whether a fork is out whose result has not come: a hello from a pid
 * not yet known may be its child's. */
static bool forks_out(const struct server *s)
{
	for (int i = s->opt.clients; i < s->nslots; i++)
		if (s->clients[i].id == 0 && s->clients[i].fork_state == FORK_SENT)
			return true;
	return false;
}

/* Children of forks that never said hello in time are lost. */
static void expire_children(struct server *s, int64_t now)
{
	for (int i = s->opt.clients; i < s->nslots; i++) {
		struct client_state *cl = &s->clients[i];

		if (cl->id == 0 && cl->fork_state == FORK_MADE && cl->fork_deadline <= now) {
			long pid = cl->fork_pid;

			cl->fork_state = FORK_FAILED;
			cl->id = i + 1;
			cl->pid = pid;
			server_drop(s, cl, "timeout", "the child of client %d's fork (pid %ld) did "
				    "not say hello within %d s", cl->fork_parent, pid,
				    s->opt.timeout_ms / 1000);
		}
	}
}

/* Whether a hello kept for later may be taken now. */
static bool hello_may_go(struct server *s, const struct conn *c)
{
	if (forked_child(s, c->pid) != NULL)
		return true;
	if (forks_out(s))
		return false;
	if (s->opt.spawn == 0)
		return true;
	invited_update(s);
	return s->starter == NULL || invited_find(s, c->pid) != NULL;
}

/* --spawn: whether the connection's process is one of ours. A hello from
 * a pid not yet recorded while the starter still runs is kept (the child
 * may have connected before its start was recorded) and taken up again by
 * take_pending. Returns true when the hello may go on. */
static bool invited_check(struct server *s, struct conn *c, const uint8_t *data, size_t len,
			  int rerr)
{
	struct invited_slot *slot;

	if (s->opt.spawn == 0)
		return true;
	invited_update(s);
	slot = invited_find(s, c->pid);
	if (slot == NULL && s->starter != NULL && c->pending == NULL && c->pid > 0) {
		c->pending = malloc(len > 0 ? len : 1);
		if (c->pending != NULL) {
			if (len > 0)
				memcpy(c->pending, data, len);
			c->pending_len = len;
			c->pending_err = rerr;
			return false;
		}
	}
	if (s->invited.slots == NULL) {
		reject(s, c, "memory", "the server is out of memory: it cannot keep the pids of "
		       "the clients it started");
		return false;
	}
	if (slot == NULL) {
		reject(s, c, "uninvited", "pid %ld is not a client this server started (--spawn "
		       "admits only its own)", c->pid);
		return false;
	}
	if (slot->admitted) {
		reject(s, c, "uninvited", "pid %ld is a client already", c->pid);
		return false;
	}
	return true;
}

/* The hellos kept by invited_check, once their pid is known or the starter
 * has stopped. */
static void take_pending(struct server *s)
{
	struct conn *c = s->conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->pending != NULL && hello_may_go(s, c)) {
			uint8_t *data = c->pending;

			c->pending = NULL; /* decided now, once */
			on_hello(s, c, data, c->pending_len, c->pending_err);
			free(data);
		}
	}
}

static void on_hello(struct server *s, struct conn *c, const uint8_t *data, size_t len,
		     int rerr)
{
	struct proto_msg msg;
	char why[PROTO_TEXT_MAX];
	struct client_state *child;
	int err;

	if (c->other_user) {
		reject(s, c, "denied", "the peer runs as another user");
		return;
	}
	/* a fork is out: this may be its child, which its parent's result
	 * will name; kept until then */
	if (c->pending == NULL && c->pid > 0 && !hello_may_go(s, c) && forks_out(s)) {
		size_t keep = err_is(rerr, COWLAB_E_TOOBIG) ? 0 : len;

		if ((c->pending = malloc(keep > 0 ? keep : 1)) != NULL) {
			if (keep > 0)
				memcpy(c->pending, data, keep);
			c->pending_len = keep;
			c->pending_err = rerr;
			return;
		}
	}
	child = forked_child(s, c->pid);
	if (child == NULL &&
	    !invited_check(s, c, data, err_is(rerr, COWLAB_E_TOOBIG) ? 0 : len, rerr))
		return;
	if (err_is(rerr, COWLAB_E_TOOBIG)) {
		reject(s, c, "too_big", "first message over the %d-byte cap",
			      CHANNEL_MSG_MAX);
		return;
	}
	err = proto_parse(data, len, NULL, &msg, why, sizeof(why));
	if (err != 0) {
		reject(s, c, "bad_message", "invalid hello: %s", why);
		return;
	}
	if (msg.type != PROTO_HELLO) {
		proto_msg_free(&msg);
		reject(s, c, "unexpected", "first message is \"%s\", not \"hello\"",
			      proto_type_name(msg.type));
		return;
	}
	if (strcmp(msg.u.hello.version, COWLAB_VERSION) != 0) {
		reject(s, c, "version", "client version %s, server version %s",
			      msg.u.hello.version, COWLAB_VERSION);
		return;
	}
	if (child != NULL) {
		int k = (int)(child - s->clients) + 1;

		/* the OS's pid is what admits it; what it says must agree */
		if (msg.u.hello.fork_child != k || msg.u.hello.fork_parent != child->fork_parent)
			reject(s, c, "bad_message", "invalid hello: pid %ld is the child of client "
			       "%d's fork, client %d; it says it is client %d's child, client %d",
			       c->pid, child->fork_parent, k, msg.u.hello.fork_parent,
			       msg.u.hello.fork_child);
		else
			admit(s, c, &msg.u.hello, child);
		return;
	}
	if (msg.u.hello.fork_child != 0) {
		reject(s, c, "uninvited", "pid %ld is not the child of a fork this run waits for",
		       c->pid);
		return;
	}
	if (!s->accepting || s->nclients >= s->opt.clients) {
		reject(s, c, "full", "the run has all %d of its clients already",
			      s->opt.clients);
		return;
	}
	admit(s, c, &msg.u.hello, NULL);
}

static void on_result(struct server *s, struct client_state *cl, const struct channel_event *ev)
{
	struct proto_limits lim = { s->pages, s->page_size, s->seed };
	struct proto_run run;
	struct proto_msg msg;
	char why[PROTO_TEXT_MAX];
	int err;

	if (err_is(ev->err, COWLAB_E_TOOBIG)) {
		server_drop(s, cl, "too_big", "a message over the %d-byte cap",
				   CHANNEL_MSG_MAX);
		return;
	}
	err = proto_parse(ev->data, ev->len, &lim, &msg, why, sizeof(why));
	if (err != 0) {
		server_drop(s, cl, "bad_message", "invalid message: %s", why);
		return;
	}
	if (msg.type == PROTO_ERROR) {
		server_drop(s, cl, "error", "the client reported an error: %s (%s)",
			    msg.u.error.message, msg.u.error.code);
		return;
	}
	if (msg.type != PROTO_RESULT || !cl->waiting) {
		proto_msg_free(&msg);
		server_drop(s, cl, "unexpected", "an unexpected \"%s\" message",
				   proto_type_name(msg.type));
		return;
	}
	/* what it was asked, again */
	s->plan->outstanding(s, cl, &run);
	err = proto_result_matches(&msg.u.result, &run, &lim, why, sizeof(why));
	if (err != 0) {
		proto_msg_free(&msg);
		server_drop(s, cl, "bad_result", "invalid result: %s", why);
		return;
	}
	cl->waiting = false;
	err = s->plan->take(s, cl, &msg.u.result);
	proto_msg_free(&msg);
	if (err != 0) {
		server_drop(s, cl, "memory", "out of memory keeping its results");
		return;
	}
	/* (--hold: every client stays, views mapped, until its `done`) */
	if (s->plan->client_done(s, cl) && cl->no_verdict && !s->opt.hold && !s->keep_clients)
		let_go(s, cl);
	s->plan->advance(s, cl);
}

/* Handles one hub event. */
static void on_event(struct server *s, const struct channel_event *ev)
{
	struct conn *c = ev->chan ? channel_data(ev->chan) : NULL;

	switch (ev->type) {
	case CHANNEL_EVENT_TIMEOUT:
		return;
	case CHANNEL_EVENT_ACCEPT:
		if (conn_add(s, ev->chan) == NULL)
			channel_close(ev->chan);
		return;
	case CHANNEL_EVENT_REFUSED: {
		struct report_client *r = report_add_client(&s->report, true);

		if (r != NULL)
			snprintf(r->reason, sizeof(r->reason), "closed unseen: the server is out "
				 "of file descriptors");
		fprintf(stderr, "cowlab-server: out of file descriptors: a connection closed "
			"unseen\n");
		return;
	}
	case CHANNEL_EVENT_CLOSED:
		if (c->client == NULL) {
			reject(s, c, "closed", "closed the connection before a hello");
			return;
		}
		if (c->client->leaving) {
			/* it had given every result; it did not wait for the close */
			c->client->leaving = false;
			conn_close(s, c);
			return;
		}
		server_drop(s, c->client, "closed", "disconnected: %s",
				   cowlab_strerror(ev->err));
		return;
	case CHANNEL_EVENT_MESSAGE:
		trace("in", c->pid, ev->data, ev->len);
		if (c->client == NULL && c->pending != NULL) {
			reject(s, c, "unexpected", "a second message before its hello was taken");
			return;
		}
		if (c->client == NULL) {
			on_hello(s, c, ev->data, ev->len, ev->err);
			return;
		}
		on_result(s, c->client, ev);
		return;
	}
}

/* ---- the run: admission and the plan's batches in one loop ---- */

void server_send(struct server *s, struct client_state *cl, const struct proto_run *run)
{
	size_t len;
	char *msg = proto_build_run(run, &len);
	int err;

	if (msg != NULL)
		trace("out", cl->pid, msg, len);
	err = msg ? channel_send(cl->conn->chan, msg, len, NULL) : COWLAB_E_NOMEM;

	free(msg);
	if (err != 0) {
		char doing[64];

		s->plan->doing(s, cl, doing, sizeof(doing));
		server_drop(s, cl, "send", "cannot send %s: %s", doing, cowlab_strerror(err));
		return;
	}
	cl->waiting = true;
	cl->answer_by = platform_now_ms() + s->opt.timeout_ms;
	if (cl->answer_by < s->answers_due)
		s->answers_due = cl->answer_by;
}

/* A client that does not wait for the verdict has answered its last
 * batch: its connection is closed (it has left, or leaves when it sees the
 * close). A PE client is held until admission has closed: the course's
 * shared counter (image_section_shared) lives in its image's shared
 * section, which exists only while an instance maps it, so every client is
 * kept from its own count until after the last one's. By the verdict no
 * such client has a connection left. */
static void let_go(struct server *s, struct client_state *cl)
{
	if (s->accepting && cl->has_image && cl->image.format == IMAGE_FORMAT_PE) {
		cl->leaving = true;
		return;
	}
	cl->leaving = false;
	if (cl->conn != NULL)
		conn_close(s, cl->conn);
}

/* Rejects connections that have not said hello in time; returns the
 * earliest hello deadline still pending (or `limit`). */
static int64_t expire_hellos(struct server *s, int64_t now, int64_t limit)
{
	struct conn *c = s->conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->hello_deadline <= now)
			reject(s, c, "timeout", "no hello in time");
		else if (c->hello_deadline < limit)
			limit = c->hello_deadline;
	}
	return limit;
}

/* Drops the clients whose answer is overdue, when one may be (a scan of
 * the clients only then); returns the earliest answer still due. */
static int64_t expire_answers(struct server *s, int64_t now)
{
	int64_t due = INT64_MAX;

	if (now < s->answers_due)
		return s->answers_due;
	for (int i = 0; i < s->nslots; i++) {
		struct client_state *cl = &s->clients[i];

		if (cl->id == 0 || !cl->waiting)
			continue;
		if (cl->answer_by <= now) {
			char doing[64];

			s->plan->doing(s, cl, doing, sizeof(doing));
			server_drop(s, cl, "timeout", "no answer to %s within %d s", doing,
				    s->opt.timeout_ms / 1000);
		}
	}
	/* what is still out, including batches the drops let go */
	for (int i = 0; i < s->nslots; i++)
		if (s->clients[i].id != 0 && s->clients[i].waiting && s->clients[i].answer_by < due)
			due = s->clients[i].answer_by;
	s->answers_due = due;
	return due;
}

/* Handles the events that are ready, or waits for one until `until`.
 * Returns 0, or an error of the hub. */
static int pump(struct server *s, int64_t until)
{
	struct channel_event ev;
	int64_t now = platform_now_ms();
	int64_t wait = until > now ? until - now : 0;
	int err = channel_hub_wait(s->hub, wait < INT_MAX ? (int)wait : INT_MAX, &ev);

	if (err != 0)
		return err;
	on_event(s, &ev);
	while (ev.type != CHANNEL_EVENT_TIMEOUT) {
		/* more that are ready, without waiting */
		if ((err = channel_hub_wait(s->hub, 0, &ev)) != 0)
			return err;
		on_event(s, &ev);
	}
	return 0;
}

/* With --spawn: whether waiting longer is pointless because every client
 * process started has either been admitted or has exited (and no
 * connection is still on its way to a hello). */
static bool spawned_all_accounted(struct server *s)
{
	int code;

	if (s->opt.spawn == 0 || s->starter != NULL || s->conns != NULL)
		return false;
	invited_update(s);
	for (int i = 0; i < s->nprocs; i++) {
		struct invited_slot *slot = invited_find(s, process_pid(s->procs[i]));

		if ((slot == NULL || !slot->admitted) && process_wait(s->procs[i], 0, &code) != 0)
			return false;
	}
	return true;
}

static void close_admission(struct server *s)
{
	s->accepting = false;
	server_stop_starting(s); /* clients started now could only be turned away */
	if (s->nclients < s->opt.clients && spawned_all_accounted(s))
		fprintf(stderr, "%scowlab-server: only %d of %d client%s connected; the other "
			"client processes have exited\n", s->progress ? "\n" : "", s->nclients,
			s->opt.clients, text_s((uint64_t)s->opt.clients));
	else if (s->nclients < s->opt.clients)
		fprintf(stderr, "%scowlab-server: only %d of %d client%s connected within %d s\n",
			s->progress ? "\n" : "", s->nclients, s->opt.clients,
			text_s((uint64_t)s->opt.clients), s->opt.timeout_ms / 1000);
	/* the empty slots are settled now; who waited for that may go */
	s->plan->advance(s, NULL);
	for (int i = 0; i < s->nslots; i++)
		if (s->clients[i].id != 0 && s->clients[i].leaving)
			let_go(s, &s->clients[i]);
}

/* On a terminal, one line that counts in place (at most ten times a
 * second, and once more at the end); elsewhere nothing. */
/* The page map as the run goes, under the progress line, redrawn in
 * place at most four times a second: 16 rows of 64 pages at most. */
#define LIVE_ROWS 16
static void live(struct server *s, const char *counts, bool last)
{
	static char map[LIVE_ROWS * 64 + 1];
	uint64_t pages = s->plan->live_map(s, map, sizeof(map));
	size_t n = strlen(map), rows = (n + 63) / 64;

	if (s->live_lines > 0)
		fprintf(stderr, "\r\033[%dA", s->live_lines);
	fprintf(stderr, "\r\033[Kcowlab-server: %d of %d client%s connected, %s\n", s->nclients,
		s->opt.clients, text_s((uint64_t)s->opt.clients), counts);
	for (size_t row = 0; row < rows; row++) {
		size_t len = n - row * 64 < 64 ? n - row * 64 : 64;

		fprintf(stderr, "\033[K%7zu ", row * 64);
		report_print_map_row(stderr, map + row * 64, len, s->live_color);
		fputc('\n', stderr);
	}
	if (pages > n)
		fprintf(stderr, "\033[K        ... %llu more pages (the report has them all)\n",
			(unsigned long long)(pages - n));
	s->live_lines = 1 + (int)rows + (pages > n);
	if (last)
		s->live_lines = 0;
	fflush(stderr);
}

static void progress(struct server *s, bool last)
{
	int64_t now = platform_now_ms();

	if (!s->progress || (!last && now - s->progress_ms < (s->live ? 250 : 100)))
		return;
	if (s->live) {
		char counts[64];

		s->progress_ms = now;
		s->plan->progress(s, counts, sizeof(counts));
		live(s, counts, last);
		return;
	}
	s->progress_ms = now;
	char counts[64];

	s->plan->progress(s, counts, sizeof(counts));
	fprintf(stderr, "\rcowlab-server: %d of %d client%s connected, %s%s", s->nclients,
		s->opt.clients, text_s((uint64_t)s->opt.clients), counts, last ? "\n" : "");
	fflush(stderr);
}

void server_stop_starting(struct server *s)
{
	bool ended;
	int err;

	if (s->starter == NULL)
		return;
	process_starter_progress(s->starter, &ended, &err);
	s->nprocs = process_starter_end(s->starter);
	s->starter = NULL;
	if (err != 0)
		fprintf(stderr, "cowlab-server: cannot start client %d: %s\n", s->nprocs + 1,
			cowlab_strerror(err));
}

/* --spawn: how many clients the background starter has started so far. */
static void spawn_progress(struct server *s)
{
	bool ended;
	int err;

	s->nprocs = process_starter_progress(s->starter, &ended, &err);
	if (ended)
		server_stop_starting(s);
}

static bool all_answered(const struct server *s)
{
	for (int i = 0; i < s->nslots; i++)
		if (s->clients[i].id != 0 && !s->clients[i].lost && s->clients[i].conn != NULL &&
		    !s->plan->client_done(s, &s->clients[i]))
			return false;
	return true;
}

/* Asked to stop (interrupt.h): no more clients are started or admitted,
 * every client that has not answered both steps is dropped, saying why,
 * and every client process started is ended; the run is judged on what
 * was observed so far. */
static void interrupted(struct server *s, int request)
{
	const char *why = interrupt_name(request);

	snprintf(s->report.interrupted, sizeof(s->report.interrupted), "%s", why);
	fprintf(stderr, "%scowlab-server: interrupted by %s; ending the run\n",
		s->progress ? "\n" : "", why);
	s->accepting = false;
	server_stop_starting(s);
	for (int i = 0; i < s->nslots; i++) {
		struct client_state *cl = &s->clients[i];

		if (cl->id == 0 && cl->fork_state != FORK_NONE) {
			/* a child not yet born never will be */
			cl->fork_state = FORK_FAILED;
			cl->id = i + 1;
			server_drop(s, cl, "interrupted", "the run was interrupted (%s) before "
				    "the child of client %d's fork joined", why, cl->fork_parent);
			continue;
		}
		if (cl->id == 0)
			continue;
		if (!cl->lost && !s->plan->client_done(s, cl)) {
			char doing[64];

			s->plan->doing(s, cl, doing, sizeof(doing));
			server_drop(s, cl, "interrupted", "the run was interrupted (%s) before it "
				    "answered %s", why, doing);
		}
	}
	for (int i = 0; i < s->nprocs; i++)
		process_kill(s->procs[i]);
}

int server_run(struct server *s)
{
	int64_t admit_until = platform_now_ms() + s->opt.timeout_ms;
	int64_t accounted_at = 0;
	int err;

	s->accepting = true;
	s->answers_due = INT64_MAX;
	if (trace_file == NULL && getenv("COWLAB_TRACE") != NULL)
		trace_file = fopen(getenv("COWLAB_TRACE"), "a");
	for (;;) {
		int64_t now = platform_now_ms(), until, tick;
		int request = interrupt_pending();

		if (request != 0 && s->report.interrupted[0] == '\0')
			interrupted(s, request);
		tick = s->plan->tick != NULL ? s->plan->tick(s, now) : INT64_MAX;
		if (s->accepting && s->nclients >= s->opt.clients)
			close_admission(s);
		if (s->accepting && now >= admit_until)
			close_admission(s);
		/* Every 100 ms, whether spawned clients died before their hello. */
		if (s->accepting && s->starter == NULL && s->opt.spawn > 0 &&
		    now - accounted_at >= 100) {
			accounted_at = now;
			if (spawned_all_accounted(s))
				close_admission(s);
		}
		/* Drops first: the one dropped may have been the last one out. */
		until = expire_answers(s, now);
		until = expire_hellos(s, now, until);
		expire_children(s, now);
		if (!s->accepting && all_answered(s) &&
		    (s->plan->holding == NULL || !s->plan->holding(s)))
			break;
		until = until < tick ? until : tick;
		if (s->accepting) {
			until = until < admit_until ? until : admit_until;
			if (s->opt.spawn > 0 && until > now + 100)
				until = now + 100;
		}
		/* in slices: a request that came just before the wait began is
		 * seen at the end of the slice */
		if (until > now + INTERRUPT_SLICE_MS)
			until = now + INTERRUPT_SLICE_MS;
		if (s->starter != NULL)
			spawn_progress(s);
		take_pending(s);
		if ((err = pump(s, until)) != 0)
			return err;
		progress(s, false);
	}
	progress(s, true);
	return 0;
}

void server_finish(struct server *s)
{
	/* The run's own checks concern every client's isolation too: the
	 * first that failed fails every client's verdict. */
	const struct report_check *server_failed = NULL;

	int run_status = (int)report_exit_status(&s->report);

	for (size_t k = 0; k < s->report.nserver_checks && server_failed == NULL; k++)
		if (s->report.server_checks[k].applicable && !s->report.server_checks[k].held)
			server_failed = &s->report.server_checks[k];
	for (int i = 0; i < s->nslots; i++) {
		struct client_state *cl = &s->clients[i];
		const struct report_client *rc = NULL;

		if (cl->id == 0)
			continue;
		struct proto_done d = { .held = true, .run_exit_status = run_status };
		size_t len;
		char *msg;

		/* its own entry, by id: the i-th, unless memory ran out for one */
		if ((size_t)i < s->report.nclients && s->report.clients[i].id == cl->id)
			rc = &s->report.clients[i];
		for (size_t k = 0; k < s->report.nclients && rc == NULL; k++)
			if (s->report.clients[k].id == cl->id)
				rc = &s->report.clients[k];
		if (cl->conn == NULL)
			continue;
		if (rc == NULL) {
			conn_close(s, cl->conn);
			continue;
		}
		if (rc->status != CLIENT_COMPLETE) {
			d.held = false;
			snprintf(d.message, sizeof(d.message), "not judged: %.140s", rc->reason);
		}
		/* a scenario's client with no checks of its own (none judged per
		 * client): the run's are its */
		bool run_s = s->play != NULL && rc->nchecks == 0;
		const struct report_check *list = run_s ? s->report.server_checks : rc->checks;
		size_t nlist = run_s ? s->report.nserver_checks : rc->nchecks;

		for (size_t k = 0; k < nlist; k++) {
			const struct report_check *ck = &list[k];
			enum check_status st = report_check_status(ck);

			if (st == CHECK_NOT_APPLICABLE)
				continue;
			d.checks_total++;
			d.checks_held += st == CHECK_HELD;
			if (st != CHECK_HELD && d.held) {
				d.held = false;
				snprintf(d.message, sizeof(d.message), "%.31s %s: %s", ck->name,
					 report_check_status_name(st),
					 ck->detail != NULL ? ck->detail : "");
			}
		}
		if (server_failed != NULL && d.held) {
			d.held = false;
			snprintf(d.message, sizeof(d.message), "the server's %s %s: %s",
				 server_failed->name,
				 report_check_status_name(report_check_status(server_failed)),
				 server_failed->detail != NULL ? server_failed->detail : "");
		}
		text_utf8_trim(d.message); /* a check's detail cut inside a character */
		msg = proto_build_done(&d, &len);
		if (msg != NULL) {
			trace("out", cl->pid, msg, len);
			channel_send(cl->conn->chan, msg, len, NULL);
		}
		free(msg);
		conn_close(s, cl->conn);
	}
	/* Whoever connected but never became a client is accounted for too. */
	while (s->conns != NULL)
		reject(s, s->conns, "ended", "the run ended before it said hello");
}

/* Keeps what the verdict needs of one result; takes the evidence page
 * string over from `r`. */
int op_record_take(struct op_record *o, struct proto_op_result *r)
{
	memset(o, 0, sizeof(*o));
	o->kind = r->kind;
	o->ok = r->ok;
	o->matched = r->matched;
	o->mismatched = r->mismatched;
	o->fault = r->fault;
	o->fault_target = r->fault_target;
	o->fault_offset = r->fault_offset;
	o->fault_outside = r->fault_outside;
	if (!r->ok && (o->error = malloc(strlen(r->error) + 1)) != NULL)
		strcpy(o->error, r->error);
	o->has_faults = r->has_faults;
	o->faults = r->faults;
	if (r->ok && r->ntimes + r->nagain > 0) {
		/* a copy's cost, counted once judged */
		o->times = malloc((r->ntimes + r->nagain) * sizeof(*o->times));
		if (o->times == NULL)
			return COWLAB_E_NOMEM;
		memcpy(o->times, r->times, r->ntimes * sizeof(*o->times));
		memcpy(o->times + r->ntimes, r->again, r->nagain * sizeof(*o->times));
		o->ntimes = (uint32_t)r->ntimes;
		o->nagain = (uint32_t)r->nagain;
	}
	if (r->nsamples > 0) {
		/* a sighting that could not be kept must not vanish */
		o->samples = malloc(r->nsamples * sizeof(*o->samples));
		if (o->samples == NULL)
			return COWLAB_E_NOMEM;
		memcpy(o->samples, r->samples, r->nsamples * sizeof(*o->samples));
		o->nsamples = r->nsamples;
	}
	if (r->kind == PROTO_OP_EVIDENCE && r->ok) {
		o->evidence = malloc(sizeof(*o->evidence));
		if (o->evidence == NULL)
			return COWLAB_E_NOMEM;
		*o->evidence = r->evidence;
		r->evidence.pages = NULL; /* ours now */
	}
	return COWLAB_OK;
}

void op_record_free(struct op_record *o)
{
	free(o->times);
	free(o->samples);
	free(o->error);
	if (o->evidence != NULL) {
		evidence_free(o->evidence);
		free(o->evidence);
	}
	memset(o, 0, sizeof(*o));
}
