/* Unit tests for a section and its views in one process, through the
 * portable headers only: copy-on-write isolation, what the OS's evidence
 * says about it, the cow-as-shared control, writes that must fault, and
 * the pattern the experiment stamps pages with. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "check.h"
#include "err.h"
#include "evidence.h"
#include "fault.h"
#include "pattern.h"
#include "platform.h"
#include "section.h"

#define PAGES 8
#define SEED 0x5EEDF00Du
#define OFF 8u /* the word the stamps go to */

struct fixture {
	struct section *sec;
	size_t ps;
	uint8_t *rw, *cow, *cow2, *ro, *shared;
};

static volatile uint32_t *word(uint8_t *view, size_t ps, uint64_t page, uint32_t offset)
{
	return (volatile uint32_t *)(void *)(view + page * ps + offset);
}

static uint32_t peek(const struct fixture *f, uint8_t *view, uint64_t page, uint32_t offset)
{
	return *word(view, f->ps, page, offset);
}

static void poke(const struct fixture *f, uint8_t *view, uint64_t page, uint32_t offset,
		 uint32_t value)
{
	*word(view, f->ps, page, offset) = value;
}

static uint32_t pat(uint64_t page, uint32_t offset)
{
	return pattern_value(SEED, page, offset);
}

/* ---- section_create ---- */

static void test_create_rejects(void)
{
	size_t ps = platform_page_size();
	const uint64_t bad[] = { 0, 1, ps / 2, ps + 1, ps + 4, 8 * ps - 4, 3 * ps / 2 };
	struct section *s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		CHECK_MSG(err_is(section_create(&s, "cowlab-test-bad", bad[i]), COWLAB_E_INVAL),
			  "size %llu accepted", (unsigned long long)bad[i]);
		CHECK(s == NULL);
		section_destroy(s);
	}
	s = NULL;
	CHECK(section_create(&s, "cowlab-test-one", ps) == 0);
	if (s != NULL) {
		CHECK(section_size(s) == ps);
		/* "named after" it: Windows adds a namespace and a random suffix */
		CHECK(strstr(section_name(s), "cowlab-test-one") != NULL);
	}
	section_destroy(s);
	section_destroy(NULL);
	CHECK(strcmp(section_view_name(SECTION_VIEW_COW_AS_SHARED), "cow-as-shared") == 0);
	CHECK(strcmp(section_view_name(SECTION_VIEW_RO), "ro") == 0);
}

/* ---- the fixture: one section, five views ---- */

static bool map_view(struct fixture *f, enum section_view kind, uint8_t **out)
{
	void *addr = NULL;
	int err = section_map(f->sec, kind, &addr);

	CHECK_MSG(err == 0, "mapping %s: %s", section_view_name(kind), cowlab_strerror(err));
	*out = addr;
	return err == 0;
}

static bool fixture_setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->ps = platform_page_size();
	CHECK(f->ps >= 512 && (f->ps & (f->ps - 1)) == 0);
	if (section_create(&f->sec, "cowlab-test-section", PAGES * f->ps) != 0) {
		CHECK_MSG(false, "section_create failed");
		return false;
	}
	if (!map_view(f, SECTION_VIEW_RW, &f->rw) || !map_view(f, SECTION_VIEW_COW, &f->cow) ||
	    !map_view(f, SECTION_VIEW_COW, &f->cow2) || !map_view(f, SECTION_VIEW_RO, &f->ro) ||
	    !map_view(f, SECTION_VIEW_COW_AS_SHARED, &f->shared))
		return false;
	CHECK(f->cow != f->cow2 && f->rw != f->shared);
	for (uint64_t p = 0; p < PAGES; p++)
		pattern_fill_page(SEED, p, f->rw + p * f->ps, f->ps);
	return true;
}

static void fixture_teardown(struct fixture *f)
{
	uint8_t *views[] = { f->rw, f->cow, f->cow2, f->ro, f->shared };

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		section_unmap(f->sec, views[i]);
	section_destroy(f->sec);
}

