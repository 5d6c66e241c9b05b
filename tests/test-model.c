/* The reference model (server/model.c), rule by rule as docs/model.md
 * states them, on Linux's rules and Windows' where they differ. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "pattern.h"

#define SEED 1234u
#define PS 4096
#define S 0 /* the server */

static uint32_t pat(uint64_t page, uint32_t offset)
{
	return pattern_value(SEED, page, offset);
}

static struct model *fresh(const struct model_rules *rules, int clients)
{
	struct model *m = NULL;

	CHECK(model_create(&m, 64, PS, SEED, clients, rules) == 0);
	return m;
}

static uint32_t read_ok(struct model *m, int who, enum model_view v, uint64_t page,
			uint32_t offset)
{
	struct model_prediction p = model_read(m, who, v, page, offset);

	CHECK_MSG(p.outcome == MODEL_OK, "read by %d of page %llu: outcome %d", who,
		  (unsigned long long)page, p.outcome);
	return p.word;
}

static void test_views(void)
{
	struct model *m = fresh(&model_rules_linux, 2);

	if (m == NULL)
		return;
	CHECK(model_read(m, 1, MODEL_COW, 0, 0).outcome == MODEL_REFUSED);
	CHECK(model_write(m, 1, MODEL_RW, 0, 0, 1).outcome == MODEL_REFUSED);
	CHECK(model_map(m, 1, MODEL_COW).outcome == MODEL_OK);
	CHECK(model_map(m, 1, MODEL_COW).outcome == MODEL_REFUSED);
	CHECK(model_unmap(m, 1, MODEL_RW).outcome == MODEL_REFUSED);
	model_destroy(m);
}

/* A read never copies; the first write does, even of the same value, and
 * only the writer sees it; untouched pages track the section; a copied
 * page is detached, and holds the section as it was when it was copied. */
static void test_copy_on_write(void)
{
	struct model *m = fresh(&model_rules_linux, 2);

	if (m == NULL)
		return;
	model_map(m, S, MODEL_RW);
	model_map(m, 1, MODEL_COW);
	model_map(m, 2, MODEL_COW);
	CHECK(read_ok(m, 1, MODEL_COW, 3, 0) == pat(3, 0));
	CHECK(!model_is_copy(m, 1, MODEL_COW, 3));
	/* the server writes word 1 of page 3 before anyone copies it */
	CHECK(model_write(m, S, MODEL_RW, 3, 4, 0xAAAA).outcome == MODEL_OK);
	CHECK(model_write(m, 1, MODEL_COW, 3, 0, 0xC0FFEE).outcome == MODEL_OK);
	CHECK(model_is_copy(m, 1, MODEL_COW, 3) && !model_is_copy(m, 2, MODEL_COW, 3));
	CHECK(read_ok(m, 1, MODEL_COW, 3, 0) == 0xC0FFEE);
	CHECK(read_ok(m, 2, MODEL_COW, 3, 0) == pat(3, 0));
	CHECK(read_ok(m, S, MODEL_RW, 3, 0) == pat(3, 0));
	/* the copy took the section's word 1 as it was */
	CHECK(read_ok(m, 1, MODEL_COW, 3, 4) == 0xAAAA);
	/* later section writes reach the untouched, not the copy */
	model_write(m, S, MODEL_RW, 3, 4, 0xBBBB);
	model_write(m, S, MODEL_RW, 4, 4, 0xBBBB);
	CHECK(read_ok(m, 1, MODEL_COW, 3, 4) == 0xAAAA);
	CHECK(read_ok(m, 1, MODEL_COW, 4, 4) == 0xBBBB);
	CHECK(read_ok(m, 2, MODEL_COW, 3, 4) == 0xBBBB);
	/* writing the pattern itself still copies */
	CHECK(model_write(m, 2, MODEL_COW, 5, 0, pat(5, 0)).outcome == MODEL_OK);
	CHECK(model_is_copy(m, 2, MODEL_COW, 5));
	model_write(m, S, MODEL_RW, 5, 0, 0x1);
	CHECK(read_ok(m, 2, MODEL_COW, 5, 0) == pat(5, 0));
	model_destroy(m);
}

