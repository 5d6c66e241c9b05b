/* The portable half of --explore: the names, the judging of a
 * demonstration from the accesses it made, and the output for people
 * and for scripts. What is run lives in the backends. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowlab-config.h"
#include "err.h"
#include "explore.h"
#include "json.h"
#include "fault.h"
#include "platform.h"
#include "section.h"
#include "text.h"

static const char *const step_names[EXPLORE_STEPS] = {
	"free", "reserved", "committed", "decommitted", "released",
};

static const char *const demo_names[EXPLORE_DEMOS] = {
	"reserved_touch_faults", "committed_reads_zero", "readonly_write_faults",
	"guard_page_once", "cow_view_protect", "free_touch_faults",
};

static const char *const demo_titles[EXPLORE_DEMOS] = {
	"touching a reserved page faults",
	"a committed page reads zero",
	"PAGE_READONLY, then a write faults",
	"PAGE_GUARD faults once, then clears",
	"VirtualProtect on a copy-on-write view",
	"touching a free (released) page faults",
};

/* The stable names of the JSON document. */
static const char *explore_state_name(enum explore_state s)
{
	switch (s) {
	case EXPLORE_FREE: return "free";
	case EXPLORE_RESERVED: return "reserved";
	case EXPLORE_COMMITTED: return "committed";
	default: return "unknown";
	}
}

static const char *explore_outcome_name(enum explore_outcome o)
{
	switch (o) {
	case EXPLORE_AS_DOCUMENTED: return "as_documented";
	case EXPLORE_DEVIATION: return "deviation";
	case EXPLORE_NOT_APPLICABLE: return "not_applicable";
	default: return "unexpected";
	}
}

/* ---- for the backends ---- */

static struct explore_access *add_access(struct explore_demo *d, const char *what, bool write,
					 volatile uint32_t *addr, bool expect_fault,
					 const char *expect_code)
{
	struct explore_access *a;

	if (d->naccess == EXPLORE_ACCESSES_MAX)
		return NULL;
	a = &d->access[d->naccess++];
	memset(a, 0, sizeof(*a));
	snprintf(a->what, sizeof(a->what), "%s", what);
	a->write = write;
	a->touched = (uint64_t)(uintptr_t)addr;
	a->expect_fault = expect_fault;
	a->after_facts = d->nfacts;
	snprintf(a->expect_code, sizeof(a->expect_code), "%s", expect_code ? expect_code : "");
	return a;
}

void explore_readonly_write(struct explore_demo *d, volatile uint32_t *w)
{
	uint32_t before = *w;

	explore_write(d, "the read-only page", w, before ^ 0xa5a5a5a5u, true,
		      fault_protection_code, 0);
	explore_fact(d, "the word still holds 0x%08" PRIx32 " (was 0x%08" PRIx32 ")", *w, before);
	explore_judge(d);
	if (*w != before)
		explore_set(d, EXPLORE_UNEXPECTED, "the faulting write changed the page");
}

void explore_demo_committed_zero(struct explore_result *r, uint8_t *base, size_t ps)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_COMMITTED_ZERO];
	bool zero = true;

	explore_read(d, "committed page 1", (volatile uint32_t *)(base + ps + 16), false,
		     NULL, 0);
	for (size_t i = 0; i < ps; i++)
		zero = zero && ((volatile uint8_t *)base)[i] == 0;
	explore_fact(d, "every byte of page 0 reads zero: %s", zero ? "yes" : "NO");
	explore_judge(d);
	if (!zero || d->access[0].value != 0)
		explore_set(d, EXPLORE_UNEXPECTED, "a fresh page did not read zero");
}

