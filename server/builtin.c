/* The built-in experiment written as a scenario (docs/scenarios.md,
 * "The built-in experiment as a scenario"): the same layout as
 * builtin.h's (page 0 the server's, then each client's pages, page i of
 * a client's range in role i % 4, a last page nobody writes), the same
 * operations and the same names of checks, as a scenario document built
 * here and read by scenario_parse like any file, so that every rule of the
 * format applies to it too. The engine (play.c) does not know which
 * scenario it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "builtin.h"
#include "scenario.h"
#include "text.h"

struct gen {
	uint64_t ppc;
	bool ok;        /* no allocation failed */
};

/* The pages of a role relative to the acting client ("own", "near 2",
 * "around 2", "each"): every fourth of its pages from the role's first,
 * "own 0-12/4" (one page: "own 0"). */
static void role_of(const struct gen *g, const char *where, int role, char *buf, size_t cap)
{
	uint64_t last = (uint64_t)role + (g->ppc - 1 - (uint64_t)role) / ROLE_COUNT * ROLE_COUNT;

	if (last == (uint64_t)role)
		snprintf(buf, cap, "%s %d", where, role);
	else
		snprintf(buf, cap, "%s %d-%llu/%d", where, role, (unsigned long long)last,
			 ROLE_COUNT);
}

/* Appends an action to a step's "do": who (0 the server, -1 every
 * client), op, view, and optionally pages, a written value, an offset, a
 * check and the members of it the action counts toward ("a" or "a b"). */
static cJSON *act(struct gen *g, cJSON *step_do, int who, const char *op, const char *view,
		  const char *pages, const char *value, int offset, const char *check,
		  const char *count_as)
{
	const char *also = NULL;

	/* "check+other": under another check too (toward none of its members) */
	char mine[SCENARIO_CHECK_MAX];

	if (check != NULL && strchr(check, '+') != NULL) {
		snprintf(mine, sizeof(mine), "%.*s", (int)(strchr(check, '+') - check), check);
		also = strchr(check, '+') + 1;
		check = mine;
	}
	cJSON *a = cJSON_CreateObject();

	if (a == NULL || !cJSON_AddItemToArray(step_do, a)) {
		cJSON_Delete(a);
		g->ok = false;
		return NULL;
	}
	g->ok &= cJSON_AddStringToObject(a, "who", who < 0 ? "all" : "server") != NULL;
	g->ok &= cJSON_AddStringToObject(a, "op", op) != NULL;
	g->ok &= cJSON_AddStringToObject(a, "view", view) != NULL;
	if (pages != NULL)
		g->ok &= cJSON_AddStringToObject(a, "pages", pages) != NULL;
	if (value != NULL)
		g->ok &= cJSON_AddStringToObject(a, "value", value) != NULL;
	if (offset != 0)
		g->ok &= cJSON_AddNumberToObject(a, "offset", offset) != NULL;
	if (check != NULL)
		g->ok &= cJSON_AddStringToObject(a, "check", check) != NULL;
	if (also != NULL)
		g->ok &= cJSON_AddStringToObject(a, "also", also) != NULL;
	if (count_as != NULL && strchr(count_as, ' ') == NULL) {
		g->ok &= cJSON_AddStringToObject(a, "count_as", count_as) != NULL;
	} else if (count_as != NULL) {
		char one[2 * SCENARIO_CHECK_MAX];
		cJSON *list = cJSON_AddArrayToObject(a, "count_as");

		for (const char *c = count_as; list != NULL && *c != '\0';) {
			size_t n = strcspn(c, " ");

			snprintf(one, sizeof(one), "%.*s", (int)n, c);
			g->ok &= cJSON_AddItemToArray(list, cJSON_CreateString(one));
			c += n + (c[n] == ' ');
		}
		g->ok &= list != NULL;
	}
	return a;
}

static cJSON *step(struct gen *g, cJSON *steps, const char *name, const char *say)
{
	cJSON *st = cJSON_CreateObject(), *d = NULL;

	if (st == NULL || !cJSON_AddItemToArray(steps, st)) {
		cJSON_Delete(st);
		g->ok = false;
		return NULL;
	}
	g->ok &= cJSON_AddStringToObject(st, "say", say) != NULL;
	if (name != NULL)
		g->ok &= cJSON_AddStringToObject(st, "name", name) != NULL;
	d = cJSON_AddArrayToObject(st, "do");
	g->ok &= d != NULL;
	return d;
}