/* Many writers of one page: a copy each, each sees its own. */
static void test_many_copies(void)
{
	struct model *m = fresh(&model_rules_linux, 8);

	if (m == NULL)
		return;
	model_map(m, S, MODEL_RW);
	for (int c = 1; c <= 8; c++) {
		model_map(m, c, MODEL_COW);
		model_write(m, c, MODEL_COW, 7, 0, pat(7, 0) ^ model_stamp(c));
	}
	for (int c = 1; c <= 8; c++)
		CHECK(read_ok(m, c, MODEL_COW, 7, 0) == (pat(7, 0) ^ model_stamp(c)));
	CHECK(read_ok(m, S, MODEL_RW, 7, 0) == pat(7, 0));
	model_destroy(m);
}

/* Faults: a read-only view, a read-only or no-access page; nothing
 * changes. A copied page re-protected keeps its copy: no second copy. */
static void test_protection(void)
{
	struct model *m = fresh(&model_rules_linux, 1);

	if (m == NULL)
		return;
	model_map(m, 1, MODEL_RO);
	model_map(m, 1, MODEL_COW);
	CHECK(model_write(m, 1, MODEL_RO, 2, 0, 9).outcome == MODEL_FAULTS);
	CHECK(read_ok(m, 1, MODEL_RO, 2, 0) == pat(2, 0));
	model_write(m, 1, MODEL_COW, 2, 0, 0x11);
	CHECK(model_protect(m, 1, MODEL_COW, 2, MODEL_READONLY).outcome == MODEL_OK);
	CHECK(model_write(m, 1, MODEL_COW, 2, 0, 0x22).outcome == MODEL_FAULTS);
	CHECK(read_ok(m, 1, MODEL_COW, 2, 0) == 0x11 && model_is_copy(m, 1, MODEL_COW, 2));
	CHECK(model_protect(m, 1, MODEL_COW, 2, MODEL_WRITECOPY).outcome == MODEL_OK);
	CHECK(model_write(m, 1, MODEL_COW, 2, 4, 0x33).outcome == MODEL_OK);
	CHECK(read_ok(m, 1, MODEL_COW, 2, 0) == 0x11 && read_ok(m, 1, MODEL_COW, 2, 4) == 0x33);
	CHECK(model_protect(m, 1, MODEL_COW, 9, MODEL_NOACCESS).outcome == MODEL_OK);
	CHECK(model_read(m, 1, MODEL_COW, 9, 0).outcome == MODEL_FAULTS);
	CHECK(model_write(m, 1, MODEL_COW, 9, 0, 1).outcome == MODEL_FAULTS);
	CHECK(!model_is_copy(m, 1, MODEL_COW, 9));
	model_destroy(m);
}

/* Discard and unmap make pages track again (Linux); Windows has no
 * discard for a view's copies: not applicable, with the reason. */
static void test_discard_unmap(void)
{
	struct model *m = fresh(&model_rules_linux, 1), *w = fresh(&model_rules_windows, 1);

	if (m == NULL || w == NULL)
		return;
	model_map(m, S, MODEL_RW);
	model_map(m, 1, MODEL_COW);
	model_write(m, 1, MODEL_COW, 1, 0, 0x77);
	CHECK(model_discard(m, 1, MODEL_COW, 1).outcome == MODEL_OK);
	CHECK(!model_is_copy(m, 1, MODEL_COW, 1) && read_ok(m, 1, MODEL_COW, 1, 0) == pat(1, 0));
	model_write(m, S, MODEL_RW, 1, 0, 0x88);
	CHECK(read_ok(m, 1, MODEL_COW, 1, 0) == 0x88);
	for (uint64_t p = 0; p < 64; p++)
		model_write(m, 1, MODEL_COW, p, 0, 0x99);
	CHECK(model_unmap(m, 1, MODEL_COW).outcome == MODEL_OK);
	model_map(m, 1, MODEL_COW);
	for (uint64_t p = 0; p < 64; p++)
		CHECK(!model_is_copy(m, 1, MODEL_COW, p));
	CHECK(read_ok(m, 1, MODEL_COW, 1, 0) == 0x88 && read_ok(m, 1, MODEL_COW, 2, 0) == pat(2, 0));
	model_map(w, 1, MODEL_COW);
	struct model_prediction p = model_discard(w, 1, MODEL_COW, 1);
	CHECK(p.outcome == MODEL_NOT_APPLICABLE && p.why != NULL && strstr(p.why, "Windows"));
	model_destroy(m);
	model_destroy(w);
}

