/* Judging the experiment: every check of every client from the results it
 * reported and what the server saw itself, the server's own checks, and
 * the page map. A check holds only when every observation agrees with it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "facts.h"
#include "fault.h"
#include "image.h"
#include "json.h"
#include "pattern.h"
#include "platform.h"
#include "section.h"
#include "server.h"
#include "text.h"

#define INTACT_SAMPLES 16
#define INTACT_RELEASE 256 /* pages checked between two releases */

static const struct op_record *res(const struct client_state *c, enum step st, int i)
{
	return &c->results[st].ops[i];
}

/* Answered both steps and was not lost: judged on its results. */
static bool client_complete(const struct client_state *c)
{
	return !c->lost && c->steps_done == STEP_COUNT;
}

/* Keys are string literals: attached without a copy (json_attach), which
 * keeps a report of 1000 clients a few MB smaller. */
static cJSON *nums(const char *k1, double v1, const char *k2, double v2)
{
	cJSON *o = cJSON_CreateObject();

	json_attach(o, k1, cJSON_CreateNumber(v1));
	if (k2 != NULL)
		json_attach(o, k2, cJSON_CreateNumber(v2));
	return o;
}

static struct report_check *add(struct report_check *list, size_t cap, size_t *n,
				const char *name, const char *basis, bool held, cJSON *expected,
				cJSON *observed, cJSON *evidence, const char *fmt, ...)
	COWLAB_PRINTF(10, 11);

/* `basis`: whose observations the check rests on: "server" (its own
 * views), "client" (the client's report alone) or "client+server". */
static struct report_check *add(struct report_check *list, size_t cap, size_t *n,
				const char *name, const char *basis, bool held, cJSON *expected,
				cJSON *observed, cJSON *evidence, const char *fmt, ...)
{
	struct report_check *c = report_add_check(list, cap, n, name, held, expected, observed,
						  evidence);
	va_list ap;

	if (c != NULL) {
		snprintf(c->basis, sizeof(c->basis), "%s", basis);
		va_start(ap, fmt);
		report_check_vdetail(c, fmt, ap);
		va_end(ap);
	}
	return c;
}

#define ADD(rc, ...) add((rc)->checks, REPORT_CHECKS_MAX, &(rc)->nchecks, __VA_ARGS__)
#define SERVER_ADD(s, ...) add((s)->report.server_checks, REPORT_SERVER_CHECKS_MAX, \
			       &(s)->report.nserver_checks, __VA_ARGS__)

/* ---- what a check rests on
 *
 * A check holds only when every observation it rests on was made: every
 * operation of the client's own that it needs answered ok: true. When one
 * did not (declined, out of memory, out of descriptors...), the check is
 * unproven, never failed nor held, and its detail names the operation and
 * the client's own words. */

static const char *const step_names[STEP_COUNT] = { "write", "observe" };

struct op_ref {
	enum step step;
	int index;
};

#define REFS(...) ((const struct op_ref[]){ __VA_ARGS__ }), \
	(sizeof((const struct op_ref[]){ __VA_ARGS__ }) / sizeof(struct op_ref))

/* If an operation in `refs` failed, adds `name` as unproven, naming the
 * first one that did, and returns true. */
static bool own_op_missing(struct report_client *rc, const struct client_state *c,
			   const char *name, const char *basis, const struct op_ref *refs,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct op_record *o = res(c, refs[i].step, refs[i].index);
		struct report_check *chk;

		if (o->ok)
			continue;
		chk = ADD(rc, name, basis, false, NULL, NULL, NULL, "%s", "");
		if (chk != NULL)
			report_check_unproven(chk, "not observed: its %s (%s step, operation %d) "
					      "failed: %.120s", proto_op_name(o->kind),
					      step_names[refs[i].step], refs[i].index,
					      o->error ? o->error : "");
		return true;
	}
	return false;
}

static void check_rw_visible(struct report_client *rc, const struct client_state *c)
{
	uint64_t n = experiment_role_count(c, ROLE_RW);

	if (own_op_missing(rc, c, "rw_write_visible", "server",
			   REFS({ STEP_WRITE, W_MAP_RW }, { STEP_WRITE, W_WRITE_RW })))
		return;
	ADD(rc, "rw_write_visible", "server", c->seen.rw_visible == n,
	    nums("server_sees_write", (double)n, NULL, 0),
	    nums("server_sees_write", (double)c->seen.rw_visible, NULL, 0), NULL,
	    "%llu of %llu page%s written through rw seen in the server's rw view",
	    (unsigned long long)c->seen.rw_visible, (unsigned long long)n, text_s(n));
}