/* ---- evidence helpers ---- */

/* Queries pages [first, first+count) of a view: private pages must be
 * exactly those in `want` (a '1' per private page), by every source; smaps
 * counts the whole view, which must hold `view_private`. */
static void check_evidence(const struct fixture *f, uint8_t *view, size_t first,
			   const char *want, uint64_t view_private, const char *what)
{
	size_t count = strlen(want);
	uint64_t n = 0;
	struct evidence_report ev;
	int err = evidence_query(view, PAGES * f->ps, first, count, &ev);

	CHECK_MSG(err == 0, "%s: evidence_query: %s", what, cowlab_strerror(err));
	if (err != 0)
		return;
	CHECK_MSG(ev.count == count && ev.pages != NULL && strlen(ev.pages) == count,
		  "%s: %zu pages", what, ev.count);
	for (size_t i = 0; i < count && i < ev.count; i++) {
		n += want[i] == '1';
		CHECK_MSG((ev.pages[i] == EVIDENCE_PAGE_PRIVATE) == (want[i] == '1'),
			  "%s: page %zu is '%c'", what, first + i, ev.pages[i]);
	}
	CHECK_MSG(ev.private_pages == n, "%s: %llu private, want %llu", what,
		  (unsigned long long)ev.private_pages, (unsigned long long)n);
	CHECK_MSG(ev.nsources >= 1 && ev.sources[0].supported,
		  "%s: the primary source is not supported", what);
	for (size_t i = 0; i < ev.nsources; i++) {
		const struct evidence_source *s = &ev.sources[i];
		uint64_t expect = strcmp(s->name, "smaps") == 0 ? view_private : n;

		CHECK_MSG(!s->supported || s->private_pages == expect,
			  "%s: source %s counts %llu, want %llu", what, s->name,
			  (unsigned long long)s->private_pages, (unsigned long long)expect);
		/* SharedOriginal: Windows 10 1709 on; under Wine, which never
		 * sets it, a named deviation */
		if (strcmp(s->name, "workingset_shared_original") == 0 && ev.deviation[0] != '\0')
			CHECK_MSG(!s->supported && strstr(s->note, "Wine 8.0 never sets "
							  "SharedOriginal") != NULL,
				  "%s: %s", what, s->note);
	}
#ifdef _WIN32
	{
		bool found = false;

		for (size_t i = 0; i < ev.nsources; i++)
			found |= strcmp(ev.sources[i].name, "workingset_shared_original") == 0;
		CHECK_MSG(found, "%s: no SharedOriginal source", what);
	}
#endif
	evidence_free(&ev);
	CHECK(ev.pages == NULL && ev.count == 0);
}

/* Before any write: no view holds a private page, read or not. */
static void test_before_writes(struct fixture *f)
{
	struct evidence_report ev;

	check_evidence(f, f->cow, 0, "00000000", 0, "cow, untouched");
	for (uint64_t p = 0; p < PAGES; p++) {
		const uint32_t offs[] = { 0, OFF, (uint32_t)f->ps - 4 };

		for (size_t i = 0; i < 3; i++) {
			uint32_t want = pat(p, offs[i]);

			CHECK_MSG(peek(f, f->rw, p, offs[i]) == want &&
				  peek(f, f->ro, p, offs[i]) == want &&
				  peek(f, f->cow, p, offs[i]) == want &&
				  peek(f, f->cow2, p, offs[i]) == want &&
				  peek(f, f->shared, p, offs[i]) == want,
				  "page %llu offset %u: a view misses the pattern",
				  (unsigned long long)p, offs[i]);
		}
	}
	check_evidence(f, f->cow, 0, "00000000", 0, "cow, read");
	/* reading maps the section's own pages */
	if (evidence_query(f->cow, PAGES * f->ps, 0, PAGES, &ev) == 0) {
		CHECK_MSG(strcmp(ev.pages, "ssssssss") == 0, "cow after reads: %s", ev.pages);
		evidence_free(&ev);
	}
	CHECK(err_is(evidence_query(f->cow, PAGES * f->ps, 0, 0, &ev), COWLAB_E_INVAL));
	CHECK(err_is(evidence_query(f->cow, PAGES * f->ps, 4, 5, &ev), COWLAB_E_INVAL));
	CHECK(err_is(evidence_query(f->cow, PAGES * f->ps, PAGES + 1, 1, &ev), COWLAB_E_INVAL));
}

