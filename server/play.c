/* Running a scenario (play.h). Each client goes through the steps in its
 * lane, at its own pace: a client's step waits for its step before, for
 * the server's other actions of the steps before, and for the step before
 * of every client whose pages it touches (begin_lane, lane_ready); the
 * server's other actions of a step are a lane of their own (k 0). A
 * client's step goes like this:
 *
 * 1. predict: the server's actions on its pages, then its own, in the
 *    order written, are applied to the model,
 *    which says what it must do page by page. Pages the model says the
 *    same of form a class (the pattern, a participant's stamp, a word, a
 *    fault), and each class becomes operations of the protocol whose
 *    words are the prediction itself: an `expect` of the predicted word,
 *    a `fault_write` where a write must fault. So the client's answer is
 *    the comparison, and nothing per page is kept while the step is out;
 * 2. act: the server does its own operations at once, with the client's
 *    code; each client is sent its operations, 64 at a time;
 * 3. judge, the server's part at once, the client's once it has answered
 *    or is gone: each observation against its prediction (as predicted,
 *    differs, not proven, not applicable, a named deviation), the
 *    author's own predictions against what the OS did, the page map of the
 *    views the step changed from the OS's own evidence. A step is printed
 *    once every lane has finished it.
 *
 * A client lost in a step leaves its own observations unproven; a write
 * through the section it did not answer leaves its words either (the word
 * written, or the one before), and a copy it may have made not known. Its
 * steps to come are not predicted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "err.h"
#include "evidence.h"
#include "facts.h"
#include "fault.h"
#include "html.h"
#include "interrupt.h"
#include "json.h"
#include "model.h"
#include "ops.h"
#include "pattern.h"
#include "play.h"
#include "platform.h"
#include "protocol.h"
#include "report.h"
#include "section.h"
#include "server.h"
#include "text.h"

enum obs { OBS_MATCH, OBS_DEVIATION, OBS_NA, OBS_UNPROVEN, OBS_DIFFER, OBS_COUNT };
static const char *const obs_names[OBS_COUNT] = {
	[OBS_MATCH] = "as_predicted", [OBS_DEVIATION] = "deviation",
	[OBS_NA] = "not_applicable", [OBS_UNPROVEN] = "unproven", [OBS_DIFFER] = "differs",
};

/* What the model predicts of a class of pages. */
enum cls_kind {
	K_XOR,      /* a read gives the pattern ^ v */
	K_WORD,     /* a read gives v */
	K_FAULT,    /* the access faults */
	K_DONE,     /* a write, map, protect... is done */
	K_UNKNOWN,  /* not known: the reader's copy a write not seen done may have made */
	K_EITHER,   /* the pattern ^ v, or the word before a write not seen done */
	K_EITHER_WORD, /* v, or the word before a write not seen done */
};

#define RUNS_SHOWN 4
#define EVIDENCE_PRED_COPY 'c' /* predicted: a copy, its own or shared (P or R) */
#define PRIOR_SET ((uint64_t)1 << 32)
#define PRIOR_COPY ((uint64_t)1 << 33) /* the write made (or wrote) a private copy */
#define ITEM_TEXT 240     /* an item's texts */
#define RELEASE_PAGES 256 /* the span of one of the server's own operations */
#define MAP_PAGES 64      /* the widest page map a step prints */
#define DIFFS_SHOWN 3
#define NOT_AN_ACTION UINT32_MAX

struct cls {
	uint8_t kind;
	uint32_t v;
	uint64_t n;
	uint32_t rf[RUNS_SHOWN], rc[RUNS_SHOWN];  /* its first runs of pages, for the text */
	uint8_t nruns;
	bool more;
	bool open;                                /* an operation being built */
	struct proto_op op;
};

/* One action of one participant, or one page map (action NOT_AN_ACTION). */
struct item {
	uint32_t action;
	int who;
	int lane;                         /* the client whose part of the step it is in */
	int owner;                        /* a check per client: whose pages, else 0 */
	bool split;                       /* one client's share of its participant's pages */
	const struct scenario_pages *pg;  /* its pages: the action's, or own_pg */
	struct scenario_pages *own_pg;    /* resolved for its client (relative pages) */
	uint8_t view;
	enum obs st;
	bool deviation;                   /* the reference model says otherwise here */
	const char *na;                   /* not applicable: why */
	struct cls *cls;
	size_t ncls, clscap;
	size_t op0, nops;                 /* its operations in its participant's list */
	char *pred_ev, *seen_ev;          /* evidence: the model's and the OS's, a char a page */
	uint32_t ev_count, ev_first;
	uint64_t pred_private, seen_private;
	bool dirty_bound;                 /* a run with forks: smaps' dirty pages of the
					     whole view are bounds of these */
	uint64_t pred_own, pred_shared;   /* ...its copies, own and shared, by the model */
	uint64_t n_ok, n_bad;             /* pages (or writes) as predicted, and not */
	uint64_t *prior;                  /* a write: each page's word before it, with
					     PRIOR_SET where it went to the section (not
					     a copy, no fault), or NULL */
	/* in words, ITEM_TEXT bytes each once needed (itext), else NULL: an
	 * item of each client in a step of 100 000 */
	char *said;                       /* what the OS did */
	char *differs;                    /* where it differs from the model */
	char *unproven;                   /* what was not observed */
	bool unanswered;                  /* its client was lost before it answered */
	const char *lost_why;             /* ...why it was lost (the client's reason) */
	int32_t bad_op;                   /* not proven: the index in its participant's
					     batch of the first operation not answered
					     or failed, or -1 */
	uint8_t bad_kind;                 /* ...and its kind */
	int you;                          /* -1 nothing said, 0 wrong, 1 right, 2 cannot tell */
	char *you_text;
};

struct opmeta {
	uint32_t item, cls;
};

struct part {
	struct proto_op *ops;
	struct opmeta *meta;
	struct op_record *rec;
	size_t nops, cap, answered, out_end;
	uint64_t seq;                     /* the batch out */
	uint64_t sent;                    /* batches sent it: the next one's seq (0, 1,
					     ... for each client, as the built-in run's) */
	bool last;
};

#define SAMPLES_MAX 16    /* a "differing" member's [page, word] samples */

/* A member of a check's expected and observed (scenario.h). */
struct mtally {
	uint64_t expected, observed;
	bool bad;                         /* an observation under it differed */
};

/* What a check (or a client's instance of one) has seen. */
struct ptally {
	uint64_t n[OBS_COUNT];
	/* (REPORT_TEXT_MAX bytes each, once needed: a check of each client of
	 * 100 000 keeps what it saw) */
	char *first;                      /* the first that differed, or was not proven */
	char *na;                         /* why not applicable */
	/* where `first` and `na` are in the file's order (step, action,
	 * participant): clients finish at their own pace, the words do not
	 * depend on it */
	uint64_t first_at, na_at;
	/* its members, when the file declares them (allocated once needed) */
	struct mtally *m;
	uint32_t (*samples)[2];           /* SAMPLES_MAX of them, once needed */
	uint8_t nsamples;
	cJSON *evidence;                  /* the last evidence report, or the first fault */
	uint64_t evidence_at;
	bool by_server, by_client;        /* whose observations it rests on */
};

struct pcheck {
	char name[SCENARIO_CHECK_MAX];
	int sc;                           /* its index in the scenario's checks, or -1 */
	struct ptally t;                  /* the run's */
	struct ptally *per;               /* per client ("per": "client"): [1..clients] */
};

struct play {
	struct scenario sc;
	enum play_output out;
	FILE *f;
	struct model *model, *ref;        /* ref: Windows' own rules, under Wine */
	const char *deviation;            /* the named deviation in words, under Wine */
	int nparts;
	struct part *parts;
	struct client_views agent;
	struct { uint64_t lo, hi; } release[PROTO_VIEW_COUNT]; /* to let go of (let_go) */
	/* --step: steps before `gate` may begin; paused before step `gate`
	 * until pause_until, Enter or the step signal */
	bool control;                     /* --cow-as-shared */
	struct html *html;                /* --html: the page gathered, or NULL */
	bool stepping, paused;
	int gate;
	int64_t pause_until;
	/* the cost of a copy: each step's timed writes, by bucket: [1] those
	 * the model says copy, [2] the same pages written again at once (now
	 * the writer's own), [0] the other writes; and the faults the kernel
	 * counted in the writes that copy, where it could say */
	struct cost {
		uint64_t n[3][PROTO_TIME_BUCKETS];
		uint64_t faults, fault_copies;
		bool faults_known;
	} *cost;
	/* --hold: every process kept after the last step, until let go */
	bool held, released;
	int64_t hold_until;
	uint64_t (*addr)[PROTO_VIEW_COUNT]; /* each participant's views, where its
					       map said they are (0: not said) */
	int *last_step;                   /* per participant: its last step with actions */
	bool (*mapped)[SCENARIO_VIEW_COUNT]; /* per participant */
	int step;                         /* the step whose items are at hand */
	bool started, busy, again;
	struct item *items;               /* the items of `step` (bufs holds the others) */
	size_t nitems, icap;
	/* Lanes: each client goes through the steps at its own pace, with the
	 * server's actions on its pages ("each"); a client's step waits for
	 * its own last step, the server's other actions of earlier steps, and
	 * the steps before of the clients within the step's width of it
	 * (step_reach). The server's other actions of a step wait for every
	 * client to have done the step before. */
	struct stepbuf {
		struct item *items;
		size_t nitems, icap;
	} *bufs,                          /* a step's items, until it is printed */
	  *lbufs;                         /* per lane (0 the server's other actions):
					     the items of its step, until judged */
	struct stepbuf *hand;             /* where the items at hand belong */
	/* A step's observations counted, for its status (and, with more than
	 * 64 clients, whose items are let go once judged, for its lines) */
	struct stepcount {
		uint64_t n[OBS_COUNT];
		bool actions, all_na;
		const char *na;           /* an action's reason, when all are n/a */
	} *counts;
	bool keep;                        /* items kept until their step is printed */
	int *lane_done;                   /* per client: steps it has finished */
	int *lane_at;                     /* per client: the step it is in, or -1 */
	int *done_count;                  /* per step: the clients that finished it */
	int *queue;                       /* lanes that may move (machine) */
	bool *queued;
	int nqueue;
	bool wake_all;                    /* every lane may move */
	int *width;                       /* per step: the clients a client's step waits
					     for, on each side (step_reach) */
	int width_max;
	int glob_done;                    /* steps whose server's other actions are done */
	bool *glob_waits;                 /* per step: the server has other actions in it */
	int printed;                      /* steps judged whole and printed */
	int begun;                        /* steps anyone has begun */
	/* A word a write through the section may or may not have changed (its
	 * participant was lost before it answered): the word before, by
	 * (page, offset); a read of it may show either */
	struct either {
		uint64_t key;             /* page * 16384 + offset / 4, + 1; 0 empty */
		uint32_t prior;
	} *either;
	size_t neither, either_cap;
	uint8_t *pagebits;                /* for the report's page map, PB_ a page */
	struct pcheck checks[SCENARIO_CHECKS_MAX + 1];
	size_t nchecks;
	uint64_t obs[OBS_COUNT];
	uint64_t you[3];                  /* wrong, right, cannot tell */
	cJSON *json_steps;
	int tap_n;
	bool nomem;
	/* for the words of an item: said of several participants at once, and
	 * whose reading it is (its own stamp), or -1 */
	bool plural;
	int reader;
	bool relative;                    /* pages relative to a client as written */
	char cut_short[96];               /* why every check is unproven: interrupted */
	/* a child of a fork this platform cannot make: why (its actions are
	 * not applicable), else NULL */
	const char *unborn_na[SCENARIO_CLIENTS_MAX + 1];
};

/* What the run did to a page and saw of it, for the report's page map
 * in the roles' letters (make_page_map). */
enum {
	PB_WRITTEN = 1,   /* its owner wrote it through the section */
	PB_FAULTED = 2,   /* its owner's write there faulted */
	PB_DIFFERS = 4,   /* an observation of it differed from the model */
	PB_UNPROVEN = 8,  /* one was not made */
};

static const enum model_view model_views[SCENARIO_VIEW_COUNT] = {
	[SCENARIO_VIEW_RW] = MODEL_RW, [SCENARIO_VIEW_COW] = MODEL_COW,
	[SCENARIO_VIEW_RO] = MODEL_RO,
};
static const enum proto_view proto_views[SCENARIO_VIEW_COUNT] = {
	[SCENARIO_VIEW_RW] = PROTO_VIEW_RW, [SCENARIO_VIEW_COW] = PROTO_VIEW_COW,
	[SCENARIO_VIEW_RO] = PROTO_VIEW_RO,
};

/* ---- words ---- */

static void who_text(int k, char *buf, size_t cap)
{
	if (k == 0)
		snprintf(buf, cap, "the server");
	else
		snprintf(buf, cap, "client %d", k);
}

#define acts scenario_acts

/* Whose stamp a word's xor with the pattern is: a participant, or -1. */
static int stamp_who(const struct play *p, uint32_t x)
{
	uint32_t w = x - model_stamp(0);

	return w <= (uint32_t)p->sc.clients ? (int)w : -1;
}

/* A word as people read it: whose stamp, the pattern, or its digits. */
static void word_text(const struct play *p, uint64_t page, uint32_t offset, uint32_t w,
		      char *buf, size_t cap)
{
	uint32_t x = w ^ pattern_value(p->agent.seed, page, offset);

	if (x == 0) {
		snprintf(buf, cap, "the pattern");
		return;
	}
	if (stamp_who(p, x) >= 0) {
		char who[24];

		who_text(stamp_who(p, x), who, sizeof(who));
		snprintf(buf, cap, "the stamp of %s", who);
		return;
	}
	snprintf(buf, cap, "0x%08X", (unsigned)w);
}

static void cls_text(const struct play *p, const struct cls *c, char *buf, size_t cap)
{
	switch ((enum cls_kind)c->kind) {
	case K_XOR:
		if (c->v == 0) {
			snprintf(buf, cap, "the pattern");
		} else if (p->reader >= 0 && c->v == model_stamp(p->reader)) {
			snprintf(buf, cap, "%s", p->plural ? "their own stamps" : "its own stamp");
		} else {
			char who[24] = "?";

			if (stamp_who(p, c->v) >= 0)
				who_text(stamp_who(p, c->v), who, sizeof(who));
			snprintf(buf, cap, "the stamp of %s", who);
		}
		return;
	case K_WORD: snprintf(buf, cap, "0x%08X", (unsigned)c->v); return;
	case K_FAULT: snprintf(buf, cap, "a fault"); return;
	case K_DONE: snprintf(buf, cap, "done"); return;
	case K_UNKNOWN: snprintf(buf, cap, "not known"); return;
	case K_EITHER:
	case K_EITHER_WORD: {
		struct cls x = *c;
		char w[48];

		/* (a write not seen done: its word, or the one before) */
		x.kind = c->kind == K_EITHER ? K_XOR : K_WORD;
		cls_text(p, &x, w, sizeof(w));
		snprintf(buf, cap, "%.27s or as before", w);
		return;
	}
	}
}

/* "3", "0-7", "1,3,5-7", "0-12/4": pages as a scenario writes them; a long list as
 * its first parts, the last, and how many pages ("1,3,5,...,63 (32
 * pages)"), so that a line stays readable. */
static void pages_text(const struct scenario_pages *pg, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pg->nruns && n < cap; i++) {
		uint32_t f = pg->runs[i].first, c = pg->runs[i].count, st = pg->runs[i].stride;

		if (pg->nruns > 6 && i == 3) {
			i = pg->nruns - 2; /* to the last */
			n += (size_t)snprintf(buf + n, cap - n, ",...");
			continue;
		}
		if (c == 1)
			n += (size_t)snprintf(buf + n, cap - n, "%s%u", i ? "," : "", f);
		else if (st == 1)
			n += (size_t)snprintf(buf + n, cap - n, "%s%u-%u", i ? "," : "", f, f + c - 1);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s%u-%u/%u", i ? "," : "", f,
					      scenario_run_last(&pg->runs[i]), st);
	}
	if (pg->nruns > 6 && n < cap)
		snprintf(buf + n, cap - n, " (%u pages)", pg->total);
}

static void cls_pages_text(const struct cls *c, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint8_t i = 0; i < c->nruns && n < cap; i++) {
		if (c->rc[i] == 1)
			n += (size_t)snprintf(buf + n, cap - n, "%s%u", i ? "," : "", c->rf[i]);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s%u-%u", i ? "," : "", c->rf[i],
					      c->rf[i] + c->rc[i] - 1);
	}
	if (c->more && n < cap)
		snprintf(buf + n, cap - n, ",...");
}

static void appendf(char *buf, size_t cap, const char *fmt, ...) COWLAB_PRINTF(3, 4);

static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* ---- the step's lists ---- */

/* An item's text, "" when it has none. */
static const char *T(const char *x)
{
	return x != NULL ? x : "";
}

/* An item's text to write into (ITEM_TEXT bytes), allocated once needed;
 * out of memory, a scratch buffer (the words are lost, not the run). */
static char *itext(char **f)
{
	static char scratch[ITEM_TEXT];

	if (*f == NULL && (*f = calloc(ITEM_TEXT, 1)) == NULL)
		return scratch;
	return *f;
}

static struct item *item_new(struct play *p, uint32_t action, int who, uint8_t view)
{
	struct item *it;

	if (p->nitems == p->icap) {
		size_t cap = p->icap ? p->icap * 2 : 64;
		struct item *n = realloc(p->items, cap * sizeof(*n));

		if (n == NULL) {
			p->nomem = true;
			return NULL;
		}
		p->items = n;
		p->icap = cap;
	}
	it = &p->items[p->nitems++];
	memset(it, 0, sizeof(*it));
	it->action = action;
	it->who = who;
	it->bad_op = -1;
	it->view = view;
	it->you = -1;
	it->op0 = p->parts[who].nops;
	return it;
}

static size_t cls_of(struct play *p, struct item *it, uint8_t kind, uint32_t v)
{
	for (size_t i = 0; i < it->ncls; i++)
		if (it->cls[i].kind == kind && it->cls[i].v == v)
			return i;
	if (it->ncls == it->clscap) {
		size_t cap = it->clscap ? it->clscap * 2 : 2;
		struct cls *n = realloc(it->cls, cap * sizeof(*n));

		if (n == NULL) {
			p->nomem = true;
			return SIZE_MAX;
		}
		it->cls = n;
		it->clscap = cap;
	}
	memset(&it->cls[it->ncls], 0, sizeof(it->cls[0]));
	it->cls[it->ncls].kind = kind;
	it->cls[it->ncls].v = v;
	return it->ncls++;
}

static void add_op(struct play *p, int who, size_t item, size_t cls, const struct proto_op *op)
{
	struct part *pt = &p->parts[who];

	if (pt->nops == pt->cap) {
		size_t cap = pt->cap ? pt->cap * 2 : 16;
		struct proto_op *o = realloc(pt->ops, cap * sizeof(*o));
		struct opmeta *m = o ? realloc(pt->meta, cap * sizeof(*m)) : NULL;

		if (o != NULL)
			pt->ops = o;
		if (m == NULL) {
			p->nomem = true;
			return;
		}
		pt->meta = m;
		pt->cap = cap;
	}
	pt->ops[pt->nops] = *op;
	pt->meta[pt->nops].item = (uint32_t)item;
	pt->meta[pt->nops].cls = (uint32_t)cls;
	pt->nops++;
	p->items[item].nops++;
}

/* Puts a page in its class: into the class's operation while the pages
 * keep one step apart, else the operation goes and a new one starts. A
 * read that must fault goes alone: the first fault ends an operation. */
static void cls_add(struct play *p, size_t item, size_t ci, uint64_t page,
		    const struct proto_op *tmpl)
{
	struct cls *c = &p->items[item].cls[ci];
	struct proto_range *r = &c->op.range;
	bool alone = c->kind == K_FAULT && tmpl->kind == PROTO_OP_EXPECT;

	c->n++;
	if (c->nruns > 0 && c->rf[c->nruns - 1] + c->rc[c->nruns - 1] == page)
		c->rc[c->nruns - 1]++;
	else if (c->nruns < RUNS_SHOWN) {
		c->rf[c->nruns] = (uint32_t)page;
		c->rc[c->nruns++] = 1;
	} else {
		c->more = true;
	}
	if (c->kind == K_UNKNOWN)
		return;
	/* the server's own in windows of RELEASE_PAGES pages, each let go once
	 * read (let_go): its resident memory does not grow with the section */
	if (c->open && !alone && (p->items[item].who != 0 ||
				  (r->count - 1) * r->step < RELEASE_PAGES)) {
		uint64_t last = r->first + (r->count - 1) * r->step;

		if (r->count == 1 && page > last) {
			r->step = page - last;
			r->count = 2;
			return;
		}
		if (page == last + r->step) {
			r->count++;
			return;
		}
	}
	if (c->open)
		add_op(p, p->items[item].who, item, ci, &c->op);
	c->op = *tmpl;
	c->op.range.first = page;
	c->op.range.count = 1;
	c->op.range.step = 1;
	c->open = true;
}

static void cls_close(struct play *p, size_t item)
{
	for (size_t i = 0; i < p->items[item].ncls; i++) {
		struct cls *c = &p->items[item].cls[i];

		if (c->open)
			add_op(p, p->items[item].who, item, i, &c->op);
		c->open = false;
	}
}

/* ---- predicting ---- */

/* Whether client k was admitted (a child of a fork: once born). */
static bool admitted(const struct server *s, int k)
{
	return k >= 1 && k <= s->nslots && s->clients[k - 1].id != 0 &&
	       s->clients[k - 1].fork_state != FORK_FAILED;
}

static bool gone(const struct server *s, const struct play *p, int k)
{
	const struct client_state *c;

	if (k == 0)
		return false;
	if (k > s->nslots)
		return !s->accepting;
	c = &s->clients[k - 1];
	if (c->fork_state == FORK_FAILED)
		return true; /* a child of a fork never born */
	if (c->id == 0) /* one the run starts: once admission is over; a child: never */
		return k <= s->opt.clients && !s->accepting;
	return c->lost;
}

static void wake(struct play *p, int k);

static const char *gone_why(const struct server *s, int k)
{
	if (k <= s->nslots && (s->clients[k - 1].id != 0 ||
			       s->clients[k - 1].fork_state == FORK_FAILED))
		return s->clients[k - 1].reason;
	return "it never connected";
}

/* A child of a fork that will not be born: its parent was lost, or this
 * platform has no fork (not_applicable: its actions are not applicable
 * either, for that reason). */
static void never_born(struct server *s, struct play *p, int child, int parent,
		       const char *why, bool not_applicable)
{
	struct client_state *c = &s->clients[child - 1];

	if (child < 1 || child > s->nslots || c->id != 0 || c->fork_state == FORK_FAILED)
		return;
	if (!not_applicable) {
		server_fork_sent(s, parent, child);
		server_fork_done(s, child, 0, why);
		return;
	}
	c->fork_state = FORK_FAILED;
	c->fork_parent = parent;
	snprintf(c->reason, sizeof(c->reason), "%s", why);
	p->unborn_na[child] = why;
	wake(p, child);
}

/* The word a write puts on a page: its value's. */
static void write_word(const struct play *p, const struct scenario_action *a, int k,
		       struct proto_op *op)
{
	switch (a->value.kind) {
	case SCENARIO_WORD:
		op->literal = true;
		op->value = a->value.word;
		break;
	case SCENARIO_PATTERN:
		op->xor_value = 0;
		break;
	case SCENARIO_STAMP:
	case SCENARIO_FAULT:
		op->xor_value = model_stamp(a->value.stamp_of == SCENARIO_STAMP_OWN ? k :
					    a->value.stamp_of);
		break;
	}
	(void)p;
}

static bool same(struct model_prediction x, struct model_prediction y)
{
	return x.outcome == y.outcome && (x.outcome != MODEL_OK || x.word == y.word);
}

/* Each page of the action's pages, in order. */
#define FOR_PAGES(pg, page) \
	for (size_t run_ = 0; run_ < (pg)->nruns; run_++) \
		for (uint64_t n_ = 0, page = (pg)->runs[run_].first; \
		     n_ < (pg)->runs[run_].count; n_++, page += (pg)->runs[run_].stride)

static uint64_t either_key(uint64_t page, uint32_t offset)
{
	return page * 16384 + offset / 4 + 1;
}

