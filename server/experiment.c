/* The built-in experiment (experiment.h has its layout): what each client
 * does in each step, and what the server does before and between steps.
 * The server's own page 0 takes a write through the server's cow view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "err.h"
#include "pattern.h"
#include "section.h"
#include "server.h"

struct proto_range experiment_role_range(const struct client_state *c, enum role role)
{
	struct proto_range r = { c->first_page + role,
				 (c->page_count - role + ROLE_COUNT - 1) / ROLE_COUNT, ROLE_COUNT };

	return r;
}

uint64_t experiment_role_count(const struct client_state *c, enum role role)
{
	return experiment_role_range(c, role).count;
}

struct client_state *experiment_owner(struct server *s, uint64_t page)
{
	uint64_t slot;

	if (page == 0 || page >= s->pages - 1)
		return NULL;
	slot = (page - 1) / s->opt.pages_per_client;
	return slot < (uint64_t)s->nclients ? &s->clients[slot] : NULL;
}

static void op(struct proto_run *run, enum proto_op_kind kind, enum proto_view view,
	       struct proto_range range, uint32_t offset, uint32_t xor_value)
{
	struct proto_op *o = &run->ops[run->nops++];

	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->view = view;
	o->range = range;
	o->offset = offset;
	o->xor_value = xor_value;
}

void experiment_build(const struct server *s, const struct client_state *c,
		      enum step step, struct proto_run *run)
{
	struct proto_range own = { c->first_page, c->page_count, 1 };
	/* Where a client looks for other clients' private writes: its
	 * neighbours' pages, EXPERIMENT_WINDOW clients' worth on each side
	 * (the server's page 0 and the guard page included at the ends), not
	 * the whole section: a client's work stays O(its pages), not
	 * O(clients), and the server checks the whole section itself. Both
	 * ranges are never empty (see the layout). */
	uint64_t w = EXPERIMENT_WINDOW * c->page_count;
	uint64_t lo = c->first_page > w ? c->first_page - w : 0;
	uint64_t hi = c->first_page + c->page_count + w < s->pages ?
		      c->first_page + c->page_count + w : s->pages;
	struct proto_range below = { lo, c->first_page - lo, 1 };
	struct proto_range above = { c->first_page + c->page_count,
				     hi - c->first_page - c->page_count, 1 };
	struct proto_range around = { lo, hi - lo, 1 };
	struct proto_range server_page = { 0, 1, 1 };
	struct proto_range none = { 0, 0, 0 };

	struct proto_range cow = experiment_role_range(c, ROLE_COW);
	struct proto_range track = experiment_role_range(c, ROLE_TRACK);
	struct proto_range rw = experiment_role_range(c, ROLE_RW);
	struct proto_range fault = experiment_role_range(c, ROLE_FAULT);

	run->seq = (uint64_t)step;
	/* A client that does not wait for the verdict learns it is done. */
	run->last = step == STEP_COUNT - 1 && c->no_verdict;
	run->nops = 0;
	switch (step) {
	case STEP_WRITE:
		op(run, PROTO_OP_MAP, PROTO_VIEW_RW, none, 0, 0);
		op(run, PROTO_OP_MAP, PROTO_VIEW_COW, none, 0, 0);
		run->ops[W_MAP_COW].as_shared = s->opt.cow_as_shared;
		op(run, PROTO_OP_MAP, PROTO_VIEW_RO, none, 0, 0);
		op(run, PROTO_OP_EVIDENCE, PROTO_VIEW_COW, own, 0, 0);
		op(run, PROTO_OP_WRITE, PROTO_VIEW_COW, cow, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_WRITE, PROTO_VIEW_RW, rw, 0, PATTERN_XOR_RW);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_COW, cow, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_RW, cow, 0, PATTERN_XOR_NONE);
		op(run, PROTO_OP_FAULT_WRITE, PROTO_VIEW_RO, fault, 0, PATTERN_XOR_FAULT);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_RO, fault, 0, PATTERN_XOR_NONE);
		op(run, PROTO_OP_EVIDENCE, PROTO_VIEW_COW, own, 0, 0);
		break;
	case STEP_OBSERVE:
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_COW, track, LATER_OFFSET, PATTERN_XOR_LATER);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_COW, rw, 0, PATTERN_XOR_RW);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_COW, cow, LATER_OFFSET, PATTERN_XOR_NONE);
		op(run, PROTO_OP_EXPECT, PROTO_VIEW_COW, cow, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_FIND, PROTO_VIEW_COW, below, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_FIND, PROTO_VIEW_COW, above, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_FIND, PROTO_VIEW_RW, around, 0, PATTERN_XOR_COW);
		op(run, PROTO_OP_FIND, PROTO_VIEW_COW, server_page, 0, PATTERN_XOR_SERVER_COW);
		op(run, PROTO_OP_EVIDENCE, PROTO_VIEW_COW, own, 0, 0);
		break;
	case STEP_COUNT:
		break;
	}
}