static void check_cow_private(struct report_client *rc, const struct client_state *c)
{
	uint64_t n = experiment_role_count(c, ROLE_COW);
	const struct op_record *ops[] = { res(c, STEP_WRITE, W_EXPECT_COW),
						res(c, STEP_OBSERVE, O_COW_STILL) };

	if (own_op_missing(rc, c, "cow_write_private", "client",
			   REFS({ STEP_WRITE, W_MAP_COW }, { STEP_WRITE, W_WRITE_COW },
				{ STEP_WRITE, W_EXPECT_COW }, { STEP_OBSERVE, O_COW_STILL })))
		return;
	ADD(rc, "cow_write_private", "client", ops[0]->matched == n && ops[1]->matched == n,
	    nums("after_write", (double)n, "at_end", (double)n),
	    nums("after_write", (double)ops[0]->matched, "at_end", (double)ops[1]->matched), NULL,
	    "the writer sees its own cow write on %llu of %llu page%s",
	    (unsigned long long)ops[1]->matched, (unsigned long long)n, text_s(n));
}

static void check_cow_isolated(struct report_client *rc, const struct client_state *c)
{
	uint64_t n = experiment_role_count(c, ROLE_COW);
	const struct op_record *own_rw = res(c, STEP_WRITE, W_EXPECT_RW_CLEAN);
	struct report_check *chk;
	cJSON *exp, *obs;
	bool held;

	if (own_op_missing(rc, c, "cow_write_isolated", "client+server",
			   REFS({ STEP_WRITE, W_MAP_COW }, { STEP_WRITE, W_WRITE_COW },
				{ STEP_WRITE, W_MAP_RW }, { STEP_WRITE, W_EXPECT_RW_CLEAN },
				{ STEP_OBSERVE, O_FIND_RW })))
		return;
	held = c->seen.cow_clean == n && own_rw->matched == n && c->seen_by_others == 0 &&
	       c->section_leaks == 0;
	exp = nums("section_clean", (double)n, "own_rw_view_clean", (double)n);
	json_attach(exp, "seen_by_other_clients", cJSON_CreateNumber(0));
	json_attach(exp, "seen_in_rw_views", cJSON_CreateNumber(0));
	obs = nums("section_clean", (double)c->seen.cow_clean, "own_rw_view_clean",
		   (double)own_rw->matched);
	json_attach(obs, "seen_by_other_clients", cJSON_CreateNumber((double)c->seen_by_others));
	json_attach(obs, "seen_in_rw_views", cJSON_CreateNumber((double)c->section_leaks));
	chk = ADD(rc, "cow_write_isolated", "client+server", held, exp, obs, NULL,
		  "the cow write reached the section on %llu of %llu page%s; other clients' "
		  "views and rw views showed it %llu time%s",
		  (unsigned long long)(n - c->seen.cow_clean), (unsigned long long)n, text_s(n),
		  (unsigned long long)(c->seen_by_others + c->section_leaks),
		  text_s(c->seen_by_others + c->section_leaks));
	/* Nothing contradicted it, but a neighbour's search of its pages was
	 * not made or not wholly reported: not proven. */
	if (chk != NULL && held && c->unsearched != NULL)
		report_check_unproven(chk, "%s", c->unsearched);
}

static void check_tracks(struct report_client *rc, const struct client_state *c)
{
	uint64_t nt = experiment_role_count(c, ROLE_TRACK), nrw = experiment_role_count(c, ROLE_RW);
	const struct op_record *ops[] = { res(c, STEP_OBSERVE, O_TRACKS_LATER),
						res(c, STEP_OBSERVE, O_TRACKS_RW) };

	if (own_op_missing(rc, c, "cow_untouched_tracks", "client",
			   REFS({ STEP_WRITE, W_MAP_COW }, { STEP_WRITE, W_MAP_RW },
				{ STEP_WRITE, W_WRITE_RW }, { STEP_OBSERVE, O_TRACKS_LATER },
				{ STEP_OBSERVE, O_TRACKS_RW })))
		return;
	ADD(rc, "cow_untouched_tracks", "client", ops[0]->matched == nt && ops[1]->matched == nrw,
	    nums("shows_server_write", (double)nt, "shows_rw_write", (double)nrw),
	    nums("shows_server_write", (double)ops[0]->matched, "shows_rw_write",
		 (double)ops[1]->matched), NULL,
	    "untouched cow pages show the later section write on %llu of %llu page%s",
	    (unsigned long long)ops[0]->matched, (unsigned long long)nt, text_s(nt));
}