/* ---- copy-on-write ---- */

static const uint64_t cow_pages[] = { 1, 4, 6 };
#define SAME_PAGE 5 /* written through cow with the value it already held */

static void test_cow_write(struct fixture *f)
{
	uint32_t v;

	for (size_t i = 0; i < sizeof(cow_pages) / sizeof(cow_pages[0]); i++) {
		uint64_t p = cow_pages[i];
		uint32_t stamp = pat(p, OFF) ^ PATTERN_XOR_COW;

		poke(f, f->cow, p, OFF, stamp);
		CHECK(peek(f, f->cow, p, OFF) == stamp);
		CHECK_MSG(peek(f, f->rw, p, OFF) == pat(p, OFF), "page %llu: cow write in rw",
			  (unsigned long long)p);
		CHECK(peek(f, f->ro, p, OFF) == pat(p, OFF));
		CHECK(peek(f, f->cow2, p, OFF) == pat(p, OFF));
		CHECK(peek(f, f->shared, p, OFF) == pat(p, OFF));
		/* the copy holds the rest of the page */
		CHECK(peek(f, f->cow, p, 0) == pat(p, 0));
		CHECK(peek(f, f->cow, p, OFF + 4) == pat(p, OFF + 4));
		CHECK(peek(f, f->cow, p, (uint32_t)f->ps - 4) == pat(p, (uint32_t)f->ps - 4));
	}
	v = peek(f, f->cow, SAME_PAGE, 16);
	poke(f, f->cow, SAME_PAGE, 16, v);
	CHECK(peek(f, f->cow, SAME_PAGE, 16) == pat(SAME_PAGE, 16));
}

/* The server writes through rw after the client's cow writes. */
static void test_later_rw_write(struct fixture *f)
{
	const uint32_t later = PATTERN_XOR_LATER;

	poke(f, f->rw, 1, OFF, pat(1, OFF) ^ later);      /* a copied word */
	poke(f, f->rw, 1, OFF + 4, pat(1, OFF + 4) ^ later); /* its neighbour word */
	poke(f, f->rw, 0, OFF, pat(0, OFF) ^ later);      /* untouched pages */
	poke(f, f->rw, 2, OFF, pat(2, OFF) ^ later);
	poke(f, f->rw, 7, 0, pat(7, 0) ^ later);
	poke(f, f->rw, SAME_PAGE, 16, pat(SAME_PAGE, 16) ^ later);

	CHECK(peek(f, f->cow, 1, OFF) == (pat(1, OFF) ^ PATTERN_XOR_COW));
	CHECK_MSG(peek(f, f->cow, 1, OFF + 4) == pat(1, OFF + 4),
		  "a copied page sees a later rw write to another word");
	CHECK(peek(f, f->cow, 0, OFF) == (pat(0, OFF) ^ later));
	CHECK(peek(f, f->cow, 2, OFF) == (pat(2, OFF) ^ later));
	CHECK(peek(f, f->cow, 7, 0) == (pat(7, 0) ^ later));
	CHECK_MSG(peek(f, f->cow, SAME_PAGE, 16) == pat(SAME_PAGE, 16),
		  "writing the value a word held did not copy the page");
	/* the other views all see it */
	CHECK(peek(f, f->cow2, 1, OFF) == (pat(1, OFF) ^ later));
	CHECK(peek(f, f->ro, 1, OFF) == (pat(1, OFF) ^ later));
	CHECK(peek(f, f->shared, SAME_PAGE, 16) == (pat(SAME_PAGE, 16) ^ later));
}

