#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "err.h"
#include "json.h"
#include "report.h"
#include "text.h"

/* Clients listed one per line in the human report before only the ones
 * with something to say are shown; page-map rows shown likewise. */
#define HUMAN_CLIENTS_MAX 40
#define HUMAN_NOTABLE_MAX 30 /* of them, clients with something to say */
#define HUMAN_REJECTED_MAX 10
#define HUMAN_MAP_ROWS_MAX 24
#define MAP_ROW 64

void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
}

static void checks_free(struct report_check *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(list[i].expected);
		cJSON_Delete(list[i].observed);
		cJSON_Delete(list[i].evidence);
		free(list[i].detail);
	}
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nclients; i++)
		checks_free(r->clients[i].checks, r->clients[i].nchecks);
	checks_free(r->server_checks, r->nserver_checks);
	free(r->clients);
	free(r->rejected);
	free(r->page_map);
	cJSON_Delete(r->scenario);
	cJSON_Delete(r->copy_cost);
	memset(r, 0, sizeof(*r));
}

struct report_client *report_add_client(struct report *r, bool rejected)
{
	struct report_client **list = rejected ? &r->rejected : &r->clients;
	size_t *n = rejected ? &r->nrejected : &r->nclients;
	size_t *cap = rejected ? &r->rejected_cap : &r->clients_cap;
	struct report_client *grown;

	if (*n == *cap) {
		grown = realloc(*list, (*cap ? *cap * 2 : 4) * sizeof(**list));
		if (grown == NULL)
			return NULL;
		*list = grown;
		*cap = *cap ? *cap * 2 : 4;
	}
	memset(&(*list)[*n], 0, sizeof(**list));
	(*list)[*n].status = rejected ? CLIENT_REJECTED : CLIENT_COMPLETE;
	return &(*list)[(*n)++];
}

int report_reserve_clients(struct report *r, size_t n)
{
	struct report_client *grown;

	if (n <= r->clients_cap)
		return 0;
	grown = realloc(r->clients, n * sizeof(*grown));
	if (grown == NULL)
		return COWLAB_E_NOMEM;
	r->clients = grown;
	r->clients_cap = n;
	return 0;
}

void report_check_vdetail(struct report_check *c, const char *fmt, va_list ap)
{
	char line[REPORT_TEXT_MAX];
	char *text;

	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	text_utf8_trim(line); /* a peer's text cut inside a character */
	text = malloc(strlen(line) + 1);
	if (text == NULL)
		return; /* out of memory loses a detail line, no more */
	strcpy(text, line);
	free(c->detail);
	c->detail = text;
}

void report_check_detail(struct report_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_check_vdetail(c, fmt, ap);
	va_end(ap);
}

struct report_check *report_add_check(struct report_check *list, size_t cap, size_t *n,
				      const char *name, bool held, cJSON *expected,
				      cJSON *observed, cJSON *evidence)
{
	struct report_check *c;

	if (*n >= cap) {
		cJSON_Delete(expected);
		cJSON_Delete(observed);
		cJSON_Delete(evidence);
		return NULL;
	}
	c = &list[(*n)++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->held = held;
	c->applicable = true;
	c->expected = expected;
	c->observed = observed;
	c->evidence = evidence;
	return c;
}

/* An evidence report as the report gives it (docs/report.md,
 * cow_copy_evidence's evidence). */
cJSON *report_evidence_json(const struct evidence_report *ev)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	json_attach(o, "pages", cJSON_CreateString(ev->pages ? ev->pages : ""));
	json_attach(o, "private", cJSON_CreateNumber((double)ev->private_pages));
	arr = json_attach(o, "sources", cJSON_CreateArray());
	for (size_t i = 0; arr != NULL && i < ev->nsources; i++) {
		cJSON *s = cJSON_CreateObject();

		json_attach(s, "name", cJSON_CreateString(ev->sources[i].name));
		json_attach(s, "supported", cJSON_CreateBool(ev->sources[i].supported));
		if (ev->sources[i].supported)
			json_attach(s, "private", cJSON_CreateNumber((double)ev->sources[i].private_pages));
		else
			json_attach(s, "private", cJSON_CreateNull());
		json_attach(s, "note", cJSON_CreateString(ev->sources[i].note));
		cJSON_AddItemToArray(arr, s);
	}
	if (ev->deviation[0] != '\0')
		json_attach(o, "platform_deviation", cJSON_CreateString(ev->deviation));
	else
		json_attach(o, "platform_deviation", cJSON_CreateNull());
	return o;
}