static void check_detached(struct report_client *rc, const struct client_state *c)
{
	uint64_t n = experiment_role_count(c, ROLE_COW), nt = experiment_role_count(c, ROLE_TRACK);
	const struct op_record *ops[] = { res(c, STEP_OBSERVE, O_COW_DETACHED),
						res(c, STEP_OBSERVE, O_TRACKS_LATER) };

	if (own_op_missing(rc, c, "cow_copy_detached", "client",
			   REFS({ STEP_WRITE, W_MAP_COW }, { STEP_WRITE, W_WRITE_COW },
				{ STEP_OBSERVE, O_COW_DETACHED }, { STEP_OBSERVE, O_TRACKS_LATER })))
		return;
	ADD(rc, "cow_copy_detached", "client", ops[0]->matched == n && ops[1]->matched == nt,
	    nums("copies_ignoring_server_write", (double)n, "neighbours_tracking", (double)nt),
	    nums("copies_ignoring_server_write", (double)ops[0]->matched, "neighbours_tracking",
		 (double)ops[1]->matched), NULL,
	    "%llu of %llu copied page%s ignore%s the later section write; %llu of %llu "
	    "neighbour%s still track%s it", (unsigned long long)ops[0]->matched,
	    (unsigned long long)n, text_s(n), n == 1 ? "s" : "",
	    (unsigned long long)ops[1]->matched, (unsigned long long)nt, text_s(nt),
	    nt == 1 ? "s" : "");
}

/* One evidence report against the pages that should be private copies
 * (every cow-role page when `written`, none before). */
struct ev_tally {
	uint64_t pages_wrong;   /* pages the OS says the wrong way */
	uint64_t pages_unknown; /* pages it could not tell ('?': swapped out) */
	uint64_t sources_wrong; /* supported sources whose count is wrong */
};

static void evidence_tally(const struct client_state *c, const struct evidence_report *ev,
			   bool written, struct ev_tally *t)
{
	uint64_t want = written ? experiment_role_count(c, ROLE_COW) : 0, unknown = 0;

	for (size_t i = 0; i < ev->count; i++) {
		bool should = written && experiment_role_of(i) == ROLE_COW;

		if (ev->pages[i] == EVIDENCE_PAGE_UNKNOWN)
			unknown++;
		else
			t->pages_wrong += (ev->pages[i] == EVIDENCE_PAGE_PRIVATE) != should;
	}
	t->pages_unknown += unknown;
	/* A page the OS could not tell is an observation not made: the
	 * sources' counts cannot be held to the number then. */
	for (size_t i = 0; unknown == 0 && i < ev->nsources; i++)
		t->sources_wrong += ev->sources[i].supported &&
				    ev->sources[i].private_pages != want;
}

