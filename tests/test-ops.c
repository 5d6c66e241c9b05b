/* Unit tests for the client's operations (client/ops.c) in one process:
 * the ones scenarios add (unmap, protect, discard, a literal word) and
 * that a view with a protection set is read and written through the fault
 * probe, so that a scenario which takes a page's access away fails an
 * operation instead of killing its client. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "ops.h"
#include "pattern.h"
#include "platform.h"
#include "section.h"

#define PAGES 8
#define ON_WINDOWS (platform_path_sep == '\\')
#define SEED 0x5EEDF00Du

static struct proto_op_result res;

static struct proto_op_result *run(struct client_views *cv, struct proto_op op)
{
	ops_run(cv, &op, &res);
	return &res;
}

#define MAP(v) ((struct proto_op){ .kind = PROTO_OP_MAP, .view = (v) })
#define UNMAP(v) ((struct proto_op){ .kind = PROTO_OP_UNMAP, .view = (v) })
#define LIT(k, v, first, n, val) \
	((struct proto_op){ .kind = (k), .view = (v), .range = { (first), (n), 1 }, \
			    .offset = 8, .literal = true, .value = (val) })
#define PROT(v, first, n, p) \
	((struct proto_op){ .kind = PROTO_OP_PROTECT, .view = (v), .range = { (first), (n), 1 }, \
			    .protect = (p) })
#define DISCARD(v, first, n) \
	((struct proto_op){ .kind = PROTO_OP_DISCARD, .view = (v), .range = { (first), (n), 1 } })

static bool ok(const struct proto_op_result *r)
{
	if (!r->ok)
		fprintf(stderr, "  op failed: %s\n", r->error);
	return r->ok;
}

/* expect `val` on pages [first, first+n) of view v: all matched */
static bool holds(struct client_views *cv, enum proto_view v, uint64_t first, uint64_t n,
		  uint32_t val)
{
	const struct proto_op_result *r = run(cv, LIT(PROTO_OP_EXPECT, v, first, n, val));

	return ok(r) && r->matched == n && r->mismatched == 0;
}

static void test_literal_and_unmap(struct client_views *cv)
{
	CHECK(ok(run(cv, LIT(PROTO_OP_WRITE, PROTO_VIEW_RW, 0, PAGES, 0x11111111u))));
	CHECK(holds(cv, PROTO_VIEW_COW, 0, PAGES, 0x11111111u));
	CHECK(ok(run(cv, LIT(PROTO_OP_WRITE, PROTO_VIEW_COW, 2, 2, 0x22222222u))));
	CHECK(holds(cv, PROTO_VIEW_COW, 2, 2, 0x22222222u));
	CHECK(holds(cv, PROTO_VIEW_RW, 2, 2, 0x11111111u));
	/* a find names the pages that hold the literal word */
	CHECK(ok(run(cv, LIT(PROTO_OP_FIND, PROTO_VIEW_COW, 0, PAGES, 0x22222222u))));
	CHECK(res.matched == 2 && res.nsamples == 2 && res.samples[0].page == 2 &&
	      res.samples[1].page == 3);
	/* the literal word is the same on every page; the pattern's is not */
	CHECK(ok(run(cv, (struct proto_op){ .kind = PROTO_OP_EXPECT, .view = PROTO_VIEW_RW,
					    .range = { 0, PAGES, 1 }, .offset = 8 })));
	CHECK(res.matched == 0 && res.mismatched == PAGES);

	/* unmapped, the copies are gone: mapped again the view tracks */
	CHECK(ok(run(cv, UNMAP(PROTO_VIEW_COW))));
	CHECK(cv->view[PROTO_VIEW_COW] == NULL);
	CHECK(!run(cv, LIT(PROTO_OP_EXPECT, PROTO_VIEW_COW, 0, 1, 0))->ok);
	CHECK(strstr(res.error, "not mapped") != NULL);
	CHECK(!run(cv, UNMAP(PROTO_VIEW_COW))->ok);
	CHECK(ok(run(cv, MAP(PROTO_VIEW_COW))));
	CHECK(holds(cv, PROTO_VIEW_COW, 0, PAGES, 0x11111111u));
}