const char *report_client_status_name(enum client_status s)
{
	switch (s) {
	case CLIENT_COMPLETE: return "complete";
	case CLIENT_LOST: return "lost";
	case CLIENT_REJECTED: return "rejected";
	}
	return "?";
}

enum check_status report_check_status(const struct report_check *c)
{
	if (!c->applicable)
		return CHECK_NOT_APPLICABLE;
	if (c->unproven)
		return CHECK_UNPROVEN;
	return c->held ? CHECK_HELD : CHECK_FAILED;
}

const char *report_check_status_name(enum check_status s)
{
	switch (s) {
	case CHECK_HELD: return "held";
	case CHECK_FAILED: return "failed";
	case CHECK_UNPROVEN: return "unproven";
	case CHECK_NOT_APPLICABLE: return "not_applicable";
	}
	return "?";
}

void report_check_unproven(struct report_check *c, const char *fmt, ...)
{
	va_list ap;

	c->unproven = true;
	c->held = false;
	va_start(ap, fmt);
	report_check_vdetail(c, fmt, ap);
	va_end(ap);
}

void report_client_failed_op(struct report_client *c, const char *step, int index,
			     const char *op, const char *error)
{
	struct report_failed_op *f;

	if (c->nfailed_ops++ >= REPORT_FAILED_OPS_MAX)
		return;
	f = &c->failed_ops[c->nfailed_ops - 1];
	snprintf(f->step, sizeof(f->step), "%s", step);
	f->index = index;
	snprintf(f->op, sizeof(f->op), "%s", op);
	snprintf(f->error, sizeof(f->error), "%s", error != NULL ? error : "");
}

static void count_checks(const struct report_check *list, size_t n, struct report_summary *s)
{
	for (size_t i = 0; i < n; i++) {
		switch (report_check_status(&list[i])) {
		case CHECK_NOT_APPLICABLE: s->checks_not_applicable++; break;
		case CHECK_UNPROVEN: s->checks_unproven++; break;
		case CHECK_HELD: s->checks_held++; break;
		case CHECK_FAILED: s->checks_failed++; break;
		}
	}
}

void report_summarize(const struct report *r, struct report_summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->nclients; i++) {
		if (r->clients[i].status == CLIENT_COMPLETE)
			s->complete++;
		else
			s->lost++;
		count_checks(r->clients[i].checks, r->clients[i].nchecks, s);
		s->operations_failed += (int)r->clients[i].nfailed_ops;
	}
	count_checks(r->server_checks, r->nserver_checks, s);
	s->rejected = (int)r->nrejected;
	s->missing = r->expected_clients > (int)r->nclients ?
		     r->expected_clients - (int)r->nclients : 0;
}

bool report_isolation_held(const struct report *r)
{
	return report_exit_status(r) == REPORT_EXIT_HELD;
}

enum report_exit report_exit_status(const struct report *r)
{
	struct report_summary s;

	report_summarize(r, &s);
	if (r->setup_error[0] != '\0')
		return REPORT_EXIT_USAGE;
	if (s.checks_failed > 0)
		return REPORT_EXIT_FAILED;
	/* not proven: an observation missing (a check unproven, an operation
	 * not done), someone lost or missing, or nothing verified at all */
	if (s.checks_unproven > 0 || s.operations_failed > 0 || s.lost > 0 || s.missing > 0 ||
	    s.complete == 0 || r->nserver_checks == 0 || r->interrupted[0] != '\0')
		return REPORT_EXIT_LOST;
	return REPORT_EXIT_HELD;
}

/* ---- JSON ---- */

static void add_platform(cJSON *root, const struct platform_info *p)
{
	cJSON *o = cJSON_AddObjectToObject(root, "platform");

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "os", p->os);
	cJSON_AddStringToObject(o, "version", p->version);
	cJSON_AddStringToObject(o, "arch", p->arch);
	if (p->wine_version[0] != '\0')
		cJSON_AddStringToObject(o, "wine", p->wine_version);
	else
		cJSON_AddNullToObject(o, "wine");
	cJSON_AddNumberToObject(o, "page_size", (double)p->page_size);
	cJSON_AddNumberToObject(o, "allocation_granularity", (double)p->allocation_granularity);
}