/* "pagemap 1, pagemap_scan 1, smaps 1": what each supported source counted. */
static void sources_said(const struct evidence_report *ev, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ev->nsources && used < cap; i++) {
		int w;

		if (!ev->sources[i].supported)
			continue;
		w = snprintf(buf + used, cap - used, "%s%s %llu", used ? ", " : "",
			     ev->sources[i].name, (unsigned long long)ev->sources[i].private_pages);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static bool primary_supported(const struct evidence_report *ev)
{
	for (size_t i = 0; i < ev->nsources; i++)
		if (strcmp(ev->sources[i].name, evidence_primary_source) == 0)
			return ev->sources[i].supported;
	return false;
}

static void check_evidence(struct report_client *rc, const struct client_state *c)
{
	const struct op_record *ops[] = { res(c, STEP_WRITE, W_EVIDENCE_BEFORE),
						res(c, STEP_WRITE, W_EVIDENCE),
						res(c, STEP_OBSERVE, O_EVIDENCE) };
	const struct evidence_report *last = ops[2]->evidence;
	uint64_t n = experiment_role_count(c, ROLE_COW), bad;
	struct ev_tally t = { 0, 0, 0 };
	char said[120], wrong[64] = "";
	struct report_check *chk;
	cJSON *exp, *obs;

	if (own_op_missing(rc, c, "cow_copy_evidence", "client",
			   REFS({ STEP_WRITE, W_MAP_COW }, { STEP_WRITE, W_EVIDENCE_BEFORE },
				{ STEP_WRITE, W_WRITE_COW }, { STEP_WRITE, W_EVIDENCE },
				{ STEP_OBSERVE, O_EVIDENCE })))
		return;
	evidence_tally(c, ops[0]->evidence, false, &t);
	evidence_tally(c, ops[1]->evidence, true, &t);
	evidence_tally(c, last, true, &t);
	bad = t.pages_wrong + t.sources_wrong;
	sources_said(last, said, sizeof(said));
	exp = nums("private_before", 0, "private_after", (double)n);
	obs = nums("private_before", (double)ops[0]->evidence->private_pages, "private_after",
		   (double)last->private_pages);
	if (bad > 0)
		snprintf(wrong, sizeof(wrong), "; %llu page%s the wrong way in its three reports",
			 (unsigned long long)t.pages_wrong, t.pages_wrong == 1 ? "" : "s");
	chk = ADD(rc, "cow_copy_evidence", "client", bad == 0, exp, obs, report_evidence_json(last),
		  "the OS reports %llu private page%s where %llu %s written (%s)%s",
		  (unsigned long long)last->private_pages, last->private_pages == 1 ? "" : "s",
		  (unsigned long long)n, n == 1 ? "was" : "were", said, wrong);
	/* Nothing contradicted, but the OS could not tell some pages: a
	 * swapped-out page is an observation not made, not a failure. */
	if (chk != NULL && bad == 0 && t.pages_unknown > 0)
		report_check_unproven(chk, "not observed: the OS could not tell %llu page%s "
				      "(\"?\": swapped out) in the client's evidence",
				      (unsigned long long)t.pages_unknown,
				      t.pages_unknown == 1 ? "" : "s");
	/* The platform's own source must have answered: a client cannot make
	 * this check hold by calling every source unsupported (a report
	 * without it is an observation not made, unless another contradicts). */
	for (int k = 0; chk != NULL && bad == 0 && k < 3; k++) {
		if (!primary_supported(ops[k]->evidence)) {
			report_check_unproven(chk, "not observed: the client reports no %s "
					      "evidence, which this platform always has",
					      evidence_primary_source);
			break;
		}
	}
}

static void check_faults(struct report_client *rc, const struct client_state *c,
			 uint32_t page_size)
{
	uint64_t n = experiment_role_count(c, ROLE_FAULT);
	const struct op_record *ops[] = { res(c, STEP_WRITE, W_FAULT),
						res(c, STEP_WRITE, W_EXPECT_RO_CLEAN) };
	cJSON *obs, *ev = NULL;

	if (own_op_missing(rc, c, "ro_write_faults", "client+server",
			   REFS({ STEP_WRITE, W_MAP_RO }, { STEP_WRITE, W_FAULT },
				{ STEP_WRITE, W_EXPECT_RO_CLEAN })))
		return;
	obs = nums("faulted_at_target", (double)ops[0]->matched, "unchanged_in_ro_view",
		   (double)ops[1]->matched);
	json_attach(obs, "unchanged_in_section", cJSON_CreateNumber((double)c->seen.fault_clean));
	if (ops[0]->fault.faulted) {
		ev = cJSON_CreateObject();
		json_attach(ev, "code", cJSON_CreateString(ops[0]->fault.code));
		json_attach(ev, "target_offset", cJSON_CreateNumber((double)ops[0]->fault_target));
		json_attach(ev, "fault_offset", ops[0]->fault_outside ? cJSON_CreateNull() :
			    cJSON_CreateNumber((double)ops[0]->fault_offset));
	}
	/* The first fault, checked here: the platform's write-protection
	 * fault, at the first fault page's word 0, where the write was aimed. */
	uint64_t first = experiment_role_range(c, ROLE_FAULT).first * (uint64_t)page_size;
	bool first_ok = ops[0]->fault.faulted &&
			strcmp(ops[0]->fault.code, fault_protection_code) == 0 &&
			ops[0]->fault_target == first && !ops[0]->fault_outside &&
			ops[0]->fault_offset == first;
	json_attach(obs, "first_fault_as_expected", cJSON_CreateBool(first_ok));
	cJSON *exp = nums("faulted_at_target", (double)n, "unchanged_in_ro_view", (double)n);
	json_attach(exp, "unchanged_in_section", cJSON_CreateNumber((double)n));
	json_attach(exp, "first_fault_as_expected", cJSON_CreateBool(true));
	ADD(rc, "ro_write_faults", "client+server",
	    first_ok && ops[0]->matched == n && ops[1]->matched == n && c->seen.fault_clean == n,
	    exp, obs, ev, "%llu of %llu write%s to the ro view faulted (%s); %llu page%s unchanged",
	    (unsigned long long)ops[0]->matched, (unsigned long long)n, text_s(n),
	    ops[0]->fault.faulted ? ops[0]->fault.code : "no fault",
	    (unsigned long long)c->seen.fault_clean, text_s(c->seen.fault_clean));
}

/* Notes on `x` that a search of its pages is missing, the first reason
 * only: the detail of its cow_write_isolated if nothing contradicts it. */
static void note_unsearched(struct client_state *x, const char *fmt, ...) COWLAB_PRINTF(2, 3);

static void note_unsearched(struct client_state *x, const char *fmt, ...)
{
	char text[REPORT_TEXT_MAX];
	va_list ap;

	if (x->unsearched != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	x->unsearched = malloc(strlen(text) + 1);
	if (x->unsearched != NULL)
		strcpy(x->unsearched, text);
}

/* Every client whose cow pages lie in `r` from page `from` on. */
static void note_range_unsearched(struct server *s, struct proto_range r, uint64_t from,
				  const struct client_state *finder, int k, const char *why)
{
	uint64_t last = proto_range_page(&r, r.count - 1);

	for (uint64_t p = from > r.first ? from : r.first; p <= last; p++) {
		struct client_state *x = experiment_owner(s, p);

		if (x == NULL || experiment_role_of(p - x->first_page) != ROLE_COW)
			continue;
		note_unsearched(x, "not observed: client %d's find (observe step, operation "
				"%d) of pages %llu-%llu %.100s", finder->id, k,
				(unsigned long long)r.first, (unsigned long long)last, why);
		p = x->first_page + x->page_count - 1; /* the next owner */
	}
}

/* Who saw whose cow writes: every FIND match outside the finder's own
 * pages is a sighting of another client's private write. A find that was
 * not made leaves the isolation of every client whose cow pages it covers
 * unproven; so do the matches it counted beyond the samples it could
 * list (at most PROTO_SAMPLES_MAX), which may be anybody's after the last
 * sample. */
static void attribute_sightings(struct server *s)
{
	for (int i = 0; i < s->nclients; i++) {
		const struct client_state *y = &s->clients[i];
		struct proto_run run;
		char why[160];

		experiment_build(s, y, STEP_OBSERVE, &run);
		if (y->steps_done < STEP_COUNT) {
			/* a process that mapped the section and never looked: its
			 * finds are observations not made, as much as declined ones */
			snprintf(why, sizeof(why), "was not made: it was lost (%.100s)",
				 y->reason[0] ? y->reason : "did not finish the run");
			for (int k = O_FIND_COW_BELOW; k <= O_FIND_RW; k++)
				note_range_unsearched(s, run.ops[k].range, 0, y, k, why);
			continue;
		}
		for (int k = O_FIND_COW_BELOW; k <= O_FIND_RW; k++) {
			const struct op_record *r = res(y, STEP_OBSERVE, k);

			if (!r->ok) {
				snprintf(why, sizeof(why), "failed: %.120s", r->error ? r->error : "");
				note_range_unsearched(s, run.ops[k].range, 0, y, k, why);
				continue;
			}
			for (size_t j = 0; j < r->nsamples; j++) {
				struct client_state *x = experiment_owner(s, r->samples[j].page);

				/* only a page the owner wrote through cow can show its stamp */
				if (x == NULL ||
				    experiment_role_of(r->samples[j].page - x->first_page) != ROLE_COW)
					continue;
				if (k == O_FIND_RW)
					x->section_leaks++;
				else if (x != y)
					x->seen_by_others++;
			}
			if (r->matched > r->nsamples) {
				/* counted, not named: anybody's after the last sample */
				uint64_t from = r->nsamples > 0 ? r->samples[r->nsamples - 1].page + 1
								: run.ops[k].range.first;

				snprintf(why, sizeof(why), "matched %llu pages but named only %zu; the "
					 "rest, from page %llu on, may be this client's",
					 (unsigned long long)r->matched, r->nsamples,
					 (unsigned long long)from);
				note_range_unsearched(s, run.ops[k].range, from, y, k, why);
			}
		}
	}
}

/* Every operation of the client's that failed, in the report. */
static void list_failed_ops(struct report_client *rc, const struct client_state *c)
{
	for (int st = 0; st < STEP_COUNT && st < c->steps_done; st++) {
		const struct step_record *sr = &c->results[st];

		for (size_t k = 0; k < sr->nops; k++)
			if (!sr->ops[k].ok)
				report_client_failed_op(rc, step_names[st], (int)k,
							proto_op_name(sr->ops[k].kind),
							sr->ops[k].error);
	}
}

static void judge_client(struct server *s, struct client_state *c, struct report_client *rc,
			 int image_compared)
{
	rc->id = c->id;
	rc->pid = c->pid;
	rc->first_page = c->first_page;
	rc->page_count = c->page_count;
	rc->status = client_complete(c) ? CLIENT_COMPLETE : CLIENT_LOST;
	snprintf(rc->reason, sizeof(rc->reason), "%s", c->lost ? c->reason :
		 c->steps_done < STEP_COUNT ? "did not finish the run" : "");
	list_failed_ops(rc, c);
	if (rc->status == CLIENT_LOST)
		return;
	check_rw_visible(rc, c);
	check_cow_private(rc, c);
	check_cow_isolated(rc, c);
	check_tracks(rc, c);
	check_detached(rc, c);
	check_evidence(rc, c);
	check_faults(rc, c, s->page_size);
	facts_image_check(s, rc, c, image_compared, "image_section_shared");
}

/* A role's page character: '!' when a check about it failed, else '?'
 * when one is unproven, else the role's own. */
static char worst(char mark, const struct report_client *rc, const char *name)
{
	for (size_t i = 0; i < rc->nchecks; i++) {
		if (strcmp(rc->checks[i].name, name) != 0)
			continue;
		switch (report_check_status(&rc->checks[i])) {
		case CHECK_FAILED: return MAP_BROKEN;
		case CHECK_UNPROVEN: return mark == MAP_BROKEN ? mark : MAP_UNKNOWN;
		default: return mark;
		}
	}
	return mark;
}

/* An expect of a complete client: '!' when it found a page without the
 * value, '?' when it was not made. */
static char expect_mark(char mark, const struct client_state *c, enum step st, int i)
{
	if (!res(c, st, i)->ok)
		return mark == MAP_BROKEN ? mark : MAP_UNKNOWN;
	return res(c, st, i)->mismatched > 0 ? MAP_BROKEN : mark;
}

static void map_client(struct server *s, const struct client_state *c,
		       const struct report_client *rc)
{
	static const char *const cow_checks[] = { "cow_write_private", "cow_write_isolated",
						  "cow_copy_detached", "cow_copy_evidence" };
	char marks[ROLE_COUNT] = { MAP_COPY, MAP_TRACK, MAP_RW, MAP_FAULT };

	if (!client_complete(c)) {
		memset(s->report.page_map + c->first_page, MAP_UNKNOWN, (size_t)c->page_count);
		return;
	}
	for (size_t k = 0; k < sizeof(cow_checks) / sizeof(cow_checks[0]); k++)
		marks[ROLE_COW] = worst(marks[ROLE_COW], rc, cow_checks[k]);
	marks[ROLE_TRACK] = expect_mark(marks[ROLE_TRACK], c, STEP_OBSERVE, O_TRACKS_LATER);
	marks[ROLE_RW] = worst(marks[ROLE_RW], rc, "rw_write_visible");
	marks[ROLE_RW] = expect_mark(marks[ROLE_RW], c, STEP_OBSERVE, O_TRACKS_RW);
	marks[ROLE_FAULT] = worst(marks[ROLE_FAULT], rc, "ro_write_faults");
	for (uint64_t i = 0; i < c->page_count; i++)
		s->report.page_map[c->first_page + i] = marks[experiment_role_of(i)];
}

/* ---- the server's own checks ---- */

struct allowed {
	uint32_t w0[2], w1[2]; /* each word may hold either value */
};

static void allowed_words(const struct server *s, uint64_t page, struct allowed *a)
{
	const struct client_state *c = experiment_owner((struct server *)s, page);
	uint32_t p0 = pattern_value(s->seed, page, 0), p1 = pattern_value(s->seed, page, LATER_OFFSET);
	enum role r;

	a->w0[0] = a->w0[1] = p0;
	a->w1[0] = a->w1[1] = p1;
	if (c == NULL)
		return;
	r = experiment_role_of(page - c->first_page);
	if ((r == ROLE_COW || r == ROLE_TRACK) && c->seen.later_written)
		a->w1[0] = a->w1[1] = p1 ^ PATTERN_XOR_LATER;
	if (r == ROLE_RW) {
		/* The client said whether it wrote; one lost before it said may
		 * or may not have. */
		a->w0[1] = p0 ^ PATTERN_XOR_RW;
		if (c->steps_done > STEP_WRITE)
			a->w0[0] = a->w0[1] = c->seen.rw_written ? p0 ^ PATTERN_XOR_RW : p0;
	}
}

static bool page_intact(const struct server *s, uint64_t page, uint32_t *first_bad)
{
	const uint32_t *w = (const uint32_t *)(const void *)((uint8_t *)s->rw + page * s->page_size);
	struct allowed a;

	allowed_words(s, page, &a);
	*first_bad = w[0];
	if (w[0] != a.w0[0] && w[0] != a.w0[1])
		return false;
	*first_bad = w[1];
	if (w[1] != a.w1[0] && w[1] != a.w1[1])
		return false;
	size_t k = pattern_first_differing(s->seed, page, w, s->page_size, 2);
	if (k < s->page_size / 4) {
		*first_bad = w[k];
		return false;
	}
	return true;
}

/* What the server reads in the section for its own checks, section_intact
 * and server_cow_tracks: every page through its rw view, and the clients'
 * cow and track pages through its cow view. That reading (the whole
 * section, page by page) is done on a thread of its own while the clients
 * are judged; it touches neither the report nor the page map, and reads
 * only client facts that are settled by then. */
struct section_scan {
	struct server *s;
	uint8_t *broken;          /* 1 for each page that differs */
	uint64_t bad;             /* how many differ */
	uint64_t sample[INTACT_SAMPLES][2]; /* the first ones: page, word */
	size_t nsamples;
	uint64_t tracks_want, tracks_seen;
};

static void scan_intact(struct section_scan *sc)
{
	struct server *s = sc->s;

	for (uint64_t p = 0; p < s->pages; p++) {
		uint32_t v;
		bool intact = page_intact(s, p, &v);

		/* read once, then let go: see section_release */
		if (p % INTACT_RELEASE == INTACT_RELEASE - 1 || p == s->pages - 1)
			section_release(s->section, s->rw, p - p % INTACT_RELEASE,
					p % INTACT_RELEASE + 1);
		if (intact)
			continue;
		sc->bad++;
		if (sc->broken != NULL)
			sc->broken[p] = 1;
		else /* not on a thread of its own: see experiment_evaluate */
			s->report.page_map[p] = MAP_BROKEN;
		if (sc->nsamples < INTACT_SAMPLES) {
			sc->sample[sc->nsamples][0] = p;
			sc->sample[sc->nsamples][1] = v;
			sc->nsamples++;
		}
	}
}

/* Copy-on-write seen by the server alone, whatever any client says: its
 * own cow view, never written on the clients' pages, must show the later
 * write it made through the section on every cow and track page. */
static void scan_tracks(struct section_scan *sc)
{
	struct server *s = sc->s;
	struct release_batch cow_release = { s->cow, 0, 0 };

	for (int i = 0; i < s->nclients; i++) {
		const struct client_state *c = &s->clients[i];

		for (enum role r = ROLE_COW; c->seen.later_written && r <= ROLE_TRACK; r++) {
			struct proto_range range = experiment_role_range(c, r);

			sc->tracks_want += range.count;
			sc->tracks_seen += experiment_count_matching(s, s->cow, range, LATER_OFFSET,
								     PATTERN_XOR_LATER);
		}
		/* never written through the server's cow view: nothing to lose */
		release_batch_add(s, &cow_release, c->first_page, c->page_count);
	}
	release_batch_flush(s, &cow_release);
}

static void scan_section(void *arg)
{
	scan_intact(arg);
	scan_tracks(arg);
}

static void check_section_intact(struct server *s, const struct section_scan *sc)
{
	cJSON *samples = cJSON_CreateArray(), *obs;

	for (uint64_t p = 0; sc->broken != NULL && p < s->pages; p++)
		if (sc->broken[p])
			s->report.page_map[p] = MAP_BROKEN;
	for (size_t i = 0; samples != NULL && i < sc->nsamples; i++) {
		cJSON *pair = cJSON_CreateArray();

		cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)sc->sample[i][0]));
		cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)sc->sample[i][1]));
		cJSON_AddItemToArray(samples, pair);
	}
	obs = nums("pages_differing", (double)sc->bad, NULL, 0);
	json_attach(obs, "samples", samples);
	SERVER_ADD(s, "section_intact", "server", sc->bad == 0,
	    nums("pages_differing", 0, NULL, 0), obs, NULL,
	    "%llu of %llu page%s differ%s from the initial pattern plus every rw write",
	    (unsigned long long)sc->bad, (unsigned long long)s->pages, text_s(s->pages),
	    sc->bad == 1 ? "s" : "");
}