/* The OS shows private copies exactly at the pages written through cow. */
static void test_evidence_after_writes(struct fixture *f)
{
	check_evidence(f, f->cow, 0, "01001110", 4, "cow, whole view");
	check_evidence(f, f->cow, 4, "1110", 4, "cow, pages 4-7");
	check_evidence(f, f->cow, 1, "1", 4, "cow, page 1");
	check_evidence(f, f->cow, 2, "00", 4, "cow, pages 2-3");
	check_evidence(f, f->cow2, 0, "00000000", 0, "second cow view");
	check_evidence(f, f->rw, 0, "00000000", 0, "rw view");
	check_evidence(f, f->ro, 0, "00000000", 0, "ro view");
}


/* The negative control: a "cow" view mapped shared does not isolate. */
static void test_cow_as_shared(struct fixture *f)
{
	uint32_t stamp = pat(3, OFF) ^ PATTERN_XOR_COW;

	poke(f, f->shared, 3, OFF, stamp);
	CHECK_MSG(peek(f, f->rw, 3, OFF) == stamp, "a cow-as-shared write is not in rw");
	CHECK(peek(f, f->ro, 3, OFF) == stamp);
	CHECK(peek(f, f->cow, 3, OFF) == stamp);  /* page 3 was never copied there */
	CHECK(peek(f, f->cow2, 3, OFF) == stamp);
	check_evidence(f, f->shared, 0, "00000000", 0, "cow-as-shared view");
}

/* ---- writes that must fault ---- */

static void check_ro_fault(struct fixture *f, uint64_t page, uint32_t offset)
{
	volatile uint32_t *target = word(f->ro, f->ps, page, offset);
	uint32_t before = peek(f, f->rw, page, offset);
	struct fault_info fi;
	int err;

	memset(&fi, 0x55, sizeof(fi));
	err = fault_try_write32(target, before ^ PATTERN_XOR_FAULT, &fi);
	CHECK_MSG(err == 0, "fault_try_write32: %s", cowlab_strerror(err));
	CHECK_MSG(fi.faulted, "page %llu offset %u: a write to ro did not fault",
		  (unsigned long long)page, offset);
	CHECK_MSG(strcmp(fi.code, fault_protection_code) == 0, "fault code \"%.48s\"", fi.code);
	CHECK_MSG(fi.address == (uintptr_t)target, "fault at %#lx, target %#lx",
		  (unsigned long)fi.address, (unsigned long)(uintptr_t)target);
	CHECK(peek(f, f->rw, page, offset) == before);
	CHECK(peek(f, f->ro, page, offset) == before);
	CHECK(peek(f, f->cow2, page, offset) == before);
}

static void test_faults(struct fixture *f)
{
	volatile uint32_t *target = word(f->rw, f->ps, 7, 24);
	uint32_t value = pat(7, 24) ^ PATTERN_XOR_RW;
	struct fault_info fi;

	check_ro_fault(f, 7, 20);
	check_ro_fault(f, 0, 0);                         /* the view's first word */
	check_ro_fault(f, PAGES - 1, (uint32_t)f->ps - 4); /* and its last */
	check_ro_fault(f, 3, OFF);                       /* a word with a stamp */
	/* the same probe on a writable view writes */
	memset(&fi, 0x55, sizeof(fi));
	CHECK(fault_try_write32(target, value, &fi) == 0);
	CHECK(!fi.faulted);
	CHECK(fi.code[0] == '\0');
	CHECK(peek(f, f->ro, 7, 24) == value);
	CHECK(peek(f, f->cow2, 7, 24) == value);
	/* and a fault after a write still faults */
	check_ro_fault(f, 7, 28);
}

/* ---- the pattern ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The number of values in v[0..n) that equal another one. */
static size_t duplicates(uint32_t *v, size_t n)
{
	size_t dup = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 1; i < n; i++)
		dup += v[i] == v[i - 1];
	return dup;
}

#define NVALUES 16384

/* Protections and discard on views of their own (section_protect,
 * section_discard), as docs/model.md states them for each platform. */