void explore_demo_cow(struct explore_result *r, size_t ps)
{
	struct explore_demo *d = &r->demos[EXPLORE_DEMO_COW_PROTECT];
	struct section *sec = NULL;
	void *rw = NULL, *cow = NULL;
	char name[64];
	int err;

	snprintf(name, sizeof(name), "cowlab-explore-%ld", platform_pid());
	err = section_create(&sec, name, 2 * ps);
	if (err == 0)
		err = section_map(sec, SECTION_VIEW_RW, &rw);
	if (err == 0)
		err = section_map(sec, SECTION_VIEW_COW, &cow);
	if (err == 0)
		explore_cow_protect(d, rw, cow, ps);
	else
		explore_set(d, EXPLORE_UNEXPECTED, "cannot set up a section and its views: %s",
			    cowlab_strerror(err));
	if (cow != NULL)
		section_unmap(sec, cow);
	if (rw != NULL)
		section_unmap(sec, rw);
	section_destroy(sec);
}

void explore_step(struct explore_result *r, enum explore_step_id id, bool ok,
		  enum explore_state expected, const void *addr, const char *call)
{
	struct explore_step *s = &r->steps[id];

	snprintf(s->call, sizeof(s->call), "%s", call);
	s->call_ok = ok;
	s->expected = expected;
	explore_query(addr, &s->q);
}

struct explore_access *explore_read(struct explore_demo *d, const char *what,
				    volatile uint32_t *addr, bool expect_fault,
				    const char *expect_code, unsigned flags)
{
	struct explore_access *a = add_access(d, what, false, addr, expect_fault, expect_code);

	if (a != NULL)
		a->probe_ok = fault_try_access32(addr, &a->value, flags & ~FAULT_WRITE,
						 &a->fault) == 0;
	return a;
}

struct explore_access *explore_write(struct explore_demo *d, const char *what,
				     volatile uint32_t *addr, uint32_t value, bool expect_fault,
				     const char *expect_code, unsigned flags)
{
	struct explore_access *a = add_access(d, what, true, addr, expect_fault, expect_code);

	if (a != NULL) {
		a->value = value;
		a->probe_ok = fault_try_access32(addr, &a->value, flags | FAULT_WRITE,
						 &a->fault) == 0;
	}
	return a;
}

void explore_fact(struct explore_demo *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nfacts == EXPLORE_FACTS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(d->facts[d->nfacts++], EXPLORE_TEXT, fmt, ap);
	va_end(ap);
}

