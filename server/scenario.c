/* Reading a scenario file (scenario.h, docs/scenarios.md): RFC 8259 JSON,
 * then every member by name, type and range, unknown members refused, and
 * every refusal naming the member by its JSON path. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "cli.h"
#include "err.h"
#include "json.h"
#include "platform.h"
#include "scenario.h"
#include "text.h"

static const char *const op_names[SCENARIO_OP_COUNT] = {
	"map", "unmap", "write", "read", "protect", "discard", "evidence", "fork",
};
static const char *const view_names[SCENARIO_VIEW_COUNT] = { "rw", "cow", "ro" };
static const char *const protect_names[SCENARIO_PROTECT_COUNT] = {
	"readonly", "readwrite", "writecopy", "noaccess",
};

const char *scenario_op_name(enum scenario_op op) { return op_names[op]; }
const char *scenario_view_name(enum scenario_view v) { return view_names[v]; }
const char *scenario_protect_name(enum scenario_protect p) { return protect_names[p]; }

/* Where the reader is: the JSON path of the member at hand, and where to
 * say what went wrong. */
struct reader {
	char path[96];
	char *why;
	size_t cap;
	uint32_t page_size;
	struct scenario *s;
	struct scenario_rel *rel;     /* the action being read's, or NULL */
	int clients_for;              /* the clients to run with, or 0: the file's */
	size_t total;                 /* actions so far, each client's own counted */
	size_t ndeclared;             /* checks declared in "checks": s->checks' first */
	bool nolint;                  /* more than 64 clients: checked for 64 before */
	bool named[SCENARIO_CHECKS_MAX]; /* an action names it */
	int step;                     /* the step being read */
	bool forked[SCENARIO_CLIENTS_MAX + 1]; /* a fork read makes this client */
};

/* The clients born by step `step` (bit k-1: client k): those the run
 * starts, and those forked in an earlier step. */
static uint64_t born_by(const struct scenario *s, int step)
{
	uint64_t all = s->clients >= 64 ? UINT64_MAX : (((uint64_t)1 << s->clients) - 1);

	for (int k = 1; k <= s->clients && k <= SCENARIO_CLIENTS_MAX; k++)
		if (s->born_in[k] >= step)
			all &= ~((uint64_t)1 << (k - 1));
	return all;
}

/* A client named by id, or a page by number past the first `before` of a
 * section laid out by client (whose meaning moves with their number):
 * the file runs with its own `clients` alone. */
static void names_client_as(struct reader *r, const char *what)
{
	if (r->s->names_client[0] == '\0') {
		snprintf(r->s->names_client, sizeof(r->s->names_client), "%s", r->path);
		r->s->names_what = what;
	}
}

static void names_client(struct reader *r)
{
	names_client_as(r, "clients by id");
}

static int fail(struct reader *r, const char *fmt, ...) COWLAB_PRINTF(2, 3);

static int fail(struct reader *r, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->why, r->cap, "%s%s%s", r->path, r->path[0] ? ": " : "", what);
	text_utf8_trim(r->why);
	return COWLAB_E_PROTO;
}

/* The path one member down; returns the old length, to go back up. */
static size_t enter(struct reader *r, const char *member, int index)
{
	size_t len = strlen(r->path);

	if (index >= 0)
		snprintf(r->path + len, sizeof(r->path) - len, "%s%s[%d]", len ? "." : "", member,
			 index);
	else
		snprintf(r->path + len, sizeof(r->path) - len, "%s%s", len ? "." : "", member);
	return len;
}

static void leave(struct reader *r, size_t len)
{
	r->path[len] = '\0';
}

/* Every member of `o` is one of `known` (NULL-terminated). */
static int only_known(struct reader *r, const cJSON *o, const char *const *known)
{
	for (const cJSON *m = o->child; m != NULL; m = m->next) {
		bool ok = false;

		for (size_t i = 0; known[i] != NULL && !ok; i++)
			ok = strcmp(m->string, known[i]) == 0;
		if (!ok)
			return fail(r, "unknown member \"%.40s\"", m->string);
		for (const cJSON *n = m->next; n != NULL; n = n->next)
			if (strcmp(m->string, n->string) == 0)
				return fail(r, "member \"%.40s\" is given twice", m->string);
	}
	return 0;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A whole number in [min, max]. */
static int get_int(struct reader *r, const cJSON *o, const char *name, bool required, int64_t min,
		   int64_t max, int64_t *out)
{
	const cJSON *v = member(o, name);
	size_t up = enter(r, name, -1);
	int e = 0;

	if (v == NULL) {
		if (required) {
			leave(r, up);
			return fail(r, "the member \"%s\" is missing", name);
		}
	} else if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min &&
					    v->valuedouble <= (double)max) ||
		   v->valuedouble != (double)(int64_t)v->valuedouble) {
		/* the range first: a cast of a number out of it is undefined */
		e = fail(r, "a whole number from %lld to %lld is needed", (long long)min,
			 (long long)max);
	} else {
		*out = (int64_t)v->valuedouble;
	}
	leave(r, up);
	return e;
}