static volatile uint32_t *server_word(const struct server *s, void *view, uint64_t page,
				      uint32_t offset)
{
	return (volatile uint32_t *)(void *)((uint8_t *)view + page * s->page_size + offset);
}

/* How many pages of a range hold pattern^xor at offset in the given view. */
uint64_t experiment_count_matching(const struct server *s, void *view, struct proto_range r,
				   uint32_t offset, uint32_t xor_value)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < r.count; i++) {
		uint64_t page = proto_range_page(&r, i);

		n += *server_word(s, view, page, offset) ==
		     (pattern_value(s->seed, page, offset) ^ xor_value);
	}
	return n;
}

int experiment_prepare(struct server *s)
{
	int err = section_fill(s->section, s->rw, pattern_fill, &s->seed);

	if (err != 0)
		return err;
	/* The server's own copy-on-write write: nobody else may ever see it. */
	*server_word(s, s->cow, 0, 0) = pattern_value(s->seed, 0, 0) ^ PATTERN_XOR_SERVER_COW;
	return COWLAB_OK;
}

/* The slots whose pages a client's observe step reads (experiment_build's
 * `around`): EXPERIMENT_WINDOW on each side, itself included. */
void experiment_window(const struct server *s, const struct client_state *c, int *lo, int *hi)
{
	int slot = c->id - 1;

	*lo = slot > EXPERIMENT_WINDOW ? slot - EXPERIMENT_WINDOW : 0;
	*hi = slot + EXPERIMENT_WINDOW < s->opt.clients - 1 ? slot + EXPERIMENT_WINDOW :
							       s->opt.clients - 1;
}

/* Between a client's steps: the server looks at its pages through its own
 * rw view, then writes the later stamp on them. */
static void experiment_after_write(struct server *s, struct client_state *c)
{
	if (c->lost || c->steps_done <= STEP_WRITE)
		return;
	c->seen.rw_visible = experiment_count_matching(s, s->rw, experiment_role_range(c, ROLE_RW), 0, PATTERN_XOR_RW);
	c->seen.cow_clean = experiment_count_matching(s, s->rw, experiment_role_range(c, ROLE_COW), 0, 0);
	c->seen.fault_clean = experiment_count_matching(s, s->rw, experiment_role_range(c, ROLE_FAULT), 0, 0);
	/* The later section write, to copied and untouched pages alike. */
	for (enum role r = ROLE_COW; r <= ROLE_TRACK; r++) {
		struct proto_range rr = experiment_role_range(c, r);

		for (uint64_t k = 0; k < rr.count; k++) {
			uint64_t page = proto_range_page(&rr, k);

			*server_word(s, s->rw, page, LATER_OFFSET) =
				pattern_value(s->seed, page, LATER_OFFSET) ^ PATTERN_XOR_LATER;
		}
	}
	c->seen.later_written = true;
	/* Done with this client's pages for now: the server's resident
	 * memory stays independent of the section's size. */
	release_batch_add(s, &s->rw_release, c->first_page, c->page_count);
}

void release_batch_flush(struct server *s, struct release_batch *b)
{
	section_release(s->section, b->view, b->first, b->count);
	b->count = 0;
}