void explore_set(struct explore_demo *d, enum explore_outcome o, const char *fmt, ...)
{
	va_list ap;

	/* Something unexpected stays so: a deviation never hides it. */
	if (d->outcome == EXPLORE_UNEXPECTED && o != EXPLORE_UNEXPECTED)
		return;
	d->outcome = o;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

/* Why one access did not behave; "" when it did. */
static void access_verdict(const struct explore_access *a, char *why, size_t cap)
{
	why[0] = '\0';
	if (!a->probe_ok)
		snprintf(why, cap, "%s: the fault probe could not be set up", a->what);
	else if (a->expect_fault && !a->fault.faulted)
		snprintf(why, cap, "%s at 0x%" PRIx64 " did not fault", a->what, a->touched);
	else if (!a->expect_fault && a->fault.faulted)
		snprintf(why, cap, "%s at 0x%" PRIx64 " faulted (%s)", a->what, a->touched,
			 a->fault.code);
	else if (a->fault.faulted && (uint64_t)a->fault.address != a->touched)
		snprintf(why, cap, "%s: the fault was reported at 0x%" PRIx64 ", not at 0x%"
			 PRIx64 " touched", a->what, (uint64_t)a->fault.address, a->touched);
	else if (a->fault.faulted && a->expect_code[0] != '\0' &&
		 strcmp(a->fault.code, a->expect_code) != 0)
		snprintf(why, cap, "%s raised %s, not %s", a->what, a->fault.code,
			 a->expect_code);
}

void explore_judge(struct explore_demo *d)
{
	char why[EXPLORE_NOTE];

	for (size_t i = 0; i < d->naccess; i++) {
		access_verdict(&d->access[i], why, sizeof(why));
		if (why[0] != '\0') {
			explore_set(d, EXPLORE_UNEXPECTED, "%s", why);
			return;
		}
	}
	if (d->outcome != EXPLORE_UNEXPECTED)
		explore_set(d, EXPLORE_AS_DOCUMENTED, "%s", "");
}

/* Whether every step reached its expected state and no demonstration is
 * EXPLORE_UNEXPECTED. */
static bool explore_all_as_expected(const struct explore_result *r)
{
	for (int i = 0; i < EXPLORE_STEPS; i++)
		if (!r->steps[i].call_ok || r->steps[i].q.state != r->steps[i].expected)
			return false;
	for (int i = 0; i < EXPLORE_DEMOS; i++)
		if (r->demos[i].outcome == EXPLORE_UNEXPECTED)
			return false;
	return true;
}

/* ---- output for people ---- */

/* "  label   value   where it comes from", the last wrapped under it. */
static void print_fact(FILE *out, const char *label, const char *value, const char *source)
{
	char lead[96];

	snprintf(lead, sizeof(lead), "  %-24s %-22s", label, value);
	text_print_wrapped(out, lead, source, 4);
}

static void print_size(FILE *out, const char *label, uint64_t n, const char *source)
{
	char text[48];

	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(text, sizeof(text), "%" PRIu64 " B (%" PRIu64 " MiB)", n, n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(text, sizeof(text), "%" PRIu64 " B (%" PRIu64 " KiB)", n, n >> 10);
	else
		snprintf(text, sizeof(text), "%" PRIu64 " B", n);
	print_fact(out, label, text, source);
}

/* The huge page sizes the machine offers, and how many of each are free:
 * what --page-size may take. */
static void print_huge(FILE *out)
{
	size_t sizes[8], n = platform_huge_sizes(sizes, 8);
	char lead[48], text[400];

	if (n == 0)
		print_fact(out, "huge pages", "none offered", platform_path_sep == '/' ?
			   "/sys/kernel/mm/hugepages" : "GetLargePageMinimum");
	for (size_t i = 0; i < n; i++) {
		struct platform_huge h;

		platform_huge_pages(sizes[i], &h);
		snprintf(lead, sizeof(lead), "huge pages of %zu %s", sizes[i] >= (1u << 30) ?
			 sizes[i] >> 30 : sizes[i] >> 20, sizes[i] >= (1u << 30) ? "GiB" : "MiB");
		if (!h.usable)
			snprintf(text, sizeof(text), "not usable: %s", h.why);
		else if (h.total >= 0)
			snprintf(text, sizeof(text), "%ld reserved, %ld free%s", h.total, h.free,
				 h.total == 0 ? " (as root: sysctl vm.nr_hugepages=N, and back to 0 "
				 "after)" : "");
		else
			snprintf(text, sizeof(text), "usable (--page-size %zuM)", sizes[i] >> 20);
		{
			char label[64];

			snprintf(label, sizeof(label), "  %-24s", lead);
			text_print_wrapped(out, label, text, 27);
		}
	}
}

static void print_system(const struct explore_system *s, FILE *out)
{
	char text[24];

	fprintf(out, "system:\n");
	print_size(out, "page size", s->page_size, s->page_size_source);
	print_size(out, "allocation granularity", s->allocation_granularity,
		   s->page_size_source);
	print_size(out, "large-page minimum", s->large_page_minimum, s->large_page_source);
	snprintf(text, sizeof(text), "0x%" PRIx64, s->min_address);
	print_fact(out, "lowest user address", text, s->min_address_source);
	snprintf(text, sizeof(text), "0x%" PRIx64, s->max_address);
	print_fact(out, "highest user address", text, s->max_address_source);
	print_huge(out);
}

static void print_steps(const struct explore_result *r, FILE *out)
{
	fprintf(out, "\nregion walk (%" PRIu64 " bytes, what the OS says after each call):\n",
		r->region_size);
	for (int i = 0; i < EXPLORE_STEPS; i++) {
		const struct explore_step *s = &r->steps[i];
		bool ok = s->call_ok && s->q.state == s->expected;

		char lead[64], text[EXPLORE_TEXT + 16];

		snprintf(lead, sizeof(lead), "  %-12s", step_names[i]);
		snprintf(text, sizeof(text), "%s%s", s->call, s->call_ok ? "" : " FAILED");
		text_print_wrapped(out, lead, text, 17);
		snprintf(lead, sizeof(lead), "  %-12s -> %s:", "", explore_state_name(s->q.state));
		text_print_wrapped(out, lead, s->q.raw, 18);
		if (!ok)
			fprintf(out, "  %-12s UNEXPECTED: expected %s\n", "",
				explore_state_name(s->expected));
		if (s->note[0] != '\0')
			text_print_wrapped(out, "               note:", s->note, 21);
	}
}

static void print_access(const struct explore_access *a, FILE *out)
{
	char lead[EXPLORE_TEXT + 64], text[160], code[32];

	snprintf(lead, sizeof(lead), "      %s at 0x%" PRIx64 " (%s):", a->write ? "write" : "read",
		 a->touched, a->what);
	if (!a->fault.faulted) {
		snprintf(text, sizeof(text), "no fault, %s 0x%08" PRIx32, a->write ? "wrote" : "read",
			 a->value);
	} else {
		fault_os_code_text(&a->fault, code, sizeof(code));
		snprintf(text, sizeof(text), "%s (%s) at 0x%" PRIx64 "%s", a->fault.code, code,
			 (uint64_t)a->fault.address, (uint64_t)a->fault.address == a->touched ?
			 ", the address touched" : ", NOT the address touched");
	}
	text_print_wrapped(out, lead, text, 8);
}

static void print_demos(const struct explore_result *r, FILE *out)
{
	fprintf(out, "\ndemonstrations:\n");
	for (int i = 0; i < EXPLORE_DEMOS; i++) {
		const struct explore_demo *d = &r->demos[i];

		static const char *const words[] = {
			[EXPLORE_AS_DOCUMENTED] = "as documented",
			[EXPLORE_DEVIATION] = "deviation:",
			[EXPLORE_NOT_APPLICABLE] = "not applicable on this platform:",
		};
		char lead[160], text[EXPLORE_NOTE + 40];

		snprintf(lead, sizeof(lead), "  %s (%s):", demo_titles[i], demo_names[i]);
		snprintf(text, sizeof(text), "%s %s",
			 d->outcome <= EXPLORE_NOT_APPLICABLE ? words[d->outcome] : "UNEXPECTED:",
			 d->outcome == EXPLORE_AS_DOCUMENTED ? "" : d->why);
		text_print_wrapped(out, lead, text, 4);
		/* Facts and accesses in the order they happened. */
		for (size_t k = 0, a = 0; k <= d->nfacts; k++) {
			for (; a < d->naccess && d->access[a].after_facts <= k; a++)
				print_access(&d->access[a], out);
			if (k < d->nfacts)
				text_print_wrapped(out, "     ", d->facts[k], 8);
		}
	}
}

static void count_outcomes(const struct explore_result *r, int counts[4])
{
	memset(counts, 0, 4 * sizeof(counts[0]));
	for (int i = 0; i < EXPLORE_DEMOS; i++)
		counts[r->demos[i].outcome <= EXPLORE_UNEXPECTED ? r->demos[i].outcome :
		       EXPLORE_UNEXPECTED]++;
}

static void explore_print_human(const struct explore_result *r, FILE *out)
{
	int counts[4];
	bool ok = explore_all_as_expected(r);

	fprintf(out, "cowlab %s --explore: the Virtual API on %s%s%s%s\n\n", COWLAB_VERSION,
		r->sys.os, r->sys.wine_version[0] ? " (Wine " : "", r->sys.wine_version,
		r->sys.wine_version[0] ? ")" : "");
	print_system(&r->sys, out);
	print_steps(r, out);
	print_demos(r, out);
	count_outcomes(r, counts);
	fprintf(out, "\nverdict: %s (exit %d)\n  %d as documented, %d deviation(s), "
		"%d not applicable, %d unexpected\n",
		ok ? "everything behaved as documented or as explained" :
		"something behaved UNEXPECTEDLY", ok ? 0 : 1,
		counts[EXPLORE_AS_DOCUMENTED], counts[EXPLORE_DEVIATION],
		counts[EXPLORE_NOT_APPLICABLE], counts[EXPLORE_UNEXPECTED]);
}

/* ---- output for scripts ---- */

static void add_address(cJSON *o, const char *key, uint64_t a)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, a);
	cJSON_AddStringToObject(o, key, text);
}