/* PAGE_WRITECOPY on a read/write view: Windows makes the page
 * copy-on-write; Linux cannot (a MAP_SHARED page), and says why. A ro view
 * made writable: Linux writes through; Windows refuses. */
static void test_platform_rules(void)
{
	struct model *l = fresh(&model_rules_linux, 1), *w = fresh(&model_rules_windows, 1);
	struct model_prediction p;

	if (l == NULL || w == NULL)
		return;
	model_map(l, 1, MODEL_RW);
	model_map(l, 1, MODEL_RO);
	p = model_protect(l, 1, MODEL_RW, 4, MODEL_WRITECOPY);
	CHECK(p.outcome == MODEL_NOT_APPLICABLE && strstr(p.why, "MAP_SHARED") != NULL);
	CHECK(model_protect(l, 1, MODEL_RO, 4, MODEL_READWRITE).outcome == MODEL_OK);
	CHECK(model_write(l, 1, MODEL_RO, 4, 0, 0x5).outcome == MODEL_OK);
	CHECK(read_ok(l, 1, MODEL_RW, 4, 0) == 0x5);

	model_map(w, S, MODEL_RW);
	model_map(w, 1, MODEL_RW);
	model_map(w, 1, MODEL_RO);
	CHECK(model_protect(w, 1, MODEL_RW, 4, MODEL_WRITECOPY).outcome == MODEL_OK);
	CHECK(model_write(w, 1, MODEL_RW, 4, 0, 0x6).outcome == MODEL_OK);
	CHECK(model_is_copy(w, 1, MODEL_RW, 4) && read_ok(w, 1, MODEL_RW, 4, 0) == 0x6);
	CHECK(read_ok(w, S, MODEL_RW, 4, 0) == pat(4, 0));
	/* the copy stays the page's, whatever the protection becomes */
	model_protect(w, 1, MODEL_RW, 4, MODEL_READWRITE);
	model_write(w, 1, MODEL_RW, 4, 0, 0x7);
	CHECK(read_ok(w, 1, MODEL_RW, 4, 0) == 0x7 && read_ok(w, S, MODEL_RW, 4, 0) == pat(4, 0));
	p = model_protect(w, 1, MODEL_RO, 4, MODEL_READWRITE);
	CHECK(p.outcome == MODEL_NOT_APPLICABLE && strstr(p.why, "FILE_MAP_READ") != NULL);
	model_destroy(l);
	model_destroy(w);
}

/* Unmapping one participant's view drops its records from the middle of
 * the table's runs: the others' records move, and must stay whole and
 * freed once (ASan checks the last). */
static void test_drop_moves(void)
{
	struct model *m = NULL;

	if (!CHECK_OK(model_create(&m, 256, PS, SEED, 3, &model_rules_linux) == 0))
		return;
	for (int who = 1; who <= 3; who++)
		model_map(m, who, MODEL_COW);
	for (uint64_t p = 0; p < 200; p++)
		for (int who = 1; who <= 3; who++)
			model_write(m, who, MODEL_COW, p, 4 * (uint32_t)who, 0x1000u * (uint32_t)who +
				    (uint32_t)p);
	CHECK(model_unmap(m, 2, MODEL_COW).outcome == MODEL_OK);
	for (uint64_t p = 0; p < 200; p++) {
		CHECK(read_ok(m, 1, MODEL_COW, p, 4) == 0x1000u + (uint32_t)p);
		CHECK(read_ok(m, 3, MODEL_COW, p, 12) == 0x3000u + (uint32_t)p);
		CHECK(model_is_copy(m, 1, MODEL_COW, p) && model_is_copy(m, 3, MODEL_COW, p));
	}
	model_map(m, 2, MODEL_COW);
	CHECK(!model_is_copy(m, 2, MODEL_COW, 7) && read_ok(m, 2, MODEL_COW, 7, 8) == pat(7, 8));
	model_destroy(m);
}

