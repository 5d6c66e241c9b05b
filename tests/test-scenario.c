/* Scenario files (server/scenario.c, docs/scenarios.md): what a good file
 * reads as, and every way a file can be wrong, each refused with the
 * member's JSON path and what was wrong. Files are written with single
 * quotes here, made double before reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "scenario.h"

#define PS 4096

static size_t json_text(const char *single, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *single != '\0' && n + 1 < cap; single++)
		buf[n++] = *single == '\'' ? '"' : *single;
	buf[n] = '\0';
	return n;
}

static int parse(const char *single, struct scenario *s, char *why, size_t cap)
{
	static char text[1 << 16];
	size_t n = json_text(single, text, sizeof(text));

	return scenario_parse(text, n, PS, s, why, cap);
}

#define HEAD "'scenario':'t','about':'a test','clients':3,'pages':32,"
#define ONE(action) "{" HEAD "'steps':[{'say':'x','do':[" action "]}]}"
/* one step after a first that maps every client's rw and cow views */
#define MAPS "{'say':'m','do':[{'who':'all','op':'map','view':'rw'}," \
	     "{'who':'all','op':'map','view':'cow'}]}"
#define MAPPED(action) "{" HEAD "'steps':[" MAPS ",{'say':'x','do':[" action "]}]}"

/* The documented first file reads as it says. */
static void test_first_file(void)
{
	static const char *file =
		"{'scenario':'read-does-not-copy','about':'Reading does not copy.','clients':1,"
		"'pages':8,'steps':["
		"{'say':'Client 1 maps and reads.','do':["
		"{'who':'server','op':'map','view':'rw'},"
		"{'who':1,'op':'map','view':'cow'},"
		"{'who':1,'op':'read','view':'cow','pages':'0-7'},"
		"{'who':1,'op':'evidence','view':'cow','pages':'0-7','expect':{'private':0}}]},"
		"{'say':'Writes.','do':["
		"{'who':1,'op':'write','view':'cow','pages':'3','value':'0xC0FFEE'}]},"
		"{'say':'The server writes.','do':["
		"{'who':'server','op':'write','view':'rw','pages':'0-7','value':'0x5EC7',"
		"'offset':4}]},"
		"{'say':'','do':[{'who':1,'op':'read','view':'cow','pages':'0-7','offset':4,"
		"'expect':{'3':'pattern','*':'0x5EC7'},'check':'cow_copy_detached'}]}]}";
	struct scenario s;
	char why[256];

	if (!CHECK_OK(parse(file, &s, why, sizeof(why)) == 0)) {
		fprintf(stderr, "%s\n", why);
		return;
	}
	CHECK(strcmp(s.name, "read-does-not-copy") == 0 && s.clients == 1 && s.pages == 8);
	CHECK(s.nsteps == 4 && s.steps[0].nactions == 4 && s.steps[1].nactions == 1);
	const struct scenario_action *a = &s.steps[0].actions[2];
	CHECK(a->op == SCENARIO_READ && a->view == SCENARIO_VIEW_COW && a->who.clients == 1 &&
	      !a->who.server && a->pages.nruns == 1 && a->pages.total == 8);
	a = &s.steps[0].actions[3];
	CHECK(a->expect.given && a->expect.private_pages == 0);
	a = &s.steps[1].actions[0];
	CHECK(a->value.kind == SCENARIO_WORD && a->value.word == 0xC0FFEE && a->offset == 0);
	a = &s.steps[2].actions[0];
	CHECK(a->who.server && a->who.clients == 0 && a->offset == 4 && a->value.word == 0x5EC7);
	a = &s.steps[3].actions[0];
	CHECK(a->expect.npages == 1 && a->expect.pages[0].page == 3 &&
	      a->expect.pages[0].value.kind == SCENARIO_PATTERN && a->expect.has_all &&
	      a->expect.all.word == 0x5EC7 && strcmp(a->check, "cow_copy_detached") == 0);
	CHECK(strcmp(s.steps[3].say, "") == 0);
	scenario_free(&s);
	scenario_free(&s); /* a freed one is a zeroed one */
}