static cJSON *system_json(const struct explore_system *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *src;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "page_size", (double)s->page_size);
	cJSON_AddNumberToObject(o, "allocation_granularity", (double)s->allocation_granularity);
	cJSON_AddNumberToObject(o, "large_page_minimum", (double)s->large_page_minimum);
	add_address(o, "min_address", s->min_address);
	add_address(o, "max_address", s->max_address);
	{
		size_t sizes[8], n = platform_huge_sizes(sizes, 8);
		cJSON *arr = cJSON_AddArrayToObject(o, "huge_pages");

		for (size_t i = 0; arr != NULL && i < n; i++) {
			cJSON *h = cJSON_CreateObject();
			struct platform_huge ph;

			platform_huge_pages(sizes[i], &ph);
			cJSON_AddNumberToObject(h, "size", (double)sizes[i]);
			cJSON_AddBoolToObject(h, "usable", ph.usable);
			json_attach(h, "total", ph.total >= 0 ? cJSON_CreateNumber((double)ph.total) :
								cJSON_CreateNull());
			json_attach(h, "free", ph.free >= 0 ? cJSON_CreateNumber((double)ph.free) :
							      cJSON_CreateNull());
			json_attach(h, "why", ph.usable ? cJSON_CreateNull() :
							  cJSON_CreateString(ph.why));
			cJSON_AddItemToArray(arr, h);
		}
	}
	src = cJSON_AddObjectToObject(o, "sources");
	cJSON_AddStringToObject(src, "page_size", s->page_size_source);
	cJSON_AddStringToObject(src, "large_page_minimum", s->large_page_source);
	cJSON_AddStringToObject(src, "min_address", s->min_address_source);
	cJSON_AddStringToObject(src, "max_address", s->max_address_source);
	return o;
}

