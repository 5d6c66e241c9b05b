/* cowlab-server's shared state: the options, the section and its two
 * views, the connections and the clients admitted from them. */
#ifndef COWLAB_SERVER_H
#define COWLAB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "protocol.h"
#include "report.h"

struct channel;
struct channel_hub;
struct section;
struct process;

struct server_options {
	char name[64];
	bool name_given;
	int spawn;              /* clients to start ourselves (0: manual mode) */
	int clients;            /* clients to wait for */
	uint64_t pages_per_client;
	int timeout_ms;
	const char *client_path;
	bool json;
	bool cow_as_shared;     /* the negative control */
	int repeat;             /* runs of the whole experiment */
	const char *scenario;   /* --scenario: a file, a lesson's name, or "list" */
	bool tap;               /* --tap: a scenario's run as TAP */
	bool print;             /* --print: a scenario's document, not its run */
	bool step;              /* --step: pause before each step */
	int step_ms;            /* --step-ms: go on after this long; -1: on Enter or
				   the step signal alone */
	enum report_color color; /* --color */
	const char *html;       /* --html FILE, or NULL */
	uint64_t page_size;     /* --page-size: the section's (huge) page size, or 0 */
	bool hold;              /* --hold: keep every process after the last step */
	int hold_ms;            /* --hold-ms: let go after this long; -1: on Enter or
				   the step signal alone */
};

/* What the server keeps of one operation's result: only what the judge
 * reads, the large parts (samples, evidence, error text) allocated only
 * when there are any, so that a client costs a few KiB. */
struct op_record {
	enum proto_op_kind kind;
	bool ok;
	uint64_t matched, mismatched;
	struct proto_sample *samples;     /* nsamples of them, or NULL */
	size_t nsamples;
	struct fault_info fault;
	uint64_t fault_target, fault_offset;
	bool fault_outside;
	struct evidence_report *evidence; /* EVIDENCE results only */
	char *error;                      /* its text when it failed, else NULL */
	struct proto_time *times;         /* WRITE: ntimes buckets of its pages' times, */
	uint32_t ntimes, nagain;          /* then nagain of the same written again */
	bool has_faults;
	uint64_t faults;                  /* WRITE: the faults the kernel counted */
};

int op_record_take(struct op_record *o, struct proto_op_result *r);
void op_record_free(struct op_record *o);

struct client_state {
	int id;                  /* 1-based; pages follow from it */
	long pid;
	struct conn *conn;       /* NULL once finished or lost */
	bool lost;
	bool waiting;            /* a batch is out, its result not yet in */
	int64_t answer_by;       /* when waiting: its answer's deadline */
	char reason[REPORT_TEXT_MAX];
	uint64_t first_page, page_count;
	bool no_verdict;         /* its hello said "verdict": false */
	bool leaving;            /* no_verdict, last batch answered: its
				    connection closes once admission has */
	bool has_image;          /* its hello's image facts (image.h) */
	struct image_facts image;
	uint64_t image_twins;    /* complete clients whose shared count equals its */
	/* a child of a fork (a slot past the clients the run starts): its
	 * parent, and how its fork stands; it is admitted by its pid alone */
	int fork_parent;
	enum { FORK_NONE, FORK_SENT, FORK_MADE, FORK_FAILED } fork_state;
	long fork_pid;           /* FORK_MADE: its pid, as its parent's result said */
	int64_t fork_deadline;   /* FORK_MADE: its hello by then */
};

struct conn {
	struct channel *chan;
	struct client_state *client; /* NULL until a valid hello */
	int64_t hello_deadline;
	long pid;
	bool other_user;             /* to be rejected once its message is read */
	/* --spawn: a hello from a pid the starter has not yet recorded, kept
	 * until it has (or has stopped) */
	uint8_t *pending;
	size_t pending_len;
	int pending_err;             /* the receive's error (a message over the cap) */
	struct conn *prev, *next;
};

/* --spawn: the pids of the processes the server started, the only ones
 * it admits (open addressing; each admitted once). */
struct invited {
	struct invited_slot {
		long pid;            /* 0: empty */
		int proc;            /* its index in procs */
		bool admitted;
	} *slots;
	size_t mask;             /* slots - 1, a power of two less one */
	int known;               /* procs[0..known-1] are in it */
};

/* What a run does with its clients, batch by batch: a scenario's (play.c,
 * the built-in experiment's too). conn.c admits clients,
 * sends what a plan gives it and hands back what comes in, and knows
 * nothing of what the batches mean. */