/* Four steps, two of them the clients': "write" and "observe", each one
 * batch of a client's, as the built-in run's (docs/protocol.md); between
 * them, at each client's pace, the server reads and writes its pages
 * ("each"), and at the end it reads its own page and the whole section. */
static void build(struct gen *g, cJSON *root)
{
	char pages[64], near[32];
	cJSON *steps = cJSON_AddArrayToObject(root, "steps"), *d;

	if (steps == NULL) {
		g->ok = false;
		return;
	}

	d = step(g, steps, "write", "Each client maps the section three times: read/write, "
		 "copy-on-write and read-only, and asks the OS about its pages: nothing is "
		 "copied yet. It writes its stamp to its copy-on-write pages (the first of every "
		 "four of its pages) through its copy-on-write view and to its read/write pages "
		 "(the third) through its read/write view, reads back both, and tries to write "
		 "its fault pages (the fourth) through its read-only view; the second of every "
		 "four it leaves alone. The server maps the section read/write and "
		 "copy-on-write, and writes its stamp to page 0 through its copy-on-write view: "
		 "a private copy nobody else may ever see.");
	if (d == NULL)
		return;
	/* a map is under a check that rests on it (a view that could not be
	 * mapped leaves it unproven), and counts toward no member */
	act(g, d, -1, "map", "rw", NULL, NULL, 0, "rw_write_visible", NULL);
	act(g, d, -1, "map", "cow", NULL, NULL, 0, "cow_write_private", NULL);
	act(g, d, -1, "map", "ro", NULL, NULL, 0, "ro_write_faults", NULL);
	act(g, d, -1, "evidence", "cow", "own", NULL, 0, "cow_copy_evidence", "private_before");
	role_of(g, "own", ROLE_COW, pages, sizeof(pages));
	/* the writes, each under the two checks that rest on it: isolation
	 * is of a copy that was made, tracking of a write that was done */
	act(g, d, -1, "write", "cow", pages, "stamp", 0, "cow_write_private+cow_write_isolated",
	    NULL);
	role_of(g, "own", ROLE_RW, pages, sizeof(pages));
	act(g, d, -1, "write", "rw", pages, "stamp", 0, "rw_write_visible+cow_untouched_tracks",
	    NULL);
	role_of(g, "own", ROLE_COW, pages, sizeof(pages));
	act(g, d, -1, "read", "cow", pages, NULL, 0, "cow_write_private", "after_write");
	act(g, d, -1, "read", "rw", pages, NULL, 0, "cow_write_isolated", "own_rw_view_clean");
	role_of(g, "own", ROLE_FAULT, pages, sizeof(pages));
	act(g, d, -1, "write", "ro", pages, "stamp", 0, "ro_write_faults",
	    "faulted_at_target first_fault_as_expected");
	act(g, d, -1, "read", "ro", pages, NULL, 0, "ro_write_faults", "unchanged_in_ro_view");
	act(g, d, -1, "evidence", "cow", "own", NULL, 0, "cow_copy_evidence", NULL);
	act(g, d, 0, "map", "rw", NULL, NULL, 0, "section_intact", NULL);
	act(g, d, 0, "map", "cow", NULL, NULL, 0, "server_cow_isolated", NULL);
	act(g, d, 0, "write", "cow", "0", "stamp", 0, "server_cow_isolated", NULL);

	d = step(g, steps, "later", "As each client has written, the server reads its pages "
		 "through the section: its copy-on-write writes are not there, its read/write "
		 "writes are, its read-only ones are not. Then it writes its own stamp to word 1 "
		 "of the client's copy-on-write and untouched pages through the section.");
	if (d == NULL)
		return;
	role_of(g, "each", ROLE_COW, pages, sizeof(pages));
	act(g, d, 0, "read", "rw", pages, NULL, 0, "cow_write_isolated", "section_clean");
	role_of(g, "each", ROLE_RW, pages, sizeof(pages));
	act(g, d, 0, "read", "rw", pages, NULL, 0, "rw_write_visible", "server_sees_write");
	role_of(g, "each", ROLE_FAULT, pages, sizeof(pages));
	act(g, d, 0, "read", "rw", pages, NULL, 0, "ro_write_faults", "unchanged_in_section");
	role_of(g, "each", ROLE_COW, pages, sizeof(pages));
	act(g, d, 0, "write", "rw", pages, "stamp", LATER_OFFSET, "server_cow_tracks", NULL);
	role_of(g, "each", ROLE_TRACK, pages, sizeof(pages));
	act(g, d, 0, "write", "rw", pages, "stamp", LATER_OFFSET, "server_cow_tracks", NULL);

	d = step(g, steps, "observe", "Each client looks again. Its untouched pages show the "
		 "server's write, its copies do not; its read/write writes show through its "
		 "copy-on-write view; no copy of anyone else shows through, neither its "
		 "neighbours' nor the server's page 0; and the OS says which of its pages are "
		 "copies. The server's own copy-on-write view tracks the section on the "
		 "clients' pages.");
	if (d == NULL)
		return;
	role_of(g, "own", ROLE_TRACK, pages, sizeof(pages));
	act(g, d, -1, "read", "cow", pages, NULL, LATER_OFFSET, "cow_untouched_tracks",
	    "shows_server_write cow_copy_detached.neighbours_tracking");
	role_of(g, "own", ROLE_RW, pages, sizeof(pages));
	act(g, d, -1, "read", "cow", pages, NULL, 0, "cow_untouched_tracks", "shows_rw_write");
	role_of(g, "own", ROLE_COW, pages, sizeof(pages));
	act(g, d, -1, "read", "cow", pages, NULL, LATER_OFFSET, "cow_copy_detached",
	    "copies_ignoring_server_write");
	act(g, d, -1, "read", "cow", pages, NULL, 0, "cow_write_private", "at_end");
	snprintf(near, sizeof(near), "near %d", EXPERIMENT_WINDOW);
	role_of(g, near, ROLE_COW, pages, sizeof(pages));
	act(g, d, -1, "read", "cow", pages, NULL, 0, "cow_write_isolated", "seen_by_other_clients");
	snprintf(near, sizeof(near), "around %d", EXPERIMENT_WINDOW);
	role_of(g, near, ROLE_COW, pages, sizeof(pages));
	act(g, d, -1, "read", "rw", pages, NULL, 0, "cow_write_isolated", "seen_in_rw_views");
	act(g, d, -1, "read", "cow", "0", NULL, 0, "server_cow_isolated", "clients_seeing_it");
	act(g, d, -1, "evidence", "cow", "own", NULL, 0, "cow_copy_evidence", "private_after");
	/* the server's own copy-on-write view of their copy-on-write and
	 * untouched pages, at each client's pace */
	role_of(g, "each", ROLE_COW, pages, sizeof(pages));
	act(g, d, 0, "read", "cow", pages, NULL, LATER_OFFSET, "server_cow_tracks", "pages_tracking");
	role_of(g, "each", ROLE_TRACK, pages, sizeof(pages));
	act(g, d, 0, "read", "cow", pages, NULL, LATER_OFFSET, "server_cow_tracks", "pages_tracking");

	d = step(g, steps, "end", "At the end the server reads its own page 0 through its "
		 "copy-on-write view, where its copy is, and through the section, where it is "
		 "not; and the whole section holds exactly what was written through it.");
	if (d == NULL)
		return;
	act(g, d, 0, "read", "cow", "0", NULL, 0, "server_cow_isolated", "server_cow_view_shows_it");
	act(g, d, 0, "read", "rw", "0", NULL, 0, "server_cow_isolated", "section_shows_it");
	act(g, d, 0, "read", "rw", "all", NULL, 0, "section_intact", "pages_differing");
	act(g, d, 0, "read", "rw", "all", NULL, LATER_OFFSET, "section_intact", "pages_differing");
}