static cJSON *step_json(const struct explore_step *s, int i)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", step_names[i]);
	cJSON_AddStringToObject(o, "call", s->call);
	cJSON_AddBoolToObject(o, "call_ok", s->call_ok);
	cJSON_AddStringToObject(o, "expected", explore_state_name(s->expected));
	cJSON_AddStringToObject(o, "state", explore_state_name(s->q.state));
	cJSON_AddStringToObject(o, "protect", s->q.protect);
	cJSON_AddStringToObject(o, "type", s->q.type);
	add_address(o, "base", s->q.base);
	cJSON_AddNumberToObject(o, "size", (double)s->q.size);
	if (s->q.has_allocation_base)
		add_address(o, "allocation_base", s->q.allocation_base);
	else /* Linux has none: said, not invented */
		cJSON_AddNullToObject(o, "allocation_base");
	cJSON_AddStringToObject(o, "raw", s->q.raw);
	cJSON_AddStringToObject(o, "note", s->note);
	return o;
}

static cJSON *access_json(const struct explore_access *a)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "what", a->what);
	cJSON_AddStringToObject(o, "access", a->write ? "write" : "read");
	add_address(o, "touched", a->touched);
	cJSON_AddBoolToObject(o, "expect_fault", a->expect_fault);
	cJSON_AddStringToObject(o, "expect_code", a->expect_code);
	cJSON_AddBoolToObject(o, "faulted", a->fault.faulted);
	cJSON_AddStringToObject(o, "code", a->fault.code);
	cJSON_AddNumberToObject(o, "os_code", a->fault.os_code);
	if (a->fault.faulted)
		add_address(o, "address", (uint64_t)a->fault.address);
	else
		cJSON_AddNullToObject(o, "address");
	cJSON_AddNumberToObject(o, "value", a->value);
	return o;
}