static void add_summary(cJSON *root, const struct report *r)
{
	struct report_summary s;
	cJSON *o = cJSON_AddObjectToObject(root, "summary");

	if (o == NULL)
		return;
	report_summarize(r, &s);
	cJSON_AddNumberToObject(o, "expected_clients", r->expected_clients);
	cJSON_AddNumberToObject(o, "complete", s.complete);
	cJSON_AddNumberToObject(o, "lost", s.lost);
	cJSON_AddNumberToObject(o, "rejected", s.rejected);
	cJSON_AddNumberToObject(o, "missing", s.missing);
	cJSON_AddNumberToObject(o, "checks_held", s.checks_held);
	cJSON_AddNumberToObject(o, "checks_failed", s.checks_failed);
	cJSON_AddNumberToObject(o, "checks_unproven", s.checks_unproven);
	cJSON_AddNumberToObject(o, "checks_not_applicable", s.checks_not_applicable);
	cJSON_AddNumberToObject(o, "operations_failed", s.operations_failed);
}

/* A count, or null where the platform could not say (-1). */
static void add_count(cJSON *o, const char *name, long n)
{
	if (n < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)n);
}

/* ---- the JSON report, streamed
 *
 * Written a member and a client at a time, each written out (json_write)
 * and let go, never as one tree or one string (a 1000-client report is
 * 3.4 MB): the server's memory does not grow with the report, and it is
 * written while the clients that were told the verdict exit. Byte for byte
 * what cJSON prints for the whole object; the keys are the report's own
 * ASCII names, which need no escapes. */

/* Writes each member of `o` as `"key":value`, a comma before all but the
 * very first, and frees `o`. */
static void put_members(FILE *out, bool *first, cJSON *o)
{
	for (const cJSON *m = o != NULL ? o->child : NULL; m != NULL; m = m->next) {
		fprintf(out, "%s\"%s\":", *first ? "" : ",", m->string);
		json_write(out, m);
		*first = false;
	}
	cJSON_Delete(o);
}

/* A check, written out straight from its record (docs/report.md): the
 * clients' checks and the server's alike. */
static void put_check(struct json_out *o, const struct report_check *c)
{
	json_out_key(o, "name", true);
	json_out_string(o, c->name);
	enum check_status st = report_check_status(c);

	json_out_key(o, "held", false);
	json_out_raw(o, st == CHECK_HELD ? "true" : "false", st == CHECK_HELD ? 4 : 5);
	json_out_key(o, "status", false);
	json_out_string(o, report_check_status_name(st));
	json_out_key(o, "detail", false);
	json_out_string(o, c->detail != NULL ? c->detail : "");
	json_out_key(o, "basis", false);
	json_out_string(o, c->basis);
	json_out_key(o, "expected", false);
	json_out_value(o, c->expected);
	json_out_key(o, "observed", false);
	json_out_value(o, c->observed);
	json_out_key(o, "evidence", false);
	json_out_value(o, c->evidence);
}

