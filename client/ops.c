#include <stdio.h>
#include <string.h>

#include "err.h"
#include "evidence.h"
#include "fault.h"
#include "ops.h"
#include "pattern.h"
#include "platform.h"
#include "section.h"

static void op_fail(struct proto_op_result *r, const char *what, int err)
{
	r->ok = false;
	snprintf(r->error, sizeof(r->error), "%s%s%s", what, err ? ": " : "",
		 err ? cowlab_strerror(err) : "");
}

static volatile uint32_t *word(struct client_views *cv, enum proto_view v,
			       uint64_t page, uint32_t offset)
{
	uint8_t *base = cv->view[v];

	return (volatile uint32_t *)(void *)(base + page * cv->page_size + offset);
}

static void op_map(struct client_views *cv, const struct proto_op *op, struct proto_op_result *r)
{
	static const enum section_view kinds[PROTO_VIEW_COUNT] = {
		[PROTO_VIEW_RW] = SECTION_VIEW_RW,
		[PROTO_VIEW_COW] = SECTION_VIEW_COW,
		[PROTO_VIEW_RO] = SECTION_VIEW_RO,
	};
	enum section_view kind = op->as_shared ? SECTION_VIEW_COW_AS_SHARED : kinds[op->view];
	int err;

	if (cv->view[op->view] != NULL) {
		op_fail(r, "view already mapped", 0);
		return;
	}
	err = section_map(cv->section, kind, &cv->view[op->view]);
	if (err != 0)
		op_fail(r, "mapping the view failed", err);
	else
		cv->kind[op->view] = kind;
	if (err == 0)
		r->address = (uint64_t)(uintptr_t)cv->view[op->view];
}

/* Protect and discard act on runs of pages: one call a run. */
static int range_apply(struct client_views *cv, const struct proto_op *op)
{
	static const enum section_protect prot[PROTO_PROTECT_COUNT] = {
		[PROTO_READONLY] = SECTION_READONLY, [PROTO_READWRITE] = SECTION_READWRITE,
		[PROTO_WRITECOPY] = SECTION_WRITECOPY, [PROTO_NOACCESS] = SECTION_NOACCESS,
	};
	uint64_t runs = op->range.step == 1 ? 1 : op->range.count;
	uint64_t each = op->range.step == 1 ? op->range.count : 1;

	for (uint64_t i = 0; i < runs; i++) {
		uint64_t first = proto_range_page(&op->range, i * each);
		int err = op->kind == PROTO_OP_PROTECT ?
			  section_protect(cv->section, cv->view[op->view], cv->kind[op->view], first,
					  each, prot[op->protect]) :
			  section_discard(cv->section, cv->view[op->view], first, each);

		if (err != 0)
			return err;
	}
	return 0;
}

static void add_sample(struct proto_op_result *r, uint64_t page, uint32_t value)
{
	if (r->nsamples < PROTO_SAMPLES_MAX) {
		r->samples[r->nsamples].page = page;
		r->samples[r->nsamples].value = value;
		r->nsamples++;
	}
}

/* WRITE, EXPECT and FIND walk the range the same way. */
/* A write's times (the cost of a copy, docs/report.md): each page's write
 * timed alone, into buckets, and the faults the kernel counted meanwhile. */
static void put_times(const uint32_t *hist, struct proto_time *out, size_t *n)
{
	for (uint32_t b = 0; b < PROTO_TIME_BUCKETS; b++)
		if (hist[b] > 0) {
			out[*n].bucket = b;
			out[(*n)++].count = hist[b];
		}
}

static void op_words(struct client_views *cv, const struct proto_op *op,
		     struct proto_op_result *r)
{
	uint32_t hist[PROTO_TIME_BUCKETS] = { 0 }, again[PROTO_TIME_BUCKETS] = { 0 };
	uint64_t faults0 = 0, faults1 = 0;
	bool timed = op->kind == PROTO_OP_WRITE && !cv->guarded[op->view];
	bool counted = timed && platform_page_faults(&faults0) == 0;