static void test_protect_discard(void)
{
	struct platform_info pi;
	struct section *s = NULL;
	uint8_t *rw = NULL, *cow = NULL;
	size_t ps = platform_page_size();
	struct fault_info fi;
	bool windows, wine;
	uint32_t seed = SEED;

	platform_describe(&pi);
	windows = strcmp(pi.os, "Windows") == 0;
	wine = pi.wine_version[0] != '\0';
	if (!CHECK_OK(section_create(&s, "cowlab-test-protect", PAGES * ps) == 0) ||
	    !CHECK_OK(section_map(s, SECTION_VIEW_RW, (void **)&rw) == 0) ||
	    !CHECK_OK(section_map(s, SECTION_VIEW_COW, (void **)&cow) == 0))
		goto done;
	CHECK(section_fill(s, rw, pattern_fill, &seed) == 0);
	/* a copied page protected read-only faults; back to write-copy, its
	 * copy takes the next write (no second copy) */
	*word(cow, ps, 1, 0) = 0x11;
	CHECK(section_protect(s, cow, SECTION_VIEW_COW, 1, 1, SECTION_READONLY) == 0);
	CHECK(fault_try_write32(word(cow, ps, 1, 0), 0x22, &fi) == 0 && fi.faulted);
	CHECK(*word(cow, ps, 1, 0) == 0x11);
	CHECK(section_protect(s, cow, SECTION_VIEW_COW, 1, 1, SECTION_WRITECOPY) == 0);
	*word(cow, ps, 1, 4) = 0x33;
	CHECK(*word(cow, ps, 1, 0) == 0x11 && *word(rw, ps, 1, 0) == pat(1, 0));
	/* no access: a read faults */
	CHECK(section_protect(s, cow, SECTION_VIEW_COW, 2, 1, SECTION_NOACCESS) == 0);
	{
		uint32_t v = 0;

		CHECK(fault_try_access32(word(cow, ps, 2, 0), &v, 0, &fi) == 0 && fi.faulted);
	}
	CHECK(section_protect(s, cow, SECTION_VIEW_COW, 2, 1, SECTION_WRITECOPY) == 0);
	/* discard: Linux drops the copy, the page tracks again; Windows has
	 * no such call for a view */
	if (windows) {
		CHECK(err_is(section_discard(s, cow, 1, 1), COWLAB_E_UNSUPPORTED));
	} else {
		CHECK(section_discard(s, cow, 1, 1) == 0);
		CHECK(*word(cow, ps, 1, 0) == pat(1, 0));
		*word(rw, ps, 1, 0) = 0x44;
		CHECK(*word(cow, ps, 1, 0) == 0x44);
	}
	/* write-copy on the shared view: Windows copies (Wine 8.0 writes
	 * through: its named deviation); Linux cannot */
	if (!windows) {
		CHECK(err_is(section_protect(s, rw, SECTION_VIEW_RW, 3, 1, SECTION_WRITECOPY),
			     COWLAB_E_UNSUPPORTED));
	} else if (CHECK_OK(section_protect(s, rw, SECTION_VIEW_RW, 3, 1, SECTION_WRITECOPY) ==
			    0)) {
		*word(rw, ps, 3, 0) = 0x55;
		/* what the section holds now, through the copy view's eyes */
		CHECK_MSG((*word(cow, ps, 3, 0) == 0x55) == wine,
			  "a write-copy page of a FILE_MAP_WRITE view %s the section",
			  *word(cow, ps, 3, 0) == 0x55 ? "reached" : "did not reach");
	}
done:
	if (cow != NULL)
		section_unmap(s, cow);
	if (rw != NULL)
		section_unmap(s, rw);
	section_destroy(s);
}