/* Wine: Windows' rules, but a write-copy page of a shared view writes
 * through (its named deviation). */
static void test_wine_rules(void)
{
	struct model *m = fresh(&model_rules_wine, 1);

	if (m == NULL)
		return;
	CHECK(model_rules_wine.writecopy_writes_through != NULL &&
	      model_rules_windows.writecopy_writes_through == NULL);
	model_map(m, S, MODEL_RW);
	model_map(m, 1, MODEL_RW);
	CHECK(model_protect(m, 1, MODEL_RW, 4, MODEL_WRITECOPY).outcome == MODEL_OK);
	CHECK(model_write(m, 1, MODEL_RW, 4, 0, 0x6).outcome == MODEL_OK);
	CHECK(!model_is_copy(m, 1, MODEL_RW, 4) && read_ok(m, S, MODEL_RW, 4, 0) == 0x6);
	model_destroy(m);
}

/* Sparse: a section of 2^30 pages costs what was written. */
static void test_sparse(void)
{
	struct model *m = NULL;

	if (!CHECK_OK(model_create(&m, (uint64_t)1 << 30, PS, SEED, 1000, &model_rules_linux) == 0))
		return;
	model_map(m, S, MODEL_RW);
	for (uint64_t p = 0; p < 10; p++)
		model_write(m, S, MODEL_RW, p * 100000000, 0, 1);
	CHECK(read_ok(m, S, MODEL_RW, (uint64_t)1 << 29, 0) == pat((uint64_t)1 << 29, 0));
	CHECK_MSG(model_bytes(m) < 64 * 1024, "%llu bytes for 10 words",
		  (unsigned long long)model_bytes(m));
	model_destroy(m);
}

static void test_stamps(void)
{
	for (int a = 0; a <= 64; a++) {
		CHECK(model_stamp(a) != 0);
		for (int b = a + 1; b <= 64; b++)
			CHECK(model_stamp(a) != model_stamp(b));
	}
}

/* --step's view of a step to come: what a write would do, said without
 * doing it, by the same rules as the write; and a copy of the model that
 * goes its own way (the step tried on it leaves the model as it was). */