static void check_server_cow(struct server *s)
{
	uint32_t p0 = pattern_value(s->seed, 0, 0);
	const uint32_t *cow = s->cow, *rw = s->rw;
	uint64_t seen = 0;
	bool held;
	cJSON *obs;

	for (int i = 0; i < s->nclients; i++)
		seen += s->clients[i].seen.server_cow_sightings;
	held = cow[0] == (p0 ^ PATTERN_XOR_SERVER_COW) && rw[0] == p0 && seen == 0;
	obs = cJSON_CreateObject();
	json_attach(obs, "server_cow_view_shows_it",
	    cJSON_CreateBool(cow[0] == (p0 ^ PATTERN_XOR_SERVER_COW)));
	json_attach(obs, "section_shows_it", cJSON_CreateBool(rw[0] != p0));
	json_attach(obs, "clients_seeing_it", cJSON_CreateNumber((double)seen));
	cJSON *exp = cJSON_CreateObject();
	json_attach(exp, "server_cow_view_shows_it", cJSON_CreateBool(true));
	json_attach(exp, "section_shows_it", cJSON_CreateBool(false));
	json_attach(exp, "clients_seeing_it", cJSON_CreateNumber(0));
	if (!held)
		s->report.page_map[0] = MAP_BROKEN;
	struct report_check *chk = SERVER_ADD(s, "server_cow_isolated", "client+server", held,
					      exp, obs, NULL, "the server's own cow write to page "
					      "0 is private to it%s", held ? "" : ": NOT so");
	/* nothing contradicted it, but a client's look was not made */
	if (chk != NULL && held && s->server_cow_unsearched != NULL) {
		report_check_unproven(chk, "%s", s->server_cow_unsearched);
		s->report.page_map[0] = MAP_UNKNOWN;
	}
	free(s->server_cow_unsearched);
	s->server_cow_unsearched = NULL;
}

