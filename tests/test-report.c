/* The streamed JSON report (report.h): one whole object, byte for byte
 * what cJSON prints for it, with its members in the documented order, and
 * each client entry (written without a tree) the documented one, member for
 * member; and a whole JSON object however early memory runs out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report.h"

/* The allocations cJSON may still make; -1: no limit. */
static long allocs_left = -1;

static void *limited_malloc(size_t n)
{
	if (allocs_left == 0)
		return NULL;
	if (allocs_left > 0)
		allocs_left--;
	return malloc(n);
}

static cJSON *counts(const char *name, double n)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, name, n);
	return o;
}

/* Numbers that cJSON prints each its own way: integers as digits below
 * 10^15 and with an exponent from there, "%1.15g" where that reads back
 * the same and "%1.17g" where not, -0, and null for NaN. */
static cJSON *numbers(void)
{
	static const double v[] = {
		0, -0.0, 1, -42, 4096, 123456789012345.0, 999999999999999.0, 1e15, -1e15,
		9007199254740993.0, 18446744073709551615.0, 0.5, 0.1, 1.0 / 3, 3.14159,
		-2.5e-7, 1e300, 4.9e-324,
	};
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	return a;
}

/* A report with one complete client, one rejected connection, a server
 * check and strings that need escapes. */
static void fill(struct report *r)
{
	struct report_client *c, *x;
	struct report_check *k;

	report_init(r);
	snprintf(r->version, sizeof(r->version), "0.1.0");
	platform_describe(&r->platform);
	snprintf(r->section_name, sizeof(r->section_name), "cowlab-\"test\"\t\\-name");
	r->section_size = 6 * 4096;
	r->page_size = 4096;
	r->seed = 0xdeadbeefu;
	r->expected_clients = 1;
	c = report_add_client(r, false);
	x = report_add_client(r, true);
	if (!CHECK_OK(c != NULL && x != NULL))
		return;
	c->id = 1;
	c->pid = 4242;
	c->status = CLIENT_COMPLETE;
	c->first_page = 1;
	c->page_count = 4;
	k = report_add_check(c->checks, REPORT_CHECKS_MAX, &c->nchecks, "rw_write_visible",
			     false, counts("server_sees_write", 1), counts("server_sees_write", 0),
			     counts("evidence_pages", 4));
	k->applicable = true;
	snprintf(k->basis, sizeof(k->basis), "server");
	report_check_detail(k, "0 of 1 pages, \"quoted\", a tab\there, \xc3\xa9");
	k = report_add_check(c->checks, REPORT_CHECKS_MAX, &c->nchecks, "image_section_shared",
			     true, NULL, counts("private", 1), NULL);
	k->applicable = false;
	snprintf(k->basis, sizeof(k->basis), "client");
	k = report_add_check(c->checks, REPORT_CHECKS_MAX, &c->nchecks, "cow_copy_evidence", false,
			     NULL, NULL, NULL);
	snprintf(k->basis, sizeof(k->basis), "client");
	report_check_unproven(k, "not observed: its evidence (write step, operation 3) failed: "
			      "\"declined\"");
	for (int i = 0; i < 5; i++)
		report_client_failed_op(c, "write", 3 + i, "evidence", "declined \x01");
	x->pid = 77;
	x->status = CLIENT_REJECTED;
	snprintf(x->reason, sizeof(x->reason), "invalid hello: \x01 control");
	k = report_add_check(r->server_checks, REPORT_SERVER_CHECKS_MAX, &r->nserver_checks,
			     "section_intact", true, counts("pages_wrong", 0), numbers(), NULL);
	k->applicable = true;
	r->page_map = strdup("SCtWFS");
	r->elapsed_ms = 12;
	r->run = 1;
	r->before.descriptors = r->after.descriptors = 5;
	r->before.rss_kib = 1000;
	r->after.rss_kib = r->after.peak_rss_kib = 2000;
}

/* The report as report_json_begin and _end write it. */
static char *stream(const struct report *r)
{
	FILE *f = tmpfile();
	char *text = NULL;
	long n;

	if (!CHECK_OK(f != NULL))
		return NULL;
	report_json_begin(r, f);
	report_json_end(r, f);
	n = ftell(f);
	if (n > 0 && (text = malloc((size_t)n + 1)) != NULL) {
		rewind(f);
		text[fread(text, 1, (size_t)n, f)] = '\0';
	}
	fclose(f);
	return text;
}