static void test_pattern_distinct(void)
{
	const uint32_t seeds[] = { 0, SEED, UINT32_MAX };
	const uint32_t offsets[] = { 0, 4, 4092, 65532 };
	const uint64_t pages[] = { 0, 1, 7, 4096, 0xFFFFFFFFull };
	uint32_t *v = malloc(NVALUES * sizeof(*v));

	if (v == NULL)
		return;
	for (size_t s = 0; s < 3; s++) {
		for (size_t o = 0; o < 4; o++) {
			for (uint64_t p = 0; p < NVALUES; p++)
				v[p] = pattern_value(seeds[s], p * 262147u, offsets[o]);
			CHECK_MSG(duplicates(v, NVALUES) == 0, "pages share a value at offset %u",
				  offsets[o]);
		}
		for (size_t p = 0; p < 5; p++) {
			for (uint32_t w = 0; w < NVALUES; w++)
				v[w] = pattern_value(seeds[s], pages[p], w * 4);
			CHECK_MSG(duplicates(v, NVALUES) == 0, "offsets share a value on page %llu",
				  (unsigned long long)pages[p]);
		}
	}
	CHECK(pattern_value(1, 5, 8) != pattern_value(2, 5, 8));
	free(v);
}

/* pattern_first_differing finds the first changed word wherever it is
 * (every position of a page, in and out of its 16-word blocks, page
 * sizes that are not a multiple of 16 words), skips words before `from`,
 * and finds nothing in a page that is the pattern. */
static void test_pattern_first_differing(void)
{
	static const size_t sizes[] = { 4096, 512, 4100, 60 };
	uint32_t page[1025];

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t n = sizes[z] / 4;

		pattern_fill_page(SEED, 77, page, sizes[z]);
		CHECK(pattern_first_differing(SEED, 77, page, sizes[z], 0) == n);
		CHECK(pattern_first_differing(SEED, 78, page, sizes[z], 0) == 0);
		for (size_t i = 0; i < n; i++) {
			page[i] ^= 1u << (i % 32);
			CHECK_MSG(pattern_first_differing(SEED, 77, page, sizes[z], 0) == i,
				  "word %zu of a %zu-byte page", i, sizes[z]);
			CHECK(pattern_first_differing(SEED, 77, page, sizes[z], i + 1) == n);
			/* a second change later does not hide the first */
			if (i + 17 < n) {
				page[i + 17] ^= 1;
				CHECK(pattern_first_differing(SEED, 77, page, sizes[z], 0) == i);
				CHECK(pattern_first_differing(SEED, 77, page, sizes[z], i + 1) ==
				      i + 17);
				page[i + 17] ^= 1;
			}
			page[i] ^= 1u << (i % 32);
		}
	}
}

static void test_pattern_stamps(void)
{
	const uint32_t xors[] = { PATTERN_XOR_NONE, PATTERN_XOR_RW, PATTERN_XOR_COW,
				  PATTERN_XOR_LATER, PATTERN_XOR_SERVER_COW, PATTERN_XOR_FAULT };
	const size_t n = sizeof(xors) / sizeof(xors[0]);
	uint32_t v[sizeof(xors) / sizeof(xors[0])];

	CHECK(PATTERN_XOR_NONE == 0);
	for (uint64_t page = 0; page < 64; page += 9) {
		for (uint32_t off = 0; off < 4096; off += 1020) {
			uint32_t base = pattern_value(SEED, page, off);

			for (size_t i = 0; i < n; i++)
				v[i] = base ^ xors[i];
			CHECK(v[0] == base);
			CHECK_MSG(duplicates(v, n) == 0, "stamps collide on page %llu offset %u",
				  (unsigned long long)page, off);
		}
	}
}

static void test_pattern_fill(void)
{
	const size_t ps = 4096;
	uint8_t *buf = malloc(ps + 64);
	size_t bad = 0;

	if (buf == NULL)
		return;
	memset(buf, 0xAB, ps + 64);
	pattern_fill_page(SEED, 3, buf, ps);
	for (uint32_t off = 0; off < ps; off += 4) {
		uint32_t w;

		memcpy(&w, buf + off, sizeof(w));
		bad += w != pattern_value(SEED, 3, off);
	}
	CHECK_MSG(bad == 0, "%zu words differ from pattern_value", bad);
	for (size_t i = ps; i < ps + 64; i++)
		bad += buf[i] != 0xAB;
	CHECK_MSG(bad == 0, "pattern_fill_page wrote past the page");
	free(buf);
}