static struct either *either_slot(const struct play *p, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15u) & (p->either_cap - 1);

	while (p->either[i].key != 0 && p->either[i].key != key)
		i = (i + 1) & (p->either_cap - 1);
	return &p->either[i];
}

/* A key of the table, kept with its word. */
static void table_put(struct play *p, uint64_t key, uint32_t prior)
{
	struct either *e;

	if (p->neither * 2 >= p->either_cap) {
		struct either *old = p->either;
		size_t n = p->either_cap, cap = n ? n * 2 : 64;

		if ((p->either = calloc(cap, sizeof(*p->either))) == NULL) {
			p->either = old;
			p->nomem = true;
			return;
		}
		p->either_cap = cap;
		for (size_t i = 0; i < n; i++)
			if (old[i].key != 0)
				*either_slot(p, old[i].key) = old[i];
		free(old);
	}
	e = either_slot(p, key);
	p->neither += e->key == 0;
	e->key = key;
	e->prior = prior;
}

/* The word before an unanswered write through the section, kept. */
static void either_put(struct play *p, uint64_t page, uint32_t offset, uint32_t prior)
{
	table_put(p, either_key(page, offset), prior);
}

static bool either_get(const struct play *p, uint64_t page, uint32_t offset, uint32_t *prior)
{
	const struct either *e;

	if (p->neither == 0)
		return false;
	e = either_slot(p, either_key(page, offset));
	if (e->key == 0)
		return false;
	*prior = e->prior;
	return true;
}

/* A write seen done settles the word: it is no longer either. (The slot
 * keeps its key, its prior the word now: a read may show only that.) */
static void either_settle(struct play *p, uint64_t page, uint32_t offset, uint32_t word)
{
	struct either *e;

	if (p->neither == 0)
		return;
	e = either_slot(p, either_key(page, offset));
	if (e->key != 0)
		e->prior = word;
}

/* A participant's private copy that a write not seen done may or may not
 * have made or changed: its view of that page is not known (a read of it,
 * the OS's evidence of it: not proven). Kept in the same table. */
static uint64_t copy_key(int k, unsigned view, uint64_t page)
{
	return (uint64_t)1 << 63 | (uint64_t)k << 40 | (uint64_t)view << 32 | page;
}

static bool copy_unknown(const struct play *p, int k, unsigned view, uint64_t page)
{
	return p->neither > 0 && either_slot(p, copy_key(k, view, page))->key != 0;
}

/* ...kept with the write's step and operation (its index in the batch,
 * when known), for the words of what it leaves unproven */
static void copy_unknown_put(struct play *p, int k, unsigned view, uint64_t page, int op)
{
	uint32_t at = (uint32_t)(p->step + 1) << 20;

	if (op >= 0 && op < (1 << 20) - 1)
		at |= (uint32_t)op + 1;
	table_put(p, copy_key(k, view, page), at);
}

/* "its write there (write step, operation 4) was not seen done" */
static void copy_unknown_why(const struct play *p, int k, unsigned view, uint64_t page,
			     char *buf, size_t cap)
{
	uint32_t at = either_slot(p, copy_key(k, view, page))->prior;
	int step = (int)(at >> 20) - 1, op = (int)(at & ((1u << 20) - 1)) - 1;
	char where[80] = "";

	if (step >= 0 && (size_t)step < p->sc.nsteps && p->sc.steps[step].name[0] != '\0')
		snprintf(where, sizeof(where), " (%s step", p->sc.steps[step].name);
	else if (step >= 0)
		snprintf(where, sizeof(where), " (step %d", step + 1);
	if (where[0] != '\0' && op >= 0)
		appendf(where, sizeof(where), ", operation %d)", op);
	else if (where[0] != '\0')
		appendf(where, sizeof(where), ")");
	snprintf(buf, cap, "its write there%s was not seen done", where);
}

static void predict_words(struct play *p, size_t ii, const struct scenario_action *a, int k)
{
	uint32_t n = 0;

	enum model_view mv = model_views[a->view];
	struct proto_op tmpl = { .view = proto_views[a->view], .offset = a->offset };

	FOR_PAGES(p->items[ii].pg, page) {
		struct item *it = &p->items[ii];
		struct model_prediction m, r;
		size_t ci;

		if (a->op == SCENARIO_READ) {
			if (copy_unknown(p, k, a->view, page)) {
				ci = cls_of(p, it, K_UNKNOWN, 0);
				if (ci != SIZE_MAX)
					cls_add(p, ii, ci, page, &tmpl);
				continue;
			}
			m = model_read(p->model, k, mv, page, a->offset);
			r = p->ref ? model_read(p->ref, k, mv, page, a->offset) : m;
			tmpl.kind = PROTO_OP_EXPECT;
			tmpl.literal = false;
			tmpl.xor_value = 0;
			uint32_t prior;

			if (m.outcome == MODEL_FAULTS) {
				ci = cls_of(p, it, K_FAULT, 0);
			} else {
				uint32_t x = m.word ^ pattern_value(p->agent.seed, page, a->offset);
				/* the section's word, which a lost participant's write
				 * may or may not have changed: either */
				bool either = either_get(p, page, a->offset, &prior) &&
					      !model_is_copy(p->model, k, mv, page) && prior != m.word;

				if (x == 0 || stamp_who(p, x) >= 0) {
					tmpl.xor_value = x;
					ci = cls_of(p, it, either ? K_EITHER : K_XOR, x);
				} else {
					tmpl.literal = true;
					tmpl.value = m.word;
					ci = cls_of(p, it, either ? K_EITHER_WORD : K_WORD, m.word);
				}
			}
		} else {
			uint32_t w;

			tmpl.literal = false;
			tmpl.xor_value = 0;
			write_word(p, a, k, &tmpl);
			w = proto_op_word(&tmpl, p->agent.seed, page);
			/* the word before, should the write not be seen done */
			struct model_prediction before = model_read(p->model, k, mv, page, a->offset);
			/* a write that copies is timed apart (its own operations) */
			bool copies = model_write_would(p->model, k, mv, page) == MODEL_WOULD_COPY;

			m = model_write(p->model, k, mv, page, a->offset, w);
			if (m.outcome == MODEL_OK && before.outcome == MODEL_OK) {
				bool copy = model_is_copy(p->model, k, mv, page);

				if (it->prior == NULL &&
				    (it->prior = calloc(it->pg->total, sizeof(*it->prior))) == NULL)
					p->nomem = true;
				if (it->prior != NULL && n < it->pg->total)
					it->prior[n] = before.word | (copy ? PRIOR_COPY : PRIOR_SET);
				if (!copy)
					either_settle(p, page, a->offset, w);
			}
			r = p->ref ? model_write(p->ref, k, mv, page, a->offset, w) : m;
			/* the model could not keep the word: nothing after it
			 * can be predicted (every item is then unproven) */
			p->nomem |= model_out_of_memory(m) || model_out_of_memory(r);
			tmpl.kind = m.outcome == MODEL_FAULTS ? PROTO_OP_FAULT_WRITE : PROTO_OP_WRITE;
			ci = cls_of(p, it, m.outcome == MODEL_FAULTS ? K_FAULT : K_DONE,
				    m.outcome != MODEL_FAULTS && copies);
			/* the owner's write of its own page, for the page map */
			if (k > 0 && p->sc.each > 0 && page >= p->sc.before &&
			    (page - p->sc.before) / p->sc.each == (uint64_t)k - 1)
				p->pagebits[page] |= m.outcome == MODEL_FAULTS ? PB_FAULTED :
						     m.outcome == MODEL_OK && !model_is_copy(p->model,
						     k, mv, page) ? PB_WRITTEN : 0;
		}
		n++;
		if (ci == SIZE_MAX)
			return;
		p->items[ii].deviation |= !same(m, r);
		cls_add(p, ii, ci, page, &tmpl);
	}
	cls_close(p, ii);
}

/* The clients whose processes may be gone (bit j - 1: client j, as
 * model_copy_relatives): a copy shared with one of them may be shared or
 * not by now. Only a run with forks shares copies. */
static uint64_t gone_mask(const struct server *s, const struct play *p)
{
	uint64_t m = 0;

	for (int j = 1; p->sc.forks > 0 && j <= p->sc.clients && j <= 64; j++)
		if (gone(s, p, j))
			m |= (uint64_t)1 << (j - 1);
	return m;
}

static void predict_evidence(const struct server *s, struct play *p, size_t ii, int k,
			     uint8_t view,
			     const struct scenario_pages *pg)
{
	struct item *it = &p->items[ii];
	uint64_t unknown = gone_mask(s, p);
	size_t n = 0;

	it->ev_count = pg->total;
	it->ev_first = pg->runs[0].first;
	it->pred_ev = malloc(pg->total + 1);
	if (it->pred_ev == NULL) {
		p->nomem = true;
		return;
	}
	FOR_PAGES(pg, page) {
		bool c = model_is_copy(p->model, k, model_views[view], page);

		uint64_t rel = c && p->sc.forks > 0 ?
				       model_copy_relatives(p->model, k, model_views[view], page) : 0;

		if (p->ref && model_is_copy(p->ref, k, model_views[view], page) != c)
			it->deviation = true;
		/* a copy still shared with fork relatives is R; with one whose
		 * process may be gone, either */
		it->pred_ev[n++] = !c ? '-' : (rel & unknown) != 0 ? EVIDENCE_PRED_COPY :
				   rel != 0 ? EVIDENCE_PAGE_RELATIVE : EVIDENCE_PAGE_PRIVATE;
		it->pred_private += c;
	}
	it->pred_ev[n] = '\0';
	if (p->sc.forks > 0) {
		it->dirty_bound = true;
		model_view_copies(p->model, k, model_views[view], unknown, &it->pred_own,
				  &it->pred_shared);
	}
	for (size_t i = 0; i < pg->nruns; i++) {
		for (uint32_t f = 0; f < pg->runs[i].count; f += PROTO_EVIDENCE_MAX) {
			uint32_t left = pg->runs[i].count - f;
			struct proto_op op = {
				.kind = PROTO_OP_EVIDENCE, .view = proto_views[view],
				.range = { pg->runs[i].first + f,
					   left < PROTO_EVIDENCE_MAX ? left : PROTO_EVIDENCE_MAX, 1 },
			};

			add_op(p, k, ii, 0, &op);
		}
	}
}

/* protect, discard: the model page by page; the OS a run at a time. */
static void predict_range(struct play *p, size_t ii, const struct scenario_action *a, int k)
{
	static const enum model_protect prots[SCENARIO_PROTECT_COUNT] = {
		[SCENARIO_READONLY] = MODEL_READONLY, [SCENARIO_READWRITE] = MODEL_READWRITE,
		[SCENARIO_WRITECOPY] = MODEL_WRITECOPY, [SCENARIO_NOACCESS] = MODEL_NOACCESS,
	};
	static const enum proto_protect wire[SCENARIO_PROTECT_COUNT] = {
		[SCENARIO_READONLY] = PROTO_READONLY, [SCENARIO_READWRITE] = PROTO_READWRITE,
		[SCENARIO_WRITECOPY] = PROTO_WRITECOPY, [SCENARIO_NOACCESS] = PROTO_NOACCESS,
	};
	enum model_view mv = model_views[a->view];
	const struct scenario_pages *pg = p->items[ii].pg;

	FOR_PAGES(pg, page) {
		struct model_prediction m, r;

		if (a->op == SCENARIO_PROTECT) {
			m = model_protect(p->model, k, mv, page, prots[a->protect]);
			r = p->ref ? model_protect(p->ref, k, mv, page, prots[a->protect]) : m;
		} else {
			m = model_discard(p->model, k, mv, page);
			r = p->ref ? model_discard(p->ref, k, mv, page) : m;
		}
		p->items[ii].deviation |= !same(m, r);
		if (model_out_of_memory(m) || model_out_of_memory(r)) {
			p->nomem = true; /* the machine's, not a rule: see judge_item */
			return;
		}
		if (m.outcome != MODEL_OK) {
			/* a rule of the platform, the same for every page */
			p->items[ii].na = m.why;
			return;
		}
	}
	for (size_t i = 0; i < pg->nruns; i++) {
		struct proto_op op = {
			.kind = a->op == SCENARIO_PROTECT ? PROTO_OP_PROTECT : PROTO_OP_DISCARD,
			.view = proto_views[a->view],
			.range = { pg->runs[i].first, pg->runs[i].count, pg->runs[i].stride },
			.protect = wire[a->protect],
		};

		add_op(p, k, ii, 0, &op);
	}
}

static void predict_one(struct server *s, struct play *p, uint32_t j, int k, int lane,
			struct scenario_pages *own, int owner, bool split);

/* Participant k's part of action j, in client lane's part of the step: one
 * observation, or, under a check per client, one for each client whose
 * pages it names (in the order of the pages), each judged for that client. */
static void predict(struct server *s, struct play *p, uint32_t j, int k, int lane)
{
	const struct scenario_action *a = &p->sc.steps[p->step].actions[j];
	struct scenario_pages all, *own = NULL;

	if (a->rel.kind == SCENARIO_ABSOLUTE && !scenario_check_per_client(&p->sc, a->check)) {
		predict_one(s, p, j, k, lane, NULL, 0, false);
		return;
	}
	/* a client's map or unmap under a check per client: its own */
	if (a->op == SCENARIO_MAP || a->op == SCENARIO_UNMAP) {
		predict_one(s, p, j, k, lane, NULL, k, false);
		return;
	}
	/* its pages for this client; none ("near", one client): not done */
	scenario_pages_of(&p->sc, a, lane, &all);
	if (all.total == 0)
		return;
	if (!scenario_check_per_client(&p->sc, a->check)) {
		if ((own = malloc(sizeof(*own))) == NULL) {
			p->nomem = true;
			return;
		}
		*own = all;
		predict_one(s, p, j, k, lane, own, 0, false);
		return;
	}
	/* the pages of each client in turn (the reader made sure they are
	 * clients' own) */
	for (size_t r = 0; r < all.nruns;) {
		uint32_t f = all.runs[r].first;
		int owner = (int)((f - p->sc.before) / p->sc.each) + 1;
		uint32_t end = p->sc.before + (uint32_t)owner * p->sc.each;

		if ((own = calloc(1, sizeof(*own))) == NULL) {
			p->nomem = true;
			return;
		}
		while (r < all.nruns && all.runs[r].first < end && own->nruns < SCENARIO_RUNS_MAX) {
			struct scenario_run *x = &all.runs[r];
			/* its pages below `end`: this client's */
			uint32_t n = (end - 1 - x->first) / x->stride + 1;

			if (n > x->count)
				n = x->count;
			own->runs[own->nruns] = *x;
			own->runs[own->nruns].count = n;
			own->total += n;
			own->nruns++;
			if (n < x->count) { /* the rest of this run is the next client's */
				x->first += n * x->stride;
				x->count -= n;
				break;
			}
			r++;
		}
		predict_one(s, p, j, k, lane, own, owner, own->total != all.total);
	}
}

static void predict_one(struct server *s, struct play *p, uint32_t j, int k, int lane,
			struct scenario_pages *own, int owner, bool split)
{
	const struct scenario_action *a = &p->sc.steps[p->step].actions[j];
	struct item *it;
	size_t ii;
	struct model_prediction m;

	if ((it = item_new(p, j, k, (uint8_t)a->view)) == NULL) {
		free(own);
		return;
	}
	it->lane = lane;
	it->owner = owner;
	it->split = split;
	it->own_pg = own;
	it->pg = own != NULL ? own : &a->pages;
	ii = (size_t)(it - p->items);
	if (k > 0 && k <= SCENARIO_CLIENTS_MAX && p->unborn_na[k] != NULL) {
		it->na = p->unborn_na[k]; /* born of a fork this platform has not */
		if (a->op == SCENARIO_FORK)
			never_born(s, p, a->child, k, p->unborn_na[k], true);
		return;
	}
	if (gone(s, p, k)) {
		if (a->op == SCENARIO_FORK)
			never_born(s, p, a->child, k, "its parent was lost before it could fork",
				   false);
		it->st = OBS_UNPROVEN;
		snprintf(itext(&it->unproven), ITEM_TEXT, "client %d was lost before this "
			 "step: %.180s", k, gone_why(s, k));
		it->unanswered = true;
		it->lost_why = gone_why(s, k);
		return;
	}
	switch (a->op) {
	case SCENARIO_MAP:
	case SCENARIO_UNMAP: {
		struct proto_op op = { .kind = a->op == SCENARIO_MAP ? PROTO_OP_MAP : PROTO_OP_UNMAP,
				       .view = proto_views[a->view] };

		m = a->op == SCENARIO_MAP ? model_map(p->model, k, model_views[a->view]) :
					    model_unmap(p->model, k, model_views[a->view]);
		if (p->ref != NULL)
			(void)(a->op == SCENARIO_MAP ? model_map(p->ref, k, model_views[a->view]) :
			       model_unmap(p->ref, k, model_views[a->view]));
		if (m.outcome != MODEL_OK) {
			it->na = m.why; /* the file is checked: only the model's memory */
			return;
		}
		p->mapped[k][a->view] = a->op == SCENARIO_MAP;
		/* --cow-as-shared: a client maps its "copy-on-write" view shared,
		 * and the model, which is not told, must be seen to differ */
		op.as_shared = k > 0 && a->view == SCENARIO_VIEW_COW && s->opt.cow_as_shared;
		add_op(p, k, ii, 0, &op);
		return;
	}
	case SCENARIO_WRITE:
	case SCENARIO_READ:
		predict_words(p, ii, a, k);
		return;
	case SCENARIO_PROTECT:
	case SCENARIO_DISCARD:
		predict_range(p, ii, a, k);
		return;
	case SCENARIO_EVIDENCE:
		predict_evidence(s, p, ii, k, (uint8_t)a->view, p->items[ii].pg);
		return;
	case SCENARIO_FORK: {
		struct proto_op op = { .kind = PROTO_OP_FORK, .child = a->child };

		m = model_fork(p->model, k, a->child);
		if (p->ref != NULL)
			(void)model_fork(p->ref, k, a->child);
		if (m.outcome != MODEL_OK) {
			/* no fork here (Windows), or the model's memory */
			it->na = m.why;
			never_born(s, p, a->child, k, m.why, m.outcome == MODEL_NOT_APPLICABLE);
			return;
		}
		memcpy(p->mapped[a->child], p->mapped[k], sizeof(p->mapped[k]));
		if (p->addr != NULL)
			memcpy(p->addr[a->child], p->addr[k], sizeof(p->addr[k]));
		server_fork_sent(s, k, a->child);
		add_op(p, k, ii, 0, &op);
		return;
	}
	case SCENARIO_OP_COUNT:
		return;
	}
}

/* The page map: the OS's own evidence of every view a participant wrote,
 * protected or discarded in the step, at most MAP_PAGES pages from the
 * first it touched. */
static void add_maps(struct server *s, struct play *p, int k, int lane)
{
	const struct scenario_step *st = &p->sc.steps[p->step];

	for (uint8_t v = 0; v < SCENARIO_VIEW_COUNT; v++) {
		uint32_t lo = UINT32_MAX;
		struct scenario_pages pg;
		struct item *it;

		if (gone(s, p, k) || !p->mapped[k][v] || p->sc.no_page_maps)
			continue;
		for (size_t j = 0; j < st->nactions; j++) {
			const struct scenario_action *a = &st->actions[j];
			struct scenario_pages ap;

			if (!scenario_in_lane(a, k, lane) || a->view != v ||
			    (a->op != SCENARIO_WRITE && a->op != SCENARIO_PROTECT &&
			     a->op != SCENARIO_DISCARD))
				continue;
			scenario_pages_of(&p->sc, a, lane, &ap);
			if (ap.nruns > 0 && ap.runs[0].first < lo)
				lo = ap.runs[0].first;
		}
		if (lo == UINT32_MAX)
			continue;
		uint32_t n = p->sc.pages - lo < MAP_PAGES ? p->sc.pages - lo : MAP_PAGES;

		if (k == 0 && lane > 0) {
			/* the server's "each": that client's pages alone, so
			 * that each client's part of the step has its map */
			lo = p->sc.before + (uint32_t)(lane - 1) * p->sc.each;
			n = p->sc.each < MAP_PAGES ? p->sc.each : MAP_PAGES;
		} else if (p->sc.pages <= MAP_PAGES) {
			lo = 0; /* the whole section */
			n = p->sc.pages;
		}
		memset(&pg, 0, sizeof(pg));
		pg.nruns = 1;
		pg.runs[0].first = lo;
		pg.runs[0].count = n;
		pg.runs[0].stride = 1;
		pg.total = pg.runs[0].count;
		if ((it = item_new(p, NOT_AN_ACTION, k, v)) != NULL)
			predict_evidence(s, p, (size_t)(it - p->items), k, v, &pg);
	}
}

/* ---- the steps ---- */

static void part_reset(struct part *pt)
{
	for (size_t i = 0; pt->rec != NULL && i < pt->nops; i++)
		op_record_free(&pt->rec[i]);
	free(pt->rec);
	pt->rec = NULL;
	pt->nops = pt->answered = pt->out_end = 0;
	/* its operations too: 100 000 clients' lists are what is between
	 * their steps */
	free(pt->ops);
	free(pt->meta);
	pt->ops = NULL;
	pt->meta = NULL;
	pt->cap = 0;
}

static void items_reset(struct play *p)
{
	for (size_t i = 0; i < p->nitems; i++) {
		free(p->items[i].own_pg);
		free(p->items[i].cls);
		free(p->items[i].pred_ev);
		free(p->items[i].seen_ev);
		free(p->items[i].prior);
		free(p->items[i].said);
		free(p->items[i].differs);
		free(p->items[i].unproven);
		free(p->items[i].you_text);
	}
	p->nitems = 0;
}

/* The pages the server's own operation read or wrote, let go once done
 * (section_release): the server's resident memory stays its bookkeeping,
 * whatever the section's size (docs/design.md). The kernel maps the pages
 * around a faulting one too (up to 16, in a window aligned by address, on
 * Linux: fault-around), so the 16 pages on each side go too; never a page of
 * its copy-on-write view that holds a copy of its own, which would be
 * lost. */
#define FAULT_AROUND 16

/* Lets go of the pages gathered for view v: one call for many operations'
 * pages (each release of a view the server shares with its starter thread
 * costs the other CPU a TLB flush) */
static void release_flush(struct play *p, int v)
{
	void *view = p->agent.view[v];
	uint64_t run = UINT64_MAX, lo = p->release[v].lo, hi = p->release[v].hi;

	p->release[v].lo = p->release[v].hi = 0;
	if (view == NULL || hi <= lo)
		return;
	for (uint64_t page = lo; page <= hi; page++) {
		bool keep = page == hi ||
			    (v == PROTO_VIEW_COW && model_is_copy(p->model, 0, MODEL_COW, page));

		if (!keep && run == UINT64_MAX)
			run = page;
		if (keep && run != UINT64_MAX) {
			section_release(p->agent.section, view, run, page - run);
			run = UINT64_MAX;
		}
	}
}

static void let_go(struct play *p, const struct proto_op *op)
{
	uint64_t lo, hi;
	int v = (int)op->view;

	if (op->kind == PROTO_OP_MAP || op->kind == PROTO_OP_UNMAP) {
		release_flush(p, v); /* while its pages are where they were */
		return;
	}
	if (p->agent.view[v] == NULL || op->range.count == 0 ||
	    (op->view != PROTO_VIEW_RW && op->view != PROTO_VIEW_COW) ||
	    (op->kind != PROTO_OP_EXPECT && op->kind != PROTO_OP_FIND &&
	     op->kind != PROTO_OP_WRITE))
		return;
	lo = op->range.first > FAULT_AROUND ? op->range.first - FAULT_AROUND : 0;
	hi = proto_range_page(&op->range, op->range.count - 1) + FAULT_AROUND;
	if (hi > p->sc.pages)
		hi = p->sc.pages;
	/* gathered while it touches what is gathered, up to a window */
	if (p->release[v].hi > p->release[v].lo) {
		uint64_t a = p->release[v].lo < lo ? p->release[v].lo : lo;
		uint64_t b = p->release[v].hi > hi ? p->release[v].hi : hi;

		if (lo <= p->release[v].hi && hi >= p->release[v].lo && b - a <= 2 * RELEASE_PAGES) {
			p->release[v].lo = a;
			p->release[v].hi = b;
			if (b - a >= RELEASE_PAGES)
				release_flush(p, v);
			return;
		}
		release_flush(p, v);
	}
	p->release[v].lo = lo;
	p->release[v].hi = hi;
}