/* A list of checks as the report documents it (docs/report.md), built as
 * a cJSON tree from the same records. */
static cJSON *check_tree(const struct report_check *list, size_t n)
{
	cJSON *checks = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		const struct report_check *k = &list[i];
		cJSON *ck = cJSON_CreateObject();

		cJSON_AddStringToObject(ck, "name", k->name);
		cJSON_AddBoolToObject(ck, "held", k->held && k->applicable && !k->unproven);
		cJSON_AddStringToObject(ck, "status", !k->applicable ? "not_applicable" :
					k->unproven ? "unproven" : k->held ? "held" : "failed");
		cJSON_AddStringToObject(ck, "detail", k->detail != NULL ? k->detail : "");
		cJSON_AddStringToObject(ck, "basis", k->basis);
		cJSON_AddItemToObject(ck, "expected", k->expected ? cJSON_Duplicate(k->expected, 1)
								  : cJSON_CreateNull());
		cJSON_AddItemToObject(ck, "observed", k->observed ? cJSON_Duplicate(k->observed, 1)
								  : cJSON_CreateNull());
		cJSON_AddItemToObject(ck, "evidence", k->evidence ? cJSON_Duplicate(k->evidence, 1)
								  : cJSON_CreateNull());
		cJSON_AddItemToArray(checks, ck);
	}
	return checks;
}

/* A client entry as the report documents it, built the same way: the
 * streamed entry must be this, member for member and in this order. */
static cJSON *client_tree(const struct report_client *c)
{
	cJSON *o = cJSON_CreateObject(), *pages, *ops;

	if (c->status != CLIENT_REJECTED)
		cJSON_AddNumberToObject(o, "id", c->id);
	cJSON_AddNumberToObject(o, "pid", (double)c->pid);
	cJSON_AddStringToObject(o, "status", report_client_status_name(c->status));
	cJSON_AddStringToObject(o, "reason", c->reason);
	if (c->status == CLIENT_REJECTED)
		return o;
	pages = cJSON_AddObjectToObject(o, "pages");
	cJSON_AddNumberToObject(pages, "first", (double)c->first_page);
	cJSON_AddNumberToObject(pages, "count", (double)c->page_count);
	cJSON_AddItemToObject(o, "checks", check_tree(c->checks, c->nchecks));
	cJSON_AddNumberToObject(o, "operations_failed", (double)c->nfailed_ops);
	ops = cJSON_AddArrayToObject(o, "failed_operations");
	for (size_t i = 0; i < c->nfailed_ops && i < REPORT_FAILED_OPS_MAX; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "step", c->failed_ops[i].step);
		cJSON_AddNumberToObject(f, "index", c->failed_ops[i].index);
		cJSON_AddStringToObject(f, "op", c->failed_ops[i].op);
		cJSON_AddStringToObject(f, "error", c->failed_ops[i].error);
		cJSON_AddItemToArray(ops, f);
	}
	return o;
}

/* Whether two trees print the same. */
static bool same_text(const cJSON *got, const cJSON *want, const char *what)
{
	char *a = cJSON_PrintUnformatted(got), *b = want ? cJSON_PrintUnformatted(want) : NULL;
	bool same = a != NULL && b != NULL && strcmp(a, b) == 0;

	CHECK_MSG(same, "%s is not the documented one:\n%s\n%s", what, a ? a : "", b ? b : "");
	free(a);
	free(b);
	return same;
}

/* Each entry of a list in the streamed report against client_tree. */
static void check_entries(const cJSON *list, const struct report_client *want, size_t n)
{
	const cJSON *e;
	size_t i = 0;

	cJSON_ArrayForEach(e, list) {
		cJSON *tree = i < n ? client_tree(&want[i]) : NULL;
		char what[32];

		snprintf(what, sizeof(what), "entry %zu", i);
		same_text(e, tree, what);
		cJSON_Delete(tree);
		i++;
	}
	CHECK(i == n);
}