/* Who: ids, lists, all, others (every client not named by id in the step). */
static void test_who(void)
{
	struct scenario s;
	char why[256];

	if (CHECK_OK(parse(MAPPED("{'who':1,'op':'write','view':'cow','pages':'1','value':'stamp'},"
				  "{'who':'others','op':'read','view':'cow','pages':'1',"
				  "'expect':{'*':'stamp of 1'}},"
				  "{'who':'all','op':'map','view':'ro'}"), &s, why,
			   sizeof(why)) == 0)) {
		const struct scenario_step *st = &s.steps[1];

		CHECK(st->actions[0].value.kind == SCENARIO_STAMP &&
		      st->actions[0].value.stamp_of == SCENARIO_STAMP_OWN);
		/* "all" names nobody in particular: others are 2 and 3 */
		CHECK_MSG(st->actions[1].others && st->actions[1].who.clients == 6,
			  "others resolved to %llx", (unsigned long long)st->actions[1].who.clients);
		CHECK(st->actions[1].expect.all.kind == SCENARIO_STAMP &&
		      st->actions[1].expect.all.stamp_of == 1);
		CHECK(st->actions[2].who.clients == 7 && !st->actions[2].who.server);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	if (CHECK_OK(parse(MAPPED("{'who':[3,2],'op':'unmap','view':'rw'},"
				  "{'who':'others','op':'map','view':'ro'}"), &s, why,
			   sizeof(why)) == 0)) {
		CHECK(s.steps[1].actions[0].who.clients == 6);
		CHECK(s.steps[1].actions[1].who.clients == 1);
		scenario_free(&s);
	}
}

/* Page lists. */
static void test_pages(void)
{
	struct scenario s;
	char why[256];

	if (CHECK_OK(parse(MAPPED("{'who':1,'op':'read','view':'rw','pages':'0,2-4,31'}"), &s, why,
			   sizeof(why)) == 0)) {
		const struct scenario_pages *p = &s.steps[1].actions[0].pages;

		CHECK(p->nruns == 3 && p->total == 5 && p->runs[1].first == 2 &&
		      p->runs[1].count == 3 && p->runs[2].first == 31);
		scenario_free(&s);
	}
	/* every n-th page: "1-15/4" is 1, 5, 9, 13; the next part goes on
	 * from its last page, not from 15 */
	if (CHECK_OK(parse(MAPPED("{'who':1,'op':'read','view':'rw','pages':'1-15/4,14,20-21/9'}"),
			   &s, why, sizeof(why)) == 0)) {
		const struct scenario_pages *p = &s.steps[1].actions[0].pages;

		CHECK(p->nruns == 3 && p->total == 6 && p->runs[0].stride == 4 &&
		      p->runs[0].count == 4 && scenario_run_last(&p->runs[0]) == 13 &&
		      p->runs[1].first == 14 && p->runs[1].stride == 1 &&
		      p->runs[2].count == 1 && p->runs[2].first == 20);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	/* interleaved every-other pages of two clients do not meet; a page
	 * of both does, and the step is refused */
	CHECK_MSG(parse(MAPPED("{'who':1,'op':'write','view':'rw','pages':'0-30/2','value':'1'},"
			       "{'who':2,'op':'read','view':'rw','pages':'1-31/2'}"), &s, why,
			sizeof(why)) == 0, "%s", why);
	scenario_free(&s);
	CHECK(parse(MAPPED("{'who':1,'op':'write','view':'rw','pages':'0-30/6','value':'1'},"
			   "{'who':2,'op':'read','view':'rw','pages':'2-30/4'}"), &s, why,
		    sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "writes page 6 through the section") != NULL, "%s", why);
}

struct bad {
	const char *file;   /* single-quoted */
	const char *why;    /* a part of the reason, single-quoted too */
};

/* forks: 3 clients, client 1 maps cow and forks client 3 in step 2 */
#define FORKHEAD "'scenario':'t','about':'a test','clients':3,'pages':8,"
#define FORKED(fork, after) "{" FORKHEAD "'steps':[{'say':'m','do':[{'who':'all'," \
	"'op':'map','view':'cow'}]},{'say':'f','do':[" fork "]},{'say':'x','do':[" after "]}]}"

static const struct bad bads[] = {
	/* schema_version */
	{ "{'scenario':'t','schema_version':2,'about':'a','clients':1,'pages':2,'steps':[]}",
	  "schema_version" },
	/* page_size */
	{ "{'scenario':'t','about':'a','clients':1,'pages':2,'page_size':'3M','steps':[]}",
	  "page_size: a page size is needed" },
	{ "{'scenario':'t','about':'a','clients':1,'pages':2,'page_size':2048,'steps':[]}",
	  "page_size: a page size is needed" },
	{ "{'scenario':'t','about':'a','clients':1,'pages':2,'page_size':'2M','steps':[{'say':'w',"
	  "'do':[{'who':1,'op':'map','view':'cow'},{'who':1,'op':'read','view':'cow','pages':'0',"
	  "'offset':2097152}]}]}", "offset" },
	/* fork */
	{ FORKED("{'who':'server','op':'fork','child':3}", "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "one client forks (the server is the judge" },
	{ FORKED("{'who':[1,2],'op':'fork','child':3}", "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "one client forks" },
	{ FORKED("{'who':1,'op':'fork','child':2}", "{'who':2,'op':'read','view':'cow','pages':'1'}"),
	  "client 2 is born of a fork, so it takes one of the last ids: with 3 clients and 1 fork, "
	  "clients 3 to 3" },
	{ FORKED("{'who':1,'op':'fork','child':3},{'who':2,'op':'fork','child':3}",
		 "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "client 3 is born of another fork already" },
	{ FORKED("{'who':1,'op':'fork','child':3},{'who':3,'op':'read','view':'cow','pages':'1'}",
		 "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "client 3 is born of the fork in step 2: it acts from the step after" },
	{ FORKED("{'who':1,'op':'fork','child':3,'view':'cow'}", "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "member \"view\"" },
	{ FORKED("{'who':1,'op':'fork'}", "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "child" },
	{ FORKED("{'who':1,'op':'fork','child':4}", "{'who':3,'op':'read','view':'cow','pages':'1'}"),
	  "child" },
	/* a relative's write and another's evidence of the page in one step */
	{ FORKED("{'who':1,'op':'fork','child':3}",
		 "{'who':3,'op':'write','view':'cow','pages':'1','value':'1'},"
		 "{'who':1,'op':'evidence','view':'cow','pages':'0-3'}"),
	  "evidence of its own (do[1]): after a fork" },
	{ FORKED("{'who':1,'op':'fork','child':3}",
		 "{'who':3,'op':'discard','view':'cow','pages':'1'},"
		 "{'who':1,'op':'evidence','view':'cow','pages':'0'}"),
	  "a discard through a copy-on-write view (do[0])" },
	{ FORKED("{'who':1,'op':'fork','child':3}",
		 "{'who':1,'op':'unmap','view':'cow'},"
		 "{'who':3,'op':'evidence','view':'cow','pages':'5'}"),
	  "an unmap through" },
	/* another page than the write's: smaps counts the whole view */
	{ FORKED("{'who':1,'op':'fork','child':3}",
		 "{'who':1,'op':'write','view':'cow','pages':'0','value':'1'},"
		 "{'who':3,'op':'evidence','view':'cow','pages':'1'}"),
	  "evidence of its own" },
	/* the child has its parent's views, and no others */
	{ FORKED("{'who':1,'op':'fork','child':3}", "{'who':3,'op':'read','view':'rw','pages':'1'}"),
	  "client 3 has no rw view mapped" },
	{ "{'scenario':'t','about':'a','clients':2,'pages':4,'steps':[{'say':'f','do':[{'who':1,"
	  "'op':'fork','child':2}]},{'say':'g','do':[{'who':2,'op':'fork','child':1}]}]}",
	  "every client is born of a fork" },
	/* the text */
	{ "", "not valid JSON" },
	{ "{'scenario':'t',}", "not valid JSON" },
	{ "[]", "a scenario is a JSON object" },
	{ "{" HEAD "'steps':[{'say':'\x01','do':[]}]}", "a control character" },
	/* escaped, a control character is still one: a terminal would obey it */
	{ "{" HEAD "'steps':[{'say':'\\u001b[2J','do':[]}]}", "say: a control character (U+001B)" },
	{ "{'scenario':'t','about':'a\\nb','clients':1,'pages':1,'steps':[]}",
	  "about: a control character (U+000A)" },
	{ "{'scenario':'t','title':'\\u007f','about':'a','clients':1,'pages':1,'steps':[]}",
	  "title: a control character (U+007F)" },
	{ "{'scenario':'t','title':'" "0123456789012345678901234567890123456789012345678901234567"
	  "','about':'a','clients':1,'pages':1,'steps':[]}", "title: longer than 55 bytes" },
	/* the scenario */
	{ "{'about':'a','clients':1,'pages':1,'steps':[]}", "the member 'scenario' is missing" },
	{ "{'scenario':'T','about':'a','clients':1,'pages':1,'steps':[]}",
	  "scenario: a name is 1 to 63" },
	{ "{'scenario':'1x','about':'a','clients':1,'pages':1,'steps':[]}", "starting with a letter" },
	{ "{'scenario':'t','about':'','clients':1,'pages':1,'steps':[]}",
	  "about: say what the scenario teaches" },
	{ "{'scenario':'t','about':'a','clients':0,'pages':1,'steps':[]}",
	  "clients: a whole number from 1 to 64" },
	{ "{'scenario':'t','about':'a','clients':65,'pages':1,'steps':[]}", "from 1 to 64" },
	{ "{'scenario':'t','about':'a','clients':1.5,'pages':1,'steps':[]}", "whole number" },
	/* numbers no integer can hold: refused, not cast (the fuzzer's find) */
	{ "{'scenario':'t','about':'a','clients':1.9e55,'pages':1,'steps':[]}", "whole number" },
	{ ONE("{'who':1e300,'op':'map','view':'rw'}"), "but the scenario has 3 clients" },
	{ "{'scenario':'t','about':'a','clients':1,'pages':65537,'steps':[]}",
	  "pages: a whole number from 1 to 65536" },
	{ "{'scenario':'t','about':'a','clients':1,'pages':1,'steps':[]}", "1 to 256 steps" },
	{ "{'scenario':'t','about':'a','clients':1,'pages':1,'steps':{}}", "1 to 256 steps" },
	{ "{" HEAD "'step':[]}", "unknown member 'step'" },
	{ "{" HEAD "'steps':[1]}", "steps[0]: a step is an object" },
	{ "{" HEAD "'steps':[{'do':[]}]}", "steps[0]: the member 'say' is missing" },
	{ "{" HEAD "'steps':[{'say':'','do':[]}]}", "steps[0].do: a list of 1 to 512 actions" },
	{ "{" HEAD "'steps':[{'say':'','do':[],'x':1}]}", "steps[0]: unknown member 'x'" },
	/* an action */
	{ ONE("{'op':'map','view':'rw'}"), "steps[0].do[0]: the member 'who' is missing" },
	{ ONE("{'who':4,'op':'map','view':'rw'}"),
	  "steps[0].do[0].who: client 4, but the scenario has 3 clients" },
	{ ONE("{'who':0,'op':'map','view':'rw'}"), "client 0" },
	{ ONE("{'who':[1,1],'op':'map','view':'rw'}"), "client 1 is named twice" },
	{ ONE("{'who':[],'op':'map','view':'rw'}"), "an empty list" },
	{ ONE("{'who':'nobody','op':'map','view':'rw'}"), "a list of ids" },
	{ ONE("{'who':1,'op':'map','view':'rw'},{'who':'others','op':'map','view':'rw'},"
	      "{'who':[2,3],'op':'map','view':'ro'}"),
	  "steps[0].do[1]: 'others' is nobody" },
	{ ONE("{'who':1,'op':'copy','view':'rw'}"), "op: 'copy' is not one of" },
	{ ONE("{'who':1,'op':'map','view':'private'}"), "view: 'private' is not one of" },
	{ ONE("{'who':1,'op':'map','view':'rw','valeu':1}"),
	  "steps[0].do[0]: unknown member 'valeu'" },
	{ ONE("{'who':1,'op':'map','view':'rw','pages':'1'}"), "'map' takes no pages" },
	{ ONE("{'who':1,'op':'read','view':'rw'}"), "the member 'pages' is missing" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'40'}"),
	  "steps[0].do[0].pages: page 40 is past the section" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'5-3'}"), "goes down" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'3,2'}"), "must go up" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'1-3,3'}"), "must go up" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'1,'}"), "ends with a comma" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'a'}"), "not a page list" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'1-'}"), "needs its last page" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':''}"), "no pages" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':3}"), "pages: a string is needed" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1'}"),
	  "the member 'value' is missing" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1','value':'0x100000000'}"),
	  "value: '0x100000000' is not a word" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1','value':'fault'}"), "is not a word" },
	{ ONE("{'who':1,'op':'read','view':'rw','pages':'1','value':'1'}"),
	  "only a write takes a value" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1','value':'1','offset':2}"),
	  "offset: 2 is not a multiple of 4" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1','value':'1','offset':4096}"),
	  "offset: a whole number from 0 to 4092" },
	{ ONE("{'who':1,'op':'map','view':'rw','offset':4}"), "only a write or a read" },
	{ ONE("{'who':1,'op':'protect','view':'rw','pages':'1'}"),
	  "the member 'protect' is missing" },
	{ ONE("{'who':1,'op':'protect','view':'rw','pages':'1','protect':'rwx'}"),
	  "protect: 'rwx' is not one of" },
	{ ONE("{'who':1,'op':'map','view':'rw','protect':'readonly'}"), "only 'protect'" },
	{ ONE("{'who':1,'op':'map','view':'rw','check':'Bad'}"), "check: a check" },
	{ ONE("{'who':1,'op':'map','view':'rw','check':''}"), "check: a check" },
	/* predictions */
	{ ONE("{'who':1,'op':'map','view':'rw','expect':{'private':1}}"),
	  "steps[0].do[0].expect: unknown member 'private'" },
	{ ONE("{'who':1,'op':'write','view':'rw','pages':'1','value':'1','expect':{'fault':1}}"),
	  "expect.fault: true or false is needed" },
	{ ONE("{'who':1,'op':'evidence','view':'cow','pages':'1-2','expect':{'private':3}}"),
	  "expect.private: a whole number from 0 to 2" },
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1-2','expect':{'3':'1'}}"),
	  "expect.3: page 3 is not among the pages of this action" },
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1-2','expect':{'1-2':'1'}}"),
	  "expect.1-2: a key is the number of one page, or '*' (not a range)" },
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1-2','expect':{'1':'stamp of 9'}}"),
	  "the stamp of the server or of a client from 1 to 3" },
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1-2','expect':{'1':2}}"),
	  "a value is needed" },
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1-2','expect':[]}"),
	  "expect: an object is needed" },
	/* what the file means: views mapped before use, once */
	{ ONE("{'who':1,'op':'read','view':'cow','pages':'1'}"),
	  "steps[0].do[0]: client 1 has no cow view mapped" },
	{ ONE("{'who':'server','op':'write','view':'rw','pages':'1','value':'1'}"),
	  "steps[0].do[0]: the server has no rw view mapped" },
	{ MAPPED("{'who':'all','op':'map','view':'ro'},{'who':3,'op':'map','view':'ro'}"),
	  "steps[1].do[1]: client 3 has its ro view mapped already" },
	{ MAPPED("{'who':2,'op':'unmap','view':'cow'},{'who':2,'op':'evidence','view':'cow',"
		 "'pages':'1'}"), "steps[1].do[1]: client 2 has no cow view mapped" },
	{ MAPPED("{'who':2,'op':'unmap','view':'ro'}"), "client 2 has no ro view mapped" },
	/* ... and steps whose outcome does not hang on who goes first */
	{ MAPPED("{'who':1,'op':'write','view':'rw','pages':'0-3','value':'1'},"
		 "{'who':2,'op':'read','view':'cow','pages':'3'}"),
	  "steps[1]: client 1 writes page 3 through the section (do[0]) while client 2 reads" },
	{ MAPPED("{'who':2,'op':'write','view':'cow','pages':'5','value':'1','offset':8},"
		 "{'who':1,'op':'write','view':'rw','pages':'5','value':'1'}"),
	  "client 1 writes page 5 through the section (do[1]) while client 2 writes it (do[0])" },
	{ MAPPED("{'who':'all','op':'write','view':'rw','pages':'7','value':'stamp'}"),
	  "client 1 writes page 7 through the section (do[0]) while client 2 writes it (do[0])" },
	{ MAPPED("{'who':1,'op':'write','view':'rw','pages':'7','value':'1'},"
		 "{'who':3,'op':'write','view':'rw','pages':'7','value':'2'}"),
	  "while client 3 writes it" },
	/* at most 11 names of checks */
	{ "{" HEAD "'steps':[{'say':'x','do':["
	  "{'who':1,'op':'map','view':'rw','check':'a'},{'who':2,'op':'map','view':'rw','check':'b'},"
	  "{'who':3,'op':'map','view':'rw','check':'c'},{'who':1,'op':'map','view':'cow','check':'d'},"
	  "{'who':2,'op':'map','view':'cow','check':'e'},{'who':3,'op':'map','view':'cow','check':'a'},"
	  "{'who':1,'op':'map','view':'ro','check':'f'},{'who':2,'op':'map','view':'ro','check':'g'},"
	  "{'who':3,'op':'map','view':'ro','check':'h'},{'who':1,'op':'unmap','view':'ro','check':'i'},"
	  "{'who':2,'op':'unmap','view':'ro','check':'j'},{'who':3,'op':'unmap','view':'ro','check':'k'},"
	  "{'who':1,'op':'unmap','view':'rw','check':'l'}]}]}",
	  "steps[0].do[12].check: more than 11 names of checks" },
};

/* Steps the order rule lets through: one participant's own actions go in
 * order; another word of the page; the same word written by all. */
static const char *const orderly[] = {
	MAPPED("{'who':1,'op':'write','view':'rw','pages':'3','value':'1'},"
	       "{'who':1,'op':'read','view':'cow','pages':'3'}"),
	MAPPED("{'who':1,'op':'write','view':'rw','pages':'3','value':'1'},"
	       "{'who':2,'op':'read','view':'rw','pages':'3','offset':4}"),
	MAPPED("{'who':'all','op':'write','view':'rw','pages':'3','value':'0x77'}"),
	MAPPED("{'who':1,'op':'write','view':'rw','pages':'3','value':'1'},"
	       "{'who':2,'op':'read','view':'cow','pages':'4-9'},"
	       "{'who':2,'op':'evidence','view':'cow','pages':'3'}"),
};

static void test_bad(void)
{
	char why[256], want[128];
	struct scenario s;

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		int e = parse(bads[i].file, &s, why, sizeof(why));

		json_text(bads[i].why, want, sizeof(want));
		CHECK_MSG(e != 0, "bads[%zu] was read: %s", i, bads[i].file);
		CHECK_MSG(strstr(why, want) != NULL, "bads[%zu]: \"%s\" lacks \"%s\"", i, why, want);
		CHECK(s.steps == NULL && s.about == NULL); /* nothing held */
	}
	for (size_t i = 0; i < sizeof(orderly) / sizeof(orderly[0]); i++) {
		int e = parse(orderly[i], &s, why, sizeof(why));

		CHECK_MSG(e == 0, "orderly[%zu] refused: %s", i, why);
		scenario_free(&s);
	}
}