/* The server's own operations, done here and now. */
static void act_locally(struct play *p)
{
	struct part *pt = &p->parts[0];
	struct proto_op_result *res = malloc(sizeof(*res));

	for (size_t i = 0; i < pt->nops; i++) {
		if (res == NULL) {
			pt->rec[i].ok = false;
			continue;
		}
		if (pt->ops[i].kind == PROTO_OP_MAP || pt->ops[i].kind == PROTO_OP_UNMAP)
			let_go(p, &pt->ops[i]); /* what is gathered, before the view moves */
		ops_run(&p->agent, &pt->ops[i], res);
		if (op_record_take(&pt->rec[i], res) != 0)
			p->nomem = true;
		evidence_free(&res->evidence);
		if (pt->ops[i].kind != PROTO_OP_MAP && pt->ops[i].kind != PROTO_OP_UNMAP)
			let_go(p, &pt->ops[i]);
	}
	pt->answered = pt->out_end = pt->nops;
	free(res);
}

/* The most a result of an operation can take in its message, roughly:
 * what a batch is held to, so that its results fit CHANNEL_MSG_MAX. */
#define RESULT_BUDGET (CHANNEL_MSG_MAX - 8192)

static size_t result_cost(const struct proto_op *op)
{
	switch (op->kind) {
	case PROTO_OP_EVIDENCE:
		/* the page string, and four sources with their notes */
		return (size_t)op->range.count + 4 * (EVIDENCE_NOTE_MAX + 64) + EVIDENCE_NOTE_MAX + 200;
	case PROTO_OP_EXPECT:
	case PROTO_OP_FIND:
		return PROTO_SAMPLES_MAX * 28 + PROTO_TEXT_MAX + 100;
	default:
		return PROTO_TEXT_MAX * 2 + 200;
	}
}

static void send_next(struct server *s, struct play *p, int k)
{
	struct part *pt = &p->parts[k];
	struct client_state *c = &s->clients[k - 1];
	struct proto_run run;

	if (c->lost || c->conn == NULL || c->waiting || pt->out_end == pt->nops ||
	    pt->answered < pt->out_end)
		return;
	memset(&run, 0, sizeof(run));
	run.seq = pt->sent++;
	/* at most 64 operations, and no more than their results can say in
	 * one message: evidence a character a page, a sample a mismatch */
	for (size_t i = pt->out_end, budget = 0; i < pt->nops && run.nops < PROTO_OPS_MAX; i++) {
		size_t cost = result_cost(&pt->ops[i]);

		if (run.nops > 0 && budget + cost > RESULT_BUDGET)
			break;
		budget += cost;
		run.ops[run.nops++] = pt->ops[i];
	}
	run.last = c->no_verdict && !s->opt.hold && !s->keep_clients &&
		   p->lane_at[k] == p->last_step[k] &&
		   pt->out_end + run.nops == pt->nops;
	pt->seq = run.seq;
	pt->last = run.last;
	pt->out_end += run.nops;
	server_send(s, c, &run);
}

/* Makes the items of b (of step `step`) the ones at hand (p->items),
 * putting back those at hand where they belong. */
static void hold(struct play *p, struct stepbuf *b, int step)
{
	if (p->hand != NULL) {
		p->hand->items = p->items;
		p->hand->nitems = p->nitems;
		p->hand->icap = p->icap;
	}
	p->hand = b;
	p->step = step;
	p->items = b->items;
	p->nitems = b->nitems;
	p->icap = b->icap;
}

/* A lane's items of step i, judged: counted for the step, then kept
 * until the step is printed, or let go. */
static void flush_lane(struct play *p, int k, int i)
{
	struct stepbuf *to = &p->bufs[i];
	struct stepcount *c = &p->counts[i];

	hold(p, &p->lbufs[k], i);
	for (size_t j = 0; j < p->nitems; j++) {
		c->n[p->items[j].st]++;
		if (p->items[j].action != NOT_AN_ACTION) {
			c->all_na = (c->actions ? c->all_na : true) && p->items[j].st == OBS_NA;
			c->actions = true;
			if (c->na == NULL && p->items[j].na != NULL)
				c->na = p->items[j].na;
		}
	}
	if (p->keep && p->nitems > 0) {
		if (to->nitems + p->nitems > to->icap) {
			size_t cap = (to->nitems + p->nitems) * 2;
			struct item *m = realloc(to->items, cap * sizeof(*m));

			if (m == NULL) {
				p->nomem = true;
				items_reset(p);
				return;
			}
			to->items = m;
			to->icap = cap;
		}
		memcpy(to->items + to->nitems, p->items, p->nitems * sizeof(*p->items));
		to->nitems += p->nitems;
		p->nitems = 0; /* moved: what they hold is the step's now */
	} else {
		items_reset(p);
	}
	free(p->items);
	p->items = NULL;
	p->icap = 0;
}

static void judge_item(struct server *s, struct play *p, struct item *it);
static void tally(struct play *p, const struct item *it);
static void note_failed_ops(struct server *s, struct play *p, int k);

/* Judges and counts participant k's items of the step at hand from item
 * `from` on. */
static void mark_pages(struct play *p, const struct item *it);

/* An observation not made: which of its operations was not answered, or
 * failed, first (for the words of its check: not_observed). */
static void bad_op(const struct play *p, struct item *it)
{
	const struct part *pt = &p->parts[it->who];

	if (it->st != OBS_UNPROVEN)
		return;
	for (size_t i = it->op0; i < it->op0 + it->nops; i++) {
		if (i >= pt->answered || pt->rec == NULL || !pt->rec[i].ok) {
			it->bad_op = (int32_t)i;
			it->bad_kind = (uint8_t)pt->ops[i].kind;
			it->unanswered = i >= pt->answered;
			return;
		}
	}
}

static void html_take(const struct play *p, const struct item *it);

static void judge_from(struct server *s, struct play *p, size_t from, int k)
{
	for (size_t i = from; i < p->nitems; i++) {
		if (p->items[i].who != k)
			continue;
		judge_item(s, p, &p->items[i]);
		if (p->html != NULL)
			html_take(p, &p->items[i]);
		bad_op(p, &p->items[i]);
		tally(p, &p->items[i]);
		mark_pages(p, &p->items[i]);
	}
}

/* Begins step i of a client's lane (k > 0), or the server's other actions
 * of step i (k 0): predicts them, the server does its part at once and is
 * judged, the client is sent its own. */
static void begin_lane(struct server *s, struct play *p, int i, int k)
{
	const struct scenario_step *st = &p->sc.steps[i];

	hold(p, &p->lbufs[k], i);
	if (i + 1 > p->begun)
		p->begun = i + 1;
	for (uint32_t j = 0; j < st->nactions; j++)
		if (scenario_in_lane(&st->actions[j], 0, k))
			predict(s, p, j, 0, k);
	/* a client that never came does nothing: nothing of its is predicted
	 * (the section holds none of its writes) and nothing is observed */
	/* (a child of a fork that will not be born: each action says why) */
	bool acting = k > 0 && (admitted(s, k) || (k > s->opt.clients && gone(s, p, k)));

	for (uint32_t j = 0; acting && j < st->nactions; j++)
		if (acts(&st->actions[j], k))
			predict(s, p, j, k, k);
	/* a client that never came forks nobody: its children are lost, and
	 * their actions not proven, rather than waited for */
	for (uint32_t j = 0; k > 0 && !acting && gone(s, p, k) && j < st->nactions; j++)
		if (st->actions[j].op == SCENARIO_FORK && acts(&st->actions[j], k))
			never_born(s, p, st->actions[j].child, k, "its parent never came", false);
	add_maps(s, p, 0, k);
	if (k > 0 && admitted(s, k))
		add_maps(s, p, k, k);
	for (int w = 0; w < (k > 0 ? 2 : 1); w++) { /* the server's part, and the client's */
		struct part *pt = &p->parts[w == 0 ? 0 : k];

		if (pt->nops > 0 && (pt->rec = calloc(pt->nops, sizeof(*pt->rec))) == NULL) {
			p->nomem = true;
			pt->nops = 0;
		}
	}
	act_locally(p);
	judge_from(s, p, 0, 0);
	part_reset(&p->parts[0]);
	if (k == 0) {
		flush_lane(p, 0, i);
		p->glob_done = i + 1;
		return;
	}
	p->lane_at[k] = i;
	if (!gone(s, p, k))
		send_next(s, p, k);
}

/* A client's step is answered (or the client is gone): judge it. */
static void end_lane(struct server *s, struct play *p, int k)
{
	int i = p->lane_at[k];

	hold(p, &p->lbufs[k], i);
	judge_from(s, p, 0, k);
	note_failed_ops(s, p, k);
	part_reset(&p->parts[k]);
	flush_lane(p, k, i);
	p->lane_done[k] = i + 1;
	p->done_count[i]++;
	p->lane_at[k] = -1;
}

static bool lane_ready(const struct server *s, const struct play *p, int k)
{
	int i = p->lane_done[k];

	/* a client not admitted yet waits (once admission is over, one that
	 * never came goes through its steps unproven) */
	/* (a child of a fork goes through the steps before its birth, in
	 * which it has nothing to do, and then waits to be born) */
	if (p->lane_at[k] >= 0 || i >= (int)p->sc.nsteps || p->glob_done < i ||
	    (!admitted(s, k) && !gone(s, p, k) &&
	     (k <= s->opt.clients || i > p->sc.born_in[k])) ||
	    (p->stepping && i >= p->gate))
		return false;
	for (int j = k - p->width[i] < 1 ? 1 : k - p->width[i];
	     j <= k + p->width[i] && j <= p->sc.clients; j++)
		if (p->lane_done[j] < i)
			return false;
	return true;
}

/* Whether the server's other actions of its next step may go: every
 * client has finished the step before, where the step waits for them. */
static bool global_ready(const struct play *p)
{
	int i = p->glob_done;

	if (i >= (int)p->sc.nsteps || (p->stepping && i >= p->gate))
		return false;
	return !p->glob_waits[i] || i == 0 || p->done_count[i - 1] == p->sc.clients;
}

static bool step_whole(const struct play *p, int i)
{
	return p->glob_done > i && p->done_count[i] == p->sc.clients;
}

static int item_order(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	if (a->who != b->who)
		return a->who < b->who ? -1 : 1;
	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	if (a->lane != b->lane)
		return a->lane < b->lane ? -1 : 1;
	if (a->view != b->view)
		return a->view < b->view ? -1 : 1;
	return (a->ev_first > b->ev_first) - (a->ev_first < b->ev_first);
}

static void print_step_of(struct play *p, int i);
static void step_pause(struct server *s, struct play *p);

/* Lane k may move: its answer came, it was admitted or lost, or a
 * lane it waits for moved. */
static void wake(struct play *p, int k)
{
	if (k >= 1 && k <= p->sc.clients && !p->queued[k]) {
		p->queued[k] = true;
		p->queue[p->nqueue++] = k;
	}
}

/* Moves every lane that can, one event at a time: a lane that ends its
 * step wakes the lanes within the widest width of it (they may wait for it), the
 * server's other actions wake every lane, so that an event costs what it
 * touches, not the number of clients. */
static void machine(struct server *s, struct play *p)
{
	if (!p->started) {
		/* not begun once the run is interrupted; clients are not waited
		 * for: each begins as it is admitted (lane_ready) */
		if (s->report.interrupted[0] != '\0')
			return;
		p->started = true;
		p->wake_all = true;
	}
	for (;;) {
		if (p->wake_all) {
			p->wake_all = false;
			for (int k = 1; k <= p->sc.clients; k++)
				wake(p, k);
		}
		while (p->nqueue > 0) {
			int k = p->queue[--p->nqueue];

			p->queued[k] = false;
			if (p->lane_at[k] >= 0) {
				if (!gone(s, p, k))
					send_next(s, p, k);
				if (gone(s, p, k) || p->parts[k].answered == p->parts[k].nops) {
					end_lane(s, p, k);
					for (int j = k - p->width_max; j <= k + p->width_max; j++)
						wake(p, j);
				}
			}
			/* once interrupted, nothing more is begun */
			if (s->report.interrupted[0] == '\0' && lane_ready(s, p, k)) {
				begin_lane(s, p, p->lane_done[k], k);
				wake(p, k);
			}
		}
		while (p->printed < (int)p->sc.nsteps && step_whole(p, p->printed))
			print_step_of(p, p->printed++);
		if (s->report.interrupted[0] != '\0' || !global_ready(p))
			break;
		begin_lane(s, p, p->glob_done, 0);
		p->wake_all = true;
	}
	step_pause(s, p);
}

/* How far each step reaches: the clients whose own pages a lane's actions
 * in it touch (or, the server's "each", those on its pages), R[i]. A lane's
 * step i then waits for the lanes within R[i] + max(R[a], a < i) of it to
 * have finished step i - 1: two accesses of one page in steps a < i, by
 * lanes j and k, are at most R[a] + R[i] apart (p->width). A write of a page
 * that is no client's own, or any page when the section is not laid out by
 * client, may be read by anyone: then every step waits for every client.
 * Returns false for that. */
static bool step_reach(const struct play *p, int *reach)
{
	const struct scenario *sc = &p->sc;
	uint64_t lo = sc->before, hi = (uint64_t)sc->before + (uint64_t)sc->each * sc->clients;

	/* with forks, relatives share copies wherever they are: what one
	 * sees of its view (smaps' counts are the whole view's) depends on
	 * every other's step before */
	if (sc->forks > 0)
		return false;

	for (size_t i = 0; i < sc->nsteps; i++) {
		reach[i] = 0;
		for (size_t j = 0; j < sc->steps[i].nactions; j++) {
			const struct scenario_action *a = &sc->steps[i].actions[j];
			bool writes = a->op == SCENARIO_WRITE;

			for (int k = 1; k <= sc->clients; k++) {
				struct scenario_pages pg;

				/* past 64 clients, those in the middle are alike (the
				 * file reaches at most 15 on each side): the first 64
				 * and the last 64 say it */
				if (k > 64 && k <= sc->clients - 64)
					k = sc->clients - 64 + 1;
				if (!scenario_in_lane(a, k, k) && !scenario_in_lane(a, 0, k))
					continue;
				scenario_pages_of(sc, a, k, &pg);
				for (size_t r = 0; r < pg.nruns; r++) {
					uint64_t f = pg.runs[r].first;
					uint64_t e = (uint64_t)scenario_run_last(&pg.runs[r]) + 1;

					if (sc->each == 0 || f < lo || e > hi) {
						if (writes)
							return false;
						if (f >= hi || e <= lo)
							continue;
						f = f < lo ? lo : f;
						e = e > hi ? hi : e;
					}
					int a0 = (int)((f - lo) / sc->each) + 1;
					int a1 = (int)((e - 1 - lo) / sc->each) + 1;
					int d = k - a0 > a1 - k ? k - a0 : a1 - k;

					if (d > reach[i])
						reach[i] = d;
				}
			}
		}
	}
	return true;
}

/* ---- --step: a pause before each step ---- */

#define STEP_POLL_MS 100   /* how often a pause looks for Enter */

static void wrap(FILE *f, int first, const char *text, int rest);
static void whos_text(const int *who, size_t n, char *buf, size_t cap);
static void action_text(const struct play *p, const struct scenario_action *a,
			const struct scenario_pages *pg, char *buf, size_t cap);
#define STEP_SHOWN 8       /* participants and actions shown in full */

/* Action a of participant k on its pages for lane, tried on model m (a
 * copy: the step in the file's order), and when buf is given, what the
 * model says it does, page by page, runs of the same in one: "pages 0-7:
 * the stamp of the server". */
static void step_try(struct play *p, struct model *m, const struct scenario_action *a, int k,
		     int lane, char *buf, size_t cap)
{
	static const enum model_protect prots[SCENARIO_PROTECT_COUNT] = {
		[SCENARIO_READONLY] = MODEL_READONLY, [SCENARIO_READWRITE] = MODEL_READWRITE,
		[SCENARIO_WRITECOPY] = MODEL_WRITECOPY, [SCENARIO_NOACCESS] = MODEL_NOACCESS,
	};
	static const char *const effect[] = {
		[MODEL_WOULD_BE_REFUSED] = "refused: the view is not mapped",
		[MODEL_WOULD_FAULT] = "a fault, nothing written",
		[MODEL_WOULD_COPY] = "a private copy made now",
		[MODEL_WOULD_WRITE_COPY] = "into its copy, made before",
		[MODEL_WOULD_WRITE_SECTION] = "through to the section",
	};
	struct scenario_pages pg;
	char last[64] = "", now[64];
	uint64_t from = 0, prev = 0;
	uint32_t n = 0;
	enum model_view mv = model_views[a->view];
	struct proto_op tmpl = { .view = proto_views[a->view], .offset = a->offset };

	if (buf != NULL)
		buf[0] = '\0';
	if (a->op == SCENARIO_MAP || a->op == SCENARIO_UNMAP) {
		(void)(a->op == SCENARIO_MAP ? model_map(m, k, mv) : model_unmap(m, k, mv));
		return;
	}
	if (a->op == SCENARIO_FORK) {
		struct model_prediction f = model_fork(m, k, a->child);

		if (buf != NULL && f.outcome == MODEL_OK)
			snprintf(buf, cap, "client %d is born with its views; each copy it holds is "
				 "then one page the two share, until one of them writes it",
				 a->child);
		else if (buf != NULL)
			snprintf(buf, cap, "%s", f.why != NULL ? f.why : "refused");
		return;
	}
	scenario_pages_of(&p->sc, a, lane, &pg);
	write_word(p, a, k, &tmpl);
	FOR_PAGES(&pg, page) {
		now[0] = '\0';
		if (a->op == SCENARIO_READ) {
			struct model_prediction r = model_read(m, k, mv, page, a->offset);

			if (r.outcome == MODEL_FAULTS)
				snprintf(now, sizeof(now), "a fault");
			else if (r.outcome != MODEL_OK)
				snprintf(now, sizeof(now), "refused (%s)", r.why ? r.why : "");
			else if ((r.word ^ pattern_value(p->agent.seed, page, a->offset)) ==
				 model_stamp(k))
				snprintf(now, sizeof(now), "its own stamp");
			else
				word_text(p, page, a->offset, r.word, now, sizeof(now));
		} else if (a->op == SCENARIO_WRITE) {
			enum model_write_effect w = model_write_would(m, k, mv, page);

			/* a copy shared with fork relatives is copied again */
			snprintf(now, sizeof(now), "%s", w == MODEL_WOULD_COPY &&
				 model_copy_relatives(m, k, mv, page) != 0 ?
				 "copied again, from the copy it shares" : effect[w]);
			(void)model_write(m, k, mv, page, a->offset,
					  proto_op_word(&tmpl, p->agent.seed, page));
		} else if (a->op == SCENARIO_PROTECT) {
			(void)model_protect(m, k, mv, page, prots[a->protect]);
		} else if (a->op == SCENARIO_DISCARD) {
			(void)model_discard(m, k, mv, page);
		}
		if (buf == NULL || now[0] == '\0')
			continue;
		if (n > 0 && strcmp(now, last) == 0 && page == prev + 1) {
			prev = page;
			continue;
		}
		if (n > 0 && n <= 64) {
			if (prev == from)
				appendf(buf, cap, "%spage %llu: %s", buf[0] ? "; " : "",
					(unsigned long long)from, last);
			else
				appendf(buf, cap, "%spages %llu-%llu: %s", buf[0] ? "; " : "",
					(unsigned long long)from, (unsigned long long)prev, last);
		}
		snprintf(last, sizeof(last), "%s", now);
		from = prev = page;
		n++;
	}
	if (buf == NULL || n == 0)
		return;
	if (n > 64)
		appendf(buf, cap, "%s...", buf[0] ? "; " : "");
	else if (prev == from)
		appendf(buf, cap, "%spage %llu: %s", buf[0] ? "; " : "", (unsigned long long)from,
			last);
	else
		appendf(buf, cap, "%spages %llu-%llu: %s", buf[0] ? "; " : "",
			(unsigned long long)from, (unsigned long long)prev, last);
}

/* The commands that show a view of process pid at addr for yourself. */
static void step_look(FILE *f, long pid, uint64_t addr, uint64_t pages, uint32_t page_size,
		      bool windows)
{
	char line[400];

	if (windows) {
		snprintf(line, sizeof(line), "VMMap (vmmap.exe -p %ld) or System Informer "
			 "(process %ld, Memory) at 0x%llx", pid, pid, (unsigned long long)addr);
		wrap(f, 6, line, 8);
		return;
	}
	fprintf(f, "      pmap -X %ld\n", pid);
	fprintf(f, "      grep -A 24 '^%08llx' /proc/%ld/smaps\n", (unsigned long long)addr, pid);
	fprintf(f, "      od -An -tx8 -j $((0x%llx/%u*8)) -N %llu /proc/%ld/pagemap\n",
		(unsigned long long)addr, page_size, (unsigned long long)(pages < 64 ? pages : 64) * 8,
		pid);
}

/* One participant: its pid, where each of its views is, and the commands
 * to look at its copy-on-write view (else the first it has). */
static void step_participant(struct server *s, struct play *p, FILE *f, int k, bool windows)
{
	static const int order[] = { PROTO_VIEW_COW, PROTO_VIEW_RW, PROTO_VIEW_RO };
	uint64_t size = (uint64_t)p->sc.pages * p->agent.page_size, look = 0;
	char who[24];
	long pid = k == 0 ? platform_pid() : admitted(s, k) ? s->clients[k - 1].pid : 0;

	who_text(k, who, sizeof(who));
	if (k > 0 && (!admitted(s, k) || s->clients[k - 1].lost)) {
		if (!admitted(s, k) && s->clients[k - 1].fork_state == FORK_MADE)
			fprintf(f, "    %s: born of client %d's fork (pid %ld), joining\n", who,
				s->clients[k - 1].fork_parent, s->clients[k - 1].fork_pid);
		else
			fprintf(f, "    %s: %s\n", who, admitted(s, k) ? "lost" :
				k <= s->opt.clients ? "never came" : gone(s, p, k) ? "never born" :
				"not born yet (a fork makes it)");
		return;
	}
	fprintf(f, "    %s, pid %ld\n", who, pid);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int v = order[i];
		uint64_t at = k == 0 ? (uint64_t)(uintptr_t)p->agent.view[v] : p->addr[k][v];

		if (at == 0)
			continue;
		fprintf(f, "      %-3s 0x%llx-0x%llx\n", proto_view_name((enum proto_view)v),
			(unsigned long long)at, (unsigned long long)(at + size));
		if (look == 0)
			look = at;
	}
	if (look == 0)
		fprintf(f, "      no view mapped\n");
	else
		step_look(f, pid, look, p->sc.pages, p->agent.page_size, windows);
}

/* "going on in 50 ms, or at Enter, or with: kill -USR1 1234" */
static void say_how_to_go_on(const struct server *s, FILE *f, const char *what, int ms)
{
	char how[160], line[300];

	step_signal_how(s->opt.name, platform_pid(), how, sizeof(how));
	if (ms >= 0)
		snprintf(line, sizeof(line), "%s in %d ms, or at Enter, or with: %s", what, ms, how);
	else
		snprintf(line, sizeof(line), "%s at Enter, or with: %s", what, how);
	wrap(f, 2, line, 4);
	fflush(f);
}

/* Paused before step p->gate: what comes, what the model predicts, the
 * copies the model says each participant holds, where every view is, and
 * how to go on. On stderr: the run's own output stays what it is. */