/* The checks, in the order of the built-in run's report, with the
 * members of their expected and observed (docs/report.md, "The checks"):
 * "name:per", then "member:kind" ...; a check of the clients' own facts,
 * "name:per:facts" alone. */
static const char *const checks_declared[] = {
	"rw_write_visible:client", "server_sees_write:matches", NULL,
	"cow_write_private:client", "after_write:matches", "at_end:matches", NULL,
	"cow_write_isolated:client", "section_clean:matches", "own_rw_view_clean:matches",
	"seen_by_other_clients:sightings", "seen_in_rw_views:sightings", NULL,
	"cow_untouched_tracks:client", "shows_server_write:matches", "shows_rw_write:matches", NULL,
	"cow_copy_detached:client", "copies_ignoring_server_write:matches",
	"neighbours_tracking:matches", NULL,
	"cow_copy_evidence:client", "private_before:private", "private_after:private", NULL,
	"ro_write_faults:client", "faulted_at_target:matches", "unchanged_in_ro_view:matches",
	"unchanged_in_section:matches", "first_fault_as_expected:fault", NULL,
	"image_section_shared:client:image", NULL,
	"section_intact:run", "pages_differing:differing", NULL,
	"server_cow_isolated:run", "server_cow_view_shows_it:as_predicted",
	"section_shows_it:shows", "clients_seeing_it:sightings", NULL,
	"server_cow_tracks:run", "pages_tracking:matches", NULL,
	NULL,
};