/* A file: read from disk, errors naming it; too big refused. */
static void test_load(void)
{
	const char *path = "test-scenario.tmp.json";
	char why[300];
	struct scenario s;
	FILE *f = fopen(path, "wb");

	if (!CHECK_OK(f != NULL))
		return;
	fputs("{\"scenario\":\"t\"}", f);
	fclose(f);
	CHECK(scenario_load(path, PS, 0, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strncmp(why, "test-scenario.tmp.json: ", 24) == 0 &&
		  strstr(why, "the member \"about\" is missing") != NULL, "%s", why);
	f = fopen(path, "wb");
	if (CHECK_OK(f != NULL)) {
		for (size_t i = 0; i < SCENARIO_FILE_MAX + 1; i++)
			fputc(' ', f);
		fclose(f);
		CHECK(err_is(scenario_load(path, PS, 0, &s, why, sizeof(why)), COWLAB_E_TOOBIG));
	}
	remove(path);
	CHECK(scenario_load("/nonexistent/x.json", PS, 0, &s, why, sizeof(why)) != 0 &&
	      strstr(why, "/nonexistent/x.json: not found") != NULL);
}

/* A file of `steps` steps of `actions` reads each: the server reads page 0
 * (after it maps its rw view in the first). */
static int parse_many(int steps, int actions, char *why, size_t cap)
{
	size_t len = 512 + (size_t)steps * (20 + (size_t)actions * 60), n = 0;
	char *text = malloc(len);
	struct scenario s;
	int e;

	if (text == NULL)
		return COWLAB_E_NOMEM;
	n += (size_t)snprintf(text + n, len - n, "{\"scenario\":\"t\",\"about\":\"a\","
			      "\"clients\":1,\"pages\":1,\"steps\":[");
	for (int i = 0; i < steps; i++) {
		n += (size_t)snprintf(text + n, len - n, "%s{\"say\":\"\",\"do\":[",
				      i ? "," : "");
		for (int k = 0; k < actions; k++)
			n += (size_t)snprintf(text + n, len - n, "%s{\"who\":\"server\",\"op\":"
					      "\"%s\",\"view\":\"rw\"%s}", k ? "," : "",
					      i == 0 && k == 0 ? "map" : "read",
					      i == 0 && k == 0 ? "" : ",\"pages\":\"0\"");
		n += (size_t)snprintf(text + n, len - n, "]}");
	}
	n += (size_t)snprintf(text + n, len - n, "]}");
	e = scenario_parse(text, n, PS, &s, why, cap);
	if (e == 0)
		scenario_free(&s);
	free(text);
	return e;
}

/* The limits on actions: 512 a step, 4096 in all; at the limits a file
 * reads, one more is refused saying which. */
static void test_action_limits(void)
{
	char why[300];

	CHECK_MSG(parse_many(1, SCENARIO_ACTIONS_MAX, why, sizeof(why)) == 0, "%s", why);
	CHECK(parse_many(1, SCENARIO_ACTIONS_MAX + 1, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "steps[0].do: a list of 1 to 512 actions") != NULL, "%s", why);
	CHECK_MSG(parse_many(8, SCENARIO_ACTIONS_TOTAL / 8, why, sizeof(why)) == 0, "%s", why);
	CHECK(parse_many(9, SCENARIO_ACTIONS_TOTAL / 8, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "steps: more than 4096 actions in all") != NULL, "%s", why);
}

/* 16 777 216 page operations in all: 64 clients' maps and three reads of
 * a whole 65536-page section by each are within it; five reads are not. */
static void test_work_limit(void)
{
	char text[2048], why[300];
	struct scenario s;
	size_t n = 0;

	for (int reads = 3; reads <= 5; reads += 2) {
		n = (size_t)snprintf(text, sizeof(text), "{\"scenario\":\"t\",\"about\":\"a\","
				     "\"clients\":64,\"pages\":65536,\"steps\":[{\"say\":\"\","
				     "\"do\":[{\"who\":\"all\",\"op\":\"map\",\"view\":\"cow\"}]},"
				     "{\"say\":\"\",\"do\":[");
		for (int k = 0; k < reads; k++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"who\":[%s],\"op\":"
					      "\"read\",\"view\":\"cow\",\"pages\":\"0-65535\"}",
					      k ? "," : "", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,"
					      "18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,"
					      "38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,"
					      "58,59,60,61,62,63,64");
		n += (size_t)snprintf(text + n, sizeof(text) - n, "]}]}");
		if (reads == 3) {
			CHECK_MSG(scenario_parse(text, n, PS, &s, why, sizeof(why)) == 0, "%s", why);
			scenario_free(&s);
		} else {
			CHECK(scenario_parse(text, n, PS, &s, why, sizeof(why)) != 0);
			CHECK_MSG(strstr(why, "20971584 page operations in all") != NULL &&
				  strstr(why, "at most 16777216") != NULL, "%s", why);
		}
	}
}

/* The built-in experiment as a scenario is a file like any: it reads
 * within its limits, and out of them says what they are. */
static void test_builtin(void)
{
	char why[400];
	struct scenario s;

	CHECK_MSG(scenario_builtin(1, 4, PS, &s, why, sizeof(why)) == 0, "%s", why);
	CHECK(s.clients == 1 && s.pages == 6 && s.nsteps == 4 && strcmp(s.name, "builtin") == 0 &&
	      strcmp(s.steps[0].name, "write") == 0 && strcmp(s.steps[1].name, "later") == 0 &&
	      strcmp(s.steps[2].name, "observe") == 0);
	/* its first look at untouched pages counts for two checks */
	CHECK(s.steps[2].actions[0].also == 4 && s.steps[2].actions[0].also_as == 1u << 1 &&
	      s.steps[2].actions[0].count_as == 1u << 0 && s.steps[2].actions[1].also == -1);
	/* its checks declared in the built-in report's order, with members,
	 * and nothing left to model_agrees */
	CHECK(s.all_declared && s.no_page_maps && s.nchecks == 11 &&
	      strcmp(s.checks[0], "rw_write_visible") == 0 &&
	      strcmp(s.checks[7], "image_section_shared") == 0 && s.image_facts[7] &&
	      s.per_client[7] && s.nmembers[7] == 0 && !s.image_facts[6] &&
	      strcmp(s.checks[10], "server_cow_tracks") == 0 && s.nmembers[2] == 4 &&
	      strcmp(s.members[2][2].name, "seen_by_other_clients") == 0 &&
	      s.members[2][2].kind == SCENARIO_M_SIGHTINGS);
	scenario_free(&s);
	/* its largest: 64 clients of the most pages (a role's pages one
	 * strided run), and the most clients */
	CHECK_MSG(scenario_builtin(64, SCENARIO_BUILTIN_PAGES_MAX, PS, &s, why, sizeof(why)) == 0,
		  "%s", why);
	CHECK(s.pages == 2 + 64 * SCENARIO_BUILTIN_PAGES_MAX &&
	      s.steps[1].actions[0].rel.idx.nruns == 1 &&
	      s.steps[1].actions[0].rel.idx.runs[0].stride == 4 &&
	      s.steps[1].actions[0].rel.idx.runs[0].count == SCENARIO_BUILTIN_PAGES_MAX / 4);
	scenario_free(&s);
	CHECK_MSG(scenario_builtin(SCENARIO_BUILTIN_CLIENTS_MAX, 4, PS, &s, why, sizeof(why)) == 0,
		  "%s", why);
	CHECK(s.pages == 2 + 4 * SCENARIO_BUILTIN_CLIENTS_MAX);
	scenario_free(&s);
	CHECK(scenario_builtin(SCENARIO_BUILTIN_CLIENTS_MAX + 1, 4, PS, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "takes 1 to 100000 clients and 4 to 16384 pages") != NULL, "%s", why);
	CHECK(scenario_builtin(2, 3, PS, &s, why, sizeof(why)) != 0);
	CHECK(scenario_builtin(2, SCENARIO_BUILTIN_PAGES_MAX + 1, PS, &s, why, sizeof(why)) != 0);
}

/* Pages relative to a client: "own", "near W", "around W", with which of
 * its pages; each such action is one a client, in the order of the file. */
#define LAYOUT "'scenario':'t','about':'a test','clients':3," \
	       "'pages':{'before':1,'each':4,'after':1},"
#define LAID(action) "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[" action "]}]}"

static void test_relative(void)
{
	struct scenario s;
	char why[300], text[2048];
	size_t n;

	if (CHECK_OK(parse(LAID("{'who':'all','op':'write','view':'cow','pages':'own 0',"
				"'value':'stamp','check':'w'},"
				"{'who':'all','op':'read','view':'rw','pages':'near 1 0,2'},"
				"{'who':2,'op':'read','view':'cow','pages':'around 1'},"
				"{'who':3,'op':'read','view':'rw','pages':'0,13'}"), &s, why,
			   sizeof(why)) == 0)) {
		const struct scenario_step *st = &s.steps[1];
		static const uint32_t near_first[3][4] = { { 5, 7 }, { 1, 3, 9, 11 }, { 5, 7 } };

		struct scenario_pages pg;

		CHECK(s.pages == 14 && s.before == 1 && s.each == 4 && s.after == 1);
		/* one action as written; its pages for each client that does it */
		CHECK_MSG(st->nactions == 4, "%zu actions", st->nactions);
		for (int k = 1; k <= 3 && st->nactions == 4; k++) {
			const struct scenario_action *w = &st->actions[0], *r = &st->actions[1];

			CHECK(w->who.clients == 7 && w->rel.kind == SCENARIO_OWN &&
			      strcmp(w->rel_text, "own 0") == 0 && strcmp(w->check, "w") == 0);
			scenario_pages_of(&s, w, k, &pg);
			CHECK(pg.nruns == 1 && pg.runs[0].first == 1 + 4 * (uint32_t)(k - 1) &&
			      pg.runs[0].count == 1);
			scenario_pages_of(&s, r, k, &pg);
			CHECK(r->rel.kind == SCENARIO_NEAR && pg.total == (k == 2 ? 4u : 2u));
			for (size_t i = 0; i < pg.nruns; i++)
				CHECK(pg.runs[i].first == near_first[k - 1][i] && pg.runs[i].count == 1);
			CHECK(scenario_in_lane(w, k, k) && !scenario_in_lane(w, k, 0) &&
			      !scenario_in_lane(w, 0, k));
		}
		/* around: its own pages and its neighbours', one run */
		if (st->nactions == 4) {
			scenario_pages_of(&s, &st->actions[2], 2, &pg);
			CHECK(st->actions[2].at == 2 && pg.nruns == 1 && pg.runs[0].first == 1 &&
			      pg.total == 12);
			scenario_pages_of(&s, &st->actions[3], 3, &pg);
			CHECK(st->actions[3].at == 3 && pg.nruns == 2 &&
			      st->actions[3].rel.kind == SCENARIO_ABSOLUTE);
		}
		CHECK(s.names_client[0] != '\0'); /* who: 2 */
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}

	/* the server's "each": every client's pages, one action a client */
	n = json_text("{" LAYOUT "'steps':[{'say':'m','do':[{'who':'server','op':'map','view':"
		      "'rw'}]},{'say':'x','do':[{'who':'server','op':'write','view':'rw','pages':"
		      "'each 1-2','value':'stamp','offset':4},{'who':'server','op':'read','view':"
		      "'rw','pages':'each 0'}]}]}", text, sizeof(text));
	if (CHECK_OK(scenario_parse(text, n, PS, &s, why, sizeof(why)) == 0)) {
		const struct scenario_step *st = &s.steps[1];

		struct scenario_pages pg;

		CHECK_MSG(st->nactions == 2, "%zu actions", st->nactions);
		for (int k = 1; k <= 3 && st->nactions == 2; k++) {
			const struct scenario_action *a = &st->actions[0];

			scenario_pages_of(&s, a, k, &pg);
			CHECK(a->who.server && a->who.clients == 0 && a->rel.kind == SCENARIO_EACH &&
			      a->offset == 4 && pg.nruns == 1 &&
			      pg.runs[0].first == 2 + 4 * (uint32_t)(k - 1) && pg.runs[0].count == 2);
			/* in each client's part of the step, none of the server's own */
			CHECK(scenario_in_lane(a, 0, k) && !scenario_in_lane(a, 0, 0));
		}
		CHECK(s.names_client[0] == '\0');
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}

	/* a file that names no client runs with any number of them, its
	 * section laid out for that many */
	n = json_text(LAID("{'who':'all','op':'write','view':'cow','pages':'own','value':'1'}"),
		      text, sizeof(text));
	if (CHECK_OK(scenario_parse_for(text, n, PS, 5, &s, why, sizeof(why)) == 0)) {
		struct scenario_pages pg;

		CHECK(s.clients == 5 && s.pages == 22 && s.steps[1].nactions == 1 &&
		      s.names_client[0] == '\0');
		scenario_pages_of(&s, &s.steps[1].actions[0], 5, &pg);
		CHECK(pg.nruns == 1 && pg.runs[0].first == 17);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	/* past 64 clients: checked for 64, then read for them all */
	if (CHECK_OK(scenario_parse_for(text, n, PS, 100000, &s, why, sizeof(why)) == 0)) {
		struct scenario_pages pg;

		CHECK(s.clients == 100000 && s.pages == 2 + 4 * 100000 &&
		      scenario_acts(&s.steps[1].actions[0], 100000) &&
		      scenario_acts(&s.steps[1].actions[0], 64) &&
		      scenario_acts(&s.steps[0].actions[0], 70) &&
		      !scenario_acts(&s.steps[0].actions[0], 0));
		scenario_pages_of(&s, &s.steps[1].actions[0], 99999, &pg);
		CHECK(pg.nruns == 1 && pg.runs[0].first == 1 + 4 * 99998 && pg.total == 4);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	CHECK(scenario_parse_for(text, n, PS, 100001, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "1 to 100000 clients, not 100001") != NULL, "%s", why);
	/* past 64 clients, a file whose reach 64 clients cannot stand for */
	n = json_text(LAID("{'who':'all','op':'read','view':'cow','pages':'near 16'}"), text,
		      sizeof(text));
	CHECK(scenario_parse_for(text, n, PS, 64, &s, why, sizeof(why)) == 0);
	scenario_free(&s);
	CHECK(scenario_parse_for(text, n, PS, 65, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "runs with at most 64 clients: its widest \"near\" or \"around\" "
			 "reaches 16 clients") != NULL, "%s", why);
	/* and one that writes a client's page through the section in the step
	 * its neighbour reads it: refused for 100000 as for 3 */
	n = json_text(LAID("{'who':'all','op':'write','view':'rw','pages':'around 1 0',"
			   "'value':'stamp'}"), text, sizeof(text));
	CHECK(scenario_parse_for(text, n, PS, 100000, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "the outcome would depend on which goes first") != NULL, "%s",
		  why);
	/* one that names a client by id runs with its own number alone */
	n = json_text(LAID("{'who':1,'op':'read','view':'cow','pages':'0'}"), text, sizeof(text));
	CHECK(scenario_parse_for(text, n, PS, 2, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "needs 3 clients, not 2: it names clients by id "
			 "(steps[1].do[0].who)") != NULL, "%s", why);
	n = json_text(LAID("{'who':'all','op':'read','view':'cow','pages':'0',"
			   "'expect':{'*':'stamp of 2'}}"), text, sizeof(text));
	CHECK(scenario_parse_for(text, n, PS, 4, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "(steps[1].do[0].expect.*)") != NULL, "%s", why);
	CHECK_MSG(scenario_parse_for(text, n, PS, 3, &s, why, sizeof(why)) == 0, "%s", why);
	scenario_free(&s);

	/* problems of the file's own count are not those of another: read for
	 * 3 clients, "near 1" has someone near (for its 1 it would not) */
	n = json_text("{'scenario':'t','about':'a','clients':1,'pages':{'each':1},'steps':["
		      "{'say':'','do':[{'who':'all','op':'map','view':'cow'}]},"
		      "{'say':'','do':[{'who':'all','op':'evidence','view':'cow','pages':'near 1',"
		      "'expect':{'private':1}}]}]}", text, sizeof(text));
	CHECK_MSG(scenario_parse_for(text, n, PS, 3, &s, why, sizeof(why)) == 0, "%s", why);
	scenario_free(&s);
	CHECK(scenario_parse_for(text, n, PS, 1, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "with 1 client, no client has pages here") != NULL, "%s", why);
	/* a client with nobody near does not do it: its prediction of 1 private
	 * page is no error for it */
	n = json_text(LAID("{'who':'all','op':'evidence','view':'cow','pages':'near 1 0',"
			   "'expect':{'private':1}},{'who':'all','op':'read','view':'cow',"
			   "'pages':'own'}"), text, sizeof(text));
	CHECK_MSG(scenario_parse_for(text, n, PS, 1, &s, why, sizeof(why)) == 0, "%s", why);
	CHECK(s.nsteps == 2 && s.steps[1].nactions == 2);
	scenario_free(&s);
	/* pages by number past "before" are some client's, or the last ones:
	 * their meaning moves with the count, so the count is the file's */
	n = json_text(LAID("{'who':'all','op':'read','view':'cow','pages':'0,5'}"), text,
		      sizeof(text));
	CHECK(scenario_parse_for(text, n, PS, 4, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "needs 3 clients, not 4: it names pages by number past the "
			 "section's first") != NULL && strstr(why, "(steps[1].do[0].pages)") != NULL,
		  "%s", why);
	/* "all" and "clients" mean the same whatever the count */
	n = json_text(LAID("{'who':'all','op':'read','view':'cow','pages':'0'},"
			   "{'who':'all','op':'read','view':'rw','pages':'all'},"
			   "{'who':'all','op':'read','view':'rw','pages':'clients'}"), text,
		      sizeof(text));
	if (CHECK_OK(scenario_parse_for(text, n, PS, 5, &s, why, sizeof(why)) == 0)) {
		const struct scenario_action *a = s.steps[1].actions;

		CHECK(s.steps[1].nactions == 3 && a[1].rel.kind == SCENARIO_ABSOLUTE &&
		      a[1].pages.runs[0].first == 0 &&
		      a[1].pages.total == 22 && a[2].pages.runs[0].first == 1 &&
		      a[2].pages.total == 20 && s.names_client[0] == '\0');
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}

	/* checks judged per client */
	n = json_text("{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read',"
		      "'view':'cow','pages':'near 1','check':'iso'},{'who':'all','op':'read',"
		      "'view':'cow','pages':'0','check':'zero'}]}],'checks':{'iso':{'per':'client'},"
		      "'zero':{'per':'run'}}}", text, sizeof(text));
	if (CHECK_OK(scenario_parse(text, n, PS, &s, why, sizeof(why)) == 0)) {
		CHECK(s.nchecks == 2 && strcmp(s.checks[0], "iso") == 0 && s.per_client[0] &&
		      !s.per_client[1]);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}

	/* members: declared checks first, in their order; count_as as bits */
	n = json_text("{" LAYOUT "'page_maps':false,'checks':{'b':{'members':{'x':'matches',"
		      "'y':'sightings','z':'as_predicted'}}},'steps':[" MAPS ",{'say':'x','do':"
		      "[{'who':'all','op':'read','view':'cow','pages':'own','check':'a'},"
		      "{'who':'all','op':'read','view':'rw','pages':'own','check':'b',"
		      "'count_as':['z','x']}]}]}", text, sizeof(text));
	if (CHECK_OK(scenario_parse(text, n, PS, &s, why, sizeof(why)) == 0)) {
		CHECK(s.nchecks == 2 && strcmp(s.checks[0], "b") == 0 && s.nmembers[0] == 3 &&
		      s.nmembers[1] == 0 && !s.all_declared && s.no_page_maps &&
		      s.steps[1].actions[1].count_as == (1u << 0 | 1u << 2) &&
		      s.steps[1].actions[0].count_as == 0);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}

	static const struct {
		const char *file, *why;
	} bad[] = {
		{ "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read','view':"
		  "'cow','pages':'0','check':'zero'}]}],'checks':{'zero':{'per':'client'}}}",
		  "steps[1].do[0]: the check zero is per client, and page 0 is no client" },
		{ "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read','view':"
		  "'cow','pages':'own','check':'a'}]}],'checks':{'b':{'per':'client'}}}",
		  "checks.b: no action names this check" },
		{ "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read','view':"
		  "'cow','pages':'own','check':'a'}]}],'checks':{'a':{'per':'everyone'}}}",
		  "checks.a.per" },
		{ "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read','view':"
		  "'cow','pages':'own','check':'a'}]}],'checks':{'a':{'per':'client','x':1}}}",
		  "checks.a: unknown member" },
		{ "{" LAYOUT "'steps':[" MAPS ",{'say':'x','do':[{'who':'server','op':'map','view':"
		  "'rw','check':'a'}]}],'checks':{'a':{'per':'client'}}}",
		  "the check a is per client, and the server" },
		/* members, and what counts toward them */
		{ LAID("{'who':'all','op':'read','view':'cow','pages':'own','count_as':'m'}"),
		  "steps[1].do[0].count_as: an action counts toward a member of its check, and it "
		  "names none" },
		{ LAID("{'who':'all','op':'read','view':'cow','pages':'own','check':'a',"
		       "'count_as':'m'}"),
		  "count_as: the check a declares no members" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'matches'}}},'steps':[" MAPS ",{'say':"
		  "'x','do':[{'who':'all','op':'read','view':'cow','pages':'own','check':'a',"
		  "'count_as':'n'}]}]}", "count_as: 'n' is not a member of the check a" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'private'}}},'steps':[" MAPS ",{'say':"
		  "'x','do':[{'who':'all','op':'read','view':'cow','pages':'own','check':'a',"
		  "'count_as':'m'}]}]}", "count_as: a member of kind 'private' counts no read" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'matches'}}},'steps':[" MAPS ",{'say':"
		  "'x','do':[{'who':'all','op':'read','view':'cow','pages':'own','check':'a',"
		  "'count_as':['m','m']}]}]}", "count_as[1]: 'm' is named twice" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'matches'}},'b':{'per':'client','members':"
		  "{'n':'matches'}}},'steps':[" MAPS ",{'say':'x','do':[{'who':'all','op':'read',"
		  "'view':'cow','pages':'own','check':'a','count_as':['m','b.n']}]}]}",
		  "the check b is judged per client, and a for the run" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'matches'}}},'steps':[" MAPS ",{'say':"
		  "'x','do':[{'who':'all','op':'read','view':'cow','pages':'own','check':'a',"
		  "'count_as':'c.m'}]}]}", "another check the file declares is needed before" },
		{ "{" LAYOUT "'checks':{'a':{}},'steps':[" MAPS ",{'say':'x','do':[{'who':'all',"
		  "'op':'read','view':'cow','pages':'own','check':'a','also':'z'}]}]}",
		  "also: 'z': another check the file declares is needed" },
		{ "{" LAYOUT "'steps':[{'say':'x','name':'Write','do':[{'who':'all','op':'map',"
		  "'view':'cow'}]}]}", "steps[0].name: a step" },
		{ "{" LAYOUT "'checks':{'a':{'members':{'m':'lots'}}},'steps':[]}",
		  "checks.a.members.m: 'lots' is not a kind" },
		{ "{" LAYOUT "'checks':{'a':{'members':{}}},'steps':[]}",
		  "checks.a.members: an object of 1 to 8 members is needed" },
		{ "{" LAYOUT "'checks':{'model_agrees':{}},'steps':[]}",
		  "checks.model_agrees: model_agrees is the engine" },
		{ "{" LAYOUT "'page_maps':0,'steps':[]}", "page_maps: true or false is needed" },
		/* a check of the clients' own facts */
		{ "{" LAYOUT "'checks':{'img':{'per':'client','facts':'image'}},'steps':[" MAPS
		  ",{'say':'x','do':[{'who':'all','op':'read','view':'cow','pages':'own','check':"
		  "'img'}]}]}", "steps[1].do[0].check: the check img is judged from the clients" },
		{ "{" LAYOUT "'checks':{'img':{'facts':'image'}},'steps':[]}",
		  "checks.img: a check of the clients" },
		{ "{" LAYOUT "'checks':{'img':{'per':'client','facts':'mood'}},'steps':[]}",
		  "checks.img.facts: 'mood' is not one of the known values" },
		{ "{" LAYOUT "'checks':{'img':{'per':'client','facts':'image','members':{'a':"
		  "'matches'}}},'steps':[]}", "facts has its own members" },
		{ "{" HEAD "'steps':[" MAPS ",{'say':'x','do':[{'who':1,'op':'read','view':'cow',"
		  "'pages':'1','check':'a'}]}],'checks':{'a':{'per':'client'}}}",
		  "checks.a: a check per client needs the section laid out by client" },
		{ MAPPED("{'who':1,'op':'read','view':'cow','pages':'clients'}"),
		  "'clients' needs the section laid out by client" },
		{ MAPPED("{'who':1,'op':'read','view':'cow','pages':'own'}"),
		  "steps[1].do[0].pages: 'own' needs the section laid out by client" },
		{ LAID("{'who':'server','op':'read','view':'rw','pages':'own'}"),
		  "steps[1].do[0].pages: 'own' is a client" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'each'}"),
		  "'each' is the server" },
		{ LAID("{'who':'all','op':'read','view':'cow','pages':'each 0'}"),
		  "'each' is the server" },
		{ "{" LAYOUT "'steps':[{'say':'m','do':[{'who':'server','op':'map','view':'rw'}]},"
		  "{'say':'x','do':[{'who':'server','op':'read','view':'rw','pages':'each'},"
		  "{'who':'server','op':'read','view':'rw','pages':'0'}]}]}",
		  "steps[1]: the server" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'near 0'}"),
		  "'near' needs how many clients on each side, 1 to 64" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'near 2x'}"), "needs how many" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'owner'}"), "is not a page list" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own '}"), "ends with a space" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own 4'}"),
		  "is past its 4 pages (they count from 0)" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own 2-1'}"), "goes down" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own 0-3/0'}"),
		  "every how many pages, 1 or more, after the /" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own 0-3/4,0'}"),
		  "the parts must go up without overlapping" },
		{ LAID("{'who':'all','op':'evidence','view':'cow','pages':'own 0-3/2'}"),
		  "evidence' takes no '/'" },
		{ LAID("{'who':1,'op':'read','view':'cow','pages':'own','expect':{'1':'pattern'}}"),
		  "expect.1: pages relative to a client are predicted all at once" },
		{ LAID("{'who':'all','op':'evidence','view':'cow','pages':'own 0',"
		       "'expect':{'private':2}}"),
		  "steps[1].do[0]: expect.private: 2, but client 1" },
		{ "{'scenario':'t','about':'a','clients':64,'pages':{'each':65536,'after':1},"
		  "'steps':[]}", "pages: 0 + 64 x 65536 + 1 pages: more than the 4194304" },
		{ "{'scenario':'t','about':'a','clients':1,'pages':{'each':1,'fore':1},'steps':[]}",
		  "pages: unknown member" },
		{ "{'scenario':'t','about':'a','clients':1,'pages':{'before':1},'steps':[]}",
		  "pages: the member 'each' is missing" },
		{ "{'scenario':'t','about':'a','clients':1,'pages':'8','steps':[]}",
		  "or {'before', 'each', 'after'}" },
		{ "{'scenario':'t','about':'a','clients':1,'pages':{'each':2},'steps':["
		  "{'say':'','do':[{'who':'all','op':'map','view':'cow'}]},"
		  "{'say':'','do':[{'who':'all','op':'read','view':'cow','pages':'near 1'}]}]}",
		  "steps[1]: with 1 client, no client has pages here" },
		/* a view mapped before use: said of the action as written */
		{ LAID("{'who':'all','op':'read','view':'ro','pages':'own'}"),
		  "steps[1].do[0]: client 1 has no ro view mapped" },
		/* who goes first: found between two clients' own actions */
		{ LAID("{'who':'all','op':'write','view':'rw','pages':'around 1 0','value':'stamp'}"),
		  "steps[1]: client 1 writes page 1 through the section (do[0]) while client 2 "
		  "writes it (do[0])" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[200];

		json_text(bad[i].why, want, sizeof(want));
		CHECK_MSG(parse(bad[i].file, &s, why, sizeof(why)) != 0, "bad[%zu] was read", i);
		CHECK_MSG(strstr(why, want) != NULL, "bad[%zu]: \"%s\" lacks \"%s\"", i, why, want);
		CHECK(s.steps == NULL && s.about == NULL);
	}

	/* 64 clients' own actions count against a step's 1024 */
	n = (size_t)snprintf(text, sizeof(text), "{\"scenario\":\"t\",\"about\":\"a\","
			     "\"clients\":64,\"pages\":{\"each\":1},\"steps\":[{\"say\":\"\","
			     "\"do\":[{\"who\":\"all\",\"op\":\"map\",\"view\":\"cow\"}]},"
			     "{\"say\":\"\",\"do\":[");
	for (int k = 0; k < 17; k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"who\":\"all\",\"op\":"
				      "\"read\",\"view\":\"cow\",\"pages\":\"own\"}",
				      k ? "," : "");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "]}]}");
	CHECK(scenario_parse(text, n, PS, &s, why, sizeof(why)) != 0);
	CHECK_MSG(strstr(why, "steps[1]: 1088 actions once each client's own are counted (64 "
			 "clients); at most 1024 a step") != NULL, "%s", why);
}