static void step_print(struct server *s, struct play *p)
{
	const struct scenario_step *st = &p->sc.steps[p->gate];
	bool windows = strcmp(s->report.platform.os, "Windows") == 0;
	struct model *m = NULL;
	FILE *f = stderr;
	char line[600], how[160], whos[240];
	int shown = 0;

	fflush(stdout);
	if (st->name[0] != '\0')
		snprintf(line, sizeof(line), "cowlab-server: paused before step %d of %zu (\"%s\")",
			 p->gate + 1, p->sc.nsteps, st->name);
	else
		snprintf(line, sizeof(line), "cowlab-server: paused before step %d of %zu",
			 p->gate + 1, p->sc.nsteps);
	wrap(f, 0, line, 2);
	wrap(f, 2, st->say, 2);
	fprintf(f, "  the model predicts:\n");
	if (model_clone(p->model, &m) != 0)
		m = NULL;
	for (size_t j = 0; m != NULL && j < st->nactions; j++) {
		const struct scenario_action *a = &st->actions[j];
		int who[3], n = 0, first = -1, lane = -1, count = 0;
		char pred[400] = "";

		/* every participant's part tried in the file's order; the first
		 * one's said */
		for (int k = 0; k <= p->sc.clients; k++) {
			if (!acts(a, k))
				continue;
			count++;
			if (n < 3)
				who[n++] = k;
			for (int l = 1; k == 0 && a->rel.kind == SCENARIO_EACH && l <= p->sc.clients;
			     l++) {
				step_try(p, m, a, 0, l, first < 0 ? pred : NULL, sizeof(pred));
				if (first < 0)
					first = 0, lane = 1;
			}
			if (k == 0 && a->rel.kind == SCENARIO_EACH)
				continue;
			step_try(p, m, a, k, k, first < 0 ? pred : NULL, sizeof(pred));
			if (first < 0)
				first = k, lane = k;
		}
		if (first < 0 || ++shown > STEP_SHOWN * 2)
			continue;
		whos_text(who, (size_t)n, whos, sizeof(whos));
		if (count > n)
			appendf(whos, sizeof(whos), " and %d more", count - n);
		p->plural = count > 1;
		p->relative = a->rel_text[0] != '\0';
		{
			struct scenario_pages pg;

			scenario_pages_of(&p->sc, a, lane, &pg);
			action_text(p, a, &pg, how, sizeof(how));
		}
		snprintf(line, sizeof(line), "%s %s", whos, how);
		if (pred[0] != '\0' && count > 1) {
			char w1[24];

			who_text(first, w1, sizeof(w1));
			appendf(line, sizeof(line), " (%s: %s)", w1, pred);
		} else if (pred[0] != '\0') {
			appendf(line, sizeof(line), ": %s", pred);
		}
		wrap(f, 4, line, 6);
	}
	if (shown > STEP_SHOWN * 2)
		fprintf(f, "    and %d more actions\n", shown - STEP_SHOWN * 2);
	if (m == NULL)
		fprintf(f, "    (not said: the server is out of memory)\n");
	model_destroy(m);
	fprintf(f, "  private copies the model says each holds now:\n");
	shown = 0;
	for (int k = 0; k <= p->sc.clients && shown < STEP_SHOWN; k++) {
		uint64_t copies = 0, firstc = 0;

		if (!p->mapped[k][SCENARIO_VIEW_COW])
			continue;
		for (uint64_t page = 0; page < p->sc.pages; page++)
			if (model_is_copy(p->model, k, MODEL_COW, page) && copies++ == 0)
				firstc = page;
		who_text(k, whos, sizeof(whos));
		if (p->sc.pages <= 64) {
			char map[72];

			for (uint64_t page = 0; page < p->sc.pages; page++)
				map[page] = !model_is_copy(p->model, k, MODEL_COW, page) ? 's' :
					    model_copy_sharers(p->model, k, MODEL_COW, page) > 1 ?
					    EVIDENCE_PAGE_RELATIVE : EVIDENCE_PAGE_PRIVATE;
			map[p->sc.pages] = '\0';
			snprintf(line, sizeof(line), "%s cow 0-%u %s", whos, p->sc.pages - 1, map);
		} else {
			snprintf(line, sizeof(line), "%s: %llu of %u pages of its cow view", whos,
				 (unsigned long long)copies, p->sc.pages);
			if (copies > 0)
				appendf(line, sizeof(line), ", the first page %llu",
					(unsigned long long)firstc);
		}
		wrap(f, 4, line, 6);
		shown++;
	}
	if (shown == 0)
		fprintf(f, "    nobody has a copy-on-write view mapped\n");
	fprintf(f, "  where the views are (each %llu bytes):\n",
		(unsigned long long)p->sc.pages * p->agent.page_size);
	for (int k = 0; k <= p->sc.clients && k <= STEP_SHOWN; k++)
		step_participant(s, p, f, k, windows);
	if (p->sc.clients > STEP_SHOWN)
		fprintf(f, "    and %d more clients\n", p->sc.clients - STEP_SHOWN);
	say_how_to_go_on(s, f, "going on", s->opt.step_ms);
}

/* --hold: the private pages each participant holds, by the model (which
 * the run's evidence checks hold the OS to), and where. */
static void hold_print(struct server *s, struct play *p)
{
	bool windows = strcmp(s->report.platform.os, "Windows") == 0;
	uint32_t kib = p->agent.page_size / 1024;
	uint64_t total = 0;
	FILE *f = stderr;
	char line[700], who[24];

	fflush(stdout);
	fprintf(f, "cowlab-server: holding every process with its views mapped, after the "
		"last step\n");
	for (int k = 0; k <= p->sc.clients; k++) {
		uint64_t n = 0, at = k == 0 ? (uint64_t)(uintptr_t)p->agent.view[PROTO_VIEW_COW] :
					      p->addr[k][PROTO_VIEW_COW];
		long pid = k == 0 ? platform_pid() : admitted(s, k) ? s->clients[k - 1].pid : 0;
		int runs = 0;

		if ((k > 0 && (!admitted(s, k) || s->clients[k - 1].lost)) ||
		    !p->mapped[k][SCENARIO_VIEW_COW])
			continue;
		for (uint64_t page = 0; page < p->sc.pages; page++)
			n += model_is_copy(p->model, k, MODEL_COW, page);
		total += n;
		if (k > STEP_SHOWN)
			continue;
		who_text(k, who, sizeof(who));
		snprintf(line, sizeof(line), "%s, pid %ld: %llu private page%s (%llu KiB) in its "
			 "copy-on-write view", who, pid, (unsigned long long)n, text_s(n),
			 (unsigned long long)n * kib);
		if (at != 0)
			appendf(line, sizeof(line), " at 0x%llx", (unsigned long long)at);
		/* which: runs of pages, the first eight */
		for (uint64_t page = 0; n > 0 && page < p->sc.pages && runs < 8; page++) {
			uint64_t end = page;

			if (!model_is_copy(p->model, k, MODEL_COW, page))
				continue;
			while (end + 1 < p->sc.pages && model_is_copy(p->model, k, MODEL_COW, end + 1))
				end++;
			if (end == page)
				appendf(line, sizeof(line), "%s%llu", runs ? ", " : ": page ",
					(unsigned long long)page);
			else
				appendf(line, sizeof(line), "%s%llu-%llu", runs ? ", " : ": pages ",
					(unsigned long long)page, (unsigned long long)end);
			runs++;
			page = end;
		}
		if (runs == 8)
			appendf(line, sizeof(line), ", ...");
		wrap(f, 2, line, 4);
		if (at != 0 && !windows)
			fprintf(f, "    grep -A 24 '^%08llx' /proc/%ld/smaps\n", (unsigned long long)at,
				pid);
		else if (at != 0)
			step_look(f, pid, at, p->sc.pages, p->agent.page_size, true);
	}
	if (p->sc.clients > STEP_SHOWN)
		fprintf(f, "  and %d more clients; %llu private pages in all\n",
			p->sc.clients - STEP_SHOWN, (unsigned long long)total);
	wrap(f, 2, windows ? "Each is a page of the process's own, which VMMap counts as Private "
		 "and its Private Working Set includes; neither counts only these." :
		 "Each is an anonymous page of the process's own: the view's Anonymous in smaps "
		 "counts exactly these; its Private_Dirty may count more (section pages only this "
		 "process maps), and smaps_rollup, USS and Private_Dirty count the process's heap "
		 "and stack too.", 2);
	say_how_to_go_on(s, f, "letting go", s->opt.hold_ms);
}

/* With --step, pauses before step p->gate once everything before it is
 * done: before the first, once admission is over (everyone who will take
 * part is there); before any other, once the step before is whole. With
 * --hold, holds once the last step is whole. */
static void step_pause(struct server *s, struct play *p)
{
	if (s->opt.hold && !p->held && !p->paused && s->report.interrupted[0] == '\0' &&
	    !s->accepting && (!p->stepping || p->gate >= (int)p->sc.nsteps) &&
	    step_whole(p, (int)p->sc.nsteps - 1)) {
		(void)step_signal_take();
		hold_print(s, p);
		p->held = true;
		p->hold_until = s->opt.hold_ms >= 0 ? platform_now_ms() + s->opt.hold_ms :
						      INT64_MAX;
		return;
	}
	if (!p->stepping || p->paused || p->gate >= (int)p->sc.nsteps ||
	    s->report.interrupted[0] != '\0')
		return;
	if (p->gate == 0 ? s->accepting : !step_whole(p, p->gate - 1))
		return;
	/* a child of a fork on its way in is waited for: the pause shows it */
	for (int k = s->opt.clients + 1; k <= s->nslots; k++)
		if (s->clients[k - 1].id == 0 && (s->clients[k - 1].fork_state == FORK_SENT ||
						  s->clients[k - 1].fork_state == FORK_MADE))
			return;
	(void)step_signal_take(); /* one sent before the pause goes nowhere */
	step_print(s, p);
	p->paused = true;
	p->pause_until = s->opt.step_ms >= 0 ? platform_now_ms() + s->opt.step_ms : INT64_MAX;
}

/* ---- the plan ---- */

/* A client's own pages, of a section laid out by client; else the
 * section's. */
static void plan_place(const struct server *s, struct client_state *c)
{
	const struct scenario *sc = &s->play->sc;

	c->first_page = 0;
	c->page_count = s->pages;
	if (sc->each > 0 && c->id >= 1 && c->id <= sc->clients) {
		c->first_page = sc->before + (uint64_t)(c->id - 1) * sc->each;
		c->page_count = sc->each;
	}
}

static void plan_advance(struct server *s, const struct client_state *c);

/* In the report at once, in the order of ids; and its lane may begin. */
static void plan_admitted(struct server *s, struct client_state *c)
{
	struct report_client *rc;

	if (s->report.nclients == 0)
		(void)report_reserve_clients(&s->report, (size_t)s->opt.clients); /* best effort */
	if ((rc = report_add_client(&s->report, false)) != NULL) {
		rc->id = c->id;
		rc->pid = c->pid;
		rc->first_page = c->first_page;
		rc->page_count = c->page_count;
		rc->parent = c->fork_parent;
	}
	plan_advance(s, c);
}

static void plan_outstanding(const struct server *s, const struct client_state *c,
			     struct proto_run *run)
{
	const struct part *pt = &s->play->parts[c->id];

	memset(run, 0, sizeof(*run));
	run->seq = pt->seq;
	run->last = pt->last;
	for (size_t i = pt->answered; i < pt->out_end; i++)
		run->ops[run->nops++] = pt->ops[i];
}

static int plan_take(struct server *s, struct client_state *c, struct proto_result *res)
{
	struct part *pt = &s->play->parts[c->id];
	int err = COWLAB_OK;
	/* (a batch's forks, however many: each child's slot waits for its
	 * result, and one never told would hold the run for good) */
	struct fork_out { int child; long pid; char why[PROTO_TEXT_MAX]; } *forks = NULL;
	size_t nforks = 0;

	for (size_t i = 0; i < res->nresults && pt->answered + i < pt->nops; i++)
		nforks += pt->ops[pt->answered + i].kind == PROTO_OP_FORK;
	if (nforks > 0 && (forks = calloc(nforks, sizeof(*forks))) == NULL)
		return COWLAB_E_NOMEM; /* the client is dropped: its children with it */
	nforks = 0;

	for (size_t i = 0; i < res->nresults && pt->answered < pt->nops; i++) {
		const struct proto_op *op = &pt->ops[pt->answered];
		int e;

		/* a fork's child: admitted by the pid its parent names (once
		 * the whole result is kept) */
		if (op->kind == PROTO_OP_FORK) {
			forks[nforks].child = op->child;
			forks[nforks].pid = res->results[i].ok ? (long)res->results[i].pid : 0;
			snprintf(forks[nforks].why, sizeof(forks[nforks].why), "%s",
				 res->results[i].ok ? "" : res->results[i].error);
			nforks++;
		}
		e = op_record_take(&pt->rec[pt->answered++], &res->results[i]);
		if (e != 0)
			err = e;
		/* where its views are, for people to look (--step) */
		if (s->play->addr != NULL && res->results[i].ok && op->kind == PROTO_OP_MAP)
			s->play->addr[c->id][op->view] = res->results[i].address;
		if (s->play->addr != NULL && res->results[i].ok && op->kind == PROTO_OP_UNMAP)
			s->play->addr[c->id][op->view] = 0;
	}
	for (size_t i = 0; i < nforks; i++)
		server_fork_done(s, forks[i].child, forks[i].pid, forks[i].why);
	free(forks);
	return err;
}

static void plan_advance(struct server *s, const struct client_state *c)
{
	struct play *p = s->play;

	/* whose event: a client's (its answer, admission, loss), or every
	 * client's (admission is over) */
	if (c != NULL)
		wake(p, c->id);
	else
		p->wake_all = true;
	if (p->busy) {
		p->again = true;
		return;
	}
	p->busy = true;
	do {
		p->again = false;
		machine(s, p);
	} while (p->again);
	p->busy = false;
}

static bool plan_client_done(const struct server *s, const struct client_state *c)
{
	const struct play *p = s->play;
	int k = c->id, last = p->last_step[k];

	if (last < 0 || p->lane_done[k] > last)
		return true;
	return p->lane_at[k] == last && p->parts[k].answered == p->parts[k].nops;
}

static void plan_doing(const struct server *s, const struct client_state *c, char *buf,
		       size_t cap)
{
	const struct play *p = s->play;
	int i = p->lane_at[c->id] >= 0 ? p->lane_at[c->id] : p->lane_done[c->id];

	/* the client's own next step (the server's alone it does not
	 * answer), by its name when named, as the built-in run's: step
	 * "write" */
	for (bool mine = false; !mine && i < (int)p->sc.nsteps; i += !mine)
		for (size_t j = 0; !mine && j < p->sc.steps[i].nactions; j++)
			mine = acts(&p->sc.steps[i].actions[j], c->id);
	if (i >= (int)p->sc.nsteps)
		i = (int)p->sc.nsteps - 1;
	if (i < (int)p->sc.nsteps && p->sc.steps[i].name[0] != '\0')
		snprintf(buf, cap, "step \"%s\"", p->sc.steps[i].name);
	else
		snprintf(buf, cap, "step %d of %zu", i + 1, p->sc.nsteps);
}

static void plan_progress(const struct server *s, char *buf, size_t cap)
{
	const struct play *p = s->play;
	int i = p->printed < (int)p->sc.nsteps ? p->printed : (int)p->sc.nsteps - 1;

	snprintf(buf, cap, "step %d of %zu", i + 1, p->sc.nsteps);
}

/* --step: a paused run goes on at Enter, the step signal or --step-ms */
static int64_t plan_tick(struct server *s, int64_t now)
{
	struct play *p = s->play;

	if (p != NULL && p->held && !p->released) {
		if (s->report.interrupted[0] == '\0' && now < p->hold_until && !step_signal_take() &&
		    !step_enter_take())
			return p->hold_until < now + STEP_POLL_MS ? p->hold_until : now + STEP_POLL_MS;
		p->released = true;
		return INT64_MAX;
	}
	if (p == NULL || !p->paused)
		return INT64_MAX;
	if (s->report.interrupted[0] == '\0' && now < p->pause_until && !step_signal_take() &&
	    !step_enter_take())
		return p->pause_until < now + STEP_POLL_MS ? p->pause_until : now + STEP_POLL_MS;
	p->paused = false;
	p->gate++;
	plan_advance(s, NULL);
	return INT64_MAX;
}

static bool plan_holding(const struct server *s)
{
	const struct play *p = s->play;

	if (p == NULL || s->report.interrupted[0] != '\0')
		return false;
	if (s->opt.hold && !p->released)
		return true;
	/* a child of a fork on its way in has its steps still to do, though
	 * every client admitted has answered (its parent forked last) */
	for (int k = s->opt.clients + 1; k <= s->nslots; k++)
		if (s->clients[k - 1].id == 0 && (s->clients[k - 1].fork_state == FORK_SENT ||
						  s->clients[k - 1].fork_state == FORK_MADE))
			return true;
	return p->stepping && (p->paused || p->gate < (int)p->sc.nsteps);
}

/* The page map as the run goes (a live map on a terminal): as the
 * report's, for the pages of clients that have finished a step; a page of
 * a client that has not yet is '.'. */
static uint64_t plan_live_map(const struct server *s, char *buf, size_t cap)
{
	const struct play *p = s->play;
	uint32_t lo, hi;
	size_t n;

	if (cap > 0)
		buf[0] = '\0';
	if (p == NULL || p->sc.each == 0 || cap == 0)
		return 0;
	lo = p->sc.before;
	hi = p->sc.before + p->sc.each * (uint32_t)p->sc.clients;
	n = p->sc.pages < cap - 1 ? p->sc.pages : cap - 1;
	for (uint32_t page = 0; page < n; page++) {
		int k = page >= lo && page < hi ? (int)((page - lo) / p->sc.each) + 1 : 0;
		uint8_t b = p->pagebits[page];
		char c;

		if (k == 0)
			c = MAP_SERVER;
		else if (!admitted(s, k) || p->lane_done[k] < 1)
			c = MAP_UNUSED;
		else if (s->clients[k - 1].lost)
			c = MAP_UNKNOWN;
		else if (model_is_copy(p->model, k, MODEL_COW, page))
			c = MAP_COPY;
		else
			c = b & PB_WRITTEN ? MAP_RW : b & PB_FAULTED ? MAP_FAULT : MAP_TRACK;
		if (b & PB_UNPROVEN)
			c = MAP_UNKNOWN;
		if (b & PB_DIFFERS)
			c = MAP_BROKEN;
		buf[page] = c;
	}
	buf[n] = '\0';
	return p->sc.pages;
}

const struct plan play_plan = {
	.place = plan_place, .admitted = plan_admitted, .outstanding = plan_outstanding,
	.take = plan_take, .advance = plan_advance, .client_done = plan_client_done,
	.doing = plan_doing, .progress = plan_progress, .tick = plan_tick,
	.holding = plan_holding, .live_map = plan_live_map,
};

/* ---- judging ---- */

/* "page 5 faulted (SIGSEGV/SEGV_ACCERR)": the client's words for a fault
 * that ended an operation (client/ops.c, docs/protocol.md). Only the
 * access fault a protection raises counts (SIGSEGV; an access violation on
 * Windows: fault_protection_code's kind): a SIGBUS (the section's memory
 * could not be had) is the machine's, and leaves the operation failed. */
static bool faulted_page(const struct op_record *rec, uint64_t *page)
{
	unsigned long long pg;
	int n = 0;
	size_t kind = strcspn(fault_protection_code, "/");

	if (rec->ok || rec->error == NULL ||
	    sscanf(rec->error, "page %llu faulted (%n", &pg, &n) != 1 || n == 0 ||
	    strncmp(rec->error + n, fault_protection_code, kind) != 0 ||
	    (rec->error[n + kind] != '/' && rec->error[n + kind] != ')'))
		return false;
	*page = pg;
	return true;
}

static void worse(struct item *it, enum obs st)
{
	if (st > it->st)
		it->st = st;
}

static void differs(struct item *it, const char *fmt, ...) COWLAB_PRINTF(2, 3);