static cJSON *demo_json(const struct explore_demo *d, int i)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", demo_names[i]);
	cJSON_AddStringToObject(o, "title", demo_titles[i]);
	cJSON_AddStringToObject(o, "outcome", explore_outcome_name(d->outcome));
	cJSON_AddStringToObject(o, "why", d->why);
	arr = cJSON_AddArrayToObject(o, "accesses");
	for (size_t k = 0; k < d->naccess; k++)
		cJSON_AddItemToArray(arr, access_json(&d->access[k]));
	arr = cJSON_AddArrayToObject(o, "facts");
	for (size_t k = 0; k < d->nfacts; k++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(d->facts[k]));
	return o;
}

/* The JSON document (malloc'd text), NULL when out of memory. */
static char *explore_to_json(const struct explore_result *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *o, *arr;
	int counts[4];
	char *text;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "version", COWLAB_VERSION);
	o = cJSON_AddObjectToObject(root, "platform");
	cJSON_AddStringToObject(o, "os", r->sys.os);
	/* as the report's platform.wine: null where there is no Wine */
	if (r->sys.wine_version[0] != '\0')
		cJSON_AddStringToObject(o, "wine_version", r->sys.wine_version);
	else
		cJSON_AddNullToObject(o, "wine_version");
	cJSON_AddItemToObject(root, "system", system_json(&r->sys));
	cJSON_AddNumberToObject(root, "region_size", (double)r->region_size);
	arr = cJSON_AddArrayToObject(root, "steps");
	for (int i = 0; i < EXPLORE_STEPS; i++)
		cJSON_AddItemToArray(arr, step_json(&r->steps[i], i));
	arr = cJSON_AddArrayToObject(root, "demonstrations");
	for (int i = 0; i < EXPLORE_DEMOS; i++)
		cJSON_AddItemToArray(arr, demo_json(&r->demos[i], i));
	count_outcomes(r, counts);
	o = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(o, "as_documented", counts[EXPLORE_AS_DOCUMENTED]);
	cJSON_AddNumberToObject(o, "deviation", counts[EXPLORE_DEVIATION]);
	cJSON_AddNumberToObject(o, "not_applicable", counts[EXPLORE_NOT_APPLICABLE]);
	cJSON_AddNumberToObject(o, "unexpected", counts[EXPLORE_UNEXPECTED]);
	cJSON_AddBoolToObject(o, "all_as_expected", explore_all_as_expected(r));
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

void explore_describe_platform(struct explore_system *s)
{
	struct platform_info pi;

	platform_describe(&pi);
	snprintf(s->os, sizeof(s->os), "%s", pi.os);
	snprintf(s->wine_version, sizeof(s->wine_version), "%s", pi.wine_version);
	s->page_size = pi.page_size;
	s->allocation_granularity = pi.allocation_granularity;
}

int explore_command(bool json)
{
	struct explore_result *r = calloc(1, sizeof(*r));
	int status, err = r == NULL ? COWLAB_E_NOMEM : explore_run(r);

	if (err != 0) {
		fprintf(stderr, "cowlab-client: cannot explore: %s\n", cowlab_strerror(err));
		free(r);
		return 2;
	}
	status = explore_all_as_expected(r) ? 0 : 1;
	if (json) {
		char *text = explore_to_json(r);

		if (text == NULL) {
			fprintf(stderr, "cowlab-client: out of memory\n");
			free(r);
			return 2;
		}
		printf("%s\n", text);
		cJSON_free(text);
	} else {
		explore_print_human(r, stdout);
	}
	fflush(stdout);
	free(r);
	return status;
}