static void test_whole(const struct report *r)
{
	static const char *const order[] = {
		"cowlab", "schema_version", "isolation_held", "exit_status", "negative_control", "platform",
		"section", "clients", "rejected", "server_checks", "page_map", "summary",
		"elapsed_ms", "run", "server_resources",
	};
	char *text = stream(r), *again;
	cJSON *o, *m;
	size_t i = 0, len;

	if (!CHECK_OK(text != NULL))
		return;
	len = strlen(text);
	CHECK_MSG(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1,
		  "not one line");
	text[len - 1] = '\0';
	o = cJSON_Parse(text);
	if (CHECK_OK(cJSON_IsObject(o))) {
		again = cJSON_PrintUnformatted(o);
		CHECK_MSG(again != NULL && strcmp(again, text) == 0,
			  "not what cJSON prints for the object:\n%s\n%s", text, again);
		free(again);
		cJSON_ArrayForEach(m, o) {
			CHECK_MSG(i < sizeof(order) / sizeof(order[0]) && strcmp(m->string, order[i]) == 0,
				  "member %zu is \"%s\"", i, m->string);
			i++;
		}
		CHECK(i == sizeof(order) / sizeof(order[0]));
		CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "clients")) == 1);
		CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "rejected")) == 1);
		check_entries(cJSON_GetObjectItemCaseSensitive(o, "clients"), r->clients, r->nclients);
		check_entries(cJSON_GetObjectItemCaseSensitive(o, "rejected"), r->rejected,
			      r->nrejected);
		m = check_tree(r->server_checks, r->nserver_checks);
		same_text(cJSON_GetObjectItemCaseSensitive(o, "server_checks"), m, "server_checks");
		cJSON_Delete(m);
	}
	cJSON_Delete(o);
	free(text);
}

/* Every allocation cJSON makes may fail, the k-th for each k: the output
 * is still one JSON object, its first member the version. */
static void test_out_of_memory(const struct report *r)
{
	cJSON_Hooks limited = { limited_malloc, free };
	char *full = stream(r);
	bool whole = false;

	for (long k = 0; k < 100000 && !whole && full != NULL; k++) {
		char *text;
		cJSON *o;

		cJSON_InitHooks(&limited);
		allocs_left = k;
		text = stream(r);
		allocs_left = -1;
		cJSON_InitHooks(NULL);
		if (!CHECK_OK(text != NULL))
			break;
		o = cJSON_Parse(text);
		CHECK_MSG(cJSON_IsObject(o) &&
			  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "cowlab")),
			  "with %ld allocations: not a JSON object: %s", k, text);
		whole = strcmp(text, full) == 0;
		cJSON_Delete(o);
		free(text);
	}
	CHECK_MSG(whole, "the report never came out whole");
	free(full);
}

/* The verdict's order (docs/report.md): a failed check outranks an
 * unproven one, which, like an operation not done, leaves the run not
 * proven (3); all held with every client complete is 0. */
static void test_verdict_rules(void)
{
	struct report r;
	struct report_client *c;
	struct report_check *k, *srv;

	report_init(&r);
	r.expected_clients = 1;
	c = report_add_client(&r, false);
	if (!CHECK_OK(c != NULL))
		return;
	c->id = 1;
	k = report_add_check(c->checks, REPORT_CHECKS_MAX, &c->nchecks, "cow_write_private", true,
			     NULL, NULL, NULL);
	srv = report_add_check(r.server_checks, REPORT_SERVER_CHECKS_MAX, &r.nserver_checks,
			       "section_intact", true, NULL,
			       NULL, NULL);
	CHECK(report_exit_status(&r) == REPORT_EXIT_HELD && report_isolation_held(&r));
	report_check_unproven(k, "not observed: a test");
	CHECK(report_check_status(k) == CHECK_UNPROVEN && !k->held);
	CHECK(report_exit_status(&r) == REPORT_EXIT_LOST && !report_isolation_held(&r));
	srv->held = false; /* a failure outranks it */
	CHECK(report_exit_status(&r) == REPORT_EXIT_FAILED);
	srv->held = true;
	k->unproven = false;
	k->held = true;
	report_client_failed_op(c, "observe", 4, "find", "declined");
	CHECK(report_exit_status(&r) == REPORT_EXIT_LOST);
	report_free(&r);
}

int main(void)
{
	struct report r;

	test_verdict_rules();
	fill(&r);
	test_whole(&r);
	test_out_of_memory(&r);
	report_free(&r);
	return check_exit("test-report");
}