struct server;

struct plan {
	/* the pages a client just admitted is assigned (first_page,
	 * page_count) */
	void (*place)(const struct server *s, struct client_state *c);
	/* a client was admitted and has its assignment */
	void (*admitted)(struct server *s, struct client_state *c);
	/* the batch now out to a client, built again, to check its result by */
	void (*outstanding)(const struct server *s, const struct client_state *c,
			    struct proto_run *run);
	/* its result, checked against that batch: keep what is needed.
	 * Returns 0 or a negative cowlab_err (the client is then dropped) */
	int (*take)(struct server *s, struct client_state *c, struct proto_result *res);
	/* something changed (c answered or was lost; c NULL: admission
	 * closed): send whatever may go now */
	void (*advance)(struct server *s, const struct client_state *c);
	/* the client has answered every batch it will be sent */
	bool (*client_done)(const struct server *s, const struct client_state *c);
	/* what the client is being asked, for messages: "step \"write\"" */
	void (*doing)(const struct server *s, const struct client_state *c, char *buf,
		      size_t cap);
	/* the progress line's counts after "connected, " */
	void (*progress)(const struct server *s, char *buf, size_t cap);
	/* each time round the loop: a paused run (--step) goes on when it may.
	 * Returns by when it wants to be called again (INT64_MAX: no matter) */
	int64_t (*tick)(struct server *s, int64_t now);
	/* the run is held although every client has answered (--step: paused,
	 * or the server's own steps still to come) */
	bool (*holding)(const struct server *s);
	/* the page map as it stands, its first cap - 1 letters into buf (NUL
	 * ended), for a live map on a terminal; returns the section's pages,
	 * or 0 when the run has no map in the roles' letters */
	uint64_t (*live_map)(const struct server *s, char *buf, size_t cap);
};

struct play;
struct scenario;
struct html;

struct server {
	const struct plan *plan;
	struct play *play;       /* a scenario's run (play.c), or NULL */
	struct scenario *sc;     /* the scenario to run, until play_begin takes it */
	struct html *html;       /* --html: the page being gathered, or NULL */
	struct server_options opt;
	struct channel_hub *hub;
	struct section *section;
	void *rw;                /* the server's view it fills the section through */
	uint64_t pages;
	uint32_t page_size;
	uint32_t seed;
	struct client_state *clients; /* nslots: opt.clients the run starts, nclients
					 of them admitted (ids 1.. in order), then the
					 children of forks, each admitted into its own
					 (an admitted slot has its id, else 0) */
	int nclients, nslots;
	struct conn *conns;
	struct process **procs;
	int nprocs;
	struct process_starter *starter; /* --spawn: while clients are being started */
	struct invited invited;
	bool accepting;          /* admission is open */
	/* every client is kept until the verdict (--hold, and a run with
	 * forks: a process that leaves gives up its share of every copy it
	 * shares with its fork relatives, which would change what the others
	 * see) */
	bool keep_clients;
	/* the page size asked for is not to be had here (no huge pages of
	 * it, too few free, large pages refused): a TAP run says it skips */
	bool pages_unavailable;
	int64_t answers_due;     /* the earliest answer deadline, or later */
	int64_t started_ms;
	bool progress;           /* stderr is a terminal: progress lines */
	bool live, live_color;   /* ...that takes ANSI: the page map, live, too */
	int live_lines;          /* the lines of it drawn last, to go back over */
	int64_t progress_ms;
	struct report report;
};

/* conn.c: connections, admission and the steps, in one event loop */
int server_run(struct server *s);
/* --spawn: stops the background starter, if it is still there, keeps how
 * many it started, and says if one could not be. */
void server_stop_starting(struct server *s);
void server_finish(struct server *s);
void server_drop(struct server *s, struct client_state *c, const char *code,
		 const char *fmt, ...) COWLAB_PRINTF(4, 5);
/* Fork: client `parent` is sent the fork that makes client `child`
 * (whose slot then waits for it); its result came: the child's pid, or
 * 0 and why the fork failed (the child is then lost, never born). */
void server_fork_sent(struct server *s, int parent, int child);
void server_fork_done(struct server *s, int child, long pid, const char *why);

/* Sends a batch to a client; its answer is due --timeout later. A client
 * that cannot be sent to is dropped. */
void server_send(struct server *s, struct client_state *c, const struct proto_run *run);

#endif