static const char *control_in(const char *t)
{
	for (; *t != '\0'; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return t;
	return NULL;
}

/* A string of at most max - 1 bytes, without control characters (NULL when
 * absent and not required). */
static int get_text(struct reader *r, const cJSON *o, const char *name, bool required,
		    size_t max, const char **out)
{
	const cJSON *v = member(o, name);
	size_t up = enter(r, name, -1);
	int e = 0;

	*out = NULL;
	if (v == NULL && required) {
		leave(r, up);
		return fail(r, "the member \"%s\" is missing", name);
	}
	if (v != NULL && !cJSON_IsString(v))
		e = fail(r, "a string is needed");
	else if (v != NULL && strlen(v->valuestring) >= max)
		e = fail(r, "longer than %zu bytes", max - 1);
	else if (v != NULL && control_in(v->valuestring) != NULL)
		/* a text goes to terminals: not one escape sequence in it */
		e = fail(r, "a control character (U+%04X): text is one line of printable "
			 "characters", (unsigned)(unsigned char)*control_in(v->valuestring));
	else if (v != NULL)
		*out = v->valuestring;
	leave(r, up);
	return e;
}

static int get_enum(struct reader *r, const cJSON *o, const char *name, const char *const *names,
		    int n, int *out)
{
	const char *t;
	int e = get_text(r, o, name, true, 32, &t);
	size_t up;

	if (e != 0)
		return e;
	for (int i = 0; i < n; i++) {
		if (strcmp(t, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	up = enter(r, name, -1);
	e = fail(r, "\"%.31s\" is not one of the known values", t);
	leave(r, up);
	return e;
}

static char *copy_text(const char *t)
{
	char *c = malloc(strlen(t) + 1);

	if (c != NULL)
		strcpy(c, t);
	return c;
}

/* ---- values and pages ---- */

static bool parse_u32(const char *t, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (t[0] < '0' || t[0] > '9')
		return false;
	errno = 0;
	v = strtoull(t, &end, t[0] == '0' && (t[1] == 'x' || t[1] == 'X') ? 16 : 10);
	if (errno != 0 || *end != '\0' || v > 0xFFFFFFFFull)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "0x..", "12", "pattern", "stamp"; in a prediction also "fault" and
 * "stamp of N" / "stamp of server". */
static int parse_value(struct reader *r, const char *t, bool prediction, struct scenario_value *v)
{
	memset(v, 0, sizeof(*v));
	v->stamp_of = SCENARIO_STAMP_OWN;
	if (strcmp(t, "pattern") == 0) {
		v->kind = SCENARIO_PATTERN;
		return 0;
	}
	if (strcmp(t, "stamp") == 0) {
		v->kind = SCENARIO_STAMP;
		return 0;
	}
	if (prediction && strcmp(t, "fault") == 0) {
		v->kind = SCENARIO_FAULT;
		return 0;
	}
	if (prediction && strncmp(t, "stamp of ", 9) == 0) {
		uint32_t id;

		v->kind = SCENARIO_STAMP;
		if (strcmp(t + 9, "server") == 0) {
			v->stamp_of = SCENARIO_STAMP_SERVER;
			return 0;
		}
		if (!parse_u32(t + 9, &id) || id < 1 || id > (uint32_t)r->s->clients)
			return fail(r, "\"%.40s\": the stamp of the server or of a client from 1 to %d",
				    t, r->s->clients);
		v->stamp_of = (int)id;
		names_client(r);
		return 0;
	}
	v->kind = SCENARIO_WORD;
	if (!parse_u32(t, &v->word))
		return fail(r, "\"%.40s\" is not a word (0 to 4294967295, 0x for hexadecimal)%s", t,
			    prediction ? ", \"pattern\", \"stamp\", \"stamp of N\" nor \"fault\"" :
			    ", \"pattern\" nor \"stamp\"");
	return 0;
}

/* "3", "0-7", "1,3,5-7", "0-15/4" (every fourth: 0, 4, 8, 12):
 * increasing, not overlapping, below `limit` (the section's pages, or a
 * client's when `own` says which). */
static int parse_list(struct reader *r, const char *t, uint32_t limit, bool own,
		      struct scenario_pages *p)
{
	const char *at = t;
	uint64_t next = 0; /* the lowest page the next part may start at */

	memset(p, 0, sizeof(*p));
	while (*at != '\0') {
		char *end;
		unsigned long a, b, st = 1;

		if (p->nruns == SCENARIO_RUNS_MAX)
			return fail(r, "more than %d parts", SCENARIO_RUNS_MAX);
		if (*at < '0' || *at > '9')
			return fail(r, "\"%.40s\" is not a page list (e.g. \"3\", \"0-7\", \"1,3,5-7\")",
				    t);
		a = b = strtoul(at, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return fail(r, "\"%.40s\": a range needs its last page", t);
			b = strtoul(end + 1, &end, 10);
			if (*end == '/') {
				if (end[1] < '1' || end[1] > '9')
					return fail(r, "\"%.40s\": every how many pages, 1 or more, "
						    "after the /", t);
				st = strtoul(end + 1, &end, 10);
				if (st > limit)
					st = limit; /* one page: the range's first */
			}
		}
		if (*end != ',' && *end != '\0')
			return fail(r, "\"%.40s\" is not a page list (e.g. \"3\", \"0-7\", \"1,3,5-7\")",
				    t);
		if (b < a)
			return fail(r, "\"%.40s\": the range %lu-%lu goes down", t, a, b);
		if (b >= limit && own)
			return fail(r, "page %lu of a client's is past its %u pages (they count "
				    "from 0)", b, limit);
		if (b >= limit)
			return fail(r, "page %lu is past the section's %u pages", b, limit);
		if (a < next)
			return fail(r, "\"%.40s\": the parts must go up without overlapping", t);
		p->runs[p->nruns].first = (uint32_t)a;
		p->runs[p->nruns].count = (uint32_t)((b - a) / st + 1);
		p->runs[p->nruns].stride = st > 1 && b > a ? (uint32_t)st : 1;
		p->total += p->runs[p->nruns].count;
		next = (uint64_t)scenario_run_last(&p->runs[p->nruns]) + 1;
		p->nruns++;
		at = *end == ',' ? end + 1 : end;
		if (*end == ',' && *at == '\0')
			return fail(r, "\"%.40s\" ends with a comma", t);
	}
	if (p->nruns == 0)
		return fail(r, "no pages");
	return 0;
}

/* A page list, or pages relative to the acting client: "own", "near W",
 * "around W", each optionally followed by which of a client's pages
 * ("own 0,2": its first and third); for the server, "each": every
 * client's pages, an action a client. */
static int parse_pages(struct reader *r, const char *t, const struct scenario_action *act,
		       struct scenario_pages *p)
{
	static const char *const words[] = { "own", "near", "around", "each" };
	struct scenario_rel *rel = r->rel;
	const char *at = t;
	size_t w = 0;

	memset(p, 0, sizeof(*p));
	if (*t == '\0' || (*t >= '0' && *t <= '9')) {
		int e = parse_list(r, t, r->s->pages, false, p);

		if (e == 0 && r->s->each > 0 && p->nruns > 0 &&
		    scenario_run_last(&p->runs[p->nruns - 1]) >= r->s->before)
			names_client_as(r, "pages by number past the section's first \"before\" "
					"(say \"all\", \"clients\", \"own\"...)");
		return e;
	}
	if (strcmp(t, "all") == 0) {
		p->runs[0].first = 0;
		p->runs[0].count = p->total = r->s->pages;
		p->runs[0].stride = 1;
		p->nruns = 1;
		return 0;
	}
	if (strcmp(t, "clients") == 0) {
		if (r->s->each == 0)
			return fail(r, "\"clients\" needs the section laid out by client: \"pages\": "
				    "{\"before\": B, \"each\": N, \"after\": A}");
		p->runs[0].first = r->s->before;
		p->runs[0].count = p->total = r->s->each * (uint32_t)r->s->clients;
		p->runs[0].stride = 1;
		p->nruns = 1;
		return 0;
	}
	while (w < 4 && (strncmp(t, words[w], strlen(words[w])) != 0 ||
			 (t[strlen(words[w])] != ' ' && t[strlen(words[w])] != '\0')))
		w++;
	if (w == 4)
		return fail(r, "\"%.40s\" is not a page list (e.g. \"3\", \"0-7\", \"1,3,5-7\", "
			    "\"own\", \"near 2\", \"around 1 0,2\", \"each 0\")", t);
	if (r->s->each == 0)
		return fail(r, "\"%s\" needs the section laid out by client: \"pages\": "
			    "{\"before\": B, \"each\": N, \"after\": A}", words[w]);
	if (act->who.server && w != 3)
		return fail(r, "\"%s\" is a client's pages, and the server is none of them (the "
			    "server's \"each\" is every client's)", words[w]);
	if (!act->who.server && w == 3)
		return fail(r, "\"each\" is the server's: every client's pages, one action a "
			    "client (a client's are \"own\")");
	memset(rel, 0, sizeof(*rel));
	rel->kind = (enum scenario_rel_kind)(SCENARIO_OWN + w); /* in the order of words[] */
	at += strlen(words[w]);
	if (rel->kind == SCENARIO_NEAR || rel->kind == SCENARIO_AROUND) {
		char *end;
		unsigned long width;

		if (at[0] != ' ' || at[1] < '1' || at[1] > '9' ||
		    (width = strtoul(at + 1, &end, 10)) > SCENARIO_CLIENTS_MAX ||
		    (*end != ' ' && *end != '\0'))
			return fail(r, "\"%.40s\": \"%s\" needs how many clients on each side, "
				    "1 to %d (\"%s 2\")", t, words[w], SCENARIO_CLIENTS_MAX,
				    words[w]);
		rel->width = (uint32_t)width;
		if (rel->width > r->s->reach)
			r->s->reach = rel->width;
		at = end;
	}
	if (*at == '\0')
		return 0;
	if (at[1] == '\0')
		return fail(r, "\"%.40s\" ends with a space", t);
	return parse_list(r, at + 1, r->s->each, true, &rel->idx);
}

/* Adds a run to a list of increasing runs, joined to the last when they
 * touch; false when that would be more than SCENARIO_RUNS_MAX. */
static bool pages_add(struct scenario_pages *p, uint32_t first, uint32_t count,
		      uint32_t stride)
{
	struct scenario_run *l = p->nruns > 0 ? &p->runs[p->nruns - 1] : NULL;

	if (l != NULL && l->stride == 1 && stride == 1 && l->first + l->count == first) {
		l->count += count;
	} else {
		if (p->nruns == SCENARIO_RUNS_MAX)
			return false;
		p->runs[p->nruns].first = first;
		p->runs[p->nruns].count = count;
		p->runs[p->nruns].stride = stride;
		p->nruns++;
	}
	p->total += count;
	return true;
}

/* The pages a relative list names for client k; false when they would
 * be more than SCENARIO_RUNS_MAX parts. Empty for "near" with nobody
 * near. */
static bool rel_resolve(const struct scenario *s, const struct scenario_rel *rel, int k,
			struct scenario_pages *out)
{
	int lo = k, hi = k;

	memset(out, 0, sizeof(*out));
	if (rel->kind == SCENARIO_NEAR || rel->kind == SCENARIO_AROUND) {
		lo = k - (int)rel->width < 1 ? 1 : k - (int)rel->width;
		hi = k + (int)rel->width > s->clients ? s->clients : k + (int)rel->width;
	}
	for (int j = lo; j <= hi; j++) {
		uint32_t base = s->before + (uint32_t)(j - 1) * s->each;

		if (j == k && rel->kind == SCENARIO_NEAR)
			continue;
		if (rel->idx.nruns == 0 && !pages_add(out, base, s->each, 1))
			return false;
		for (size_t i = 0; i < rel->idx.nruns; i++)
			if (!pages_add(out, base + rel->idx.runs[i].first, rel->idx.runs[i].count,
				       rel->idx.runs[i].stride))
				return false;
	}
	return true;
}

static bool pages_hold(const struct scenario_pages *p, uint32_t page)
{
	for (size_t i = 0; i < p->nruns; i++)
		if (page >= p->runs[i].first && page <= scenario_run_last(&p->runs[i]) &&
		    (page - p->runs[i].first) % p->runs[i].stride == 0)
			return true;
	return false;
}

/* ---- an action ---- */

static int parse_who(struct reader *r, const cJSON *a, struct scenario_action *act)
{
	const cJSON *w = member(a, "who");
	size_t up = enter(r, "who", -1);
	int e = 0;

	memset(&act->who, 0, sizeof(act->who));
	if (w == NULL) {
		leave(r, up);
		return fail(r, "the member \"who\" is missing");
	}
	if (cJSON_IsString(w) && strcmp(w->valuestring, "server") == 0) {
		act->who.server = true;
	} else if (cJSON_IsString(w) && strcmp(w->valuestring, "all") == 0) {
		act->who.all = true;
		act->who.clients = born_by(r->s, r->step);
	} else if (cJSON_IsString(w) && strcmp(w->valuestring, "others") == 0) {
		act->others = true; /* resolved once the step is read */
	} else if (cJSON_IsNumber(w) || cJSON_IsArray(w)) {
		const cJSON *id = cJSON_IsArray(w) ? w->child : w;
		int n = 0;

		names_client(r);
		if (cJSON_IsArray(w) && id == NULL)
			e = fail(r, "an empty list of clients");
		for (; e == 0 && id != NULL; id = cJSON_IsArray(w) ? id->next : NULL, n++) {
			double d = cJSON_IsNumber(id) ? id->valuedouble : 0;

			if (n == SCENARIO_CLIENTS_MAX)
				e = fail(r, "more than %d clients", SCENARIO_CLIENTS_MAX);
			else if (!cJSON_IsNumber(id) || !(d >= 1 && d <= r->s->clients) ||
				 d != (double)(int)d)
				e = fail(r, "client %g, but the scenario has %d client%s",
					 cJSON_IsNumber(id) ? d : 0.0, r->s->clients,
					 text_s((uint64_t)r->s->clients));
			else if (act->who.clients & ((uint64_t)1 << ((int)d - 1)))
				e = fail(r, "client %d is named twice", (int)d);
			else if (r->s->born_in[(int)d] >= r->step)
				e = fail(r, "client %d is born of the fork in step %d: it acts from "
					 "the step after", (int)d, r->s->born_in[(int)d] + 1);
			else
				act->who.clients |= (uint64_t)1 << ((int)d - 1);
		}
	} else {
		e = fail(r, "a client's id, a list of ids, \"server\", \"all\" or \"others\" is "
			 "needed");
	}
	leave(r, up);
	return e;
}

static int parse_expect(struct reader *r, const cJSON *a, struct scenario_action *act)
{
	static const char *const for_write[] = { "fault", NULL };
	static const char *const for_evidence[] = { "private", NULL };
	static const char *const for_nothing[] = { NULL };
	const cJSON *x = member(a, "expect");
	struct scenario_expect *ex = &act->expect;
	size_t up;
	int e = 0;
	int64_t n;

	ex->fault = -1;
	ex->private_pages = -1;
	if (x == NULL)
		return 0;
	up = enter(r, "expect", -1);
	ex->given = true;
	if (!cJSON_IsObject(x)) {
		e = fail(r, "an object is needed");
	} else if (act->op == SCENARIO_WRITE) {
		const cJSON *f = member(x, "fault");

		if ((e = only_known(r, x, for_write)) == 0 && f != NULL && !cJSON_IsBool(f)) {
			size_t in = enter(r, "fault", -1);

			e = fail(r, "true or false is needed");
			leave(r, in);
		}
		if (e == 0 && f != NULL)
			ex->fault = cJSON_IsTrue(f);
	} else if (act->op == SCENARIO_EVIDENCE) {
		if ((e = only_known(r, x, for_evidence)) == 0 &&
		    (e = get_int(r, x, "private", false, 0,
				 r->rel->kind != SCENARIO_ABSOLUTE ? SCENARIO_PAGES_MAX : act->pages.total,
				 &n)) == 0)
			ex->private_pages = member(x, "private") != NULL ? n : -1;
	} else if (act->op == SCENARIO_READ) {
		for (const cJSON *m = x->child; e == 0 && m != NULL; m = m->next) {
			size_t in = enter(r, m->string, -1);
			struct scenario_value v;
			uint32_t page;

			if (!cJSON_IsString(m))
				e = fail(r, "a value is needed (a word, \"pattern\", \"stamp\", "
					 "\"stamp of N\" or \"fault\")");
			else if ((e = parse_value(r, m->valuestring, true, &v)) != 0)
				;
			else if (strcmp(m->string, "*") == 0) {
				ex->has_all = true;
				ex->all = v;
			} else if (r->rel->kind != SCENARIO_ABSOLUTE) {
				e = fail(r, "pages relative to a client are predicted all at once, "
					 "with \"*\"");
			} else if (!parse_u32(m->string, &page)) {
				e = fail(r, "a key is the number of one page, or \"*\" (not a range)");
			} else if (!pages_hold(&act->pages, page)) {
				e = fail(r, "page %u is not among the pages of this action", page);
			} else if (ex->npages == SCENARIO_EXPECT_PAGES_MAX) {
				e = fail(r, "more than %d pages predicted one by one",
					 SCENARIO_EXPECT_PAGES_MAX);
			} else {
				ex->pages[ex->npages].page = page;
				ex->pages[ex->npages].value = v;
				ex->npages++;
			}
			leave(r, in);
		}
		for (const cJSON *m = x->child; e == 0 && m != NULL; m = m->next)
			for (const cJSON *k = m->next; e == 0 && k != NULL; k = k->next)
				if (strcmp(m->string, k->string) == 0)
					e = fail(r, "member \"%.40s\" is given twice", m->string);
	} else {
		e = only_known(r, x, for_nothing);
	}
	leave(r, up);
	return e;
}

static bool is_name(const char *t)
{
	return t[0] != '\0' && strlen(t) < SCENARIO_CHECK_MAX &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(t);
}

/* At most SCENARIO_CHECKS_MAX names of checks in a scenario. */
static int add_check(struct reader *r, const char *name)
{
	struct scenario *s = r->s;
	size_t k = 0;
	int e = 0;

	while (k < s->nchecks && strcmp(s->checks[k], name) != 0)
		k++;
	if (k < s->nchecks && s->image_facts[k]) {
		size_t up = enter(r, "check", -1);

		e = fail(r, "the check %s is judged from the clients' own facts (\"facts\"), not "
			 "from actions", name);
		leave(r, up);
		return e;
	}
	if (k < s->nchecks) {
		r->named[k] = true;
		return 0;
	}
	if (s->nchecks == SCENARIO_CHECKS_MAX) {
		size_t up = enter(r, "check", -1);

		e = fail(r, "more than %d names of checks in one scenario", SCENARIO_CHECKS_MAX);
		leave(r, up);
		return e;
	}
	r->named[s->nchecks] = true;
	snprintf(s->checks[s->nchecks++], SCENARIO_CHECK_MAX, "%s", name);
	return 0;
}

/* The ops whose observations a kind of member counts (bit per op). */
static const unsigned member_ops[SCENARIO_M_COUNT] = {
	[SCENARIO_M_MATCHES] = 1u << SCENARIO_READ | 1u << SCENARIO_WRITE | 1u << SCENARIO_EVIDENCE,
	[SCENARIO_M_SIGHTINGS] = 1u << SCENARIO_READ,
	[SCENARIO_M_DIFFERING] = 1u << SCENARIO_READ,
	[SCENARIO_M_PRIVATE] = 1u << SCENARIO_EVIDENCE,
	[SCENARIO_M_AS_PREDICTED] = 1u << SCENARIO_READ | 1u << SCENARIO_WRITE |
				    1u << SCENARIO_EVIDENCE,
	[SCENARIO_M_SHOWS] = 1u << SCENARIO_READ,
	[SCENARIO_M_FAULT] = 1u << SCENARIO_WRITE,
};

/* "count_as": a member of the action's check, or a list of them; a member
 * of one other check as "check.member" (one observation that two checks
 * rest on, as the built-in run's first look at untouched pages). */
static int parse_count_as(struct reader *r, const cJSON *a, struct scenario_action *act)
{
	const cJSON *c = member(a, "count_as"), *one;
	size_t up;
	int k, e = 0, n = 0;

	act->also = -1;
	if (c == NULL)
		return 0;
	up = enter(r, "count_as", -1);
	k = scenario_check_index(r->s, act->check);
	if (k < 0)
		e = fail(r, "an action counts toward a member of its check, and it names none");
	else if (!cJSON_IsString(c) && !(cJSON_IsArray(c) && cJSON_GetArraySize(c) >= 1))
		e = fail(r, "a member's name, or a list of them, is needed");
	for (one = cJSON_IsArray(c) ? c->child : c; e == 0 && one != NULL;
	     one = cJSON_IsArray(c) ? one->next : NULL, n++) {
		size_t in = strlen(r->path);
		const char *name = cJSON_IsString(one) ? one->valuestring : "";
		const char *dot = strchr(name, '.');
		char check[SCENARIO_CHECK_MAX] = "";
		int ck = k, m = 0;
		uint8_t *bits = &act->count_as;

		if (cJSON_IsArray(c))
			snprintf(r->path + in, sizeof(r->path) - in, "[%d]", n);
		if (dot != NULL) {
			snprintf(check, sizeof(check), "%.*s", (int)(dot - name), name);
			name = dot + 1;
			ck = scenario_check_index(r->s, check);
			bits = &act->also_as;
		}
		while (cJSON_IsString(one) && ck >= 0 && m < r->s->nmembers[ck] &&
		       strcmp(r->s->members[ck][m].name, name) != 0)
			m++;
		if (!cJSON_IsString(one))
			e = fail(r, "a member's name is a string");
		else if (dot != NULL && (ck < 0 || ck == k || r->s->image_facts[ck]))
			e = fail(r, "\"%.40s\": another check the file declares is needed before the "
				 "dot", one->valuestring);
		else if (dot != NULL && act->also >= 0 && act->also != ck)
			e = fail(r, "members of one other check at most");
		else if (dot != NULL && r->s->per_client[ck] != r->s->per_client[k])
			e = fail(r, "the check %s is judged %s, and %s %s", r->s->checks[ck],
				 r->s->per_client[ck] ? "per client" : "for the run", act->check,
				 r->s->per_client[k] ? "per client" : "for the run");
		else if (r->s->nmembers[ck] == 0)
			e = fail(r, "the check %s declares no members (\"checks\": {\"%s\": "
				 "{\"members\": ...}})", r->s->checks[ck], r->s->checks[ck]);
		else if (m == r->s->nmembers[ck])
			e = fail(r, "\"%.40s\" is not a member of the check %s", name,
				 r->s->checks[ck]);
		else if (!(member_ops[r->s->members[ck][m].kind] >> act->op & 1))
			e = fail(r, "a member of kind \"%s\" counts no %s",
				 scenario_member_kind_name(r->s->members[ck][m].kind),
				 scenario_op_name(act->op));
		else if (*bits >> m & 1)
			e = fail(r, "\"%s\" is named twice", one->valuestring);
		else
			*bits |= (uint8_t)(1u << m);
		if (e == 0 && dot != NULL)
			act->also = (int8_t)ck;
		leave(r, in);
	}
	leave(r, up);
	return e;
}

/* {"who": P, "op": "fork", "child": C}: client P forks, and its child
 * joins the run as client C, with P's views and copies (scenario.h). */
static int parse_fork(struct reader *r, const cJSON *a, struct scenario_action *act)
{
	static const char *const known[] = { "who", "op", "child", NULL };
	uint64_t one;
	int64_t c;
	int e;

	act->op = SCENARIO_FORK;
	act->expect.fault = -1;
	act->expect.private_pages = -1;
	if ((e = only_known(r, a, known)) != 0 || (e = parse_who(r, a, act)) != 0)
		return e;
	one = act->who.clients;
	if (act->who.server || act->who.all || act->others || one == 0 || (one & (one - 1)) != 0) {
		size_t up = enter(r, "who", -1);

		e = fail(r, "one client forks (the server is the judge: its child would be a "
			 "second one)");
		leave(r, up);
		return e;
	}
	if ((e = get_int(r, a, "child", true, 1, r->s->clients, &c)) != 0)
		return e;
	act->child = (int)c;
	size_t up = enter(r, "child", -1);

	if (one == (uint64_t)1 << (c - 1))
		e = fail(r, "client %d cannot be its own child", (int)c);
	else if (r->s->born_in[c] != r->step || r->forked[c])
		e = fail(r, "client %d is born of another fork already (step %d)", (int)c,
			 r->s->born_in[c] + 1);
	r->forked[c] = true;
	leave(r, up);
	return e;
}

static int parse_action(struct reader *r, const cJSON *a, struct scenario_action *act)
{
	static const char *const known[] = { "who", "op", "view", "pages", "value", "offset",
					     "protect", "expect", "check", "count_as", "also", NULL };
	const char *t;
	int op = 0, view = 0, e;
	int64_t n;

	memset(act, 0, sizeof(*act));
	act->also = -1;
	if (!cJSON_IsObject(a))
		return fail(r, "an action is an object");
	if (cJSON_IsString(member(a, "op")) && strcmp(member(a, "op")->valuestring, "fork") == 0)
		return parse_fork(r, a, act);
	if ((e = only_known(r, a, known)) != 0 || (e = parse_who(r, a, act)) != 0 ||
	    (e = get_enum(r, a, "op", op_names, SCENARIO_OP_COUNT, &op)) != 0 ||
	    (e = get_enum(r, a, "view", view_names, SCENARIO_VIEW_COUNT, &view)) != 0)
		return e;
	act->op = (enum scenario_op)op;
	act->view = (enum scenario_view)view;
	/* what each op takes, and nothing else */
	bool takes_pages = act->op != SCENARIO_MAP && act->op != SCENARIO_UNMAP;
	bool takes_offset = act->op == SCENARIO_WRITE || act->op == SCENARIO_READ;
	if (member(a, "pages") != NULL && !takes_pages)
		return fail(r, "\"%s\" takes no pages: it acts on the whole view", op_names[op]);
	if (member(a, "value") != NULL && act->op != SCENARIO_WRITE)
		return fail(r, "only a write takes a value");
	if (member(a, "offset") != NULL && !takes_offset)
		return fail(r, "only a write or a read takes an offset");
	if (member(a, "protect") != NULL && act->op != SCENARIO_PROTECT)
		return fail(r, "only \"protect\" takes a protection");
	if (takes_pages) {
		size_t up;

		if ((e = get_text(r, a, "pages", true, 512, &t)) != 0)
			return e;
		up = enter(r, "pages", -1);
		e = parse_pages(r, t, act, &act->pages);
		/* the OS's evidence is of runs of pages, every one */
		for (size_t i = 0; e == 0 && act->op == SCENARIO_EVIDENCE && i < SCENARIO_RUNS_MAX; i++)
			if ((i < act->pages.nruns && act->pages.runs[i].stride > 1) ||
			    (i < r->rel->idx.nruns && r->rel->idx.runs[i].stride > 1))
				e = fail(r, "the OS is asked about every page of a range: "
					 "\"evidence\" takes no \"/\"");
		leave(r, up);
		if (e != 0)
			return e;
		if (r->rel->kind != SCENARIO_ABSOLUTE && strlen(t) < sizeof(act->rel_text))
			snprintf(act->rel_text, sizeof(act->rel_text), "%s", t);
	}
	if (act->op == SCENARIO_WRITE) {
		size_t up;

		if ((e = get_text(r, a, "value", true, 64, &t)) != 0)
			return e;
		up = enter(r, "value", -1);
		e = parse_value(r, t, false, &act->value);
		leave(r, up);
		if (e != 0)
			return e;
	}
	if (takes_offset) {
		if ((e = get_int(r, a, "offset", false, 0, (int64_t)r->page_size - 4, &n)) != 0)
			return e;
		if (member(a, "offset") != NULL && n % 4 != 0) {
			size_t up = enter(r, "offset", -1);

			e = fail(r, "%lld is not a multiple of 4", (long long)n);
			leave(r, up);
			return e;
		}
		act->offset = member(a, "offset") != NULL ? (uint32_t)n : 0;
	}
	if (act->op == SCENARIO_PROTECT) {
		int p;

		if ((e = get_enum(r, a, "protect", protect_names, SCENARIO_PROTECT_COUNT, &p)) != 0)
			return e;
		act->protect = (enum scenario_protect)p;
	}
	if ((e = get_text(r, a, "check", false, SCENARIO_CHECK_MAX, &t)) != 0)
		return e;
	if (t != NULL) {
		size_t up = enter(r, "check", -1);

		if (t[0] == '\0' || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(t))
			e = fail(r, "a check's name is 1 to 31 of a-z 0-9 _");
		leave(r, up);
		if (e != 0)
			return e;
		snprintf(act->check, sizeof(act->check), "%s", t);
		if ((e = add_check(r, t)) != 0)
			return e;
	}
	if ((e = parse_count_as(r, a, act)) != 0)
		return e;
	if ((e = get_text(r, a, "also", false, SCENARIO_CHECK_MAX, &t)) != 0)
		return e;
	if (t != NULL) {
		/* one other check this observation is under too (toward none of
		 * its members): a write that two checks rest on */
		size_t up = enter(r, "also", -1);
		int ck = scenario_check_index(r->s, t), k = scenario_check_index(r->s, act->check);

		if (k < 0)
			e = fail(r, "an action under another check names its own first");
		else if (ck < 0 || ck == k || r->s->image_facts[ck])
			e = fail(r, "\"%.31s\": another check the file declares is needed", t);
		else if (r->s->per_client[ck] != r->s->per_client[k])
			e = fail(r, "the check %s is judged %s, and %s %s", t,
				 r->s->per_client[ck] ? "per client" : "for the run", act->check,
				 r->s->per_client[k] ? "per client" : "for the run");
		else if (act->also >= 0 && act->also != ck)
			e = fail(r, "count_as names members of another check than %s", t);
		leave(r, up);
		if (e != 0)
			return e;
		act->also = (int8_t)ck;
	}
	return parse_expect(r, a, act);
}

/* "others": every client not named by id in another action of the step. */
static int resolve_others(struct reader *r, struct scenario_step *st)
{
	uint64_t named = 0, all = born_by(r->s, r->step);

	for (size_t i = 0; i < st->nactions; i++)
		if (!st->actions[i].others && !st->actions[i].who.all)
			named |= st->actions[i].who.clients;
	for (size_t i = 0; i < st->nactions; i++) {
		if (!st->actions[i].others)
			continue;
		/* naming nobody (then past 64 clients too): everyone */
		st->actions[i].who.all = named == 0;
		st->actions[i].who.clients = all & ~named;
		if (st->actions[i].who.clients == 0) {
			size_t up = enter(r, "do", (int)i);
			int e = fail(r, "\"others\" is nobody: every client is named in this step");

			leave(r, up);
			return e;
		}
	}
	return 0;
}

void scenario_pages_of(const struct scenario *s, const struct scenario_action *a, int k,
		       struct scenario_pages *out)
{
	if (a->rel.kind == SCENARIO_ABSOLUTE) {
		*out = a->pages;
		return;
	}
	if (!rel_resolve(s, &a->rel, k, out)) /* refused when the file was read */
		memset(out, 0, sizeof(*out));
}

bool scenario_in_lane(const struct scenario_action *a, int k, int lane)
{
	if (k > 0)
		return lane == k && scenario_acts(a, k);
	return a->who.server && (a->rel.kind == SCENARIO_EACH ? lane > 0 : lane == 0);
}

/* A step as its participants do it: an action on pages relative to a
 * client is one a client, each on its own pages, in the order of the
 * file (a participant's own actions stay in the order written), and one
 * whose pages are nobody's for a client ("near" with no neighbours) is
 * not done by that client. The file keeps one action (scenario_pages_of);
 * this is what the rules about a step's meaning are checked on, and what
 * the limits count. With `r`, every client's pages are checked and a
 * refusal says which action; *out (free it) may then be NULL. */
static int expanded(struct reader *r, const struct scenario *s, const struct scenario_step *st,
		    struct scenario_action **out, size_t *nout)
{
	size_t n = 0, i, o = 0;
	struct scenario_action *x;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < st->nactions; i++) {
		uint64_t c = st->actions[i].who.clients;

		if (st->actions[i].rel.kind == SCENARIO_ABSOLUTE) {
			n++;
			continue;
		}
		if (st->actions[i].rel.kind == SCENARIO_EACH)
			n += (size_t)s->clients;
		for (; c != 0; c &= c - 1)
			n++;
	}
	if (r != NULL && n > SCENARIO_EXPANDED_MAX)
		return fail(r, "%zu actions once each client's own are counted (%d clients); at "
			    "most %d a step", n, s->clients, SCENARIO_EXPANDED_MAX);
	if (r != NULL && (r->total += n) > SCENARIO_ACTIONS_TOTAL)
		return fail(r, "more than %d actions in all steps once each client's own are "
			    "counted (%d clients)", SCENARIO_ACTIONS_TOTAL, s->clients);
	if ((x = calloc(n ? n : 1, sizeof(*x))) == NULL)
		return COWLAB_E_NOMEM;
	for (i = 0; i < st->nactions; i++) {
		const struct scenario_action *a = &st->actions[i];

		if (a->rel.kind == SCENARIO_ABSOLUTE) {
			x[o++] = *a;
			continue;
		}
		for (int k = 1; k <= s->clients; k++) {
			struct scenario_action *b = &x[o];
			int e = 0;

			if (a->rel.kind != SCENARIO_EACH && !(a->who.clients >> (k - 1) & 1))
				continue;
			*b = *a;
			if (a->rel.kind != SCENARIO_EACH)
				b->who.clients = (uint64_t)1 << (k - 1);
			b->others = false;
			if (!rel_resolve(s, &a->rel, k, &b->pages)) {
				if (r != NULL) {
					size_t up = enter(r, "do", (int)i);

					e = fail(r, "pages: more than %d parts for client %d",
						 SCENARIO_RUNS_MAX, k);
					leave(r, up);
				} else {
					e = COWLAB_E_PROTO;
				}
			} else if (r != NULL && b->pages.total > 0 &&
				   b->expect.private_pages > (int64_t)b->pages.total) {
				size_t up = enter(r, "do", (int)i);

				e = fail(r, "expect.private: %lld, but %s %d's pages here are %u",
					 (long long)b->expect.private_pages,
					 a->rel.kind == SCENARIO_EACH ? "the server's for client" : "client",
					 k, b->pages.total);
				leave(r, up);
			}
			if (e != 0) {
				free(x);
				return e;
			}
			if (b->pages.total > 0)
				o++;
		}
	}
	*out = x;
	*nout = o;
	return 0;
}

/* The checks of a step as its participants do it (expanded). */
static int check_step(struct reader *r, const struct scenario_step *st)
{
	struct scenario_action *x;
	size_t n;
	bool each = false, other = false;
	int e = r->nolint ? 0 : expanded(r, r->s, st, &x, &n);

	if (e != 0)
		return e;
	if (r->nolint)
		n = 1; /* checked for 64 clients before */
	else
		free(x);
	for (size_t i = 0; i < st->nactions; i++) {
		each |= st->actions[i].who.server && st->actions[i].rel.kind == SCENARIO_EACH;
		other |= st->actions[i].who.server && st->actions[i].rel.kind != SCENARIO_EACH;
	}
	if (each && other)
		return fail(r, "the server's \"each\" actions and its other actions go in separate "
			    "steps: each client's part of a step goes at its own pace");
	if (n == 0)
		return fail(r, "with %d client%s, no client has pages here: the step does "
			    "nothing", r->s->clients, text_s((uint64_t)r->s->clients));
	return 0;
}

static int parse_step(struct reader *r, const cJSON *o, struct scenario_step *st)
{
	static const char *const known[] = { "say", "name", "do", NULL };
	const cJSON *actions = member(o, "do"), *a;
	const char *say, *name;
	int e, n;
	size_t i = 0;

	if (!cJSON_IsObject(o))
		return fail(r, "a step is an object");
	if ((e = only_known(r, o, known)) != 0 ||
	    (e = get_text(r, o, "say", true, SCENARIO_TEXT_MAX, &say)) != 0)
		return e;
	if ((st->say = copy_text(say)) == NULL)
		return COWLAB_E_NOMEM;
	if ((e = get_text(r, o, "name", false, SCENARIO_CHECK_MAX, &name)) != 0)
		return e;
	if (name != NULL && !is_name(name)) {
		size_t up = enter(r, "name", -1);

		e = fail(r, "a step's name is 1 to 31 of a-z 0-9 _");
		leave(r, up);
		return e;
	}
	snprintf(st->name, sizeof(st->name), "%s", name != NULL ? name : "");
	if (actions == NULL)
		return fail(r, "the member \"do\" is missing");
	n = cJSON_GetArraySize(actions);
	if (!cJSON_IsArray(actions) || n < 1 || n > SCENARIO_ACTIONS_MAX) {
		size_t up = enter(r, "do", -1);

		e = fail(r, "a list of 1 to %d actions is needed", SCENARIO_ACTIONS_MAX);
		leave(r, up);
		return e;
	}
	st->actions = calloc((size_t)n, sizeof(*st->actions));
	if (st->actions == NULL)
		return COWLAB_E_NOMEM;
	cJSON_ArrayForEach(a, actions) {
		size_t up = enter(r, "do", (int)i);
		struct scenario_rel rel;

		memset(&rel, 0, sizeof(rel));
		r->rel = &rel;
		e = parse_action(r, a, &st->actions[i]);
		st->actions[i].rel = rel;
		st->actions[i].at = (uint32_t)i;
		r->rel = NULL;
		leave(r, up);
		if (e != 0)
			return e;
		st->nactions = ++i;
	}
	if ((e = resolve_others(r, st)) == 0)
		e = check_step(r, st);
	return e;
}

/* ---- what the file means, checked before anything runs ---- */

#define acts scenario_acts

static void who_text(int k, char *buf, size_t cap)
{
	if (k == 0)
		snprintf(buf, cap, "the server");
	else
		snprintf(buf, cap, "client %d", k);
}

/* Every view is mapped before it is used, and not mapped twice: a
 * scenario that asks for either is wrong, whatever the OS would say. */
static int lint_views(struct reader *r, const struct scenario *s)
{
	bool mapped[SCENARIO_CLIENTS_MAX + 1][SCENARIO_VIEW_COUNT];

	memset(mapped, 0, sizeof(mapped));
	for (size_t i = 0; i < s->nsteps; i++) {
		for (size_t j = 0; j < s->steps[i].nactions; j++) {
			const struct scenario_action *a = &s->steps[i].actions[j];

			for (int k = 0; k <= s->clients; k++) {
				bool *m = &mapped[k][a->view];
				bool twice = a->op == SCENARIO_MAP && *m;
				char who[32];

				if (!acts(a, k))
					continue;
				if (a->op == SCENARIO_FORK) {
					/* the child has its parent's views */
					memcpy(mapped[a->child], mapped[k], sizeof(mapped[k]));
					continue;
				}
				if (twice || (a->op != SCENARIO_MAP && !*m)) {
					who_text(k, who, sizeof(who));
					snprintf(r->path, sizeof(r->path), "steps[%zu].do[%u]", i,
						 (unsigned)a->at);
					return fail(r, "%s has %s %s view mapped%s", who,
						    twice ? "its" : "no", view_names[a->view],
						    twice ? " already" : " (map it in an earlier "
						    "action)");
				}
				if (a->op == SCENARIO_MAP || a->op == SCENARIO_UNMAP)
					*m = a->op == SCENARIO_MAP;
			}
		}
	}
	r->path[0] = '\0';
	return 0;
}

static bool pages_meet(const struct scenario_pages *a, const struct scenario_pages *b,
		       uint32_t *page)
{
	size_t i = 0, j = 0;

	/* both lists are runs in increasing order, none overlapping: one
	 * pass, the run that ends first moving on */
	while (i < a->nruns && j < b->nruns) {
		const struct scenario_run *x = &a->runs[i], *y = &b->runs[j];
		uint32_t lo = x->first > y->first ? x->first : y->first;
		uint32_t ae = scenario_run_last(x) + 1, be = scenario_run_last(y) + 1;
		uint32_t hi = ae < be ? ae : be;

		/* a page of both in [lo, hi): x's pages from lo on, as many as
		 * y's stride (then x's and y's pages repeat) */
		if (lo < hi) {
			uint32_t p0 = x->first + (lo - x->first + x->stride - 1) / x->stride * x->stride;

			for (uint32_t n = 0; n < y->stride && p0 < hi; n++, p0 += x->stride) {
				if ((p0 - y->first) % y->stride == 0) {
					*page = p0;
					return true;
				}
			}
		}
		if (ae <= be)
			i++;
		else
			j++;
	}
	return false;
}

/* A write through a shared view changes the section itself. */
static bool writes_section(const struct scenario_action *a)
{
	return a->op == SCENARIO_WRITE && a->view != SCENARIO_VIEW_COW;
}

/* Whether b, by another participant in the same step, would see a
 * section write of a's differently depending on which went first: a read
 * of the same word, a write through the section of another word there, or
 * a write through a copy-on-write view (its copy takes the page as it is
 * when it is made). */
static bool order_matters(const struct scenario_action *a, const struct scenario_action *b)
{
	if (b->op == SCENARIO_READ)
		return b->offset == a->offset;
	if (b->op != SCENARIO_WRITE)
		return false;
	if (b->view == SCENARIO_VIEW_COW)
		return true;
	return b->offset == a->offset &&
	       !(a->value.kind != SCENARIO_STAMP && b->value.kind == a->value.kind &&
		 b->value.word == a->value.word);
}

/* With forks, a copy may be shared by relatives: one's write through its
 * copy-on-write view, its discard of a page there or its unmap makes the
 * other's copy its own alone, and smaps counts the whole view, so another
 * client's evidence of its copy-on-write view in the same step would
 * depend on the order, whatever pages it asks about. */
static bool gives_up_share(const struct scenario_action *a)
{
	return a->view == SCENARIO_VIEW_COW &&
	       (a->op == SCENARIO_WRITE || a->op == SCENARIO_DISCARD || a->op == SCENARIO_UNMAP);
}

static int lint_fork_order(struct reader *r, const struct scenario *s,
			   const struct scenario_step *st, size_t i)
{
	for (size_t j = 0; s->forks > 0 && j < st->nactions; j++) {
		const struct scenario_action *a = &st->actions[j];

		if (!gives_up_share(a))
			continue;
		for (size_t l = 0; l < st->nactions; l++) {
			const struct scenario_action *b = &st->actions[l];
			bool two = false;

			if (b->op != SCENARIO_EVIDENCE || b->view != SCENARIO_VIEW_COW)
				continue;
			for (int x = 1; x <= s->clients && !two; x++)
				for (int y = 1; y <= s->clients && !two; y++)
					two = x != y && acts(a, x) && acts(b, y);
			if (!two)
				continue;
			snprintf(r->path, sizeof(r->path), "steps[%zu]", i);
			return fail(r, "%s through a copy-on-write view (do[%u]) and another "
				    "client's evidence of its own (do[%u]): after a fork the two may "
				    "share pages, and what the OS shows would depend on which goes "
				    "first; put them in separate steps", a->op == SCENARIO_WRITE ?
				    "a write" : a->op == SCENARIO_DISCARD ? "a discard" : "an unmap",
				    (unsigned)a->at, (unsigned)b->at);
		}
	}
	return 0;
}

/* Step i, as its participants do it (expanded). */
static int lint_step_order(struct reader *r, const struct scenario *s,
			   const struct scenario_step *st, size_t i)
{
	int e = lint_fork_order(r, s, st, i);

	if (e != 0)
		return e;
	for (size_t j = 0; j < st->nactions; j++) {
		const struct scenario_action *a = &st->actions[j];

		if (!writes_section(a))
			continue;
		for (size_t l = 0; l < st->nactions; l++) {
			const struct scenario_action *b = &st->actions[l];
			uint32_t page;
			char wa[32], wb[32];
			int ka = -1, kb = -1;

			if (!order_matters(a, b) || !pages_meet(&a->pages, &b->pages, &page))
				continue;
			/* two participants, one in each (the same one may do both:
			 * its own actions go in order) */
			for (int x = 0; x <= s->clients && kb < 0; x++) {
				for (int y = 0; y <= s->clients && kb < 0; y++) {
					if (x != y && acts(a, x) && acts(b, y)) {
						ka = x;
						kb = y;
					}
				}
			}
			if (kb < 0)
				continue;
			who_text(ka, wa, sizeof(wa));
			who_text(kb, wb, sizeof(wb));
			snprintf(r->path, sizeof(r->path), "steps[%zu]", i);
			return fail(r, "%s writes page %u through the section (do[%u]) while "
				    "%s %s it (do[%u]): the outcome would depend on which "
				    "goes first; put them in separate steps", wa, page,
				    (unsigned)a->at, wb,
				    b->op == SCENARIO_READ ? "reads" : "writes", (unsigned)b->at);
		}
	}
	return 0;
}

/* Within a step the participants act at once (docs/scenarios.md): a step
 * whose outcome would depend on their order is refused. */
static int lint_order(struct reader *r, const struct scenario *s, const struct scenario_step *x)
{
	for (size_t i = 0; i < s->nsteps; i++) {
		int e = lint_step_order(r, s, &x[i], i);

		if (e != 0)
			return e;
	}
	return 0;
}

/* At most SCENARIO_WORK_MAX page operations in all (each action's pages
 * times its participants): the model predicts each, a client does each. */
static int lint_work(struct reader *r, const struct scenario *s, const struct scenario_step *x)
{
	uint64_t work = 0;

	for (size_t i = 0; i < s->nsteps; i++) {
		for (size_t j = 0; j < x[i].nactions; j++) {
			const struct scenario_action *a = &x[i].actions[j];
			uint64_t n = (uint64_t)a->who.server;

			for (uint64_t c = a->who.clients; c != 0; c &= c - 1)
				n++;
			work += n * (a->pages.total > 0 ? a->pages.total : 1);
		}
	}
	if (work > SCENARIO_WORK_MAX)
		return fail(r, "steps: %llu page operations in all (each action's pages times its "
			    "participants); at most %u", (unsigned long long)work,
			    (unsigned)SCENARIO_WORK_MAX);
	return 0;
}

/* "pages": the section's size, or its layout by client. */
static int get_pages(struct reader *r, const cJSON *root, struct scenario *s)
{
	static const char *const known[] = { "before", "each", "after", NULL };
	const cJSON *p = member(root, "pages");
	int64_t b = 0, each = 0, a = 0, n;
	size_t up;
	int e;

	if (!cJSON_IsObject(p)) {
		if ((e = get_int(r, root, "pages", true, 1, SCENARIO_PAGES_MAX, &n)) != 0) {
			if (p != NULL) /* say that an object is fine too */
				snprintf(r->why + strlen(r->why), r->cap - strlen(r->why),
					 ", or {\"before\", \"each\", \"after\"}");
			return e;
		}
		s->pages = (uint32_t)n;
		return 0;
	}
	up = enter(r, "pages", -1);
	if ((e = only_known(r, p, known)) == 0 &&
	    (e = get_int(r, p, "before", false, 0, SCENARIO_PAGES_MAX, &b)) == 0 &&
	    (e = get_int(r, p, "each", true, 1, SCENARIO_PAGES_MAX, &each)) == 0 &&
	    (e = get_int(r, p, "after", false, 0, SCENARIO_PAGES_MAX, &a)) == 0 &&
	    b + each * s->clients + a > SCENARIO_SECTION_PAGES_MAX)
		e = fail(r, "%lld + %d x %lld + %lld pages: more than the %u a section may have",
			 (long long)b, s->clients, (long long)each, (long long)a,
			 SCENARIO_SECTION_PAGES_MAX);
	leave(r, up);
	if (e != 0)
		return e;
	s->before = (uint32_t)b;
	s->each = (uint32_t)each;
	s->after = (uint32_t)a;
	s->pages = (uint32_t)(b + each * s->clients + a);
	return 0;
}

static const char *const member_kinds[SCENARIO_M_COUNT] = {
	[SCENARIO_M_MATCHES] = "matches", [SCENARIO_M_SIGHTINGS] = "sightings",
	[SCENARIO_M_DIFFERING] = "differing", [SCENARIO_M_PRIVATE] = "private",
	[SCENARIO_M_AS_PREDICTED] = "as_predicted", [SCENARIO_M_SHOWS] = "shows",
	[SCENARIO_M_FAULT] = "fault",
};

const char *scenario_member_kind_name(enum scenario_member_kind k)
{
	return member_kinds[k];
}


/* "members": {"name": "kind", ...} of check k. */
static int parse_members(struct reader *r, const cJSON *o, struct scenario *s, size_t k)
{
	const cJSON *m;
	size_t up;
	int e = 0;

	if (o == NULL)
		return 0;
	up = enter(r, "members", -1);
	if (!cJSON_IsObject(o) || o->child == NULL)
		e = fail(r, "an object of 1 to %d members is needed: {\"pages_clean\": "
			 "\"matches\"}", SCENARIO_MEMBERS_MAX);
	for (m = e == 0 ? o->child : NULL; e == 0 && m != NULL; m = m->next) {
		size_t in = enter(r, m->string, -1);
		int kind = 0;

		if (!is_name(m->string))
			e = fail(r, "a member's name is 1 to %d of a-z 0-9 _", SCENARIO_CHECK_MAX - 1);
		else if (s->nmembers[k] == SCENARIO_MEMBERS_MAX)
			e = fail(r, "more than %d members", SCENARIO_MEMBERS_MAX);
		else if (!cJSON_IsString(m))
			e = fail(r, "a kind is needed: one of matches, sightings, differing, private, "
				 "as_predicted, shows, fault");
		for (kind = 0; e == 0 && kind < SCENARIO_M_COUNT &&
		     strcmp(m->valuestring, member_kinds[kind]) != 0; kind++)
			;
		if (e == 0 && kind == SCENARIO_M_COUNT)
			e = fail(r, "\"%.31s\" is not a kind: one of matches, sightings, differing, "
				 "private, as_predicted, shows, fault", m->valuestring);
		for (size_t q = 0; e == 0 && q < s->nmembers[k]; q++)
			if (strcmp(s->members[k][q].name, m->string) == 0)
				e = fail(r, "member \"%.40s\" is given twice", m->string);
		if (e == 0) {
			snprintf(s->members[k][s->nmembers[k]].name, SCENARIO_CHECK_MAX, "%s",
				 m->string);
			s->members[k][s->nmembers[k]++].kind = (enum scenario_member_kind)kind;
		}
		leave(r, in);
	}
	leave(r, up);
	return e;
}

/* "checks": {"name": {"per": "client" | "run", "members": {...}}}, read
 * before the steps: the checks declared come first, in the order given,
 * and an action's count_as names their members. A check per client needs
 * the section laid out by client, and actions on pages that are some
 * client's own. */
static int parse_checks(struct reader *r, const cJSON *o, struct scenario *s)
{
	static const char *const known[] = { "per", "members", "facts", NULL };
	static const char *const pers[] = { "run", "client" };
	static const char *const facts[] = { "image" };
	const cJSON *m;
	size_t up;
	int e = 0;

	if (o == NULL)
		return 0;
	up = enter(r, "checks", -1);
	if (!cJSON_IsObject(o))
		e = fail(r, "an object is needed: {\"name\": {\"per\": \"client\"}}");
	for (m = cJSON_IsObject(o) ? o->child : NULL; e == 0 && m != NULL; m = m->next) {
		size_t in = enter(r, m->string, -1), k = s->nchecks;
		int per = 0;

		if (!is_name(m->string))
			e = fail(r, "a check's name is 1 to 31 of a-z 0-9 _");
		else if (strcmp(m->string, "model_agrees") == 0)
			e = fail(r, "model_agrees is the engine's own: every prediction under no "
				 "named check");
		else if (s->nchecks == SCENARIO_CHECKS_MAX)
			e = fail(r, "more than %d names of checks in one scenario",
				 SCENARIO_CHECKS_MAX);
		else if (!cJSON_IsObject(m))
			e = fail(r, "an object is needed: {\"per\": \"client\"}");
		else if ((e = only_known(r, m, known)) == 0 && member(m, "per") != NULL &&
			 (e = get_enum(r, m, "per", pers, 2, &per)) == 0 && per == 1 && s->each == 0)
			e = fail(r, "a check per client needs the section laid out by client");
		for (size_t q = 0; e == 0 && q < s->nchecks; q++)
			if (strcmp(s->checks[q], m->string) == 0)
				e = fail(r, "member \"%.40s\" is given twice", m->string);
		if (e == 0 && member(m, "facts") != NULL) {
			int f;

			/* the facts of a client's process: its image's counters */
			if ((e = get_enum(r, m, "facts", facts, 1, &f)) == 0 && per != 1)
				e = fail(r, "a check of the clients' facts is per client: \"per\": "
					 "\"client\"");
			else if (e == 0 && member(m, "members") != NULL)
				e = fail(r, "a check of the clients' facts has its own members");
			s->image_facts[k] = e == 0;
		}
		if (e == 0) {
			snprintf(s->checks[s->nchecks++], SCENARIO_CHECK_MAX, "%s", m->string);
			s->per_client[k] = per == 1;
			e = parse_members(r, member(m, "members"), s, k);
		}
		leave(r, in);
	}
	r->ndeclared = s->nchecks;
	leave(r, up);
	return e;
}

/* After the steps: every check declared is named by an action. */
static int lint_declared(struct reader *r, const struct scenario *s)
{
	for (size_t k = 0; k < r->ndeclared; k++) {
		if (!r->named[k] && !s->image_facts[k]) {
			size_t up = enter(r, "checks", -1), in = enter(r, s->checks[k], -1);
			int e = fail(r, "no action names this check");

			leave(r, in);
			leave(r, up);
			return e;
		}
	}
	return 0;
}

/* An action under a check per client is judged for the clients whose
 * pages it names: it names pages, and only clients' own; a client's map
 * or unmap, for that client. */
static int lint_per_client(struct reader *r, const struct scenario *s,
			   const struct scenario_step *x)
{
	uint64_t lo = s->before, hi = (uint64_t)s->before + (uint64_t)s->each * s->clients;

	for (size_t i = 0; i < s->nsteps; i++) {
		for (size_t j = 0; j < x[i].nactions; j++) {
			const struct scenario_action *a = &x[i].actions[j];

			if (!scenario_check_per_client(s, a->check))
				continue;
			snprintf(r->path, sizeof(r->path), "steps[%zu].do[%u]", i, (unsigned)a->at);
			/* a client's map or unmap counts for that client */
			if ((a->op == SCENARIO_MAP || a->op == SCENARIO_UNMAP) && a->who.server)
				return fail(r, "the check %s is per client, and the server's %s is no "
					    "client's", a->check, op_names[a->op]);
			if (a->op == SCENARIO_MAP || a->op == SCENARIO_UNMAP)
				continue;
			if (a->pages.nruns == 0)
				return fail(r, "the check %s is per client, and \"%s\" names no pages",
					    a->check, op_names[a->op]);
			for (size_t q = 0; q < a->pages.nruns; q++) {
				uint64_t f = a->pages.runs[q].first;

				if (f < lo || scenario_run_last(&a->pages.runs[q]) >= hi)
					return fail(r, "the check %s is per client, and page %llu is no "
						    "client's own", a->check,
						    (unsigned long long)(f < lo ? f : hi));
			}
		}
	}
	r->path[0] = '\0';
	return 0;
}

int scenario_check_index(const struct scenario *s, const char *check)
{
	for (size_t k = 0; check[0] != '\0' && k < s->nchecks; k++)
		if (strcmp(s->checks[k], check) == 0)
			return (int)k;
	return -1;
}

bool scenario_check_per_client(const struct scenario *s, const char *check)
{
	for (size_t k = 0; check[0] != '\0' && k < s->nchecks; k++)
		if (strcmp(s->checks[k], check) == 0)
			return s->per_client[k];
	return false;
}

static int parse_scenario(struct reader *r, const cJSON *root, struct scenario *s);

static int read_scenario(struct reader *r, const cJSON *root, struct scenario *s)
{
	struct scenario_step *x = NULL; /* the steps as their participants do them */
	size_t n = 0;
	int e = parse_scenario(r, root, s);

	if (e != 0 || r->nolint)
		return e;
	e = lint_views(r, s);
	if (e == 0 && (x = calloc(s->nsteps, sizeof(*x))) == NULL)
		e = COWLAB_E_NOMEM;
	for (; e == 0 && n < s->nsteps; n++)
		e = expanded(NULL, s, &s->steps[n], &x[n].actions, &x[n].nactions);
	if (e == 0)
		e = lint_order(r, s, x);
	if (e == 0)
		e = lint_per_client(r, s, x);
	if (e == 0)
		e = lint_work(r, s, x);
	for (size_t i = 0; x != NULL && i < n; i++)
		free(x[i].actions);
	free(x);
	return e;
}

/* Before the steps are read: which clients forks make, and in which
 * step (an action before that step cannot name them, "all" leaves them
 * out). Their ids are the last: the run starts the others, in order. */
static int find_forks(struct reader *r, const cJSON *steps, struct scenario *s)
{
	const cJSON *o, *a;
	int i = 0, e = 0;

	for (int k = 0; k <= SCENARIO_CLIENTS_MAX; k++) {
		s->born_in[k] = -1;
		s->parent[k] = 0;
	}
	cJSON_ArrayForEach(o, steps) {
		const cJSON *d = cJSON_IsObject(o) ? member(o, "do") : NULL;
		const cJSON *list = cJSON_IsArray(d) ? d : NULL;

		cJSON_ArrayForEach(a, list) {
			const cJSON *op = cJSON_IsObject(a) ? member(a, "op") : NULL;
			const cJSON *c = cJSON_IsObject(a) ? member(a, "child") : NULL;
			const cJSON *w = cJSON_IsObject(a) ? member(a, "who") : NULL;
			double v = cJSON_IsNumber(c) ? c->valuedouble : 0;

			if (!cJSON_IsString(op) || strcmp(op->valuestring, "fork") != 0 ||
			    !(v >= 1 && v <= s->clients) || v != (double)(int)v ||
			    s->born_in[(int)v] >= 0)
				continue; /* said when the action is read */
			s->born_in[(int)v] = i;
			/* (a who the reader refuses later may be any number) */
			s->parent[(int)v] = cJSON_IsNumber(w) && w->valuedouble >= 1 &&
					    w->valuedouble <= s->clients ?
					    (int)w->valuedouble : 0;
			s->forks++;
		}
		i++;
	}
	if (s->forks > 0 && r->clients_for > 0 && r->clients_for != s->file_clients)
		return fail(r, "a scenario with forks names its clients by id: it runs with its "
			    "own %d", s->file_clients);
	for (int k = 1; k <= s->clients && k <= SCENARIO_CLIENTS_MAX && e == 0; k++)
		if (s->born_in[k] >= 0 && k <= s->clients - s->forks)
			e = fail(r, "steps: client %d is born of a fork, so it takes one of the last "
				 "ids: with %d client%s and %d fork%s, clients %d to %d", k,
				 s->clients, text_s((uint64_t)s->clients), s->forks,
				 text_s((uint64_t)s->forks), s->clients - s->forks + 1, s->clients);
	if (e == 0 && s->forks == s->clients)
		e = fail(r, "steps: every client is born of a fork: the run starts none to fork");
	return e;
}

static int parse_scenario(struct reader *r, const cJSON *root, struct scenario *s)
{
	static const char *const known[] = { "schema_version", "scenario", "title", "about",
					     "clients", "pages", "page_size", "steps", "checks",
					     "page_maps", NULL };
	const cJSON *steps = member(root, "steps"), *o;
	const char *t;
	int64_t n;
	int e, count;
	size_t i = 0;
	int64_t total = 0;

	if (!cJSON_IsObject(root))
		return fail(r, "a scenario is a JSON object");
	if ((e = only_known(r, root, known)) != 0 ||
	    (e = get_text(r, root, "scenario", true, SCENARIO_NAME_MAX, &t)) != 0)
		return e;
	if (t[0] < 'a' || t[0] > 'z' ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(t)) {
		size_t up = enter(r, "scenario", -1);

		e = fail(r, "a name is 1 to 63 of a-z 0-9 -, starting with a letter");
		leave(r, up);
		return e;
	}
	snprintf(s->name, sizeof(s->name), "%s", t);
	/* the version of docs/scenario.schema.json the file follows: 1 */
	if ((e = get_int(r, root, "schema_version", false, 1, 1, &n)) != 0)
		return e;
	if ((e = get_text(r, root, "title", false, SCENARIO_TITLE_MAX, &t)) != 0)
		return e;
	snprintf(s->title, sizeof(s->title), "%s", t != NULL ? t : "");
	if ((e = get_text(r, root, "about", true, SCENARIO_TEXT_MAX, &t)) != 0)
		return e;
	if (t[0] == '\0') {
		size_t up = enter(r, "about", -1);

		e = fail(r, "say what the scenario teaches");
		leave(r, up);
		return e;
	}
	if ((s->about = copy_text(t)) == NULL)
		return COWLAB_E_NOMEM;
	if ((e = get_int(r, root, "clients", true, 1, SCENARIO_CLIENTS_MAX, &n)) != 0)
		return e;
	s->file_clients = (int)n;
	s->clients = r->clients_for > 0 ? r->clients_for : (int)n;
	if ((e = get_pages(r, root, s)) != 0)
		return e;
	if ((o = member(root, "page_size")) != NULL) {
		/* "2M", "4K", or bytes: the page size the run's section has */
		size_t up = enter(r, "page_size", -1);
		uint64_t ps = 0;
		char num[24];

		if (cJSON_IsNumber(o) && o->valuedouble >= 0 && o->valuedouble < 1e12)
			snprintf(num, sizeof(num), "%.0f", o->valuedouble);
		if (!(cJSON_IsString(o) && cli_page_size(o->valuestring, &ps)) &&
		    !(cJSON_IsNumber(o) && o->valuedouble == (double)(uint64_t)o->valuedouble &&
		      cli_page_size(num, &ps)))
			e = fail(r, "a page size is needed: \"4K\", \"2M\", \"1G\" or bytes, a "
				 "power of two from 4 KiB to 1 GiB");
		leave(r, up);
		if (e != 0)
			return e;
		s->page_size = (uint32_t)ps;
		r->page_size = (uint32_t)ps; /* what an offset is within */
	}
	if ((o = member(root, "page_maps")) != NULL) {
		size_t up = enter(r, "page_maps", -1);

		if (!cJSON_IsBool(o))
			e = fail(r, "true or false is needed");
		leave(r, up);
		if (e != 0)
			return e;
		s->no_page_maps = cJSON_IsFalse(o);
	}
	if ((e = parse_checks(r, member(root, "checks"), s)) != 0)
		return e;
	if (steps == NULL)
		return fail(r, "the member \"steps\" is missing");
	count = cJSON_GetArraySize(steps);
	if (!cJSON_IsArray(steps) || count < 1 || count > SCENARIO_STEPS_MAX)
		return fail(r, "steps: a list of 1 to %d steps is needed", SCENARIO_STEPS_MAX);
	if ((e = find_forks(r, steps, s)) != 0)
		return e;
	/* the actions of all steps, before any is held */
	cJSON_ArrayForEach(o, steps) {
		const cJSON *d = cJSON_IsObject(o) ? member(o, "do") : NULL;

		if ((total += cJSON_IsArray(d) ? cJSON_GetArraySize(d) : 0) > SCENARIO_ACTIONS_TOTAL)
			return fail(r, "steps: more than %d actions in all", SCENARIO_ACTIONS_TOTAL);
	}
	s->steps = calloc((size_t)count, sizeof(*s->steps));
	if (s->steps == NULL)
		return COWLAB_E_NOMEM;
	cJSON_ArrayForEach(o, steps) {
		size_t up = enter(r, "steps", (int)i);

		r->step = (int)i;
		e = parse_step(r, o, &s->steps[i]);
		s->nsteps = ++i; /* freed with the rest even when it failed */
		leave(r, up);
		if (e != 0)
			return e;
	}
	if ((e = lint_declared(r, s)) != 0)
		return e;
	s->all_declared = r->ndeclared == s->nchecks;
	return 0;
}

static int parse_for(const char *text, size_t len, uint32_t page_size, int clients,
		     bool nolint, struct scenario *out, char *why, size_t cap)
{
	struct reader r = { .why = why, .cap = cap, .page_size = page_size, .s = out,
			    .clients_for = clients, .nolint = nolint };
	cJSON *root;
	int e;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (len > SCENARIO_FILE_MAX) {
		snprintf(why, cap, "over %u bytes", SCENARIO_FILE_MAX);
		return COWLAB_E_TOOBIG;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(why, cap, "a NUL byte: not a text file");
		return COWLAB_E_PROTO;
	}
	if (!json_check(text, len, 16, why, cap))
		return COWLAB_E_PROTO;
	if ((root = cJSON_ParseWithLength(text, len)) == NULL) {
		snprintf(why, cap, "not valid JSON");
		return COWLAB_E_PROTO;
	}
	e = read_scenario(&r, root, out);
	cJSON_Delete(root);
	if (e != 0) {
		if (why[0] == '\0')
			snprintf(why, cap, "%s", cowlab_strerror(e));
		scenario_free(out);
	}
	return e;
}

int scenario_parse_for(const char *text, size_t len, uint32_t page_size, int clients,
		       struct scenario *out, char *why, size_t cap)
{
	int e, own;

	if (clients == 0)
		return parse_for(text, len, page_size, 0, false, out, why, cap);
	if (clients < 1 || clients > SCENARIO_CLIENTS_ANY) {
		memset(out, 0, sizeof(*out));
		snprintf(why, cap, "a scenario runs with 1 to %d clients, not %d",
			 SCENARIO_CLIENTS_ANY, clients);
		return COWLAB_E_PROTO;
	}
	/* a file with forks runs with its own clients: `clients` may count
	 * those the run starts, or all */
	if (clients <= SCENARIO_CLIENTS_MAX &&
	    parse_for(text, len, page_size, 0, false, out, why, cap) == 0) {
		if (out->forks == 0)
			scenario_free(out);
		else if (clients == out->clients || clients == scenario_started(out))
			return 0;
		else {
			int all = out->clients, started = scenario_started(out), forks = out->forks;

			scenario_free(out);
			snprintf(why, cap, "needs %d client%s, not %d: its forks make %d more (%d "
				 "in all)", started, text_s((uint64_t)started), clients, forks, all);
			return COWLAB_E_PROTO;
		}
	}
	/* read for that many clients (past 64: for 64, which stand for any
	 * number, then for them all unchecked); where it names clients (or it
	 * fails), read as the file says to tell which */
	e = parse_for(text, len, page_size, clients < SCENARIO_CLIENTS_MAX ? clients :
		      SCENARIO_CLIENTS_MAX, false, out, why, cap);
	if (e == 0 && clients > SCENARIO_CLIENTS_MAX && out->names_client[0] == '\0') {
		uint32_t reach = out->reach;

		scenario_free(out);
		if (reach > SCENARIO_REACH_ANY) {
			snprintf(why, cap, "runs with at most %d clients: its widest \"near\" or "
				 "\"around\" reaches %u clients on each side (at most %d for more)",
				 SCENARIO_CLIENTS_MAX, (unsigned)reach, SCENARIO_REACH_ANY);
			return COWLAB_E_PROTO;
		}
		return parse_for(text, len, page_size, clients, true, out, why, cap);
	}
	if (e == 0 && (out->names_client[0] == '\0' || out->file_clients == clients))
		return 0;
	if (e == 0)
		scenario_free(out);
	{
		char own_why[256];
		struct scenario as_is;
		int ae = parse_for(text, len, page_size, 0, false, &as_is, own_why, sizeof(own_why));
		bool names = ae == 0 && as_is.names_client[0] != '\0';

		own = as_is.clients;
		if (names)
			snprintf(why, cap, "needs %d client%s, not %d: it names %s (%s)", own,
				 text_s((uint64_t)own), clients, as_is.names_what,
				 as_is.names_client);
		if (ae == 0)
			scenario_free(&as_is);
		memset(out, 0, sizeof(*out));
		if (!names)
			return e != 0 ? e : COWLAB_E_PROTO; /* its own error, for that many */
		return own == clients ? e : COWLAB_E_PROTO;
	}
}

int scenario_parse(const char *text, size_t len, uint32_t page_size, struct scenario *out,
		   char *why, size_t cap)
{
	return parse_for(text, len, page_size, 0, false, out, why, cap);
}

int scenario_load(const char *path, uint32_t page_size, int clients, struct scenario *out,
		  char *why, size_t cap)
{
	FILE *f = platform_fopen(path, "rb");
	char *text, inner[256];
	size_t n;
	int e;

	memset(out, 0, sizeof(*out));
	if (f == NULL) {
		e = err_from_os();
		snprintf(why, cap, "%s: %s", path, cowlab_strerror(e));
		return e;
	}
	text = malloc(SCENARIO_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		snprintf(why, cap, "%s: out of memory", path);
		return COWLAB_E_NOMEM;
	}
	n = fread(text, 1, SCENARIO_FILE_MAX + 1, f);
	if (ferror(f)) {
		e = err_from_os(); /* a directory, say */
		fclose(f);
		free(text);
		snprintf(why, cap, "%s: cannot read it: %s", path, cowlab_strerror(e));
		return e;
	}
	fclose(f);
	e = scenario_parse_for(text, n, page_size, clients, out, inner, sizeof(inner));
	free(text);
	if (e != 0)
		snprintf(why, cap, "%s: %s", path, inner);
	return e;
}

void scenario_free(struct scenario *s)
{
	for (size_t i = 0; i < s->nsteps; i++) {
		free(s->steps[i].say);
		free(s->steps[i].actions);
	}
	free(s->steps);
	free(s->about);
	memset(s, 0, sizeof(*s));
}

int scenario_cow_mappers(const struct scenario *s)
{
	bool cow[SCENARIO_CLIENTS_MAX + 1] = { false };
	bool past = false; /* "all" past the 64th client maps one */
	int n = 0;

	for (size_t i = 0; i < s->nsteps; i++) {
		for (size_t j = 0; j < s->steps[i].nactions; j++) {
			const struct scenario_action *a = &s->steps[i].actions[j];

			for (int k = 0; k <= s->clients && k <= SCENARIO_CLIENTS_MAX; k++) {
				if (!scenario_acts(a, k))
					continue;
				if (a->op == SCENARIO_MAP && a->view == SCENARIO_VIEW_COW)
					cow[k] = true;
				if (a->op == SCENARIO_FORK && cow[k])
					cow[a->child] = true;
			}
			past |= a->op == SCENARIO_MAP && a->view == SCENARIO_VIEW_COW && a->who.all;
		}
	}
	for (int k = 0; k <= s->clients && k <= SCENARIO_CLIENTS_MAX; k++)
		n += cow[k];
	if (past && s->clients > SCENARIO_CLIENTS_MAX)
		n += s->clients - SCENARIO_CLIENTS_MAX;
	return n;
}