/* `[...]` of checks. */
static void put_check_list(struct json_out *o, const struct report_check *list, size_t n)
{
	json_out_raw(o, "[", 1);
	for (size_t i = 0; i < n; i++) {
		json_out_raw(o, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
		put_check(o, &list[i]);
		json_out_raw(o, "}", 1);
	}
	json_out_raw(o, "]", 1);
}

/* `"operations_failed":N,"failed_operations":[...]`: the operations the
 * client answered with ok: false, the first REPORT_FAILED_OPS_MAX. */
static void put_failed_ops(struct json_out *o, const struct report_client *c)
{
	size_t n = c->nfailed_ops < REPORT_FAILED_OPS_MAX ? c->nfailed_ops : REPORT_FAILED_OPS_MAX;

	json_out_key(o, "operations_failed", false);
	json_out_number(o, (double)c->nfailed_ops);
	json_out_key(o, "failed_operations", false);
	json_out_raw(o, "[", 1);
	for (size_t i = 0; i < n; i++) {
		const struct report_failed_op *f = &c->failed_ops[i];

		json_out_raw(o, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
		json_out_key(o, "step", true);
		json_out_string(o, f->step);
		json_out_key(o, "index", false);
		json_out_number(o, f->index);
		json_out_key(o, "op", false);
		json_out_string(o, f->op);
		json_out_key(o, "error", false);
		json_out_string(o, f->error);
		json_out_raw(o, "}", 1);
	}
	json_out_raw(o, "]", 1);
}

/* A client entry, written out straight from its record: a thousand of
 * them are most of a report, and no tree is built for one. */
static void put_client(struct json_out *o, const struct report_client *c)
{
	bool first = true;

	json_out_raw(o, "{", 1);
	if (c->status != CLIENT_REJECTED) {
		json_out_key(o, "id", first);
		json_out_number(o, c->id);
		first = false;
	}
	json_out_key(o, "pid", first);
	json_out_number(o, (double)c->pid);
	json_out_key(o, "status", false);
	json_out_string(o, report_client_status_name(c->status));
	json_out_key(o, "reason", false);
	json_out_string(o, c->reason);
	if (c->status != CLIENT_REJECTED) {
		json_out_key(o, "pages", false);
		json_out_raw(o, "{", 1);
		json_out_key(o, "first", true);
		json_out_number(o, (double)c->first_page);
		json_out_key(o, "count", false);
		json_out_number(o, (double)c->page_count);
		json_out_raw(o, "}", 1);
		if (c->parent > 0) { /* born of a fork */
			json_out_key(o, "parent", false);
			json_out_number(o, c->parent);
		}
		json_out_key(o, "checks", false);
		put_check_list(o, c->checks, c->nchecks);
		put_failed_ops(o, c);
	}
	json_out_raw(o, "}", 1);
}

/* `"key":[...]` of clients, one at a time. */
static void put_clients(FILE *out, const char *key, const struct report_client *list, size_t n)
{
	struct json_out o;

	json_out_init(&o, out);
	json_out_key(&o, key, false);
	json_out_raw(&o, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			json_out_raw(&o, ",", 1);
		put_client(&o, &list[i]);
	}
	json_out_raw(&o, "]", 1);
	json_out_flush(&o);
}

void report_json_begin(const struct report *r, FILE *out)
{
	cJSON *head = cJSON_CreateObject(), *rest = cJSON_CreateObject(), *sec;
	struct json_out o;
	bool first = false;

	/* The first member is written whatever memory allows, so that the
	 * object is whole however many of the others could be made: the
	 * version is the program's own, digits and dots. */
	/* schema_version: docs/report.schema.json's, raised when a field's
	 * meaning changes or one goes */
	fprintf(out, "{\"cowlab\":\"%s\",\"schema_version\":%d", r->version,
		REPORT_SCHEMA_VERSION);
	if (head == NULL || rest == NULL) {
		cJSON_Delete(head);
		cJSON_Delete(rest);
		return;
	}
	cJSON_AddBoolToObject(head, "isolation_held", report_isolation_held(r));
	cJSON_AddNumberToObject(head, "exit_status", report_exit_status(r));
	cJSON_AddBoolToObject(head, "negative_control", r->cow_as_shared);
	if (r->setup_error[0] != '\0')
		cJSON_AddStringToObject(head, "error", r->setup_error);
	if (r->interrupted[0] != '\0')
		cJSON_AddStringToObject(head, "interrupted", r->interrupted);
	add_platform(head, &r->platform);
	sec = cJSON_AddObjectToObject(head, "section");
	if (sec != NULL) {
		cJSON_AddStringToObject(sec, "name", r->section_name);
		cJSON_AddNumberToObject(sec, "size", (double)r->section_size);
		cJSON_AddNumberToObject(sec, "page_size", (double)r->page_size);
		cJSON_AddNumberToObject(sec, "pages", r->page_size ?
					(double)(r->section_size / r->page_size) : 0);
		cJSON_AddNumberToObject(sec, "seed", r->seed);
	}
	put_members(out, &first, head);
	put_clients(out, "clients", r->clients, r->nclients);
	put_clients(out, "rejected", r->rejected, r->nrejected);
	json_out_init(&o, out);
	json_out_key(&o, "server_checks", false);
	put_check_list(&o, r->server_checks, r->nserver_checks);
	json_out_flush(&o);
	cJSON_AddStringToObject(rest, "page_map", r->page_map ? r->page_map : "");
	add_summary(rest, r);
	if (r->copy_cost != NULL)
		cJSON_AddItemReferenceToObject(rest, "copy_cost", r->copy_cost);
	cJSON_AddNumberToObject(rest, "elapsed_ms", (double)r->elapsed_ms);
	cJSON_AddNumberToObject(rest, "run", r->run);
	if (r->scenario != NULL)
		cJSON_AddItemReferenceToObject(rest, "scenario", r->scenario);
	put_members(out, &first, rest);
}

void report_json_end(const struct report *r, FILE *out)
{
	cJSON *rest = cJSON_CreateObject();
	cJSON *res = rest != NULL ? cJSON_AddObjectToObject(rest, "server_resources") : NULL;
	bool first = false;

	if (res != NULL) {
		add_count(res, "descriptors_before", r->before.descriptors);
		add_count(res, "descriptors_after", r->after.descriptors);
		add_count(res, "rss_kib_before", r->before.rss_kib);
		add_count(res, "rss_kib_after", r->after.rss_kib);
		add_count(res, "peak_rss_kib", r->after.peak_rss_kib);
	}
	put_members(out, &first, rest);
	fputs("}\n", out);
}

/* ---- for people ---- */

static int checks_held(const struct report_client *c, int *total)
{
	int held = 0;

	*total = 0;
	for (size_t i = 0; i < c->nchecks; i++) {
		if (!c->checks[i].applicable)
			continue;
		(*total)++;
		held += c->checks[i].held;
	}
	return held;
}


/* Every check that failed or is unproven, with its detail. */
static void print_failures(const struct report_check *list, size_t n, FILE *out)
{
	char lead[64];

	for (size_t i = 0; i < n; i++) {
		enum check_status st = report_check_status(&list[i]);

		if (st != CHECK_FAILED && st != CHECK_UNPROVEN)
			continue;
		snprintf(lead, sizeof(lead), "        %s %s:",
			 st == CHECK_FAILED ? "FAILED" : "UNPROVEN", list[i].name);
		text_print_wrapped(out, lead, list[i].detail != NULL ? list[i].detail : "", 15);
	}
}

/* The operations a client did not do, after its checks. */
static void print_failed_ops(const struct report_client *c, FILE *out)
{
	char lead[96], text[256];

	for (size_t i = 0; i < c->nfailed_ops && i < REPORT_FAILED_OPS_MAX; i++) {
		const struct report_failed_op *f = &c->failed_ops[i];

		snprintf(lead, sizeof(lead), "        NOT DONE %s step, operation %d (%s):",
			 f->step, f->index, f->op);
		snprintf(text, sizeof(text), "\"%s\"", f->error);
		text_print_wrapped(out, lead, text, 15);
	}
	if (c->nfailed_ops > REPORT_FAILED_OPS_MAX)
		fprintf(out, "        ... %zu more operations not done\n",
			c->nfailed_ops - REPORT_FAILED_OPS_MAX);
}

/* "pagemap:2 pagemap_scan:2 smaps:2": what each OS source counted as
 * private copies in the client's cow view, from the evidence check. */
static void evidence_summary(const struct report_client *c, char *buf, size_t cap)
{
	const cJSON *src, *sources = NULL;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nchecks; i++)
		if (strcmp(c->checks[i].name, "cow_copy_evidence") == 0)
			sources = cJSON_GetObjectItemCaseSensitive(c->checks[i].evidence, "sources");
	cJSON_ArrayForEach(src, sources) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(src, "name");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(src, "private");
		int w;

		if (!cJSON_IsString(name))
			continue;
		/* Sources the platform cannot vouch for are named below the table. */
		if (!cJSON_IsNumber(n))
			continue;
		w = snprintf(buf + used, cap - used, "%s%s:%.0f", used ? " " : "",
			     name->valuestring, n->valuedouble);
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
}

/* The values the run's clients counted in the shared image counter. */
static void print_shared_counts(const struct report *r, FILE *out)
{
	double lo = 0, hi = 0;
	int n = 0;

	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];

		for (size_t k = 0; k < c->nchecks; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->checks[k].evidence,
									 "shared");

			if (strcmp(c->checks[k].name, "image_section_shared") != 0 ||
			    !cJSON_IsNumber(v))
				continue;
			lo = n == 0 || v->valuedouble < lo ? v->valuedouble : lo;
			hi = n == 0 || v->valuedouble > hi ? v->valuedouble : hi;
			n++;
		}
	}
	if (n > 0)
		fprintf(out, "  shared counter: %d client%s counted from %.0f to %.0f\n", n,
			n == 1 ? "" : "s", lo, hi);
}