void release_batch_add(struct server *s, struct release_batch *b, uint64_t first, uint64_t count)
{
	if (b->count > 0 && first == b->first + b->count) {
		b->count += count;
	} else if (b->count > 0 && first + count == b->first) {
		b->first = first;
		b->count += count;
	} else {
		release_batch_flush(s, b);
		b->first = first;
		b->count = count;
	}
	if (b->count >= RELEASE_BATCH_MAX)
		release_batch_flush(s, b);
}

/* ---- the plan: when each client's steps go out
 *
 * A client's write step goes out with its assignment. Its observe step
 * goes out as soon as the client and every client whose pages that step
 * reads (its window: experiment_window) have answered the write step and
 * had their pages looked at by the server, or can no longer: lost, or
 * never admitted once admission has closed. So no client waits for the
 * whole run to connect, nor for the slowest client of a step: with
 * --spawn, clients work while the others are still being started. The
 * batch is a function of the client and its step, so nobody keeps a copy
 * while it is out. */

static const char *const step_names[STEP_COUNT] = { "write", "observe" };

static void send_step(struct server *s, struct client_state *cl, enum step step)
{
	struct proto_run run;

	experiment_build(s, cl, step, &run);
	server_send(s, cl, &run);
}

/* A slot's write step is behind it: done, lost, or never to be filled. */
static bool write_settled(const struct server *s, int slot)
{
	const struct client_state *c = &s->clients[slot];

	if (slot >= s->nclients)
		return !s->accepting;
	return c->lost || c->steps_done > STEP_WRITE;
}

/* Sends the observe step if the client and its window are ready for it. */
static void try_observe(struct server *s, struct client_state *cl)
{
	int lo, hi;

	if (cl->lost || cl->conn == NULL || cl->waiting || cl->steps_done != STEP_OBSERVE)
		return;
	experiment_window(s, cl, &lo, &hi);
	for (int k = lo; k <= hi; k++)
		if (!write_settled(s, k))
			return;
	send_step(s, cl, STEP_OBSERVE);
}

/* Each client its own pages, after the server's page 0. */
static void plan_place(const struct server *s, struct client_state *c)
{
	c->page_count = s->opt.pages_per_client;
	c->first_page = 1 + (uint64_t)(c->id - 1) * c->page_count;
}

static void plan_admitted(struct server *s, struct client_state *c)
{
	send_step(s, c, STEP_WRITE);
}

static void plan_outstanding(const struct server *s, const struct client_state *c,
			     struct proto_run *run)
{
	experiment_build(s, c, (enum step)c->steps_done, run);
}

/* A step answered (steps_done counts them): after the write step the
 * server looks at the client's pages. */
static int plan_take(struct server *s, struct client_state *c, struct proto_result *res)
{
	int err = step_record_take(&c->results[c->steps_done], res);

	if (err != 0)
		return err;
	c->steps_done++;
	if (c->steps_done == STEP_WRITE + 1) {
		s->written++;
		experiment_after_write(s, c);
	} else {
		s->observed++;
	}
	return COWLAB_OK;
}

/* Whoever has `c` in its window may be ready now; after admission closes,
 * anyone. */
static void plan_advance(struct server *s, const struct client_state *c)
{
	int lo = 0, hi = s->nclients - 1;

	if (s->clients == NULL)
		return;
	if (c != NULL) {
		if (c < s->clients || c >= s->clients + s->nclients)
			return;
		experiment_window(s, c, &lo, &hi);
	}
	for (int k = lo; k <= hi && k < s->nclients; k++)
		try_observe(s, &s->clients[k]);
}

static bool plan_client_done(const struct server *s, const struct client_state *c)
{
	(void)s;
	return c->steps_done >= STEP_COUNT;
}

static void plan_doing(const struct server *s, const struct client_state *c, char *buf,
		       size_t cap)
{
	(void)s;
	snprintf(buf, cap, "step \"%s\"",
		 step_names[c->steps_done < STEP_COUNT ? c->steps_done : STEP_COUNT - 1]);
}

static void plan_progress(const struct server *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%d wrote, %d observed", s->written, s->observed);
}

const struct plan experiment_plan = {
	.place = plan_place, .admitted = plan_admitted, .outstanding = plan_outstanding, .take = plan_take,
	.advance = plan_advance, .client_done = plan_client_done, .doing = plan_doing,
	.progress = plan_progress,
};