static void test_protect(struct client_views *cv)
{
	/* no access: a read fails the op and names the page, and the client lives */
	CHECK(ok(run(cv, PROT(PROTO_VIEW_COW, 5, 1, PROTO_NOACCESS))));
	CHECK(holds(cv, PROTO_VIEW_COW, 0, 5, 0x11111111u));
	CHECK(!run(cv, LIT(PROTO_OP_EXPECT, PROTO_VIEW_COW, 0, PAGES, 0x11111111u))->ok);
	CHECK_MSG(strstr(res.error, "page 5 faulted") != NULL, "%s", res.error);
	/* read-only: reads go on, a write fails the op */
	CHECK(ok(run(cv, PROT(PROTO_VIEW_COW, 5, 1, PROTO_READONLY))));
	CHECK(holds(cv, PROTO_VIEW_COW, 0, PAGES, 0x11111111u));
	CHECK(!run(cv, LIT(PROTO_OP_WRITE, PROTO_VIEW_COW, 4, 2, 0x33333333u))->ok);
	CHECK_MSG(strstr(res.error, "page 5 faulted") != NULL, "%s", res.error);
	/* the page before it was written; the one that faulted was not */
	CHECK(holds(cv, PROTO_VIEW_COW, 4, 1, 0x33333333u));
	CHECK(holds(cv, PROTO_VIEW_COW, 5, 1, 0x11111111u));
	CHECK(holds(cv, PROTO_VIEW_RW, 4, 2, 0x11111111u));
	/* write-copy again: a write makes a private copy */
	CHECK(ok(run(cv, PROT(PROTO_VIEW_COW, 5, 1, PROTO_WRITECOPY))));
	CHECK(ok(run(cv, LIT(PROTO_OP_WRITE, PROTO_VIEW_COW, 5, 1, 0x44444444u))));
	CHECK(holds(cv, PROTO_VIEW_COW, 5, 1, 0x44444444u));
	CHECK(holds(cv, PROTO_VIEW_RW, 5, 1, 0x11111111u));

	/* a stepped range is set page by page */
	CHECK(ok(run(cv, (struct proto_op){ .kind = PROTO_OP_PROTECT, .view = PROTO_VIEW_RW,
					    .range = { 0, 4, 2 }, .protect = PROTO_NOACCESS })));
	CHECK(holds(cv, PROTO_VIEW_RW, 1, 1, 0x11111111u));
	CHECK(holds(cv, PROTO_VIEW_RW, 7, 1, 0x11111111u));
	CHECK(!run(cv, LIT(PROTO_OP_EXPECT, PROTO_VIEW_RW, 6, 1, 0x11111111u))->ok);
	CHECK(ok(run(cv, PROT(PROTO_VIEW_RW, 0, PAGES, PROTO_READWRITE))));
	CHECK(holds(cv, PROTO_VIEW_RW, 0, PAGES, 0x11111111u));

	/* write-copy on the shared view: refused on Linux, allowed on Windows */
	run(cv, PROT(PROTO_VIEW_RW, 0, 1, PROTO_WRITECOPY));
	if (ON_WINDOWS) {
		CHECK(ok(&res));
	} else {
		CHECK(!res.ok);
		CHECK_MSG(strstr(res.error, "protection cannot be set") != NULL, "%s", res.error);
	}
}

static void test_discard(struct client_views *cv)
{
	CHECK(ok(run(cv, LIT(PROTO_OP_WRITE, PROTO_VIEW_COW, 0, 2, 0x55555555u))));
	run(cv, DISCARD(PROTO_VIEW_COW, 0, 2));
	if (ON_WINDOWS) {
		/* no such call for a mapped view: said so, and the copies stay */
		CHECK(!res.ok);
		CHECK_MSG(strstr(res.error, "cannot be discarded") != NULL, "%s", res.error);
		CHECK(holds(cv, PROTO_VIEW_COW, 0, 2, 0x55555555u));
	} else {
		CHECK(ok(&res));
		CHECK(holds(cv, PROTO_VIEW_COW, 0, 2, 0x11111111u));
	}
}

int main(void)
{
	struct client_views cv;
	size_t ps = platform_page_size();

	memset(&cv, 0, sizeof(cv));
	cv.pages = PAGES;
	cv.page_size = (uint32_t)ps;
	cv.seed = SEED;
	if (!CHECK_OK(section_create(&cv.section, "cowlab-test-ops", PAGES * ps) == 0))
		return check_exit("test-ops");
	CHECK(ok(run(&cv, MAP(PROTO_VIEW_RW))));
	CHECK(ok(run(&cv, MAP(PROTO_VIEW_COW))));
	CHECK(!run(&cv, MAP(PROTO_VIEW_COW))->ok);
	test_literal_and_unmap(&cv);
	test_protect(&cv);
	test_discard(&cv);
	for (int v = 0; v < PROTO_VIEW_COUNT; v++)
		if (cv.view[v] != NULL)
			section_unmap(cv.section, cv.view[v]);
	section_destroy(cv.section);
	return check_exit("test-ops");
}