/* image_section_shared, said once under the table (each client's own
 * failure is under its line): the first complete client's detail, its
 * .data mapping on Linux, and a platform deviation when there is one. */
static void print_image(const struct report *r, FILE *out)
{
	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];

		for (size_t k = 0; k < c->nchecks; k++) {
			const struct report_check *chk = &c->checks[k];
			const cJSON *map, *dev;
			const char *format;
			char lead[64];

			if (strcmp(chk->name, "image_section_shared") != 0)
				continue;
			/* Where the lesson has nothing to show (ELF has no shared
			 * sections; a client without image facts), one line: the
			 * details are in --json and docs/course.md. */
			format = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(chk->evidence,
										   "format"));
			if (!chk->applicable && (format == NULL || strcmp(format, "pe") != 0)) {
				fprintf(out, "image section: not applicable (%s: docs/course.md)\n",
					format != NULL ? "ELF has no shared sections" : "no image facts");
				return;
			}
			snprintf(lead, sizeof(lead), "image section (client %d):", c->id);
			text_print_wrapped(out, lead, chk->detail != NULL ? chk->detail : "", 2);
			map = cJSON_GetObjectItemCaseSensitive(chk->evidence, "data_mapping");
			if (cJSON_IsString(map))
				text_print_wrapped(out, "  .data:", map->valuestring, 9);
			else
				print_shared_counts(r, out);
			dev = cJSON_GetObjectItemCaseSensitive(chk->evidence, "platform_deviation");
			if (cJSON_IsString(dev))
				text_print_wrapped(out, "platform deviation:", dev->valuestring, 2);
			return;
		}
	}
}