	for (uint64_t i = 0; i < op->range.count; i++) {
		uint64_t page = proto_range_page(&op->range, i);
		uint32_t want = proto_op_word(op, cv->seed, page);
		volatile uint32_t *w = word(cv, op->view, page, op->offset);
		uint32_t got = want;

		if (cv->guarded[op->view]) {
			/* a protection was set: a fault fails the op, naming the page */
			struct fault_info fi;
			int err = fault_try_access32(w, &got, op->kind == PROTO_OP_WRITE ?
						     FAULT_WRITE : 0, &fi);

			if (err != 0) {
				op_fail(r, "the fault probe cannot be set up", err);
				return;
			}
			if (fi.faulted) {
				r->ok = false;
				snprintf(r->error, sizeof(r->error), "page %llu faulted (%s)",
					 (unsigned long long)page, fi.code);
				return;
			}
			if (op->kind == PROTO_OP_WRITE)
				continue;
		} else if (op->kind == PROTO_OP_WRITE) {
			int64_t t0 = platform_now_ns(), t1, t2;

			*w = want;
			t1 = platform_now_ns();
			/* the same word again: the page is now the process's own,
			 * and nothing changes (the model's word is the same) */
			*w = want;
			t2 = platform_now_ns();
			hist[proto_time_bucket((uint64_t)(t1 - t0))]++;
			again[proto_time_bucket((uint64_t)(t2 - t1))]++;
			continue;
		} else {
			got = *w;
		}
		if (got == want) {
			r->matched++;
			if (op->kind == PROTO_OP_FIND)
				add_sample(r, page, got);
		} else {
			r->mismatched += op->kind == PROTO_OP_EXPECT;
			if (op->kind == PROTO_OP_EXPECT)
				add_sample(r, page, got);
		}
	}
	if (timed) {
		put_times(hist, r->times, &r->ntimes);
		put_times(again, r->again, &r->nagain);
		if (counted && platform_page_faults(&faults1) == 0) {
			r->faults = faults1 - faults0;
			r->has_faults = true;
		}
	}
}

static void op_fault_write(struct client_views *cv, const struct proto_op *op,
			   struct proto_op_result *r)
{
	uint8_t *base = cv->view[op->view];

	for (uint64_t i = 0; i < op->range.count; i++) {
		uint64_t page = proto_range_page(&op->range, i);
		uint32_t value = proto_op_word(op, cv->seed, page);
		volatile uint32_t *w = word(cv, op->view, page, op->offset);
		struct fault_info fi;
		int err = fault_try_write32(w, value, &fi);

		if (err != 0) {
			op_fail(r, "cannot set up the fault probe", err);
			return;
		}
		/* Only the fault a read-only page must raise, at this very word. */
		if (fi.faulted && fi.address == (uintptr_t)w &&
		    strcmp(fi.code, fault_protection_code) == 0)
			r->matched++;
		else
			r->mismatched++;
		if (fi.faulted && !r->fault.faulted) {
			r->fault = fi;
			r->fault_target = (uint64_t)((uintptr_t)w - (uintptr_t)base);
			/* an address outside the view has no offset in it */
			r->fault_outside = fi.address < (uintptr_t)base ||
					   fi.address - (uintptr_t)base >= cv->pages * cv->page_size;
			if (!r->fault_outside)
				r->fault_offset = (uint64_t)(fi.address - (uintptr_t)base);
		}
	}
}

void ops_run(struct client_views *cv, const struct proto_op *op, struct proto_op_result *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->kind = op->kind;
	r->ok = true;
	if (op->kind == PROTO_OP_MAP) {
		op_map(cv, op, r);
		return;
	}
	if (cv->view[op->view] == NULL) {
		op_fail(r, "the view is not mapped", 0);
		return;
	}
	switch (op->kind) {
	case PROTO_OP_WRITE:
		if (op->view == PROTO_VIEW_RO && !cv->guarded[op->view]) {
			op_fail(r, "a plain write to the ro view would crash; use fault_write", 0);
			return;
		}
		/* fall through */
	case PROTO_OP_EXPECT:
	case PROTO_OP_FIND:
		op_words(cv, op, r);
		return;
	case PROTO_OP_FAULT_WRITE:
		op_fault_write(cv, op, r);
		return;
	case PROTO_OP_EVIDENCE:
		err = evidence_query_paged(cv->view[op->view], (size_t)cv->pages * cv->page_size,
					   (size_t)op->range.first, (size_t)op->range.count,
					   cv->page_size, &r->evidence);
		if (err != 0)
			op_fail(r, "evidence query failed", err);
		return;
	case PROTO_OP_UNMAP:
		/* its private copies go with it: mapped again, it tracks */
		section_unmap(cv->section, cv->view[op->view]);
		cv->view[op->view] = NULL;
		cv->guarded[op->view] = false;
		return;
	case PROTO_OP_PROTECT:
	case PROTO_OP_DISCARD:
		err = range_apply(cv, op);
		/* reads and writes of the view go through the fault probe from now */
		cv->guarded[op->view] |= op->kind == PROTO_OP_PROTECT;
		if (err != 0)
			op_fail(r, op->kind == PROTO_OP_PROTECT ? "the protection cannot be set" :
				"the copies cannot be discarded", err);
		return;
	case PROTO_OP_MAP:
	case PROTO_OP_FORK: /* the process's, not a view's: main.c */
	case PROTO_OP_KIND_COUNT:
		break;
	}
}