/* A file with forks: who is born of whom and when, "all" before a birth
 * leaves the child out, the child has its parent's views; it runs with
 * its own clients, counted with or without the children. */
static void test_fork(void)
{
	struct scenario s;
	char why[256], text[2048];
	const char *f = FORKED("{'who':1,'op':'fork','child':3}",
			       "{'who':'all','op':'read','view':'cow','pages':'1'}");
	size_t n;

	if (CHECK_OK(parse(f, &s, why, sizeof(why)) == 0)) {
		CHECK(s.forks == 1 && scenario_started(&s) == 2 && s.clients == 3);
		CHECK(s.parent[3] == 1 && s.born_in[3] == 1 && s.born_in[1] == -1 &&
		      s.born_in[2] == -1 && s.parent[1] == 0);
		/* "all" in step 1 is clients 1 and 2; in step 3, all three */
		CHECK(s.steps[0].actions[0].who.clients == 3);
		CHECK(s.steps[2].actions[0].who.clients == 7);
		CHECK(s.steps[1].actions[0].op == SCENARIO_FORK && s.steps[1].actions[0].child == 3);
		CHECK(s.names_client[0] != '\0');
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	n = json_text(f, text, sizeof(text));
	/* 2 (those the run starts) or 3 (all) */
	CHECK(scenario_parse_for(text, n, PS, 2, &s, why, sizeof(why)) == 0 && s.clients == 3);
	scenario_free(&s);
	CHECK(scenario_parse_for(text, n, PS, 3, &s, why, sizeof(why)) == 0 && s.clients == 3);
	scenario_free(&s);
	CHECK(scenario_parse_for(text, n, PS, 4, &s, why, sizeof(why)) != 0 &&
	      strstr(why, "needs 2 clients, not 4: its forks make 1 more (3 in all)") != NULL);
	CHECK(s.steps == NULL);
}

/* "page_size": huge pages; an offset anywhere in one. */
static void test_page_size(void)
{
	struct scenario s;
	char why[256];

	if (CHECK_OK(parse("{'scenario':'t','about':'a','clients':1,'pages':2,'page_size':'2M',"
			   "'steps':[{'say':'w','do':[{'who':1,'op':'map','view':'cow'},"
			   "{'who':1,'op':'read','view':'cow','pages':'0','offset':1048576}]}]}",
			   &s, why, sizeof(why)) == 0)) {
		CHECK(s.page_size == 2097152 && s.steps[0].actions[1].offset == 1048576);
		scenario_free(&s);
	} else {
		fprintf(stderr, "%s\n", why);
	}
	if (CHECK_OK(parse("{'scenario':'t','about':'a','clients':1,'pages':2,'page_size':"
			   "1073741824,'steps':[{'say':'w','do':[{'who':1,'op':'map','view':"
			   "'cow'}]}]}", &s, why, sizeof(why)) == 0)) {
		CHECK(s.page_size == 1073741824);
		scenario_free(&s);
	}
	/* the schema's version, said */
	if (CHECK_OK(parse("{'scenario':'t','schema_version':1,'about':'a','clients':1,'pages':2,"
			   "'steps':[{'say':'w','do':[{'who':1,'op':'map','view':'cow'}]}]}", &s,
			   why, sizeof(why)) == 0))
		scenario_free(&s);
	/* none said: 0, the platform's */
	if (CHECK_OK(parse(ONE("{'who':1,'op':'map','view':'cow'}"), &s, why, sizeof(why)) == 0)) {
		CHECK(s.page_size == 0);
		scenario_free(&s);
	}
}

int main(void)
{
	test_page_size();
	test_first_file();
	test_who();
	test_pages();
	test_bad();
	test_fork();
	test_load();
	test_action_limits();
	test_work_limit();
	test_builtin();
	test_relative();
	return check_exit("test-scenario");
}