static void test_would_and_clone(void)
{
	struct model *m = fresh(&model_rules_linux, 1), *c = NULL;

	CHECK(model_write_would(m, 1, MODEL_COW, 3) == MODEL_WOULD_BE_REFUSED);
	model_map(m, 1, MODEL_COW);
	model_map(m, 1, MODEL_RW);
	model_map(m, 1, MODEL_RO);
	CHECK(model_write_would(m, 1, MODEL_COW, 3) == MODEL_WOULD_COPY);
	CHECK(model_write_would(m, 1, MODEL_RW, 3) == MODEL_WOULD_WRITE_SECTION);
	CHECK(model_write_would(m, 1, MODEL_RO, 3) == MODEL_WOULD_FAULT);
	CHECK(!model_is_copy(m, 1, MODEL_COW, 3)); /* it said, it did not */
	CHECK(model_write(m, 1, MODEL_COW, 3, 0, 7).outcome == MODEL_OK);
	CHECK(model_write_would(m, 1, MODEL_COW, 3) == MODEL_WOULD_WRITE_COPY);
	CHECK(model_protect(m, 1, MODEL_COW, 5, MODEL_READONLY).outcome == MODEL_OK);
	CHECK(model_write_would(m, 1, MODEL_COW, 5) == MODEL_WOULD_FAULT);

	CHECK(model_clone(m, &c) == 0);
	if (c == NULL) {
		model_destroy(m);
		return;
	}
	/* the copy has what the model had */
	CHECK(model_is_copy(c, 1, MODEL_COW, 3) && read_ok(c, 1, MODEL_COW, 3, 0) == 7);
	CHECK(model_write_would(c, 1, MODEL_COW, 5) == MODEL_WOULD_FAULT);
	/* and goes its own way: writes, a copy, an unmap of the copy's own */
	CHECK(model_write(c, 1, MODEL_RW, 9, 0, 11).outcome == MODEL_OK);
	CHECK(model_write(c, 1, MODEL_COW, 3, 0, 8).outcome == MODEL_OK);
	CHECK(model_write(c, 1, MODEL_COW, 4, 0, 9).outcome == MODEL_OK);
	model_unmap(c, 1, MODEL_RO);
	CHECK(read_ok(m, 1, MODEL_RW, 9, 0) == pat(9, 0));
	CHECK(read_ok(m, 1, MODEL_COW, 3, 0) == 7 && !model_is_copy(m, 1, MODEL_COW, 4));
	CHECK(model_write_would(m, 1, MODEL_RO, 3) == MODEL_WOULD_FAULT);
	CHECK(model_write_would(c, 1, MODEL_RO, 3) == MODEL_WOULD_BE_REFUSED);
	model_destroy(c);
	/* the model goes on as before the copy was made */
	CHECK(read_ok(m, 1, MODEL_COW, 3, 0) == 7);
	model_destroy(m);
}

/* Fork (docs/model.md, "Fork"): the child has the parent's views and
 * copies; each copy is the two's until one writes it, the writer then
 * copies again and the other holds its page alone; pages never copied
 * track the section in both; forks of forks share a copy three ways. */