/* The first platform deviation any client's evidence names, with the
 * sources it makes unusable: said once, under the table. */
static void print_deviation(const struct report *r, FILE *out)
{
	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];

		for (size_t k = 0; k < c->nchecks; k++) {
			const cJSON *dev = cJSON_GetObjectItemCaseSensitive(c->checks[k].evidence,
									   "platform_deviation");
			const cJSON *src;
			char names[160] = "";

			/* print_image says its own */
			if (!cJSON_IsString(dev) ||
			    strcmp(c->checks[k].name, "image_section_shared") == 0)
				continue;
			cJSON_ArrayForEach(src, cJSON_GetObjectItemCaseSensitive(c->checks[k].evidence,
										 "sources")) {
				const cJSON *name = cJSON_GetObjectItemCaseSensitive(src, "name");

				if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(src, "supported")) &&
				    cJSON_IsString(name))
					snprintf(names + strlen(names), sizeof(names) - strlen(names),
						 "%s%s", names[0] ? ", " : "", name->valuestring);
			}
			text_print_wrapped(out, "platform deviation:", dev->valuestring, 2);
			if (names[0] != '\0')
				text_print_wrapped(out, "  not counted as evidence:", names, 2);
			return;
		}
	}
}

/* Whether a client has something to say: lost, a check that did not hold,
 * an operation not done. */
static bool client_notable(const struct report_client *c)
{
	int total, held = checks_held(c, &total);

	return c->status != CLIENT_COMPLETE || held != total || c->nfailed_ops > 0;
}

/* Up to HUMAN_CLIENTS_MAX rows: every client with something to say (up
 * to HUMAN_NOTABLE_MAX of them), then the first of the others; in id order,
 * and a line that accounts for the rest. */
static void print_clients(const struct report *r, FILE *out)
{
	size_t notable = 0, shown_notable = 0, shown_plain = 0, hidden_notable, hidden_plain;
	size_t room;

	for (size_t i = 0; i < r->nclients; i++)
		notable += client_notable(&r->clients[i]);
	room = HUMAN_CLIENTS_MAX - (notable < HUMAN_NOTABLE_MAX ? notable : HUMAN_NOTABLE_MAX);
	fprintf(out, "client      pid  status    checks  pages    private copies the OS reports\n");
	for (size_t i = 0; i < r->nclients; i++) {
		const struct report_client *c = &r->clients[i];
		int total, held = checks_held(c, &total);
		bool says = client_notable(c);

		if (says ? shown_notable >= HUMAN_NOTABLE_MAX : shown_plain >= room)
			continue;
		shown_notable += says;
		shown_plain += !says;
		char range[48], ev[96];

		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)c->first_page,
			 (unsigned long long)(c->first_page + c->page_count - 1));
		evidence_summary(c, ev, sizeof(ev));
		fprintf(out, "%6d %8ld  %-8s  %3d/%-3d %-8s %s\n", c->id, c->pid,
			report_client_status_name(c->status), held, total, range, ev);
		if (c->reason[0] != '\0')
			text_print_wrapped(out, "        why:", c->reason, 13);
		print_failures(c->checks, c->nchecks, out);
		print_failed_ops(c, out);
	}
	if (r->nclients == 0)
		fprintf(out, "   (no client joined)\n");
	hidden_notable = notable - shown_notable;
	hidden_plain = r->nclients - notable - shown_plain;
	if (hidden_notable + hidden_plain > 0) {
		char text[160];

		snprintf(text, sizeof(text), "%zu more client%s not shown: %zu complete with every "
			 "check held, %zu with something to say (--json has every client)",
			 hidden_notable + hidden_plain, text_s(hidden_notable + hidden_plain),
			 hidden_plain, hidden_notable);
		text_print_wrapped(out, "   ...", text, 7);
	}
	print_deviation(r, out);
	print_image(r, out);
	for (size_t i = 0; i < r->nrejected && i < HUMAN_REJECTED_MAX; i++) {
		char lead[64];

		snprintf(lead, sizeof(lead), "  rejected a connection (pid %ld):", r->rejected[i].pid);
		text_print_wrapped(out, lead, r->rejected[i].reason, 4);
	}
	if (r->nrejected > HUMAN_REJECTED_MAX)
		fprintf(out, "  ... %zu more rejected connection%s (--json lists them all)\n",
			r->nrejected - HUMAN_REJECTED_MAX, text_s(r->nrejected - HUMAN_REJECTED_MAX));
}