/* No squatting: on Windows a section name that exists is refused; on
 * Linux a memfd's name is only a label (no namespace to squat in), so a
 * second one of the same name is a different section. */
static void test_name_taken(void)
{
	struct platform_info info;
	struct section *a = NULL, *b = NULL;
	size_t ps = platform_page_size();
	uint8_t rnd[4];
	char name[64];
	int err;

	platform_describe(&info);
	CHECK(platform_random(rnd, sizeof(rnd)) == 0);
	snprintf(name, sizeof(name), "cowlab-test-taken-%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3]);
	CHECK(section_create(&a, name, ps) == 0);
	err = section_create(&b, name, ps);
	if (strcmp(info.os, "Windows") == 0) {
		CHECK_MSG(err_is(err, COWLAB_E_EXISTS) && b == NULL, "a taken name was accepted (%d)", err);
	} else {
		CHECK(err == 0 && b != NULL);
	}
	section_destroy(a);
	section_destroy(b);
}

static void fill_seeded(void *ctx, uint64_t page, void *dst, size_t page_size)
{
	pattern_fill_page(*(const uint32_t *)ctx, page, dst, page_size);
}

/* section_fill puts the pattern in every page, whichever path it takes
 * (on Linux one thread for a small section; for one of 64 MiB or more,
 * where the process may use two CPUs or more, a writer and a maker of the
 * pattern a chunk ahead, the last chunk short here), and what it leaves in
 * the section is what a fresh view reads; section_release changes no
 * byte. Every page is checked at three offsets. */
static void test_section_fill(void)
{
	static const uint64_t sizes[] = { 3 * 4096, (80ull << 20) + 3 * 65536 };
	uint32_t seed = SEED ^ 0x5EEDu;
	size_t ps = platform_page_size();

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t size = sizes[k] / ps * ps, pages = size / ps, bad = 0;
		struct section *sec = NULL;
		void *rw = NULL, *ro = NULL;

		if (!CHECK_OK(section_create(&sec, "cowlab-test-fill", size) == 0) ||
		    !CHECK_OK(section_map(sec, SECTION_VIEW_RW, &rw) == 0)) {
			section_destroy(sec);
			continue;
		}
		CHECK_MSG(section_fill(sec, rw, fill_seeded, &seed) == 0,
			  "section_fill of %llu bytes failed", (unsigned long long)size);
		section_release(sec, rw, 0, pages);
		if (CHECK_OK(section_map(sec, SECTION_VIEW_RO, &ro) == 0)) {
			for (uint64_t p = 0; p < pages; p++) {
				const uint8_t *pg = (const uint8_t *)ro + p * ps;
				uint32_t offs[3] = { 0, (uint32_t)ps / 2, (uint32_t)ps - 4 };

				for (int i = 0; i < 3; i++) {
					uint32_t w;

					memcpy(&w, pg + offs[i], sizeof(w));
					bad += w != pattern_value(seed, p, offs[i]);
				}
			}
			CHECK_MSG(bad == 0, "%llu words of a %llu-page section differ from the "
				  "pattern", (unsigned long long)bad, (unsigned long long)pages);
		}
		section_unmap(sec, ro);
		section_unmap(sec, rw);
		section_destroy(sec);
	}
}

int main(void)
{
	struct fixture f;

	test_create_rejects();
	test_name_taken();
	if (fixture_setup(&f)) {
		test_before_writes(&f);
		test_cow_write(&f);
		test_later_rw_write(&f);
		test_evidence_after_writes(&f);
		test_cow_as_shared(&f);
		test_faults(&f);
	}
	fixture_teardown(&f);
	test_protect_discard();
	test_pattern_distinct();
	test_pattern_first_differing();
	test_pattern_stamps();
	test_pattern_fill();
	test_section_fill();
	return check_exit("test-section");
}