static void test_fork(void)
{
	struct model *m = fresh(&model_rules_linux, 4), *c = NULL;

	if (m == NULL)
		return;
	model_map(m, S, MODEL_RW);
	model_map(m, 1, MODEL_COW);
	model_map(m, 1, MODEL_RO);
	CHECK(model_write(m, 1, MODEL_COW, 1, 0, 5).outcome == MODEL_OK);
	CHECK(model_protect(m, 1, MODEL_COW, 6, MODEL_READONLY).outcome == MODEL_OK);
	CHECK(model_copy_sharers(m, 1, MODEL_COW, 1) == 1);
	CHECK(model_fork(m, 1, 2).outcome == MODEL_OK);
	CHECK(model_fork(m, 1, 2).outcome == MODEL_REFUSED); /* born once */
	/* the child sees the parent's copy, its protections, its views */
	CHECK(read_ok(m, 2, MODEL_COW, 1, 0) == 5 && model_is_copy(m, 2, MODEL_COW, 1));
	CHECK(model_write_would(m, 2, MODEL_COW, 6) == MODEL_WOULD_FAULT);
	CHECK(model_write_would(m, 2, MODEL_RO, 2) == MODEL_WOULD_FAULT);
	CHECK(model_write_would(m, 2, MODEL_RW, 2) == MODEL_WOULD_BE_REFUSED);
	CHECK(model_copy_sharers(m, 1, MODEL_COW, 1) == 2 &&
	      model_copy_sharers(m, 2, MODEL_COW, 1) == 2);
	CHECK(model_copy_sharers(m, 2, MODEL_COW, 2) == 0);
	/* untouched pages track the section in both */
	CHECK(model_write(m, S, MODEL_RW, 2, 0, 9).outcome == MODEL_OK);
	CHECK(read_ok(m, 1, MODEL_COW, 2, 0) == 9 && read_ok(m, 2, MODEL_COW, 2, 0) == 9);
	/* and the section's later writes never reach the shared copy */
	CHECK(model_write(m, S, MODEL_RW, 1, 0, 10).outcome == MODEL_OK);
	CHECK(read_ok(m, 2, MODEL_COW, 1, 0) == 5);
	/* a grandchild: three share it */
	CHECK(model_fork(m, 2, 3).outcome == MODEL_OK);
	CHECK(model_copy_sharers(m, 3, MODEL_COW, 1) == 3);
	/* the child writes: a copy again, for it alone */
	CHECK(model_write_would(m, 2, MODEL_COW, 1) == MODEL_WOULD_COPY);
	CHECK(model_write(m, 2, MODEL_COW, 1, 0, 6).outcome == MODEL_OK);
	CHECK(model_copy_sharers(m, 2, MODEL_COW, 1) == 1);
	CHECK(model_copy_sharers(m, 1, MODEL_COW, 1) == 2);
	CHECK(read_ok(m, 1, MODEL_COW, 1, 0) == 5 && read_ok(m, 3, MODEL_COW, 1, 0) == 5 &&
	      read_ok(m, 2, MODEL_COW, 1, 0) == 6);
	CHECK(model_write_would(m, 2, MODEL_COW, 1) == MODEL_WOULD_WRITE_COPY);
	/* the grandchild lets its copy go: the parent's is its own again,
	 * and its write copies nothing */
	CHECK(model_discard(m, 3, MODEL_COW, 1).outcome == MODEL_OK);
	CHECK(read_ok(m, 3, MODEL_COW, 1, 0) == 10);
	CHECK(model_copy_sharers(m, 1, MODEL_COW, 1) == 1);
	CHECK(model_write_would(m, 1, MODEL_COW, 1) == MODEL_WOULD_WRITE_COPY);
	/* a fork after a fork of the same parent; an unmap lets go too */
	CHECK(model_fork(m, 1, 4).outcome == MODEL_OK);
	CHECK(model_copy_sharers(m, 4, MODEL_COW, 1) == 2);
	CHECK(model_clone(m, &c) == 0);
	CHECK(model_unmap(m, 4, MODEL_COW).outcome == MODEL_OK);
	CHECK(model_copy_sharers(m, 1, MODEL_COW, 1) == 1);
	if (c != NULL) /* the clone keeps its own count */
		CHECK(model_copy_sharers(c, 1, MODEL_COW, 1) == 2);
	model_destroy(c);
	model_destroy(m);
	/* the 64th client is a relative like any other (bit 63) */
	m = fresh(&model_rules_linux, 64);
	if (m == NULL)
		return;
	model_map(m, 1, MODEL_COW);
	CHECK(model_write(m, 1, MODEL_COW, 0, 0, 3).outcome == MODEL_OK);
	CHECK(model_fork(m, 1, 64).outcome == MODEL_OK);
	CHECK(model_copy_relatives(m, 1, MODEL_COW, 0) == (uint64_t)1 << 63);
	CHECK(model_copy_relatives(m, 64, MODEL_COW, 0) == 1);
	{
		uint64_t own = 9, shared = 9;

		model_view_copies(m, 1, MODEL_COW, 0, &own, &shared);
		CHECK(own == 0 && shared == 1);
		model_view_copies(m, 1, MODEL_COW, (uint64_t)1 << 63, &own, &shared);
		CHECK(own == 0 && shared == 0); /* shared with one that may be gone */
	}
	model_destroy(m);
	/* Windows: no fork, and says why */
	m = fresh(&model_rules_windows, 2);
	if (m == NULL)
		return;
	model_map(m, 1, MODEL_COW);
	struct model_prediction p = model_fork(m, 1, 2);
	CHECK(p.outcome == MODEL_NOT_APPLICABLE && p.why != NULL && strstr(p.why, "fork"));
	CHECK(model_read(m, 2, MODEL_COW, 0, 0).outcome == MODEL_REFUSED);
	model_destroy(m);
}

int main(void)
{
	test_views();
	test_copy_on_write();
	test_many_copies();
	test_protection();
	test_discard_unmap();
	test_platform_rules();
	test_sparse();
	test_drop_moves();
	test_wine_rules();
	test_stamps();
	test_would_and_clone();
	test_fork();
	return check_exit("test-model");
}