/* Adds a difference to the item's list (the first DIFFS_SHOWN). */
static void differs(struct item *it, const char *fmt, ...)
{
	char one[160];
	va_list ap;
	int shown = 0;

	worse(it, OBS_DIFFER);
	for (const char *c = T(it->differs); (c = strstr(c, "; ")) != NULL; c++)
		shown++;
	if (T(it->differs)[0] != '\0' && ++shown >= DIFFS_SHOWN) {
		if (strstr(it->differs, "; ...") == NULL)
			appendf(itext(&it->differs), ITEM_TEXT, "; ...");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	appendf(itext(&it->differs), ITEM_TEXT, "%s%s", T(it->differs)[0] ? "; " : "", one);
}

static void unproven(struct item *it, const char *fmt, ...) COWLAB_PRINTF(2, 3);

static void unproven(struct item *it, const char *fmt, ...)
{
	va_list ap;

	worse(it, OBS_UNPROVEN);
	if (T(it->unproven)[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(itext(&it->unproven), ITEM_TEXT, fmt, ap);
	va_end(ap);
	text_utf8_trim(itext(&it->unproven));
}

/* What the author said a page reads: false if nothing. */
static bool author_read(const struct play *p, const struct scenario_action *a, int k,
			uint64_t page, bool *fault, uint32_t *word)
{
	const struct scenario_value *v = NULL;

	for (size_t i = 0; i < a->expect.npages && v == NULL; i++)
		if (a->expect.pages[i].page == page)
			v = &a->expect.pages[i].value;
	if (v == NULL && a->expect.has_all)
		v = &a->expect.all;
	if (v == NULL)
		return false;
	*fault = v->kind == SCENARIO_FAULT;
	switch (v->kind) {
	case SCENARIO_WORD: *word = v->word; break;
	case SCENARIO_PATTERN: *word = pattern_value(p->agent.seed, page, a->offset); break;
	case SCENARIO_STAMP:
		*word = pattern_value(p->agent.seed, page, a->offset) ^
			model_stamp(v->stamp_of == SCENARIO_STAMP_OWN ? k : v->stamp_of);
		break;
	case SCENARIO_FAULT: *word = 0; break;
	}
	return true;
}

/* The author against the OS, one page at a time; known: whether the OS's
 * word (or fault) on that page is known. */
struct author {
	uint64_t right, wrong, unknown;
	char first[160];
};

static void author_page(const struct play *p, const struct scenario_action *a, int k,
			uint64_t page, bool known, bool fault, uint32_t word, struct author *au)
{
	bool said_fault = false;
	uint32_t said = 0;
	char w1[48], w2[48];

	if (a == NULL || !a->expect.given || a->op != SCENARIO_READ ||
	    !author_read(p, a, k, page, &said_fault, &said))
		return;
	if (!known) {
		au->unknown++;
		return;
	}
	if (said_fault == fault && (fault || said == word)) {
		au->right++;
		return;
	}
	if (au->wrong++ > 0)
		return;
	if (said_fault)
		snprintf(w1, sizeof(w1), "a fault");
	else
		word_text(p, page, a->offset, said, w1, sizeof(w1));
	if (fault)
		snprintf(w2, sizeof(w2), "a fault");
	else
		word_text(p, page, a->offset, word, w2, sizeof(w2));
	snprintf(au->first, sizeof(au->first), "page %llu: you said %s, it was %s",
		 (unsigned long long)page, w1, w2);
}

static void judge_read(struct server *s, struct play *p, struct item *it,
		       const struct scenario_action *a, struct author *au)
{
	const struct part *pt = &p->parts[it->who];

	/* operations never answered: the author's pages there were not seen */
	for (size_t i = pt->answered > it->op0 ? pt->answered : it->op0; i < it->op0 + it->nops;
	     i++)
		au->unknown += pt->ops[i].range.count;
	for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered; i++) {
		const struct proto_op *op = &pt->ops[i];
		const struct op_record *rec = &pt->rec[i];
		const struct cls *c = &it->cls[pt->meta[i].cls];
		uint64_t fp = 0;
		bool faulted = faulted_page(rec, &fp);
		char w1[48], w2[48];

		if (c->kind == K_FAULT) {
			uint64_t page = op->range.first;

			if (faulted && fp == page) {
				it->n_ok++;
				author_page(p, a, it->who, page, true, true, 0, au);
			} else if (rec->ok) {
				it->n_bad++;
				uint32_t got = rec->nsamples ? rec->samples[0].value :
					       pattern_value(p->agent.seed, page, op->offset);

				word_text(p, page, op->offset, got, w1, sizeof(w1));
				differs(it, "page %llu read %s; the model says it faults",
					(unsigned long long)page, w1);
				author_page(p, a, it->who, page, true, false, got, au);
			} else {
				unproven(it, "%.200s", rec->error ? rec->error : "the read failed");
				au->unknown += op->range.count; /* the author's: not seen */
			}
			continue;
		}
		if (!rec->ok) {
			if (faulted) {
				it->n_bad++;
				cls_text(p, c, w2, sizeof(w2));
				differs(it, "page %llu faulted; the model says it reads %s",
					(unsigned long long)fp, w2);
			} else {
				unproven(it, "%.200s", rec->error ? rec->error : "the read failed");
			}
			au->unknown += op->range.count; /* the author's: not seen */
			continue;
		}
		uint64_t before = 0; /* named pages that show the word before: as predicted */

		for (uint64_t n = 0, si = 0; n < op->range.count; n++) {
			uint64_t page = proto_range_page(&op->range, n);
			uint32_t want = proto_op_word(op, p->agent.seed, page), prior;

			if (si < rec->nsamples && rec->samples[si].page == page) {
				uint32_t got = rec->samples[si++].value;

				/* a write not seen done, even one of this batch
				 * before the read: the word before holds; a copy it
				 * may or may not have made is not known */
				if (copy_unknown(p, it->who, it->view, page)) {
					before++; /* (not a difference: counted as neither) */
					char why[120];

					copy_unknown_why(p, it->who, it->view, page, why, sizeof(why));
					unproven(it, "page %llu may or may not be a copy of its own: %s",
						 (unsigned long long)page, why);
					continue;
				}
				/* the section's word only: a copy of the reader's holds
				 * what it held, whatever became of the section */
				if (either_get(p, page, op->offset, &prior) && got == prior &&
				    !model_is_copy(p->model, it->who, model_views[it->view], page)) {
					before++;
					author_page(p, a, it->who, page, true, false, got, au);
					continue;
				}
				word_text(p, page, op->offset, got, w1, sizeof(w1));
				word_text(p, page, op->offset, want, w2, sizeof(w2));
				differs(it, "page %llu read %s; the model says %s",
					(unsigned long long)page, w1, w2);
				author_page(p, a, it->who, page, true, false, got, au);
			} else {
				/* unnamed mismatches: which pages is not known */
				author_page(p, a, it->who, page, rec->mismatched <= rec->nsamples,
					    false, want, au);
			}
		}
		it->n_bad += rec->mismatched - before;
		it->n_ok += op->range.count - rec->mismatched + before;
		if (rec->mismatched > rec->nsamples &&
		    (c->kind == K_EITHER || c->kind == K_EITHER_WORD))
			unproven(it, "%llu more pages read other than the model says than were "
				 "named: some may hold the word before a write not seen done",
				 (unsigned long long)(rec->mismatched - rec->nsamples));
		else if (rec->mismatched > rec->nsamples)
			differs(it, "%llu more pages read other than the model says",
				(unsigned long long)(rec->mismatched - rec->nsamples));
	}
	for (size_t i = 0; i < it->ncls; i++) {
		if (it->cls[i].kind != K_UNKNOWN)
			continue;
		/* never compared: a copy of the reader's own that a write not
		 * seen done may or may not have made (copy_unknown) */
		char why[120];

		copy_unknown_why(p, it->who, it->view, it->cls[i].rf[0], why, sizeof(why));
		unproven(it, "page %u may or may not be a copy of its own: %s", it->cls[i].rf[0],
			 why);
		au->unknown += it->cls[i].n;
	}
}

/* A write's times into the step's cost of a copy: the model says whether
 * its pages copy (the class of its operation). */
static void cost_take(struct play *p, const struct item *it, const struct part *pt, size_t i)
{
	const struct op_record *rec = &pt->rec[i];
	const struct cls *c = &it->cls[pt->meta[i].cls];
	struct cost *cs = p->cost != NULL && p->step >= 0 ? &p->cost[p->step] : NULL;
	/* (the negative control maps the clients' cow views shared: what the
	 * model says copies does not, and is timed as a write that does not) */
	int copy = c->kind == K_DONE && c->v == 1 &&
		   !(p->control && it->who > 0 && it->view == SCENARIO_VIEW_COW);

	if (cs == NULL || rec->times == NULL)
		return;
	for (uint32_t b = 0; b < rec->ntimes; b++)
		cs->n[copy][rec->times[b].bucket] += rec->times[b].count;
	for (uint32_t b = 0; copy && b < rec->nagain; b++)
		cs->n[2][rec->times[rec->ntimes + b].bucket] += rec->times[rec->ntimes + b].count;
	if (copy && rec->has_faults) {
		cs->faults += rec->faults;
		cs->fault_copies += pt->ops[i].range.count;
		cs->faults_known = true;
	}
}

static void judge_write(struct play *p, struct item *it, const struct scenario_action *a)
{
	const struct part *pt = &p->parts[it->who];
	uint64_t faulted_n = 0, done_n = 0;

	for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered; i++) {
		const struct proto_op *op = &pt->ops[i];
		const struct op_record *rec = &pt->rec[i];
		uint64_t fp;

		if (op->kind == PROTO_OP_FAULT_WRITE) {
			if (!rec->ok) {
				unproven(it, "%.200s", rec->error ? rec->error : "the write failed");
				continue;
			}
			faulted_n += rec->matched;
			done_n += rec->mismatched;
			it->n_ok += rec->matched;
			it->n_bad += rec->mismatched;
			if (rec->mismatched > 0)
				differs(it, "%llu of %llu writes did not fault as the model says%s%s",
					(unsigned long long)rec->mismatched,
					(unsigned long long)op->range.count,
					rec->fault.faulted ? "; the first fault: " : "",
					rec->fault.faulted ? rec->fault.code : "");
			continue;
		}
		if (rec->ok) {
			done_n += op->range.count;
			it->n_ok += op->range.count;
			cost_take(p, it, pt, i);
		} else if (faulted_page(rec, &fp)) {
			faulted_n++;
			it->n_bad++;
			differs(it, "page %llu faulted; the model says the write is done",
				(unsigned long long)fp);
		} else {
			unproven(it, "%.200s", rec->error ? rec->error : "the write failed");
		}
	}
	if (a->expect.given && a->expect.fault >= 0 && it->st != OBS_UNPROVEN) {
		bool all = faulted_n == it->pg->total, none = faulted_n == 0;

		it->you = a->expect.fault ? all : none;
		snprintf(itext(&it->you_text), ITEM_TEXT, "you said it %s: %s",
			 a->expect.fault ? "faults" : "does not fault",
			 it->you ? "right" : all ? "WRONG, it faulted" : none ?
			 "WRONG, it did not" : "WRONG, some pages faulted");
	}
	if (it->st == OBS_MATCH)
		snprintf(itext(&it->said), ITEM_TEXT, "%s", faulted_n == 0 ? "done" : done_n == 0 ?
			 "faulted, nothing written" : "done on some pages, faulted on others");
	else
		snprintf(itext(&it->said), ITEM_TEXT, "%llu written, %llu faulted",
			 (unsigned long long)done_n, (unsigned long long)faulted_n);
}

/* The page of the n-th character of an evidence item. */
static uint64_t ev_page(const struct item *it, const struct scenario_action *a, size_t n)
{
	if (a == NULL || a->op != SCENARIO_EVIDENCE)
		return it->ev_first + n;
	for (size_t i = 0; i < it->pg->nruns; i++) {
		if (n < it->pg->runs[i].count)
			return it->pg->runs[i].first + n;
		n -= it->pg->runs[i].count;
	}
	return 0;
}

static void judge_evidence(struct play *p, struct item *it, const struct scenario_action *a)
{
	const struct part *pt = &p->parts[it->who];
	size_t at = 0, answered_pages = 0;
	uint64_t unknown = 0;

	it->seen_ev = malloc(it->ev_count + 1);
	if (it->seen_ev == NULL || it->pred_ev == NULL) {
		unproven(it, "the server ran out of memory");
		return;
	}
	memset(it->seen_ev, EVIDENCE_PAGE_UNKNOWN, it->ev_count);
	it->seen_ev[it->ev_count] = '\0';
	for (size_t i = it->op0; i < it->op0 + it->nops; i++) {
		const struct proto_op *op = &pt->ops[i];
		const struct op_record *rec = i < pt->answered ? &pt->rec[i] : NULL;
		const struct evidence_report *ev = rec ? rec->evidence : NULL;

		if (rec != NULL && !rec->ok)
			unproven(it, "%.200s", rec->error ? rec->error : "no evidence");
		else if (ev != NULL && (ev->nsources == 0 || !ev->sources[0].supported ||
					strcmp(ev->sources[0].name, evidence_primary_source) != 0))
			unproven(it, "the OS's evidence lacks its %s source",
				 evidence_primary_source);
		else if (ev != NULL && ev->pages != NULL && ev->count == op->range.count)
			memcpy(it->seen_ev + at, ev->pages, ev->count);
		at += op->range.count;
		if (rec != NULL)
			answered_pages = at;
	}
	for (size_t n = 0; n < it->ev_count && n < answered_pages; n++) {
		char seen = it->seen_ev[n], want = it->pred_ev[n];
		bool pred = want == EVIDENCE_PAGE_PRIVATE || want == EVIDENCE_PAGE_RELATIVE ||
			    want == EVIDENCE_PRED_COPY;
		bool copy = seen == EVIDENCE_PAGE_PRIVATE || seen == EVIDENCE_PAGE_RELATIVE;

		it->seen_private += copy;
		if (seen == EVIDENCE_PAGE_UNKNOWN) {
			unknown++;
			continue;
		}
		if (copy_unknown(p, it->who, it->view, ev_page(it, a, n))) {
			/* a copy its write not seen done may or may not have made */
			char why[120];

			copy_unknown_why(p, it->who, it->view, ev_page(it, a, n), why, sizeof(why));
			unproven(it, "page %llu may or may not be a copy of its own: %s",
				 (unsigned long long)ev_page(it, a, n), why);
			continue;
		}
		/* a copy of its own alone, or shared with fork relatives */
		bool whose = !copy || want == EVIDENCE_PRED_COPY || seen == want;

		if (copy == pred && whose)
			it->n_ok++;
		else
			it->n_bad++;
		if (copy != pred)
			differs(it, "page %llu is %s; the model says it is %s",
				(unsigned long long)ev_page(it, a, n),
				copy ? "a private copy" : "not a copy",
				pred ? "a private copy" : "not");
		else if (!whose)
			differs(it, "page %llu is a copy %s; the model says it is %s",
				(unsigned long long)ev_page(it, a, n),
				seen == EVIDENCE_PAGE_RELATIVE ? "still shared with a fork relative "
				"(pagemap bit 56 clear)" : "of its own alone (pagemap bit 56 set)",
				want == EVIDENCE_PAGE_RELATIVE ? "shared with a fork relative" :
				"its own alone");
	}
	if (unknown > 0)
		unproven(it, "the OS could not tell of %llu page%s (swapped out?)",
			 (unsigned long long)unknown, text_s(unknown));
	/* smaps' dirty pages of the whole view: at least its copies of its own
	 * (Private_Dirty), and its copies still shared with fork relatives
	 * (Shared_Dirty); the section's written pages it maps count too */
	for (size_t i = it->op0; it->dirty_bound && i < it->op0 + it->nops && i < pt->answered;
	     i++) {
		const struct evidence_report *ev = pt->rec[i].ok ? pt->rec[i].evidence : NULL;

		if (ev == NULL || ev->private_dirty < 0 || ev->shared_dirty < 0)
			continue;
		if ((uint64_t)ev->private_dirty < it->pred_own) {
			differs(it, "smaps counts %lld Private_Dirty pages in the view; the model "
				"says it holds %llu copies of its own",
				(long long)ev->private_dirty, (unsigned long long)it->pred_own);
			it->n_bad++;
		}
		if ((uint64_t)ev->shared_dirty < it->pred_shared) {
			differs(it, "smaps counts %lld Shared_Dirty pages in the view; the model "
				"says it shares %llu copies with fork relatives",
				(long long)ev->shared_dirty, (unsigned long long)it->pred_shared);
			it->n_bad++;
		}
		break; /* one report says it of the whole view */
	}
	if (a != NULL && a->expect.given && a->expect.private_pages >= 0) {
		/* a share of the action (a check per client) is not what was said
		 * of the whole */
		it->you = unknown > 0 || it->split ? 2 :
			  (uint64_t)a->expect.private_pages == it->seen_private;
		snprintf(itext(&it->you_text), ITEM_TEXT, "you said %lld private: %s",
			 (long long)a->expect.private_pages, it->you == 2 ? "cannot tell" :
			 it->you ? "right" : "WRONG");
	}
}

/* An observation's pages in the page map: those that differed from the
 * model (each, where the OS named them; else all the observation's), or
 * all of them when it was not made. The records are at hand. */
static void mark_pages(struct play *p, const struct item *it)
{
	const struct scenario_action *a = it->action == NOT_AN_ACTION ? NULL :
					  &p->sc.steps[p->step].actions[it->action];
	const struct part *pt = &p->parts[it->who];
	bool all = false;

	if (it->st == OBS_UNPROVEN) {
		if (a == NULL || a->op == SCENARIO_EVIDENCE) {
			for (uint32_t n = 0; n < it->ev_count; n++)
				p->pagebits[ev_page(it, a, n)] |= PB_UNPROVEN;
		} else if (a->op != SCENARIO_MAP && a->op != SCENARIO_UNMAP) {
			FOR_PAGES(it->pg, page)
				p->pagebits[page] |= PB_UNPROVEN;
		}
		return;
	}
	if (it->st != OBS_DIFFER)
		return;
	if (a == NULL || a->op == SCENARIO_EVIDENCE) {
		for (uint32_t n = 0; it->seen_ev != NULL && n < it->ev_count; n++)
			if ((it->seen_ev[n] == EVIDENCE_PAGE_PRIVATE) !=
			    (it->pred_ev[n] == EVIDENCE_PAGE_PRIVATE) &&
			    it->seen_ev[n] != EVIDENCE_PAGE_UNKNOWN)
				p->pagebits[ev_page(it, a, n)] |= PB_DIFFERS;
		return;
	}
	for (size_t i = it->op0; a->op == SCENARIO_READ && i < it->op0 + it->nops &&
	     i < pt->answered; i++) {
		const struct op_record *rec = &pt->rec[i];
		uint64_t fp;

		if (rec->ok && it->cls[pt->meta[i].cls].kind == K_FAULT) {
			p->pagebits[pt->ops[i].range.first] |= PB_DIFFERS; /* read, not faulted */
		} else if (rec->ok && rec->mismatched <= rec->nsamples) {
			for (size_t j = 0; j < rec->nsamples; j++) {
				uint32_t prior;

				if ((it->cls[pt->meta[i].cls].kind == K_EITHER ||
				     it->cls[pt->meta[i].cls].kind == K_EITHER_WORD) &&
				    either_get(p, rec->samples[j].page, pt->ops[i].offset, &prior) &&
				    rec->samples[j].value == prior &&
				    !model_is_copy(p->model, it->who, model_views[it->view],
						   rec->samples[j].page))
					continue; /* the word before: as predicted */
				if (rec->samples[j].page < p->sc.pages)
					p->pagebits[rec->samples[j].page] |= PB_DIFFERS;
			}
		} else if (!rec->ok && faulted_page(rec, &fp) && fp < p->sc.pages) {
			p->pagebits[fp] |= PB_DIFFERS;
		} else if (rec->ok) {
			all = true; /* more than it named */
		}
	}
	if (a->op != SCENARIO_READ || all)
		FOR_PAGES(it->pg, page)
			p->pagebits[page] |= PB_DIFFERS;
}

/* A write through the section not seen done (failed, or not answered):
 * the model has it, the section may not. A read of its words may show
 * either the word written or the word before. */
static void mark_either(struct play *p, struct item *it, const struct scenario_action *a)
{
	uint32_t n = 0;

	if (a == NULL || a->op != SCENARIO_WRITE || it->st != OBS_UNPROVEN)
		return;
	bad_op(p, it); /* which operation, for the words of copy_unknown_why */
	/* (no list: nothing was written, or memory ran out, which leaves
	 * every observation from then on unproven) */
	FOR_PAGES(it->pg, page) {
		if (it->prior != NULL && (it->prior[n] & PRIOR_SET))
			either_put(p, page, a->offset, (uint32_t)it->prior[n]);
		else if (it->prior != NULL && (it->prior[n] & PRIOR_COPY))
			copy_unknown_put(p, it->who, a->view, page, it->bad_op); /* or not */
		n++;
	}
}

static void judge_item(struct server *s, struct play *p, struct item *it)
{
	const struct scenario_action *a = it->action == NOT_AN_ACTION ? NULL :
					  &p->sc.steps[p->step].actions[it->action];
	const struct part *pt = &p->parts[it->who];
	struct author au = { 0, 0, 0, "" };
	bool missing = pt->answered < it->op0 + it->nops;

	if (T(it->unproven)[0] != '\0')
		return; /* its client was gone before the step */
	if (it->na != NULL) {
		it->st = OBS_NA;
		return;
	}
	if (p->nomem) {
		unproven(it, "the server ran out of memory");
		return;
	}
	if (missing && pt->answered <= it->op0) {
		it->unanswered = true;
		it->lost_why = gone_why(s, it->who);
		snprintf(itext(&it->said), ITEM_TEXT, "not answered");
		unproven(it, "client %d was lost before it answered: %.160s", it->who,
			 gone_why(s, it->who));
		mark_either(p, it, a);
		return;
	}
	if (a == NULL || a->op == SCENARIO_EVIDENCE) {
		judge_evidence(p, it, a);
	} else if (a->op == SCENARIO_READ) {
		judge_read(s, p, it, a, &au);
	} else if (a->op == SCENARIO_WRITE) {
		judge_write(p, it, a);
	} else {
		for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered; i++) {
			const struct op_record *rec = &pt->rec[i];

			if (rec->ok)
				continue;
			/* the model allowed it (else it was not sent): a refusal
			 * is no observation of copy-on-write, and may be the
			 * machine's (out of memory, a view whose map failed) */
			unproven(it, "the OS refused: %.150s%s", rec->error ? rec->error : "it failed",
				 s->opt.cow_as_shared && it->who > 0 &&
				 a->view == SCENARIO_VIEW_COW ? " (the negative control maps this "
				 "view shared)" : "");
		}
		snprintf(itext(&it->said), ITEM_TEXT, "%s", it->st == OBS_MATCH ? "done" : "refused");
	}
	if (missing) {
		unproven(it, "client %d was lost before it answered: %.160s", it->who,
			 gone_why(s, it->who));
		it->lost_why = gone_why(s, it->who);
	}
	/* A write through the section that was not seen done (failed, not
	 * answered) is in the model, and may not be in the section: what
	 * anyone reads of its pages from now on is unproven, not compared
	 * with the model, as for a lost client's writes (mark_unknown). */
	mark_either(p, it, a);
	if (it->st == OBS_MATCH && it->deviation)
		it->st = OBS_DEVIATION;
	if (a != NULL && a->op == SCENARIO_READ && a->expect.given) {
		it->you = au.wrong ? 0 : au.unknown ? 2 : 1;
		snprintf(itext(&it->you_text), ITEM_TEXT, "you: %s%s", it->you == 0 ? "WRONG, " :
			 it->you == 1 ? "right" : "cannot tell (not every page was seen)",
			 it->you == 0 ? au.first : "");
	}
}

/* ---- printing a step ---- */

static const char *verb(const struct play *p, const struct scenario_action *a)
{
	static const char *const verbs[2][SCENARIO_OP_COUNT] = {
		{ [SCENARIO_MAP] = "maps", [SCENARIO_UNMAP] = "unmaps",
		  [SCENARIO_WRITE] = "writes", [SCENARIO_READ] = "reads",
		  [SCENARIO_PROTECT] = "protects", [SCENARIO_DISCARD] = "discards",
		  [SCENARIO_EVIDENCE] = "asks the OS about", [SCENARIO_FORK] = "forks" },
		{ [SCENARIO_MAP] = "map", [SCENARIO_UNMAP] = "unmap", [SCENARIO_WRITE] = "write",
		  [SCENARIO_READ] = "read", [SCENARIO_PROTECT] = "protect",
		  [SCENARIO_DISCARD] = "discard",
		  [SCENARIO_EVIDENCE] = "ask the OS about", [SCENARIO_FORK] = "fork" },
	};

	return verbs[p->plural][a->op];
}

/* What an action does, without who: "writes 0x00C0FFEE to cow 3", on its
 * pages for one participant (pg), or, said of several (p->relative), as
 * written ("own 0"). */
static void action_text(const struct play *p, const struct scenario_action *a,
			const struct scenario_pages *pg, char *buf, size_t cap)
{
	char pages[96] = "", what[48] = "";

	if (a->op == SCENARIO_FORK) {
		snprintf(buf, cap, "%s: its child is client %d", verb(p, a), a->child);
		return;
	}
	if (a->op != SCENARIO_MAP && a->op != SCENARIO_UNMAP && p->relative && a->rel_text[0])
		snprintf(pages, sizeof(pages), "%s", a->rel_text); /* said of several clients */
	else if (a->op != SCENARIO_MAP && a->op != SCENARIO_UNMAP)
		pages_text(pg, pages, sizeof(pages));
	if (a->op == SCENARIO_WRITE) {
		if (a->value.kind == SCENARIO_WORD)
			snprintf(what, sizeof(what), " 0x%08X to", (unsigned)a->value.word);
		else if (a->value.kind == SCENARIO_PATTERN)
			snprintf(what, sizeof(what), " the pattern to");
		else
			snprintf(what, sizeof(what), " %s to", p->plural ? "their stamps" :
				 "its stamp");
	}
	snprintf(buf, cap, "%s%s %s%s%s", verb(p, a), what, scenario_view_name(a->view),
		 pages[0] ? " " : "", pages);
	if ((a->op == SCENARIO_WRITE || a->op == SCENARIO_READ) && a->offset != 0)
		appendf(buf, cap, " at +%u", (unsigned)a->offset);
	if (a->op == SCENARIO_PROTECT)
		appendf(buf, cap, " %s", scenario_protect_name(a->protect));
}

/* What the OS did, when it did as predicted: the model's classes. */
static void read_said(struct play *p, const struct item *it, char *buf, size_t cap)
{
	p->reader = it->who;
	buf[0] = '\0';
	for (size_t i = 0; i < it->ncls; i++) {
		char pages[96], what[48];

		if (i == 3) {
			appendf(buf, cap, "; ...");
			break;
		}
		cls_pages_text(&it->cls[i], pages, sizeof(pages));
		cls_text(p, &it->cls[i], what, sizeof(what));
		if (it->ncls == 1)
			appendf(buf, cap, "%s", what);
		else
			appendf(buf, cap, "%s%s %s: %s", i ? "; " : "",
				it->cls[i].n == 1 ? "page" : "pages", pages, what);
	}
	p->reader = -1;
}

static void evidence_said(const struct item *it, char *buf, size_t cap)
{
	snprintf(buf, cap, "%llu private cop%s", (unsigned long long)it->seen_private,
		 it->seen_private == 1 ? "y" : "ies");
	if (it->seen_ev != NULL && it->ev_count <= MAP_PAGES)
		appendf(buf, cap, " (%s)", it->seen_ev);
}

/* The body of an item's lines, everything but who: items of one action
 * with the same body are printed once. */
static void item_body(struct play *p, struct item *it, char *buf, size_t cap)
{
	const struct scenario_action *a = &p->sc.steps[p->step].actions[it->action];
	char act[160], said[240];

	action_text(p, a, it->pg, act, sizeof(act));
	if (it->st == OBS_NA)
		snprintf(said, sizeof(said), "not applicable: %s", it->na);
	else if (it->st == OBS_UNPROVEN && it->nops == 0)
		snprintf(said, sizeof(said), "not done");
	else if (it->unanswered)
		snprintf(said, sizeof(said), "not answered");
	else if (a->op == SCENARIO_READ)
		read_said(p, it, said, sizeof(said));
	else if (a->op == SCENARIO_EVIDENCE)
		evidence_said(it, said, sizeof(said));
	else
		snprintf(said, sizeof(said), "%s", T(it->said));
	if (a->op == SCENARIO_READ && it->st == OBS_DIFFER)
		snprintf(said, sizeof(said), "not as the model says");
	snprintf(buf, cap, "%s: %s", act, said);
	if (it->st == OBS_DIFFER)
		appendf(buf, cap, "\n    DIFFERS from the model: %s", T(it->differs));
	if (it->st == OBS_UNPROVEN)
		appendf(buf, cap, "\n    NOT PROVEN: %s", T(it->unproven));
	if (it->st == OBS_DEVIATION)
		appendf(buf, cap, "\n    as %s does, not as Windows does: a named deviation",
			p->model == NULL ? "" : "Wine");
	if (it->you >= 0)
		appendf(buf, cap, "\n    %s", T(it->you_text));
}