bool report_color_wanted(enum report_color when, bool ansi_terminal)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (when != REPORT_COLOR_AUTO)
		return when == REPORT_COLOR_ALWAYS;
	return ansi_terminal && (no == NULL || no[0] == '\0') &&
	       (term == NULL || strcmp(term, "dumb") != 0);
}

/* A letter's colour (SGR): copies green, tracking plain, rw blue, faults
 * yellow, the server's cyan, a difference bold red, not proven magenta,
 * nobody's dim. */
static const char *map_color(char c)
{
	switch (c) {
	case MAP_COPY: return "\033[32m";
	case MAP_RW: return "\033[34m";
	case MAP_FAULT: return "\033[33m";
	case MAP_SERVER: return "\033[36m";
	case MAP_BROKEN: return "\033[1;31m";
	case MAP_UNKNOWN: return "\033[35m";
	case MAP_UNUSED: return "\033[2m";
	}
	return "";
}

void report_print_map_row(FILE *out, const char *row, size_t n, bool color)
{
	const char *on = "";

	if (!color) {
		fprintf(out, "%.*s", (int)n, row);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *c = map_color(row[i]);

		if (strcmp(c, on) != 0) {
			fputs(c[0] ? c : "\033[0m", out);
			on = c;
		}
		fputc(row[i], out);
	}
	if (on[0] != '\0')
		fputs("\033[0m", out);
}

/* A member of copy_cost's objects: a number (-1 when it is not one). */
static double cost_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

void report_print_copy_cost(const struct report *r, FILE *out)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(r->copy_cost, "copies");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r->copy_cost, "copied_page_again");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(r->copy_cost, "kernel_faults");
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(k, "platform_deviation");
	double copies = cost_num(c, "count"), faults = cost_num(k, "during_copies");
	char line[400];
	size_t n = 0;

	if (copies < 1)
		return;
	/* a huge page's copy is of the whole page: say how large */
	char each[40] = "";

	if (r->page_size >= (1u << 20))
		snprintf(each, sizeof(each), " of %llu %s each", (unsigned long long)(
			 r->page_size >= (1u << 30) ? r->page_size >> 30 : r->page_size >> 20),
			 r->page_size >= (1u << 30) ? "GiB" : "MiB");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%.0f cop%s%s timed, median %.2f us, "
			      "99th percentile %.2f us", copies, copies == 1 ? "y" : "ies", each,
			      cost_num(c, "median_us"), cost_num(c, "p99_us"));
	if (cost_num(o, "count") >= 1 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, "; the same page written again, "
				      "now its own: median %.2f us", cost_num(o, "median_us"));
	if (cJSON_IsObject(k) && faults < 0 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, "; no fault count (%s)",
				      cJSON_IsString(dev) ? dev->valuestring :
				      "the system gives none");
	else if (cJSON_IsObject(k) && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, "; the kernel counted %.0f "
				      "fault%s in the %.0f writes that copied", faults,
				      faults == 1 ? "" : "s", cost_num(k, "copies"));
	fputc('\n', out);
	text_print_wrapped(out, "cost of a copy:", line, 2);
}

static void print_map(const struct report *r, FILE *out)
{
	size_t n = r->page_map ? strlen(r->page_map) : 0;
	size_t rows = (n + MAP_ROW - 1) / MAP_ROW;

	if (n == 0)
		return;
	fprintf(out, "\npage map, one character a page (%c server, %c private copy, "
		"%c tracking,\n  %c written through rw, %c ro write faulted, %c differs, "
		"%c not proven,\n  %c nobody's):\n", MAP_SERVER, MAP_COPY, MAP_TRACK, MAP_RW,
		MAP_FAULT, MAP_BROKEN, MAP_UNKNOWN, MAP_UNUSED);
	for (size_t row = 0; row < rows; row++) {
		if (row == HUMAN_MAP_ROWS_MAX && rows > HUMAN_MAP_ROWS_MAX + 1) {
			fprintf(out, "  ... %zu more rows (--json has the whole map)\n",
				rows - row);
			break;
		}
		size_t len = n - row * MAP_ROW < MAP_ROW ? n - row * MAP_ROW : MAP_ROW;
		fprintf(out, "%7zu ", row * MAP_ROW);
		report_print_map_row(out, r->page_map + row * MAP_ROW, len, r->color);
		fputc('\n', out);
	}
}