static void declare(struct gen *g, cJSON *root)
{
	cJSON *checks = cJSON_AddObjectToObject(root, "checks");
	char name[SCENARIO_CHECK_MAX];
	size_t i = 0;

	g->ok &= checks != NULL;
	while (checks != NULL && checks_declared[i] != NULL) {
		const char *t = checks_declared[i++], *colon = strchr(t, ':');
		cJSON *c, *m;

		char per[16];
		const char *facts = strchr(colon + 1, ':');

		snprintf(name, sizeof(name), "%.*s", (int)(colon - t), t);
		snprintf(per, sizeof(per), "%.*s", facts != NULL ? (int)(facts - colon - 1) : 15,
			 colon + 1);
		c = cJSON_AddObjectToObject(checks, name);
		g->ok &= c != NULL && cJSON_AddStringToObject(c, "per", per) != NULL;
		if (facts != NULL) {
			/* judged from the clients' hellos, no member of its own */
			g->ok &= c != NULL && cJSON_AddStringToObject(c, "facts", facts + 1) != NULL;
			i++;
			continue;
		}
		m = c != NULL ? cJSON_AddObjectToObject(c, "members") : NULL;
		g->ok &= m != NULL;
		for (; checks_declared[i] != NULL; i++) {
			t = checks_declared[i];
			colon = strchr(t, ':');
			snprintf(name, sizeof(name), "%.*s", (int)(colon - t), t);
			g->ok &= m != NULL && cJSON_AddStringToObject(m, name, colon + 1) != NULL;
		}
		i++; /* the end of this check's members */
	}
}