/* "client 1", "clients 1-3,5", "the server and client 2": participants,
 * in increasing order; a long list shortened as pages_text does. */
static void whos_text(const int *who, size_t n, char *buf, size_t cap)
{
	size_t groups = 0, shown = 0, i = 0;

	buf[0] = '\0';
	if (n > 0 && who[0] == 0) {
		snprintf(buf, cap, "the server");
		if (n == 1)
			return;
		appendf(buf, cap, " and ");
		i = 1;
	}
	appendf(buf, cap, "client%s ", n - i > 1 ? "s" : "");
	for (size_t k = i; k < n; k++)
		if (k == i || who[k] != who[k - 1] + 1)
			groups++;
	for (; i < n; i++) {
		size_t j = i;

		while (j + 1 < n && who[j + 1] == who[j] + 1)
			j++;
		shown++;
		if (groups > 6 && shown == 4) {
			appendf(buf, cap, ",...");
		} else if (groups <= 6 || shown < 4 || shown == groups) {
			const char *sep = buf[strlen(buf) - 1] == ' ' ? "" : ",";

			if (j > i + 1)
				appendf(buf, cap, "%s%d-%d", sep, who[i], who[j]);
			else if (j == i + 1)
				appendf(buf, cap, "%s%d,%d", sep, who[i], who[j]);
			else
				appendf(buf, cap, "%s%d", sep, who[i]);
		}
		i = j;
	}
	if (groups > 6)
		appendf(buf, cap, " (%zu clients)", n - (who[0] == 0));
}

/* Text broken at spaces to TEXT_WIDTH columns: the first line indented by
 * `first`, the others by `rest`. */
static void wrap(FILE *f, int first, const char *text, int rest)
{
	int col = fprintf(f, "%*s", first, "");
	bool start = true;

	while (*text != '\0') {
		int word = (int)strcspn(text, " ");

		if (!start && col + 1 + word > TEXT_WIDTH) {
			col = fprintf(f, "\n%*s", rest, "") - 1;
			start = true;
		}
		/* a word longer than a line: cut it where the line ends (at a
		 * character, not inside one) */
		if (col + (start ? 0 : 1) + word > TEXT_WIDTH) {
			int room = TEXT_WIDTH - col - (start ? 0 : 1);

			while (room > 0 && ((unsigned char)text[room] & 0xC0) == 0x80)
				room--;
			if (room > 0) {
				col += fprintf(f, "%s%.*s", start ? "" : " ", room, text);
				text += room;
				col = fprintf(f, "\n%*s", rest, "") - 1;
				start = true;
				continue;
			}
		}
		if (!start)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", word, text);
		start = false;
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void print_lines(FILE *f, const char *who, const char *body)
{
	char first[512];
	const char *nl = strchr(body, '\n');
	size_t n = nl ? (size_t)(nl - body) : strlen(body);

	snprintf(first, sizeof(first), "%s %.*s", who, (int)n, body);
	wrap(f, 2, first, 6);
	while (nl != NULL) {
		const char *line = nl + 1;

		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line) : strlen(line);
		snprintf(first, sizeof(first), "%.*s", (int)n, line);
		wrap(f, 4, first + strspn(first, " "), 6);
	}
}

static void print_maps(const struct play *p, FILE *f)
{
	bool *done = calloc(p->nitems ? p->nitems : 1, sizeof(*done));
	int *who = calloc(p->nitems ? p->nitems : 1, sizeof(*who));

	for (size_t i = 0; i < p->nitems && done != NULL && who != NULL; i++) {
		const struct item *it = &p->items[i];
		char whos[240], line[600];
		size_t n = 0;

		if (it->action != NOT_AN_ACTION || it->seen_ev == NULL || done[i])
			continue;
		/* participants whose maps read the same, on one line */
		who[n++] = it->who;
		for (size_t j = i + 1; j < p->nitems && it->st == OBS_MATCH; j++) {
			const struct item *o = &p->items[j];

			if (!done[j] && o->action == NOT_AN_ACTION && o->view == it->view &&
			    o->ev_first == it->ev_first && o->seen_ev != NULL && o->st == OBS_MATCH &&
			    strcmp(o->seen_ev, it->seen_ev) == 0) {
				done[j] = true;
				who[n++] = o->who;
			}
		}
		whos_text(who, n, whos, sizeof(whos));
		snprintf(line, sizeof(line), "page map: %s %s %u-%u %s", whos,
			 scenario_view_name(it->view), it->ev_first, it->ev_first + it->ev_count - 1,
			 it->seen_ev);
		wrap(f, 2, line, 6);
		if (it->st == OBS_DIFFER) {
			snprintf(line, sizeof(line), "DIFFERS from the model: %s", T(it->differs));
			wrap(f, 4, line, 6);
		}
		if (it->st == OBS_UNPROVEN) {
			snprintf(line, sizeof(line), "NOT PROVEN: %s", T(it->unproven));
			wrap(f, 4, line, 6);
		}
	}
	free(done);
	free(who);
}

/* A step's observations counted, in words (its lines, with more than 64
 * clients). */
static void counts_text(const struct play *p, char *buf, size_t cap)
{
	const struct stepcount *c = &p->counts[p->step];

	snprintf(buf, cap, "%llu observation%s as the model predicts, %llu not, %llu not "
		 "proven, %llu not applicable, %llu named deviation%s (with %d clients, a "
		 "step's observations are counted, not listed)",
		 (unsigned long long)c->n[OBS_MATCH], text_s(c->n[OBS_MATCH]),
		 (unsigned long long)c->n[OBS_DIFFER], (unsigned long long)c->n[OBS_UNPROVEN],
		 (unsigned long long)c->n[OBS_NA], (unsigned long long)c->n[OBS_DEVIATION],
		 text_s(c->n[OBS_DEVIATION]), p->sc.clients);
}

static void print_step(struct play *p, FILE *f)
{
	const struct scenario_step *st = &p->sc.steps[p->step];
	char head[1200];

	snprintf(head, sizeof(head), "Step %d of %zu.%s%s", p->step + 1, p->sc.nsteps,
		 st->say[0] ? " " : "", st->say);
	fputc('\n', f);
	wrap(f, 0, head, 2);
	if (!p->keep) {
		counts_text(p, head, sizeof(head));
		wrap(f, 2, head, 6);
		fflush(f);
		return;
	}
	bool *done = calloc(p->nitems ? p->nitems : 1, sizeof(*done));
	int *who = calloc(p->nitems ? p->nitems : 1, sizeof(*who));

	for (size_t i = 0; i < p->nitems && done != NULL && who != NULL; i++) {
		char body[1200], other[1200], whos[240];
		size_t n = 0;

		if (p->items[i].action == NOT_AN_ACTION || done[i])
			continue;
		/* everyone who did this action with the same outcome, on one line
		 * (an action on pages relative to a client is one a client: the
		 * same as written, said as written, "own 0") */
		size_t same = 1;

		/* a client's share of an observation (a check per client) is said
		 * with its own pages */
		p->relative = !p->items[i].split;
		item_body(p, &p->items[i], body, sizeof(body));
		who[n++] = p->items[i].who;
		for (size_t j = i + 1; j < p->nitems && p->items[j].action == p->items[i].action;
		     j++) {
			if (done[j])
				continue;
			item_body(p, &p->items[j], other, sizeof(other));
			if (strcmp(body, other) == 0) {
				done[j] = true;
				same++;
				if (p->items[j].who != who[n - 1]) /* the server's "each": once */
					who[n++] = p->items[j].who;
			}
		}
		p->relative = same > 1 && !p->items[i].split;
		whos_text(who, n, whos, sizeof(whos));
		/* said of them all: "clients 1-4 read cow 2: their own stamps" */
		p->plural = n > 1;
		item_body(p, &p->items[i], body, sizeof(body));
		p->plural = false;
		p->relative = false;
		print_lines(f, whos, body);
	}
	free(done);
	free(who);
	print_maps(p, f);
	fflush(f);
}

/* ---- JSON and TAP ---- */

static void value_text(const struct scenario_value *v, char *buf, size_t cap)
{
	switch (v->kind) {
	case SCENARIO_WORD: snprintf(buf, cap, "0x%08X", (unsigned)v->word); return;
	case SCENARIO_PATTERN: snprintf(buf, cap, "the pattern"); return;
	case SCENARIO_FAULT: snprintf(buf, cap, "a fault"); return;
	case SCENARIO_STAMP:
		if (v->stamp_of == SCENARIO_STAMP_OWN)
			snprintf(buf, cap, "its own stamp");
		else if (v->stamp_of == SCENARIO_STAMP_SERVER)
			snprintf(buf, cap, "the stamp of the server");
		else
			snprintf(buf, cap, "the stamp of client %d", v->stamp_of);
		return;
	}
}

/* What the author predicted, in words. */
static void expect_text(const struct play *p, const struct scenario_action *a, char *buf,
			size_t cap)
{
	char v[48];

	(void)p;
	buf[0] = '\0';
	if (a->op == SCENARIO_WRITE && a->expect.fault >= 0) {
		snprintf(buf, cap, "%s", a->expect.fault ? "it faults" : "it does not fault");
	} else if (a->op == SCENARIO_EVIDENCE && a->expect.private_pages >= 0) {
		snprintf(buf, cap, "%lld private", (long long)a->expect.private_pages);
	} else if (a->op == SCENARIO_READ) {
		for (size_t i = 0; i < a->expect.npages; i++) {
			value_text(&a->expect.pages[i].value, v, sizeof(v));
			appendf(buf, cap, "%spage %u: %s", i ? "; " : "", a->expect.pages[i].page, v);
		}
		if (a->expect.has_all) {
			value_text(&a->expect.all, v, sizeof(v));
			appendf(buf, cap, "%s%s: %s", a->expect.npages ? "; " : "",
				a->expect.npages ? "the others" : "every page", v);
		}
	}
}

static cJSON *item_json(struct play *p, struct item *it)
{
	cJSON *o = cJSON_CreateObject();
	char who[24], buf[1200];

	if (o == NULL)
		return NULL;
	who_text(it->who, who, sizeof(who));
	cJSON_AddStringToObject(o, "who", who);
	cJSON_AddStringToObject(o, "status", obs_names[it->st]);
	if (it->action == NOT_AN_ACTION) {
		cJSON_AddStringToObject(o, "view", scenario_view_name(it->view));
		cJSON_AddNumberToObject(o, "first", it->ev_first);
	} else {
		const struct scenario_action *a = &p->sc.steps[p->step].actions[it->action];

		cJSON_AddNumberToObject(o, "action", it->action);
		action_text(p, a, it->pg, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "does", buf);
		cJSON_AddStringToObject(o, "check", a->check[0] ? a->check : "model_agrees");
		if (a->op == SCENARIO_READ || a->op == SCENARIO_WRITE) {
			read_said(p, it, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "model", buf);
		}
		if (a->op != SCENARIO_READ && it->st != OBS_NA && T(it->said)[0] != '\0')
			cJSON_AddStringToObject(o, "os", it->said);
	}
	if (it->pred_ev != NULL)
		cJSON_AddStringToObject(o, "model_pages", it->pred_ev);
	if (it->seen_ev != NULL)
		cJSON_AddStringToObject(o, "os_pages", it->seen_ev);
	json_attach(o, "differs", T(it->differs)[0] ? cJSON_CreateString(it->differs) :
		    cJSON_CreateNull());
	json_attach(o, "unproven", T(it->unproven)[0] ? cJSON_CreateString(it->unproven) :
		    cJSON_CreateNull());
	json_attach(o, "not_applicable", it->na ? cJSON_CreateString(it->na) : cJSON_CreateNull());
	json_attach(o, "deviation", it->deviation && p->deviation ?
		    cJSON_CreateString(p->deviation) : cJSON_CreateNull());
	if (it->you >= 0) {
		cJSON *y = cJSON_AddObjectToObject(o, "you");

		if (y != NULL) {
			expect_text(p, &p->sc.steps[p->step].actions[it->action], buf, sizeof(buf));
			cJSON_AddStringToObject(y, "said", buf);
			cJSON_AddStringToObject(y, "verdict", T(it->you_text));
			json_attach(y, "right", it->you == 2 ? cJSON_CreateNull() :
				    cJSON_CreateBool(it->you == 1));
		}
	}
	return o;
}

static enum obs step_status(const struct play *p, bool *all_na)
{
	const struct stepcount *c = &p->counts[p->step];

	*all_na = c->actions && c->all_na;
	return c->n[OBS_DIFFER] > 0 ? OBS_DIFFER : c->n[OBS_UNPROVEN] > 0 ? OBS_UNPROVEN :
	       OBS_MATCH;
}

/* A YAML double-quoted scalar. */
static void yaml_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, "    %s: \"", key);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputs("\"\n", f);
}

static void tap_step(struct play *p, FILE *f)
{
	const struct scenario_step *st = &p->sc.steps[p->step];
	bool all_na;
	enum obs worst = step_status(p, &all_na);
	bool ok = worst != OBS_DIFFER && worst != OBS_UNPROVEN;
	char say[160];

	snprintf(say, sizeof(say), "%s", st->say);
	for (char *c = say; *c != '\0'; c++)
		if (*c == '#' || *c == '\n')
			*c = ' ';
	fprintf(f, "%s %d - step %d%s%s", ok ? "ok" : "not ok", ++p->tap_n, p->step + 1,
		say[0] ? ": " : "", say);
	if (all_na)
		fprintf(f, " # SKIP %s", p->counts[p->step].na ? p->counts[p->step].na : "");
	fputc('\n', f);
	if (ok)
		return;
	fputs("  ---\n", f);
	if (!p->keep) {
		char line[400];

		counts_text(p, line, sizeof(line));
		yaml_str(f, "observations", line);
	}
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char who[24], line[600], act[160] = "page map";

		if (it->st != OBS_DIFFER && it->st != OBS_UNPROVEN)
			continue;
		who_text(it->who, who, sizeof(who));
		if (it->action != NOT_AN_ACTION)
			action_text(p, &st->actions[it->action], it->pg, act, sizeof(act));
		snprintf(line, sizeof(line), "%s %s", who, act);
		fputs("  -\n", f);
		yaml_str(f, "action", line);
		if (it->st == OBS_DIFFER)
			yaml_str(f, "differs", T(it->differs));
		else
			yaml_str(f, "unproven", T(it->unproven));
		if (it->pred_ev != NULL && it->seen_ev != NULL) {
			yaml_str(f, "predicted", it->pred_ev);
			yaml_str(f, "observed", it->seen_ev);
		} else if (it->pred_ev != NULL) {
			snprintf(line, sizeof(line), "%llu private", (unsigned long long)it->pred_private);
			yaml_str(f, "predicted", line);
		} else if (it->action != NOT_AN_ACTION && it->ncls > 0) {
			read_said(p, it, line, sizeof(line));
			yaml_str(f, "predicted", line);
		}
	}
	fputs("  ...\n", f);
}

/* ---- a step's end ---- */

static struct pcheck *check_named(struct play *p, const char *name)
{
	for (size_t i = 0; i < p->nchecks; i++)
		if (strcmp(p->checks[i].name, name) == 0)
			return &p->checks[i];
	return NULL; /* model_agrees, and nothing can fall to it (play_begin) */
}

/* Counts an observation into a check's tally (the first of each in the
 * file's order, cut to the report's length). */
/* What was not observed, in the report's words (docs/report.md): "not
 * observed: its expect (write step, operation 6) failed: declined", or
 * "client 3's expect (observe step, operation 4) of pages 5-9/4 was not
 * made: it was lost (...)", whose: the participant's, "its" for the
 * client's own check. */
static void not_observed(const struct play *p, const struct item *it, int owner,
			 const char *act, char *buf, size_t cap)
{
	const struct scenario_action *a = it->action == NOT_AN_ACTION ? NULL :
					  &p->sc.steps[p->step].actions[it->action];
	char whose[32], step[48], op[120];

	if (it->who == 0)
		snprintf(whose, sizeof(whose), "the server's");
	else if (it->who == owner)
		snprintf(whose, sizeof(whose), "its");
	else
		snprintf(whose, sizeof(whose), "client %d's", it->who);
	if (p->sc.steps[p->step].name[0] != '\0')
		snprintf(step, sizeof(step), "%s step", p->sc.steps[p->step].name);
	else
		snprintf(step, sizeof(step), "step %d", p->step + 1);
	/* the operation, by its place in the batch when it was sent */
	if (it->bad_op >= 0)
		snprintf(op, sizeof(op), "%s (%s, operation %d)",
			 proto_op_name((enum proto_op_kind)it->bad_kind), step, (int)it->bad_op);
	else
		snprintf(op, sizeof(op), "%s (%s)", a != NULL ? scenario_op_name(a->op) :
			 "page map", step);
	if (it->unanswered && it->lost_why != NULL)
		snprintf(buf, cap, "not observed: %s %s was not made: it was lost (%s)", whose, op,
			 it->lost_why);
	else if (it->bad_op >= 0 && it->who > 0)
		snprintf(buf, cap, "not observed: %s %s failed: %s", whose, op, T(it->unproven));
	else
		snprintf(buf, cap, "not observed: %s %s, %s: %s", whose, op, act, T(it->unproven));
}

static void tally_into(struct play *p, struct ptally *c, const struct item *it, uint64_t at,
		       const char *who, const char *act, int owner)
{
	c->n[it->st]++;
	if (it->st != OBS_MATCH && (c->first == NULL || c->na == NULL)) {
		if (c->first == NULL)
			c->first = calloc(REPORT_TEXT_MAX, 1);
		if (c->na == NULL)
			c->na = calloc(REPORT_TEXT_MAX, 1);
		if (c->first == NULL || c->na == NULL) {
			p->nomem = true;
			return;
		}
	}
	if ((it->st == OBS_NA || it->st == OBS_DEVIATION) && (c->na[0] == '\0' || at < c->na_at)) {
		c->na[0] = '\0';
		c->na_at = at;
		appendf(c->na, REPORT_TEXT_MAX, "(step %d) %s", p->step + 1,
			it->st == OBS_NA ? it->na : p->deviation);
	}
	if ((it->st == OBS_DIFFER && (c->n[OBS_DIFFER] == 1 || at < c->first_at)) ||
	    (it->st == OBS_UNPROVEN && c->n[OBS_DIFFER] == 0 &&
	     (c->n[OBS_UNPROVEN] == 1 || at < c->first_at))) {
		c->first[0] = '\0';
		c->first_at = at;
		if (it->st == OBS_DIFFER && p->sc.steps[p->step].name[0] != '\0')
			appendf(c->first, REPORT_TEXT_MAX, "%s step, %s %s: %s",
				p->sc.steps[p->step].name, who, act, T(it->differs));
		else if (it->st == OBS_DIFFER)
			appendf(c->first, REPORT_TEXT_MAX, "step %d, %s %s: %s", p->step + 1, who,
				act, T(it->differs));
		else
			not_observed(p, it, owner, act, c->first, REPORT_TEXT_MAX);
	}
	if (c->first != NULL) {
		text_utf8_trim(c->first);
		text_utf8_trim(c->na);
	}
}

/* Counts an observation into the members of check ci it counts toward
 * (count_as), and whose it is. The records of its operations are at hand. */
static void tally_members(struct play *p, struct ptally *t, const struct item *it,
			  const struct scenario_action *a, int ci, uint8_t bits, uint64_t at)
{
	const struct part *pt = &p->parts[it->who];
	uint64_t pages = a->op == SCENARIO_EVIDENCE ? it->ev_count : it->pg->total;

	/* whose word it rests on: the observations counted toward its
	 * members, when it has them (a client's write under a check that the
	 * server's read decides is no evidence of the check) */
	if (ci < 0 || p->sc.nmembers[ci] == 0 || bits != 0) {
		t->by_server |= it->who == 0;
		t->by_client |= it->who > 0;
	}
	if (ci >= 0 && p->sc.nmembers[ci] > 0 && bits != 0 && t->m == NULL &&
	    (t->m = calloc(p->sc.nmembers[ci], sizeof(*t->m))) == NULL) {
		p->nomem = true;
		return;
	}
	for (int m = 0; ci >= 0 && t->m != NULL && m < p->sc.nmembers[ci]; m++) {
		struct mtally *mt = &t->m[m];

		if (!(bits >> m & 1))
			continue;
		mt->bad |= it->st == OBS_DIFFER;
		switch (p->sc.members[ci][m].kind) {
		case SCENARIO_M_MATCHES:
			mt->expected += pages;
			mt->observed += it->n_ok;
			break;
		case SCENARIO_M_SIGHTINGS:
			mt->observed += it->n_bad;
			break;
		case SCENARIO_M_DIFFERING:
			mt->observed += it->n_bad;
			for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered; i++)
				for (size_t j = 0; pt->rec[i].ok && j < pt->rec[i].nsamples &&
				     t->nsamples < SAMPLES_MAX; j++) {
					if (t->samples == NULL &&
					    (t->samples = calloc(SAMPLES_MAX, sizeof(*t->samples))) == NULL) {
						p->nomem = true;
						break;
					}
					t->samples[t->nsamples][0] = (uint32_t)pt->rec[i].samples[j].page;
					t->samples[t->nsamples++][1] = pt->rec[i].samples[j].value;
				}
			break;
		case SCENARIO_M_PRIVATE:
			mt->expected += it->pred_private;
			mt->observed += it->seen_private;
			/* the check's evidence: the last report */
			if (it->nops > 0 && it->op0 < pt->answered && pt->rec[it->op0].evidence &&
			    (t->evidence == NULL || at >= t->evidence_at)) {
				cJSON_Delete(t->evidence);
				t->evidence = report_evidence_json(pt->rec[it->op0].evidence);
				t->evidence_at = at;
			}
			break;
		case SCENARIO_M_FAULT:
			/* the check's evidence: the first fault */
			for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered; i++) {
				const struct op_record *rec = &pt->rec[i];
				cJSON *ev;

				if (!rec->fault.faulted || (t->evidence != NULL && at >= t->evidence_at))
					continue;
				if ((ev = cJSON_CreateObject()) == NULL)
					break;
				json_attach(ev, "code", cJSON_CreateString(rec->fault.code));
				json_attach(ev, "target_offset",
					    cJSON_CreateNumber((double)rec->fault_target));
				json_attach(ev, "fault_offset", rec->fault_outside ? cJSON_CreateNull() :
					    cJSON_CreateNumber((double)rec->fault_offset));
				cJSON_Delete(t->evidence);
				t->evidence = ev;
				t->evidence_at = at;
				break;
			}
			break;
		case SCENARIO_M_AS_PREDICTED:
		case SCENARIO_M_SHOWS:
		case SCENARIO_M_COUNT:
			break;
		}
	}
}

static void tally(struct play *p, const struct item *it)
{
	const struct scenario_action *a = it->action == NOT_AN_ACTION ? NULL :
					  &p->sc.steps[p->step].actions[it->action];
	struct pcheck *c = check_named(p, a != NULL && a->check[0] ? a->check : "model_agrees");
	char who[24], act[160] = "page map";
	uint64_t at = ((uint64_t)p->step << 40) | ((uint64_t)it->action << 20) |
		      (uint64_t)(it->who & 0xFFFFF);

	p->obs[it->st]++;
	if (it->you >= 0)
		p->you[it->you == 0 ? 0 : it->you == 1 ? 1 : 2]++;
	who_text(it->who, who, sizeof(who));
	if (a != NULL)
		action_text(p, a, it->pg, act, sizeof(act));
	/* its check, and the other one it counts toward ("check.member") */
	for (int w = 0; w < 2 && c != NULL; w++) {
		uint8_t bits = a == NULL ? 0 : w == 0 ? a->count_as : a->also_as;

		tally_into(p, &c->t, it, at, who, act, -1);
		if (a != NULL)
			tally_members(p, &c->t, it, a, c->sc, bits, at);
		/* a check per client: the client whose pages these are */
		if (c->per != NULL && it->owner >= 1 && it->owner <= p->sc.clients) {
			tally_into(p, &c->per[it->owner], it, at, who, act, it->owner);
			if (a != NULL)
				tally_members(p, &c->per[it->owner], it, a, c->sc, bits, at);
		}
		c = a != NULL && w == 0 && a->also >= 0 ? check_named(p, p->sc.checks[a->also]) :
		    NULL;
	}
}