static void check_server_tracks(struct server *s, const struct section_scan *sc)
{
	uint64_t want = sc->tracks_want, seen = sc->tracks_seen;
	struct report_check *chk;

	chk = SERVER_ADD(s, "server_cow_tracks", "server", seen == want, nums("pages_tracking", (double)want, NULL, 0),
		  nums("pages_tracking", (double)seen, NULL, 0), NULL,
		  "the server's own cow view shows its later section write on %llu of %llu "
		  "untouched pages", (unsigned long long)seen, (unsigned long long)want);
	if (chk != NULL && want == 0) {
		chk->applicable = false;
		report_check_detail(chk, "no client got as far as the later write");
	}
}

/* Under --cow-as-shared the run must fail: if every check held, the
 * instrument could not tell shared from private, and says so. */
static void check_control(struct server *s)
{
	struct report_summary sum;
	struct report_check *chk;

	if (!s->opt.cow_as_shared)
		return;
	report_summarize(&s->report, &sum);
	chk = SERVER_ADD(s, "negative_control_detected", "server", sum.checks_failed > 0, nums("checks_failed_at_least", 1, NULL, 0),
		  nums("checks_failed", sum.checks_failed, NULL, 0), NULL,
		  "the shared \"copy-on-write\" views were caught by %d check%s",
		  sum.checks_failed, text_s((uint64_t)sum.checks_failed));
	if (chk != NULL && sum.checks_failed == 0)
		report_check_detail(chk, "every check held although the views were shared: "
				    "this run cannot tell shared from private");
	if (chk != NULL && sum.complete == 0) {
		/* nothing was tried: incomplete (exit 3), not a verdict */
		chk->applicable = false;
		report_check_detail(chk, "no client completed the run");
	}
}