/* Whose observations the run's checks rest on, in one line, so that
 * nobody reads more into the verdict than it proves (docs/report.md). */
static void count_basis(const struct report_check *list, size_t n, int counts[3])
{
	for (size_t i = 0; i < n; i++) {
		if (!list[i].applicable)
			continue;
		if (strcmp(list[i].basis, "server") == 0)
			counts[0]++;
		else if (strcmp(list[i].basis, "client") == 0)
			counts[1]++;
		else
			counts[2]++;
	}
}

static void print_basis(const struct report *r, FILE *out)
{
	int counts[3] = { 0, 0, 0 };

	for (size_t i = 0; i < r->nclients; i++)
		count_basis(r->clients[i].checks, r->clients[i].nchecks, counts);
	count_basis(r->server_checks, r->nserver_checks, counts);
	if (counts[0] + counts[1] + counts[2] > 0)
		fprintf(out, "  resting on: the server's own views %d, the clients' word %d, "
			"both %d\n", counts[0], counts[1], counts[2]);
}

void report_print_human(const struct report *r, FILE *out)
{
	struct report_summary s;
	bool held = report_isolation_held(r);
	char lead[128];

	report_summarize(r, &s);
	fprintf(out, "cowlab %s: copy-on-write isolation on %s %s (%s)%s%s%s\n", r->version,
		r->platform.os, r->platform.version, r->platform.arch,
		r->platform.wine_version[0] ? ", Wine " : "", r->platform.wine_version,
		r->cow_as_shared ? "\nNEGATIVE CONTROL: clients map the cow view shared" : "");
	if (r->setup_error[0] != '\0') {
		text_print_wrapped(out, "error:", r->setup_error, 2);
		return;
	}
	char head[320];

	snprintf(head, sizeof(head), "%llu pages of %llu B (%llu KiB), %d client%s expected",
		 (unsigned long long)(r->section_size / r->page_size),
		 (unsigned long long)r->page_size, (unsigned long long)(r->section_size / 1024),
		 r->expected_clients, r->expected_clients == 1 ? "" : "s");
	snprintf(lead, sizeof(lead), "section %s:", r->section_name);
	/* the figures kept together, on a line of their own if need be */
	fprintf(out, "%s%s%s\n\n", lead, strlen(lead) + 1 + strlen(head) <= TEXT_WIDTH ? " " : "\n  ",
		head);
	print_clients(r, out);
	char line[512] = "";
	for (size_t i = 0; i < r->nserver_checks; i++) {
		const struct report_check *c = &r->server_checks[i];

		static const char *const words[] = {
			[CHECK_HELD] = "held", [CHECK_FAILED] = "FAILED",
			[CHECK_UNPROVEN] = "UNPROVEN", [CHECK_NOT_APPLICABLE] = "n/a",
		};

		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s %s%s", c->name,
			 words[report_check_status(c)], i + 1 < r->nserver_checks ? "," : "");
		if (i + 1 < r->nserver_checks)
			strncat(line, " ", sizeof(line) - strlen(line) - 1);
	}
	text_print_wrapped(out, "server:", line, 8);
	print_failures(r->server_checks, r->nserver_checks, out);
	print_map(r, out);
	report_print_copy_cost(r, out);
	if (r->interrupted[0] != '\0')
		fprintf(out, "\ninterrupted by %s: this is the report so far\n", r->interrupted);
	fprintf(out, "\nverdict: isolation %s (exit %d)\n",
		held ? "HELD" : s.checks_failed ? "BROKEN" : "NOT PROVEN",
		(int)report_exit_status(r));
	/* the counts, wrapped: a run with everything to say is long */
	char counts[320];
	size_t n = 0;

	n += (size_t)snprintf(counts + n, sizeof(counts) - n, "%d of %d client%s complete",
			      s.complete, r->expected_clients, text_s((uint64_t)r->expected_clients));
	if (s.lost)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, ", %d lost", s.lost);
	if (s.missing)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, ", %d missing", s.missing);
	if (s.rejected)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, ", %d rejected", s.rejected);
	n += (size_t)snprintf(counts + n, sizeof(counts) - n, "; %d check%s held, %d failed",
			      s.checks_held, text_s((uint64_t)s.checks_held), s.checks_failed);
	if (s.checks_unproven)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, ", %d unproven",
				      s.checks_unproven);
	if (s.operations_failed)
		snprintf(counts + n, sizeof(counts) - n, "; %d operation%s not done",
			 s.operations_failed, text_s((uint64_t)s.operations_failed));
	text_print_wrapped(out, " ", counts, 2);
	print_basis(r, out);
}