/* Client failures the model did not predict, in the report's list. */
static void note_failed_ops(struct server *s, struct play *p, int k)
{
	char step[SCENARIO_CHECK_MAX] = "";

	/* the step's name, as the built-in run's "write" and "observe" */
	if (p->sc.steps[p->step].name[0] != '\0')
		appendf(step, sizeof(step), "%s", p->sc.steps[p->step].name);
	else
		appendf(step, sizeof(step), "step %d", p->step + 1);
	const struct part *pt = &p->parts[k];

	for (size_t i = 0; i < pt->answered; i++) {
		const struct item *it = &p->items[pt->meta[i].item];
		uint64_t fp;

		if (pt->rec[i].ok || it->st != OBS_UNPROVEN || faulted_page(&pt->rec[i], &fp))
			continue;
		for (size_t r = 0; r < s->report.nclients; r++)
			if (s->report.clients[r].id == k)
				report_client_failed_op(&s->report.clients[r], step, (int)i,
							proto_op_name(pt->ops[i].kind),
							pt->rec[i].error);
	}
}

/* The step at hand, judged whole: printed, or added to the JSON. */
/* --html: an observation of pages (the OS's evidence, a letter a page),
 * as a row of the step's panel; with its sources' counts. */
static void html_take(const struct play *p, const struct item *it)
{
	const struct scenario_action *a = it->action == NOT_AN_ACTION ? NULL :
					  &p->sc.steps[p->step].actions[it->action];
	const struct part *pt = &p->parts[it->who];
	static uint64_t pages[256];
	char pred[257], src[200] = "";
	size_t n = it->ev_count < 256 ? it->ev_count : 256;
	int st = it->st == OBS_DIFFER ? 1 : it->st == OBS_UNPROVEN ? 2 : it->st == OBS_NA ? 3 : 0;

	if (it->seen_ev == NULL || it->pred_ev == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		pages[i] = ev_page(it, a, i);
		pred[i] = it->pred_ev[i] == EVIDENCE_PAGE_PRIVATE ? 'P' : '-';
	}
	pred[n] = '\0';
	for (size_t i = it->op0; i < it->op0 + it->nops && i < pt->answered && src[0] == '\0';
	     i++) {
		const struct evidence_report *ev = pt->rec != NULL ? pt->rec[i].evidence : NULL;

		for (size_t k = 0; ev != NULL && k < ev->nsources; k++) {
			if (ev->sources[k].supported)
				appendf(src, sizeof(src), "%s%s %llu", k ? ", " : "", ev->sources[k].name,
					(unsigned long long)ev->sources[k].private_pages);
			else
				appendf(src, sizeof(src), "%s%s unsupported", k ? ", " : "",
					ev->sources[k].name);
		}
	}
	html_row(p->html, p->step + 1, it->who, scenario_view_name(it->view), pages, it->ev_count,
		 it->seen_ev, pred, st, st == 1 ? T(it->differs) : st == 2 ? T(it->unproven) :
		 st == 3 ? it->na : "", src);
}