/* The two facts of a client's results that the server's own checks need
 * once its results are let go; kept before anything is judged, so that the
 * section can be read meanwhile. */
static void keep_facts(struct server *s, struct client_state *c)
{
	const struct op_record *find;

	char text[REPORT_TEXT_MAX];

	if (c->steps_done > STEP_WRITE)
		c->seen.rw_written = res(c, STEP_WRITE, W_WRITE_RW)->ok;
	if (c->steps_done < STEP_COUNT) {
		snprintf(text, sizeof(text), "not observed: client %d's find of page 0 (observe "
			 "step, operation %d) was not made: it was lost (%.100s)", c->id,
			 O_FIND_SERVER_COW, c->reason[0] ? c->reason : "did not finish the run");
	} else {
		find = res(c, STEP_OBSERVE, O_FIND_SERVER_COW);
		/* every client's sightings count, before a missing look or after */
		if (find->ok) {
			c->seen.server_cow_sightings = find->matched;
			return;
		}
		snprintf(text, sizeof(text), "not observed: client %d's find of page 0 "
			 "(observe step, operation %d) failed: %.100s", c->id, O_FIND_SERVER_COW,
			 find->error ? find->error : "");
	}
	if (s->server_cow_unsearched != NULL)
		return; /* the first reason is enough */
	s->server_cow_unsearched = malloc(strlen(text) + 1);
	if (s->server_cow_unsearched != NULL)
		strcpy(s->server_cow_unsearched, text);
}