/* The document, or NULL with `why` (out of range) or without (memory). */
static cJSON *document(int clients, uint64_t pages_per_client, char *why, size_t cap)
{
	struct gen g = { pages_per_client, true };
	char about[600];
	cJSON *root, *layout;

	if (clients < 1 || clients > SCENARIO_BUILTIN_CLIENTS_MAX ||
	    pages_per_client < ROLE_COUNT || pages_per_client > SCENARIO_BUILTIN_PAGES_MAX) {
		snprintf(why, cap, "the built-in experiment as a scenario takes 1 to %d clients "
			 "and %d to %d pages per client (a page list has at most %d parts)",
			 SCENARIO_BUILTIN_CLIENTS_MAX, ROLE_COUNT, SCENARIO_BUILTIN_PAGES_MAX,
			 SCENARIO_RUNS_MAX);
		return NULL;
	}
	why[0] = '\0';
	snprintf(about, sizeof(about), "cowlab's own experiment (cowlab-server --spawn N) "
		 "written as a scenario, with its checks' names: any number of clients with "
		 "%llu pages each, page 0 the server's. Every client writes through each of "
		 "its three views, the server writes after the copies, and everyone reads what "
		 "they and their neighbours' pages hold.", (unsigned long long)pages_per_client);
	root = cJSON_CreateObject();
	if (root == NULL)
		return NULL;
	g.ok &= cJSON_AddStringToObject(root, "scenario", "builtin") != NULL;
	g.ok &= cJSON_AddStringToObject(root, "title", "the built-in experiment, as a "
					"scenario") != NULL;
	g.ok &= cJSON_AddStringToObject(root, "about", about) != NULL;
	/* its own count, which any number stands for (at most 64 in a file) */
	g.ok &= cJSON_AddNumberToObject(root, "clients", clients < SCENARIO_CLIENTS_MAX ? clients :
					SCENARIO_CLIENTS_MAX) != NULL;
	layout = cJSON_AddObjectToObject(root, "pages");
	g.ok &= layout != NULL && cJSON_AddNumberToObject(layout, "before", 1) != NULL &&
		cJSON_AddNumberToObject(layout, "each", (double)pages_per_client) != NULL &&
		cJSON_AddNumberToObject(layout, "after", 1) != NULL;
	g.ok &= cJSON_AddFalseToObject(root, "page_maps") != NULL;
	/* the checks of a client are each client's, judged by the
	 * observations of its own pages, whoever made them */
	declare(&g, root);
	build(&g, root);
	if (!g.ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int scenario_builtin(int clients, uint64_t pages_per_client, uint32_t page_size,
		     struct scenario *out, char *why, size_t cap)
{
	cJSON *root;
	char *text;
	int err;

	memset(out, 0, sizeof(*out));
	if ((root = document(clients, pages_per_client, why, cap)) == NULL)
		return why[0] != '\0' ? COWLAB_E_PROTO : COWLAB_E_NOMEM;
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		return COWLAB_E_NOMEM;
	err = scenario_parse_for(text, strlen(text), page_size, clients, out, why, cap);
	cJSON_free(text);
	return err;
}

/* Appends text to a growing buffer; false when out of memory. */
struct out {
	char *buf;
	size_t len, cap;
	bool ok;
};

static void put(struct out *o, const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	if (!o->ok || t == NULL) {
		o->ok = false;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *b = realloc(o->buf, cap);

		if (b == NULL) {
			o->ok = false;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, t, n + 1);
	o->len += n;
}

/* A value as compact JSON, appended. */
static void put_json(struct out *o, const cJSON *v)
{
	char *t = cJSON_PrintUnformatted(v);

	put(o, t);
	cJSON_free(t);
}

/* Indented as the lessons are: a member a line, a step a few lines, an
 * action a line. */
char *scenario_builtin_text(int clients, uint64_t pages_per_client, char *why, size_t cap)
{
	cJSON *root = document(clients, pages_per_client, why, cap);
	struct out o = { NULL, 0, 0, root != NULL };
	const cJSON *m, *st, *a;

	put(&o, "{\n");
	cJSON_ArrayForEach(m, root) {
		if (strcmp(m->string, "steps") == 0)
			continue;
		if (strcmp(m->string, "checks") == 0) {
			const cJSON *c;

			put(&o, "  \"checks\": {\n");
			cJSON_ArrayForEach(c, m) {
				put(&o, "    \"");
				put(&o, c->string);
				put(&o, "\": ");
				put_json(&o, c);
				put(&o, c->next != NULL ? ",\n" : "\n");
			}
			put(&o, "  },\n");
			continue;
		}
		put(&o, "  \"");
		put(&o, m->string);
		put(&o, "\": ");
		put_json(&o, m);
		put(&o, ",\n");
	}
	put(&o, "  \"steps\": [\n");
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(root, "steps")) {
		put(&o, "    { \"say\": ");
		put_json(&o, cJSON_GetObjectItemCaseSensitive(st, "say"));
		put(&o, ",\n      \"do\": [ ");
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(st, "do")) {
			put_json(&o, a);
			put(&o, a->next != NULL ? ",\n              " : " ] }");
		}
		put(&o, st->next != NULL ? ",\n" : "\n");
	}
	put(&o, "  ]\n}");
	cJSON_Delete(root);
	if (!o.ok) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