static void print_items(struct play *p)
{
	cJSON *step, *actions, *maps;
	bool all_na;

	if (p->html != NULL) {
		/* the step's words, as the transcript has them */
		FILE *tmp = tmpfile();
		char *text = NULL;
		long len;

		if (tmp != NULL) {
			print_step(p, tmp);
			len = ftell(tmp);
			if (len > 0 && (text = malloc((size_t)len + 1)) != NULL) {
				rewind(tmp);
				text[fread(text, 1, (size_t)len, tmp)] = '\0';
			}
			fclose(tmp);
		}
		html_step(p->html, p->step + 1, p->sc.steps[p->step].name,
			  p->sc.steps[p->step].say, text != NULL ? text : "");
		free(text);
	}
	if (p->out == PLAY_HUMAN)
		print_step(p, p->f);
	else if (p->out == PLAY_TAP)
		tap_step(p, p->f);
	if (p->json_steps == NULL || (step = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddItemToArray(p->json_steps, step);
	cJSON_AddNumberToObject(step, "step", p->step + 1);
	cJSON_AddStringToObject(step, "say", p->sc.steps[p->step].say);
	cJSON_AddStringToObject(step, "status", obs_names[step_status(p, &all_na)]);
	{
		cJSON *counts = cJSON_AddObjectToObject(step, "observations");

		for (int k = 0; counts != NULL && k < OBS_COUNT; k++)
			cJSON_AddNumberToObject(counts, obs_names[k],
						(double)p->counts[p->step].n[k]);
	}
	actions = cJSON_AddArrayToObject(step, "actions");
	maps = cJSON_AddArrayToObject(step, "page_maps");
	for (size_t i = 0; i < p->nitems && actions != NULL && maps != NULL; i++)
		cJSON_AddItemToArray(p->items[i].action == NOT_AN_ACTION ? maps : actions,
				     item_json(p, &p->items[i]));
}

/* Prints step i, judged whole, in the order of the file (actions, then
 * participants by id, page maps last), and lets its items go. */
static void print_step_of(struct play *p, int i)
{
	hold(p, &p->bufs[i], i);
	if (p->nitems > 1)
		qsort(p->items, p->nitems, sizeof(*p->items), item_order);
	print_items(p);
	items_reset(p);
	free(p->items);
	p->items = NULL;
	p->icap = 0;
}

/* ---- the run ---- */

int play_begin(struct server *s, struct scenario *sc, enum play_output out)
{
	struct play *p = calloc(1, sizeof(*p));
	const struct model_rules *rules = &model_rules_linux;
	int err;

	if (p == NULL)
		return COWLAB_E_NOMEM;
	s->play = p;
	p->sc = *sc;
	memset(sc, 0, sizeof(*sc));
	s->keep_clients = p->sc.forks > 0;
	p->out = out;
	p->f = stdout;
	p->step = -1;
	p->reader = -1;
	p->nparts = p->sc.clients + 1;
	if (strcmp(s->report.platform.os, "Windows") == 0)
		rules = s->report.platform.wine_version[0] ? &model_rules_wine : &model_rules_windows;
	p->deviation = rules->writecopy_writes_through;
	p->control = s->opt.cow_as_shared;
	p->html = s->html;
	p->parts = calloc((size_t)p->nparts, sizeof(*p->parts));
	p->last_step = calloc((size_t)p->nparts, sizeof(*p->last_step));
	p->pagebits = calloc(p->sc.pages, 1);
	p->bufs = calloc(p->sc.nsteps, sizeof(*p->bufs));
	p->lbufs = calloc((size_t)p->nparts, sizeof(*p->lbufs));
	p->counts = calloc(p->sc.nsteps, sizeof(*p->counts));
	p->cost = calloc(p->sc.nsteps, sizeof(*p->cost));
	p->done_count = calloc(p->sc.nsteps, sizeof(*p->done_count));
	p->queue = calloc((size_t)p->nparts, sizeof(*p->queue));
	p->queued = calloc((size_t)p->nparts, sizeof(*p->queued));
	p->mapped = calloc((size_t)p->nparts, sizeof(*p->mapped));
	if (s->opt.step || s->opt.hold) {
		p->stepping = s->opt.step;
		p->pause_until = INT64_MAX;
		p->addr = calloc((size_t)p->nparts, sizeof(*p->addr));
		if (step_signal_open(s->opt.name) != 0)
			fprintf(stderr, "cowlab-server: --step cannot set up its signal: Enter "
				"and --step-ms still go on\n");
	}
	/* with more than 64 clients, a step's items are let go once judged:
	 * its lines say its counts */
	p->keep = p->sc.clients <= SCENARIO_CLIENTS_MAX && (out != PLAY_REPORT || s->html != NULL);
	p->lane_done = calloc((size_t)p->nparts, sizeof(*p->lane_done));
	p->lane_at = calloc((size_t)p->nparts, sizeof(*p->lane_at));

	p->glob_waits = calloc(p->sc.nsteps, sizeof(*p->glob_waits));
	if (p->parts == NULL || p->last_step == NULL || 
	    p->pagebits == NULL ||
	    p->bufs == NULL || p->lane_done == NULL || p->lane_at == NULL ||
	    p->lbufs == NULL || p->counts == NULL || p->done_count == NULL || p->queue == NULL ||
	    p->queued == NULL || p->mapped == NULL || p->glob_waits == NULL)
		return COWLAB_E_NOMEM;
	err = model_create(&p->model, p->sc.pages, s->page_size, s->seed, p->sc.clients, rules);
	if (err == 0 && rules == &model_rules_wine)
		err = model_create(&p->ref, p->sc.pages, s->page_size, s->seed, p->sc.clients,
				   &model_rules_windows);
	if (err != 0)
		return err;
	for (int k = 0; k < p->nparts; k++) {
		p->last_step[k] = -1;
		p->lane_at[k] = -1;
	}
	/* a step's width: its reach and the widest of the steps before */
	if ((p->width = calloc(p->sc.nsteps, sizeof(*p->width))) == NULL)
		return COWLAB_E_NOMEM;
	if (!step_reach(p, p->width)) {
		for (size_t i = 0; i < p->sc.nsteps; i++)
			p->width[i] = p->sc.clients;
	} else {
		int before = 0; /* the widest reach of the steps before */

		for (size_t i = 0; i < p->sc.nsteps; i++) {
			int r = p->width[i];

			p->width[i] = r + before > p->sc.clients ? p->sc.clients : r + before;
			before = r > before ? r : before;
		}
	}
	for (size_t i = 0; i < p->sc.nsteps; i++)
		p->width_max = p->width[i] > p->width_max ? p->width[i] : p->width_max;
	for (size_t i = 0; i < p->sc.nsteps; i++) {
		for (size_t j = 0; j < p->sc.steps[i].nactions; j++) {
			const struct scenario_action *a = &p->sc.steps[i].actions[j];

			/* maps and unmaps too: the server's own actions go in the
			 * order of the steps, its "each" of earlier steps first */
			p->glob_waits[i] |= a->who.server && a->rel.kind != SCENARIO_EACH;
		}
	}
	for (size_t i = 0; i < p->sc.nsteps; i++)
		for (size_t j = 0; j < p->sc.steps[i].nactions; j++)
			for (int k = 0; k < p->nparts; k++)
				if (acts(&p->sc.steps[i].actions[j], k))
					p->last_step[k] = (int)i;
	for (size_t i = 0; i < p->sc.nchecks; i++) {
		if (strcmp(p->sc.checks[i], "model_agrees") == 0)
			continue;
		snprintf(p->checks[p->nchecks].name, SCENARIO_CHECK_MAX, "%s", p->sc.checks[i]);
		p->checks[p->nchecks].sc = (int)i;
		if (p->sc.per_client[i] &&
		    (p->checks[p->nchecks].per = calloc((size_t)p->sc.clients + 1,
							sizeof(struct ptally))) == NULL)
			return COWLAB_E_NOMEM;
		p->nchecks++;
	}
	/* model_agrees holds what falls under no named check: none can where
	 * every action names a check the file declares and no page map is
	 * taken (the file has said what is judged), and it is left out */
	bool judged = p->sc.all_declared && p->sc.no_page_maps;

	for (size_t i = 0; judged && i < p->sc.nsteps; i++)
		for (size_t j = 0; j < p->sc.steps[i].nactions; j++)
			judged &= p->sc.steps[i].actions[j].check[0] != '\0';
	if (!judged) {
		p->checks[p->nchecks].sc = -1;
		snprintf(p->checks[p->nchecks++].name, SCENARIO_CHECK_MAX, "model_agrees");
	}
	p->agent.section = s->section;
	p->agent.pages = s->pages;
	p->agent.page_size = s->page_size;
	p->agent.seed = s->seed;
	if ((err = section_fill(s->section, s->rw, pattern_fill, &s->seed)) != 0)
		return err;
	if (out == PLAY_JSON && (p->json_steps = cJSON_CreateArray()) == NULL)
		return COWLAB_E_NOMEM;
	if (out == PLAY_TAP) {
		fprintf(p->f, "TAP version 13\n1..%zu\n",
			p->sc.nsteps + p->nchecks + (s->opt.cow_as_shared ? 1 : 0));
		fprintf(p->f, "# cowlab %s: scenario %s on %s %s%s%s\n", s->report.version,
			p->sc.name, s->report.platform.os, s->report.platform.version,
			s->report.platform.wine_version[0] ? ", Wine " : "",
			s->report.platform.wine_version);
	} else if (out == PLAY_HUMAN) {
		char line[400];

		snprintf(line, sizeof(line), "cowlab %s: scenario %s on %s %s (%s)%s%s",
			 s->report.version, p->sc.name, s->report.platform.os,
			 s->report.platform.version, s->report.platform.arch,
			 s->report.platform.wine_version[0] ? ", Wine " : "",
			 s->report.platform.wine_version);
		wrap(p->f, 0, line, 2);
		wrap(p->f, 2, p->sc.about, 2);
		snprintf(line, sizeof(line), "%u page%s of %u B, %d client%s%s; in page maps P is a "
			 "private copy%s, s the section's page, . not present, ? not known",
			 p->sc.pages, text_s(p->sc.pages), (unsigned)s->page_size, p->sc.clients,
			 text_s((uint64_t)p->sc.clients),
			 p->sc.forks > 0 ? " (some born of forks)" : "",
			 p->sc.forks > 0 ? " of its own, R one still shared with a fork relative" :
					   "");
		wrap(p->f, 0, line, 2);
		if (s->opt.cow_as_shared)
			wrap(p->f, 0, "negative control (--cow-as-shared): the clients map their "
			     "copy-on-write views shared and the model is not told, so the run "
			     "must be seen to differ from it", 2);
		fflush(p->f);
	}
	return 0;
}

/* The checks, from what was tallied: failed if a prediction differed,
 * else unproven if an observation is missing, else (a named check) not
 * applicable if an action of it was, else held. */
/* --cow-as-shared: the clients' "copy-on-write" views were mapped shared
 * and the model was not told. An observation that differs from it caught
 * the control (the check holds). If none differs, the check fails only
 * when every observation was made: with one missing (a client lost, an
 * operation declined, the run interrupted) the missing one may have been
 * the one to differ, and the check is unproven (exit 3, as the run would
 * be without the control). Never HELD: report.h keeps room for it. */
static void check_control(struct server *s, struct play *p)
{
	struct report_check *rc;
	bool tried = false, all_made, members = false;
	cJSON *obs, *exp;

	for (size_t i = 0; i < p->sc.nchecks; i++)
		members |= p->sc.nmembers[i] > 0;

	if (!s->opt.cow_as_shared)
		return;
	for (size_t i = 0; i < s->report.nclients; i++)
		tried |= s->report.clients[i].status == CLIENT_COMPLETE;
	all_made = p->obs[OBS_UNPROVEN] == 0 && s->report.interrupted[0] == '\0' &&
		   p->printed >= (int)p->sc.nsteps;
	for (size_t i = 0; i < s->report.nclients; i++)
		all_made &= s->report.clients[i].status == CLIENT_COMPLETE;
	/* a client that never came made none of its observations */
	for (int k = 1; k <= p->sc.clients; k++)
		all_made &= admitted(s, k);
	obs = cJSON_CreateObject();
	if (members) {
		/* in the members' form, as the built-in run says it: the failed
		 * checks of the run before this one (every observation that
		 * differs fails the check it is under) */
		uint64_t failed = 0;

		for (size_t i = 0; i < s->report.nserver_checks; i++)
			failed += report_check_status(&s->report.server_checks[i]) == CHECK_FAILED;
		for (size_t i = 0; i < s->report.nclients; i++)
			for (size_t j = 0; j < s->report.clients[i].nchecks; j++)
				failed += report_check_status(&s->report.clients[i].checks[j]) ==
					  CHECK_FAILED;
		cJSON_AddNumberToObject(obs, "checks_failed", (double)failed);
		exp = cJSON_CreateObject();
		cJSON_AddNumberToObject(exp, "checks_failed_at_least", 1);
	} else {
		cJSON_AddNumberToObject(obs, "differs", (double)p->obs[OBS_DIFFER]);
		cJSON_AddNumberToObject(obs, "unproven", (double)p->obs[OBS_UNPROVEN]);
		exp = cJSON_CreateString("an observation that differs from the model");
	}
	rc = report_add_check(s->report.server_checks, REPORT_SERVER_CHECKS_MAX,
			      &s->report.nserver_checks,
			      "negative_control_detected", p->obs[OBS_DIFFER] > 0, exp, obs, NULL);
	if (rc == NULL)
		return;
	snprintf(rc->basis, sizeof(rc->basis), "%s", members ? "server" : "client+server");
	rc->applicable = true;
	if (p->obs[OBS_DIFFER] > 0) {
		report_check_detail(rc, "the shared \"copy-on-write\" views were caught by %llu "
				    "observation%s", (unsigned long long)p->obs[OBS_DIFFER],
				    text_s(p->obs[OBS_DIFFER]));
	} else if (!tried) {
		rc->applicable = false;
		report_check_detail(rc, "no client completed the run");
	} else if (!all_made) {
		report_check_unproven(rc, "no observation differed from the model, but not every "
				      "one was made: the shared views may have gone unseen");
	} else {
		report_check_detail(rc, "every observation agreed with the model although the "
				    "views were shared: this scenario cannot tell shared from "
				    "private");
	}
}

/* A check's status from what it saw: failed, unproven, not applicable or
 * held, never held on nothing. `agrees`: it is the run's model_agrees;
 * `none`: why nothing was seen. */
static void judge_check(const struct server *s, const struct play *p, struct report_check *rc,
			const struct ptally *c, bool agrees, const char *none)
{
	uint64_t seen = c->n[OBS_MATCH] + c->n[OBS_DEVIATION] + c->n[OBS_NA] +
			c->n[OBS_UNPROVEN] + c->n[OBS_DIFFER];

	/* whose observations it rests on: the server's own views, the
	 * clients' word, or both (none seen: both, the most it could be) */
	snprintf(rc->basis, sizeof(rc->basis), "%s", c->by_server && !c->by_client ? "server" :
		 c->by_client && !c->by_server ? "client" : "client+server");
	rc->applicable = true;
	if (c->n[OBS_DIFFER] > 0) {
		report_check_detail(rc, "%s", c->first ? c->first : "");
	} else if (c->n[OBS_UNPROVEN] > 0) {
		report_check_unproven(rc, "%s", c->first ? c->first : "");
	} else if (p->cut_short[0] != '\0') {
		report_check_unproven(rc, "%s", p->cut_short);
	} else if (!agrees && (c->n[OBS_NA] > 0 || c->n[OBS_DEVIATION] > 0)) {
		rc->applicable = false;
		report_check_detail(rc, "not applicable here: %s", c->na ? c->na : "");
	} else if (agrees && c->n[OBS_MATCH] == 0) {
		rc->applicable = false;
		report_check_detail(rc, "no prediction outside the named checks");
	} else if (seen == 0 && p->nomem) {
		report_check_unproven(rc, "the server ran out of memory");
	} else if (seen == 0) {
		/* nothing was predicted, nothing held */
		rc->applicable = false;
		report_check_detail(rc, "not applicable here: %s", none);
	} else {
		rc->held = true;
		report_check_detail(rc, "%llu observation%s as the model predicts",
				    (unsigned long long)c->n[OBS_MATCH], text_s(c->n[OBS_MATCH]));
	}
}

static cJSON *tally_json(const struct ptally *c)
{
	cJSON *obs = cJSON_CreateObject();

	for (int k = 0; obs != NULL && k < OBS_COUNT; k++)
		cJSON_AddNumberToObject(obs, obs_names[k], (double)c->n[k]);
	return obs;
}

static void tally_free(struct ptally *t)
{
	cJSON_Delete(t->evidence);
	free(t->first);
	free(t->na);
	free(t->samples);
	free(t->m);
	memset(t, 0, sizeof(*t));
}

/* A check's expected and observed from its members (docs/scenarios.md,
 * "Members"): each a number or a truth, the model's and the OS's. */
static void members_json(const struct play *p, const struct pcheck *c, const struct ptally *t,
			 cJSON **expected, cJSON **observed)
{
	cJSON *e = cJSON_CreateObject(), *o = cJSON_CreateObject();

	static const struct mtally none;

	for (int m = 0; e != NULL && o != NULL && m < p->sc.nmembers[c->sc]; m++) {
		const struct scenario_member *sm = &p->sc.members[c->sc][m];
		const struct mtally *mt = t->m != NULL ? &t->m[m] : &none;

		switch (sm->kind) {
		case SCENARIO_M_MATCHES:
		case SCENARIO_M_PRIVATE:
			json_attach(e, sm->name, cJSON_CreateNumber((double)mt->expected));
			json_attach(o, sm->name, cJSON_CreateNumber((double)mt->observed));
			break;
		case SCENARIO_M_SIGHTINGS:
		case SCENARIO_M_DIFFERING:
			json_attach(e, sm->name, cJSON_CreateNumber(0));
			json_attach(o, sm->name, cJSON_CreateNumber((double)mt->observed));
			if (sm->kind == SCENARIO_M_DIFFERING) {
				cJSON *arr = json_attach(o, "samples", cJSON_CreateArray());

				for (size_t i = 0; arr != NULL && i < t->nsamples; i++) {
					double pw[2] = { t->samples[i][0], t->samples[i][1] };

					cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(pw, 2));
				}
			}
			break;
		case SCENARIO_M_AS_PREDICTED:
		case SCENARIO_M_FAULT:
			json_attach(e, sm->name, cJSON_CreateBool(true));
			json_attach(o, sm->name, cJSON_CreateBool(!mt->bad));
			break;
		case SCENARIO_M_SHOWS:
			json_attach(e, sm->name, cJSON_CreateBool(false));
			json_attach(o, sm->name, cJSON_CreateBool(mt->bad));
			break;
		case SCENARIO_M_COUNT:
			break;
		}
	}
	*expected = e;
	*observed = o;
}

/* A held check's detail with its members' numbers, for people: "4
 * observations as the model predicts: after_write 1 of 1, at_end 1 of 1" */
static void members_detail(struct report_check *rc, const struct ptally *t)
{
	char line[REPORT_TEXT_MAX];
	const cJSON *e, *o;
	const char *sep = ": ";

	snprintf(line, sizeof(line), "%llu observation%s as the model predicts",
		 (unsigned long long)t->n[OBS_MATCH], text_s(t->n[OBS_MATCH]));
	cJSON_ArrayForEach(o, rc->observed) {
		e = cJSON_GetObjectItemCaseSensitive(rc->expected, o->string);
		if (cJSON_IsNumber(o) && cJSON_IsNumber(e) && e->valuedouble > 0)
			appendf(line, sizeof(line), "%s%s %.0f of %.0f", sep, o->string,
				o->valuedouble, e->valuedouble);
		else if (cJSON_IsNumber(o))
			appendf(line, sizeof(line), "%s%s %.0f", sep, o->string, o->valuedouble);
		else if (cJSON_IsBool(o))
			appendf(line, sizeof(line), "%s%s %s", sep, o->string,
				cJSON_IsTrue(o) ? "yes" : "no");
		else
			continue;
		sep = ", ";
	}
	report_check_detail(rc, "%s", line);
}

/* Adds check c's report to a list: judged from tally t, its expected and
 * observed its members' when the file declares them (none when it is not
 * proven: what was not observed has no number), else the counts. */
static void add_check(struct server *s, const struct play *p, struct report_check *list,
		      size_t *n, const struct pcheck *c, struct ptally *t, bool agrees,
		      const char *what, const char *none)
{
	bool members = c->sc >= 0 && p->sc.nmembers[c->sc] > 0;
	cJSON *e = NULL, *o = NULL;
	struct report_check *rc;

	if (members)
		members_json(p, c, t, &e, &o);
	else
		e = cJSON_CreateString(what), o = tally_json(t);
	rc = report_add_check(list, list == s->report.server_checks ? REPORT_SERVER_CHECKS_MAX :
			      REPORT_CHECKS_MAX, n, c->name, false, e, o, members ? t->evidence : NULL);
	if (members)
		t->evidence = NULL; /* the report's now */
	if (rc == NULL)
		return;
	judge_check(s, p, rc, t, agrees, none);
	if (members && rc->held)
		members_detail(rc, t);
	if (members && rc->unproven) {
		cJSON_Delete(rc->expected);
		cJSON_Delete(rc->observed);
		cJSON_Delete(rc->evidence);
		rc->expected = rc->observed = rc->evidence = NULL;
	}
}

/* Not lost: it answered every step it was given (play_end). */
static bool play_complete(const struct client_state *c)
{
	return !c->lost;
}

/* A check of the clients' own facts ("facts": "image") for each client:
 * judged by the platform's rule from its hello, as the built-in run
 * judges image_section_shared (facts.c). A lost client's count is not
 * compared: not proven. */
static void facts_checks(struct server *s, const struct pcheck *c)
{
	int compared = facts_image_twins(s, play_complete);

	for (size_t r = 0; r < s->report.nclients; r++) {
		struct report_client *cl = &s->report.clients[r];
		struct report_check *rc;

		if (cl->id < 1 || !admitted(s, cl->id) ||
		    (s->play->out == PLAY_REPORT && cl->status != CLIENT_COMPLETE))
			continue;
		if (cl->status == CLIENT_COMPLETE) {
			facts_image_check(s, cl, &s->clients[cl->id - 1], compared, c->name);
			continue;
		}
		rc = report_add_check(cl->checks, REPORT_CHECKS_MAX, &cl->nchecks, c->name, false,
				      NULL, NULL, NULL);
		if (rc != NULL) {
			snprintf(rc->basis, sizeof(rc->basis), "client");
			report_check_unproven(rc, "not observed: client %d was lost, and a count "
					      "is compared only among the clients that finished",
					      cl->id);
		}
	}
}

static void make_checks(struct server *s, struct play *p)
{
	char none[160];

	/* interrupted before every lane went through every step: what was
	 * not done may have been what differed, whoever's it was */
	p->cut_short[0] = '\0';
	for (int k = 0; s->report.interrupted[0] != '\0' && k <= p->sc.clients; k++) {
		int done = k == 0 ? p->glob_done : p->lane_done[k];

		if (done < (int)p->sc.nsteps) {
			char who[24];

			who_text(k, who, sizeof(who));
			snprintf(p->cut_short, sizeof(p->cut_short), "the run was interrupted before "
				 "%s's step %d", who, done + 1);
			break;
		}
	}

	snprintf(none, sizeof(none), "no participant had pages for its actions (%d client%s)",
		 p->sc.clients, text_s((uint64_t)p->sc.clients));
	for (size_t i = 0; i < p->nchecks; i++) {
		struct pcheck *c = &p->checks[i];

		if (c->sc >= 0 && p->sc.image_facts[c->sc]) {
			facts_checks(s, c);
			continue;
		}
		if (c->per != NULL) {
			/* in each client's own list, of the observations of its pages */
			for (size_t r = 0; r < s->report.nclients; r++) {
				struct report_client *cl = &s->report.clients[r];

				/* in the built-in run's form a lost client has none
				 * (docs/report.md, clients[].checks) */
				if (cl->id < 1 || cl->id > p->sc.clients ||
				    (p->out == PLAY_REPORT && cl->status != CLIENT_COMPLETE))
					continue;
				add_check(s, p, cl->checks, &cl->nchecks, c, &c->per[cl->id], false,
					  "every observation of its pages as the model predicts",
					  "no observation of its pages");
				/* what the report holds now: let go (the peak of a run
				 * of 100 000 clients); its counts stay, for the lines */
				free(c->per[cl->id].m);
				c->per[cl->id].m = NULL;
			}
			continue;
		}
		add_check(s, p, s->report.server_checks, &s->report.nserver_checks, c, &c->t,
			  strcmp(c->name, "model_agrees") == 0,
			  "every observation as the model predicts", none);
	}
	check_control(s, p);
}

/* The report's page map, for a section laid out by client: a character
 * a page in the roles' letters (docs/report.md, "page_map"), from the
 * model's state and what the run saw. Outside the clients' pages `S`; a
 * client that never came `.`, one lost `?`; else by what its owner did to
 * a page: `C` its copy-on-write view holds a private copy of it at the
 * end, `W` it wrote it through the section, `F` its write there faulted,
 * `t` none of these. Then `?` where an observation of the page was not
 * made, and `!` where one differed from the model, whatever it was. */
static void make_page_map(struct server *s, struct play *p)
{
	uint32_t lo = p->sc.before, hi = p->sc.before + p->sc.each * (uint32_t)p->sc.clients;
	char *map;

	if (p->sc.each == 0 || (map = malloc((size_t)p->sc.pages + 1)) == NULL)
		return;
	for (uint32_t page = 0; page < p->sc.pages; page++) {
		int k = page >= lo && page < hi ? (int)((page - lo) / p->sc.each) + 1 : 0;
		const struct report_client *rc = NULL;
		uint8_t b = p->pagebits[page];

		for (size_t r = 0; k > 0 && r < s->report.nclients && rc == NULL; r++)
			if (s->report.clients[r].id == k)
				rc = &s->report.clients[r];
		if (k == 0)
			map[page] = MAP_SERVER;
		else if (rc == NULL)
			map[page] = MAP_UNUSED;
		else if (rc->status != CLIENT_COMPLETE)
			map[page] = MAP_UNKNOWN;
		else if (model_is_copy(p->model, k, MODEL_COW, page))
			map[page] = MAP_COPY;
		else
			map[page] = b & PB_WRITTEN ? MAP_RW : b & PB_FAULTED ? MAP_FAULT : MAP_TRACK;
		if (b & PB_UNPROVEN)
			map[page] = MAP_UNKNOWN;
		if (b & PB_DIFFERS)
			map[page] = MAP_BROKEN;
	}
	map[p->sc.pages] = '\0';
	free(s->report.page_map);
	s->report.page_map = map;
}

/* Client k's instance of a check per client: its status and words, from
 * its report (an admitted client), or from what was seen of its pages (a
 * client that never came: no report of its own, but its observations,
 * unproven, were made of nothing). */
static enum check_status instance_of(const struct server *s, const struct pcheck *c, int k,
				     const char **detail)
{
	const struct ptally *t = &c->per[k];

	for (size_t r = 0; r < s->report.nclients; r++) {
		const struct report_client *cl = &s->report.clients[r];

		if (cl->id != k)
			continue;
		for (size_t i = 0; i < cl->nchecks; i++) {
			if (strcmp(cl->checks[i].name, c->name) == 0) {
				*detail = cl->checks[i].detail ? cl->checks[i].detail : "";
				return report_check_status(&cl->checks[i]);
			}
		}
	}
	*detail = t->first && t->first[0] ? t->first : "no observation of its pages";
	return t->n[OBS_DIFFER] > 0 ? CHECK_FAILED : t->n[OBS_UNPROVEN] > 0 ? CHECK_UNPROVEN :
	       CHECK_NOT_APPLICABLE;
}

/* A check per client in people's words: the clients it held for on one
 * line, each other client's on a line of its own (the first few). */
static void print_per_client(const struct server *s, const struct play *p,
			     const struct pcheck *c)
{
	static const char *const words[] = {
		[CHECK_HELD] = "held", [CHECK_FAILED] = "FAILED",
		[CHECK_UNPROVEN] = "UNPROVEN", [CHECK_NOT_APPLICABLE] = "n/a",
	};
	int *held = calloc((size_t)p->sc.clients + 1, sizeof(*held));
	size_t nheld = 0, shown = 0, others = 0;
	uint64_t matched = 0;
	char line[700], whos[240];

	for (int k = 1; held != NULL && k <= p->sc.clients; k++) {
		const char *detail;
		enum check_status st = instance_of(s, c, k, &detail);

		if (st == CHECK_HELD) {
			held[nheld++] = k;
			matched += c->per[k].n[OBS_MATCH];
			continue;
		}
		if (shown == 4) {
			others++;
			continue;
		}
		snprintf(line, sizeof(line), "%s %s for client %d: %s", c->name, words[st], k,
			 detail);
		wrap(p->f, 2, line, 6);
		shown++;
	}
	if (others > 0)
		fprintf(p->f, "  %s: and for %zu client%s more, as the report says\n", c->name,
			others, others == 1 ? "" : "s");
	if (nheld > 0) {
		whos_text(held, nheld, whos, sizeof(whos));
		snprintf(line, sizeof(line), "%s held for %s: %llu observation%s as the model "
			 "predicts", c->name, whos, (unsigned long long)matched, text_s(matched));
		wrap(p->f, 2, line, 6);
	}
	free(held);
}

/* A percentile of a histogram of quarter octaves, in microseconds: within
 * its bucket, as if the bucket's times were spread evenly. */
static double cost_percentile(const uint64_t *n, uint64_t total, double q)
{
	uint64_t rank = (uint64_t)(q * (double)total + 0.999999), cum = 0;

	if (rank < 1)
		rank = 1;
	for (uint32_t b = 0; b < PROTO_TIME_BUCKETS; b++) {
		if (n[b] == 0 || cum + n[b] < rank) {
			cum += n[b];
			continue;
		}
		double lo = (double)proto_time_lo_ns(b), hi = (double)proto_time_lo_ns(b + 1);

		if (b + 1 >= PROTO_TIME_BUCKETS)
			hi = lo * 1.19;
		return (lo + (hi - lo) * ((double)(rank - cum) - 0.5) / (double)n[b]) / 1000.0;
	}
	return 0;
}

static double round3(double x)
{
	return (double)(int64_t)(x * 1000.0 + 0.5) / 1000.0;
}

/* {"count", "median_us", "p99_us"} of a histogram */
static cJSON *cost_stats(const uint64_t *n)
{
	cJSON *o = cJSON_CreateObject();
	uint64_t total = 0;

	for (uint32_t b = 0; b < PROTO_TIME_BUCKETS; b++)
		total += n[b];
	cJSON_AddNumberToObject(o, "count", (double)total);
	if (total == 0) {
		cJSON_AddNullToObject(o, "median_us");
		cJSON_AddNullToObject(o, "p99_us");
	} else {
		cJSON_AddNumberToObject(o, "median_us", round3(cost_percentile(n, total, 0.5)));
		cJSON_AddNumberToObject(o, "p99_us", round3(cost_percentile(n, total, 0.99)));
	}
	return o;
}

/* The report's copy_cost (docs/report.md): the run's and each step's, and
 * what the kernel counted. */
static void make_copy_cost(struct server *s, struct play *p)
{
	static struct cost run;
	cJSON *o, *h, *st, *k;
	bool faults_known = false;
	bool windows = strcmp(s->report.platform.os, "Windows") == 0;

	if (p->cost == NULL || (o = cJSON_CreateObject()) == NULL)
		return;
	memset(&run, 0, sizeof(run));
	st = cJSON_CreateArray();
	for (size_t i = 0; i < p->sc.nsteps; i++) {
		const struct cost *c = &p->cost[i];
		uint64_t any = 0;

		for (int w = 0; w < 3; w++)
			for (uint32_t b = 0; b < PROTO_TIME_BUCKETS; b++) {
				run.n[w][b] += c->n[w][b];
				any += c->n[w][b];
			}
		run.faults += c->faults;
		run.fault_copies += c->fault_copies;
		faults_known |= c->faults_known;
		if (any == 0 || st == NULL)
			continue;
		cJSON *one = cJSON_CreateObject();

		cJSON_AddNumberToObject(one, "step", (double)(i + 1));
		json_attach(one, "copies", cost_stats(c->n[1]));
		json_attach(one, "copied_page_again", cost_stats(c->n[2]));
		json_attach(one, "other_writes", cost_stats(c->n[0]));
		cJSON_AddItemToArray(st, one);
	}
	cJSON_AddStringToObject(o, "resolution", "quarter octaves: a bucket's end is 1.19 "
				"times its start, and a percentile is placed within its bucket");
	json_attach(o, "copies", cost_stats(run.n[1]));
	json_attach(o, "copied_page_again", cost_stats(run.n[2]));
	json_attach(o, "other_writes", cost_stats(run.n[0]));
	h = json_attach(o, "histogram", cJSON_CreateArray());
	for (uint32_t b = 0; h != NULL && b < PROTO_TIME_BUCKETS; b++) {
		if (run.n[0][b] + run.n[1][b] + run.n[2][b] == 0)
			continue;
		cJSON *one = cJSON_CreateObject();

		cJSON_AddNumberToObject(one, "from_us", round3((double)proto_time_lo_ns(b) / 1000.0));
		cJSON_AddNumberToObject(one, "to_us", round3((double)proto_time_lo_ns(b + 1) /
							     1000.0));
		cJSON_AddNumberToObject(one, "copies", (double)run.n[1][b]);
		cJSON_AddNumberToObject(one, "copied_page_again", (double)run.n[2][b]);
		cJSON_AddNumberToObject(one, "other_writes", (double)run.n[0][b]);
		cJSON_AddItemToArray(h, one);
	}
	json_attach(o, "steps", st);
	if (!faults_known) {
		cJSON_AddNullToObject(o, "kernel_faults");
	} else if ((k = cJSON_AddObjectToObject(o, "kernel_faults")) != NULL) {
		cJSON_AddStringToObject(k, "source", windows ?
					"GetProcessMemoryInfo's PageFaultCount of the writing "
					"process, around each write that copies" :
					"getrusage's minor and major faults of the writing process, "
					"around each write that copies");
		cJSON_AddNumberToObject(k, "copies", (double)run.fault_copies);
		if (s->report.platform.wine_version[0] != '\0') {
			/* Wine 8.0's fill_vm_counters (dlls/ntdll/unix/process.c)
			 * reads /proc/PID/status, which has no fault count */
			cJSON_AddNullToObject(k, "during_copies");
			cJSON_AddStringToObject(k, "platform_deviation", "Wine's PageFaultCount is "
						"always 0: it fills the process's counters from "
						"/proc/PID/status, which counts no faults");
		} else {
			cJSON_AddNumberToObject(k, "during_copies", (double)run.faults);
			cJSON_AddNullToObject(k, "platform_deviation");
		}
	}
	cJSON_Delete(s->report.copy_cost);
	s->report.copy_cost = o;
}

static void print_end(struct server *s, struct play *p)
{
	struct report_summary sum;
	enum report_exit ex = report_exit_status(&s->report);
	char line[600];

	report_summarize(&s->report, &sum);
	fprintf(p->f, "\nchecks:\n");
	for (size_t i = 0; i < s->report.nserver_checks; i++) {
		const struct report_check *c = &s->report.server_checks[i];
		static const char *const words[] = {
			[CHECK_HELD] = "held", [CHECK_FAILED] = "FAILED",
			[CHECK_UNPROVEN] = "UNPROVEN", [CHECK_NOT_APPLICABLE] = "n/a",
		};

		snprintf(line, sizeof(line), "%s %s: %s", c->name, words[report_check_status(c)],
			 c->detail ? c->detail : "");
		wrap(p->f, 2, line, 6);
	}
	for (size_t i = 0; i < p->nchecks; i++)
		if (p->checks[i].per != NULL)
			print_per_client(s, p, &p->checks[i]);
	for (size_t i = 0; i < s->report.nclients; i++) {
		const struct report_client *rc = &s->report.clients[i];

		if (rc->status == CLIENT_COMPLETE)
			continue;
		snprintf(line, sizeof(line), "client %d (pid %ld) lost: %s", rc->id, rc->pid,
			 rc->reason);
		wrap(p->f, 0, line, 2);
	}
	if (sum.missing > 0)
		fprintf(p->f, "%d client%s never connected\n", sum.missing,
			text_s((uint64_t)sum.missing));
	if (s->report.interrupted[0] != '\0')
		fprintf(p->f, "\ninterrupted by %s: this is the run so far\n", s->report.interrupted);
	report_print_copy_cost(&s->report, p->f);
	snprintf(line, sizeof(line), "verdict: %s (exit %d): %llu observation%s as the model "
		 "predicts, %llu not, %llu not proven, %llu not applicable, %llu named "
		 "deviation%s", ex == REPORT_EXIT_HELD ? "HELD, the OS did as the model predicts" :
		 ex == REPORT_EXIT_FAILED && s->opt.cow_as_shared && p->obs[OBS_DIFFER] > 0 ?
		 "BROKEN, as a negative control must be" :
		 ex == REPORT_EXIT_FAILED && s->opt.cow_as_shared && p->obs[OBS_DIFFER] == 0 ?
		 "BROKEN: the negative control was not caught" :
		 ex == REPORT_EXIT_FAILED ? "BROKEN, the OS did not do as the model predicts" :
		 "NOT PROVEN", (int)ex, (unsigned long long)p->obs[OBS_MATCH],
		 text_s(p->obs[OBS_MATCH]), (unsigned long long)p->obs[OBS_DIFFER],
		 (unsigned long long)p->obs[OBS_UNPROVEN], (unsigned long long)p->obs[OBS_NA],
		 (unsigned long long)p->obs[OBS_DEVIATION], text_s(p->obs[OBS_DEVIATION]));
	fputc('\n', p->f);
	wrap(p->f, 0, line, 2);
	if (p->you[0] + p->you[1] + p->you[2] > 0) {
		snprintf(line, sizeof(line), "your predictions: %llu right, %llu wrong%s",
			 (unsigned long long)p->you[1], (unsigned long long)p->you[0],
			 p->you[2] ? ", some not seen" : "");
		wrap(p->f, 0, line, 2);
	}
}

static void tap_end(struct server *s, struct play *p)
{
	for (int i = p->printed; i < (int)p->sc.nsteps; i++)
		fprintf(p->f, "not ok %d - step %d # not run: %s\n", ++p->tap_n, i + 1,
			s->report.interrupted[0] ? "the run was interrupted" : "the run ended");
	for (size_t i = 0; i < s->report.nserver_checks; i++) {
		const struct report_check *c = &s->report.server_checks[i];
		enum check_status st = report_check_status(c);

		fprintf(p->f, "%s %d - check %s", st == CHECK_HELD || st == CHECK_NOT_APPLICABLE ?
			"ok" : "not ok", ++p->tap_n, c->name);
		if (st == CHECK_NOT_APPLICABLE)
			fprintf(p->f, " # SKIP %s", c->detail ? c->detail : "");
		fputc('\n', p->f);
		if (st == CHECK_FAILED || st == CHECK_UNPROVEN) {
			fputs("  ---\n", p->f);
			yaml_str(p->f, st == CHECK_FAILED ? "differs" : "unproven",
				 c->detail ? c->detail : "");
			fputs("  ...\n", p->f);
		}
	}
	/* a check per client: one point, not ok where any client's is not
	 * held (the worst, failed before unproven, said for its client) */
	for (size_t i = 0; i < p->nchecks; i++) {
		const struct pcheck *c = &p->checks[i];
		const char *worst = NULL;
		enum check_status ws = CHECK_NOT_APPLICABLE;
		int who = 0;
		size_t applicable = 0;

		if (c->per == NULL)
			continue;
		for (int k = 1; k <= p->sc.clients; k++) {
			const char *detail;
			enum check_status st = instance_of(s, c, k, &detail);

			applicable += st != CHECK_NOT_APPLICABLE;
			if ((st == CHECK_FAILED && ws != CHECK_FAILED) ||
			    (st == CHECK_UNPROVEN && ws != CHECK_FAILED && ws != CHECK_UNPROVEN)) {
				worst = detail;
				ws = st;
				who = k;
			}
		}
		fprintf(p->f, "%s %d - check %s (each client)", worst != NULL ? "not ok" : "ok",
			++p->tap_n, c->name);
		if (applicable == 0)
			fprintf(p->f, " # SKIP not applicable to any client");
		fputc('\n', p->f);
		if (worst != NULL) {
			char what[REPORT_TEXT_MAX + 32];

			snprintf(what, sizeof(what), "client %d: %s", who, worst);
			fputs("  ---\n", p->f);
			yaml_str(p->f, ws == CHECK_FAILED ? "differs" : "unproven", what);
			fputs("  ...\n", p->f);
		}
	}
}

void play_end(struct server *s)
{
	struct play *p = s->play;
	cJSON *o;

	if (p == NULL)
		return;
	/* what is left without clients: the steps the server alone does */
	if (s->report.interrupted[0] == '\0')
		plan_advance(s, NULL);
	/* an interrupted run: what was begun is judged (what was not answered
	 * is not proven) and printed, whole or not */
	for (int k = 1; p->started && k <= p->sc.clients; k++)
		if (p->lane_at[k] >= 0)
			end_lane(s, p, k);
	while (p->printed < p->begun)
		print_step_of(p, p->printed++);
	for (size_t i = 0; i < s->report.nclients; i++) {
		struct report_client *rc = &s->report.clients[i];
		const struct client_state *c = &s->clients[rc->id - 1];

		rc->status = c->lost ? CLIENT_LOST : CLIENT_COMPLETE;
		snprintf(rc->reason, sizeof(rc->reason), "%s", c->reason);
	}
	make_checks(s, p);
	make_page_map(s, p);
	make_copy_cost(s, p);
	if (s->html != NULL) {
		int err = html_close(s->html, &s->report, p->sc.title[0] ? p->sc.title : p->sc.name,
				     p->sc.before, p->sc.each);

		s->html = NULL;
		if (err != 0)
			fprintf(stderr, "cowlab-server: cannot write %s: %s\n", s->opt.html,
				cowlab_strerror(err));
	}
	if (p->out == PLAY_HUMAN)
		print_end(s, p);
	else if (p->out == PLAY_TAP)
		tap_end(s, p);
	fflush(p->f);
	if (p->out != PLAY_JSON || (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "name", p->sc.name);
	cJSON_AddStringToObject(o, "title", p->sc.title);
	cJSON_AddStringToObject(o, "about", p->sc.about);
	cJSON_AddNumberToObject(o, "clients", p->sc.clients);
	cJSON_AddNumberToObject(o, "pages", p->sc.pages);
	cJSON_AddStringToObject(o, "rules", p->model ? (p->ref ? "Wine" : strcmp(
				s->report.platform.os, "Windows") == 0 ? "Windows" : "Linux") : "");
	json_attach(o, "steps", p->json_steps);
	p->json_steps = NULL;
	cJSON *counts = cJSON_AddObjectToObject(o, "observations");
	for (int k = 0; counts != NULL && k < OBS_COUNT; k++)
		cJSON_AddNumberToObject(counts, obs_names[k], (double)p->obs[k]);
	cJSON *you = cJSON_AddObjectToObject(o, "your_predictions");
	if (you != NULL) {
		cJSON_AddNumberToObject(you, "right", (double)p->you[1]);
		cJSON_AddNumberToObject(you, "wrong", (double)p->you[0]);
		cJSON_AddNumberToObject(you, "cannot_tell", (double)p->you[2]);
	}
	s->report.scenario = o;
}


/* Lets a buffer's items go (the ones at hand put back first). */
static void free_buf(struct play *p, struct stepbuf *b)
{
	hold(p, b, p->step);
	items_reset(p);
	free(p->items);
	p->items = NULL;
	p->icap = 0;
	hold(p, b, p->step); /* puts back the empty list */
	p->hand = NULL;
}

void play_free(struct server *s)
{
	struct play *p = s->play;

	if (p == NULL)
		return;
	for (int i = 0; p->bufs != NULL && i < (int)p->sc.nsteps; i++)
		free_buf(p, &p->bufs[i]);
	for (int k = 0; p->lbufs != NULL && k < p->nparts; k++)
		free_buf(p, &p->lbufs[k]);
	for (size_t i = 0; i < p->nchecks; i++) {
		tally_free(&p->checks[i].t);
		for (int k = 1; p->checks[i].per != NULL && k <= p->sc.clients; k++)
			tally_free(&p->checks[i].per[k]);
		free(p->checks[i].per);
	}
	free(p->bufs);
	free(p->lbufs);
	free(p->counts);
	free(p->cost);
	free(p->done_count);
	free(p->queue);
	free(p->queued);
	free(p->mapped);
	free(p->addr);
	if (p->stepping || s->opt.hold)
		step_signal_close();
	free(p->lane_done);
	free(p->lane_at);
	free(p->glob_waits);
	free(p->width);
	for (int k = 0; p->parts != NULL && k < p->nparts; k++) {
		part_reset(&p->parts[k]);
		free(p->parts[k].ops);
		free(p->parts[k].meta);
	}
	for (int v = 0; v < PROTO_VIEW_COUNT; v++)
		if (p->agent.view[v] != NULL)
			section_unmap(p->agent.section, p->agent.view[v]);
	free(p->parts);
	free(p->last_step);
	free(p->either);
	free(p->pagebits);
	model_destroy(p->model);
	model_destroy(p->ref);
	cJSON_Delete(p->json_steps);
	scenario_free(&p->sc);
	free(p);
	s->play = NULL;
}

void play_tap_bail(FILE *out, const char *why)
{
	fprintf(out, "TAP version 13\n1..0\nBail out! %s\n", why);
}