/* Once a client is judged, its results go, so that the records and the
 * report of every client are never held at once. */
static void release_results(struct client_state *c)
{
	for (int k = 0; k < STEP_COUNT; k++)
		step_record_free(&c->results[k]);
	free(c->unsearched);
	c->unsearched = NULL;
}

void experiment_evaluate(struct server *s)
{
	struct section_scan scan = { .s = s };
	struct platform_thread *reader = NULL;

	release_batch_flush(s, &s->rw_release);
	report_reserve_clients(&s->report, (size_t)s->nclients); /* best effort */
	s->report.page_map = malloc((size_t)s->pages + 1);
	if (s->report.page_map != NULL) {
		memset(s->report.page_map, MAP_UNUSED, (size_t)s->pages);
		s->report.page_map[0] = MAP_SERVER;
		s->report.page_map[s->pages - 1] = MAP_SERVER;
		s->report.page_map[s->pages] = '\0';
	}
	for (int i = 0; i < s->nclients; i++)
		keep_facts(s, &s->clients[i]);
	/* the server's own reading of the section, meanwhile, where it can be */
	scan.broken = s->report.page_map != NULL ? calloc((size_t)s->pages, 1) : NULL;
	if (scan.broken != NULL && platform_thread_start(&reader, scan_section, &scan) != 0) {
		reader = NULL;
		free(scan.broken);
		scan.broken = NULL;
	}

	int image_compared = facts_image_twins(s, client_complete);

	attribute_sightings(s);
	for (int i = 0; i < s->nclients; i++) {
		struct report_client *rc = report_add_client(&s->report, false);

		if (rc != NULL) {
			judge_client(s, &s->clients[i], rc, image_compared);
			if (s->report.page_map != NULL)
				map_client(s, &s->clients[i], rc);
		}
		/* whether or not its entry fit: the server's checks need it */
		release_results(&s->clients[i]);
	}
	if (reader != NULL)
		platform_thread_join(reader);
	else if (s->report.page_map != NULL)
		scan_section(&scan); /* here, then, marking the page map itself */
	if (s->report.page_map != NULL) {
		check_section_intact(s, &scan);
		check_server_cow(s);
		check_server_tracks(s, &scan);
		check_control(s);
	}
	free(scan.broken);
}
