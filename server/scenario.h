/* A scenario: a copy-on-write experiment as data (docs/scenarios.md).
 * This module reads and validates a scenario file and nothing else: every
 * member checked, every refusal naming the file, the member's JSON path and
 * what was wrong. A file is untrusted input. */
#ifndef COWLAB_SCENARIO_H
#define COWLAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCENARIO_FILE_MAX (1u << 20)
#define SCENARIO_STEPS_MAX 256
#define SCENARIO_ACTIONS_MAX 512    /* a step, as written */
#define SCENARIO_EXPANDED_MAX 1024  /* a step, each client's own counted */
#define SCENARIO_ACTIONS_TOTAL 4096 /* all steps */
#define SCENARIO_WORK_MAX (1u << 24) /* page operations in all: pages x participants */
#define SCENARIO_CLIENTS_MAX 64     /* a file's own, or any file naming clients by id */
#define SCENARIO_CLIENTS_ANY 100000 /* a file naming none: cowlab-server --spawn's most */
#define SCENARIO_REACH_ANY 15       /* ...whose widest "near"/"around" is at most this */
#define SCENARIO_PAGES_MAX 65536    /* in the section, given as a number */
#define SCENARIO_SECTION_PAGES_MAX (1u << 22) /* ...laid out by client: 16 GiB of 4 KiB
						 pages, the server's own limit */
#define SCENARIO_RUNS_MAX 64        /* parts of a page list */
#define SCENARIO_EXPECT_PAGES_MAX 64
#define SCENARIO_TEXT_MAX 1024      /* about, say: bytes and the NUL */
#define SCENARIO_NAME_MAX 64
#define SCENARIO_TITLE_MAX 56       /* title: bytes and the NUL */
#define SCENARIO_CHECK_MAX 32
#define SCENARIO_CHECKS_MAX 11     /* names of checks in a scenario */
#define SCENARIO_MEMBERS_MAX 8      /* members of a check's expected and observed */

/* What a member of a check's `expected` and `observed` counts
 * (docs/scenarios.md, "Members"): each from the observations whose action
 * counts toward it (`count_as`), the model's side and the OS's. */
enum scenario_member_kind {
	SCENARIO_M_MATCHES,       /* pages predicted / pages as predicted */
	SCENARIO_M_SIGHTINGS,     /* 0 / pages that read other than predicted */
	SCENARIO_M_DIFFERING,     /* the same, with up to 16 [page, word] samples */
	SCENARIO_M_PRIVATE,       /* the model's private copies / the OS's (the
				   check's evidence: the last such report) */
	SCENARIO_M_AS_PREDICTED,  /* true / every observation as predicted */
	SCENARIO_M_SHOWS,         /* false / whether any read other than predicted */
	SCENARIO_M_FAULT,         /* true / every write faulted as predicted (the
				   check's evidence: the first fault) */
	SCENARIO_M_COUNT,
};
struct scenario_member {
	char name[SCENARIO_CHECK_MAX];
	enum scenario_member_kind kind;
};

enum scenario_op {
	SCENARIO_MAP, SCENARIO_UNMAP, SCENARIO_WRITE, SCENARIO_READ, SCENARIO_PROTECT,
	SCENARIO_DISCARD, SCENARIO_EVIDENCE, SCENARIO_FORK, SCENARIO_OP_COUNT,
};
enum scenario_view { SCENARIO_VIEW_RW, SCENARIO_VIEW_COW, SCENARIO_VIEW_RO, SCENARIO_VIEW_COUNT };
enum scenario_protect {
	SCENARIO_READONLY, SCENARIO_READWRITE, SCENARIO_WRITECOPY, SCENARIO_NOACCESS,
	SCENARIO_PROTECT_COUNT,
};

/* Who acts: the server, and/or clients (bit i-1 for client i of the first
 * 64); `all`: every client past the 64th too ("all", or "others" in a step
 * that names no client by id). */
struct scenario_who {
	bool server;
	bool all;
	uint64_t clients;
};

/* Pages: runs in increasing order, none overlapping; a run is `count`
 * pages from `first`, every `stride`-th ("0-15/4": 0, 4, 8, 12). */
struct scenario_run {
	uint32_t first, count, stride;
};
struct scenario_pages {
	struct scenario_run runs[SCENARIO_RUNS_MAX];
	size_t nruns;
	uint32_t total;
};
/* The n-th page of a run, and its last. */
static inline uint32_t scenario_run_page(const struct scenario_run *r, uint32_t n)
{
	return r->first + n * r->stride;
}
static inline uint32_t scenario_run_last(const struct scenario_run *r)
{
	return r->first + (r->count - 1) * r->stride;
}

enum scenario_value_kind {
	SCENARIO_WORD,      /* `word` itself */
	SCENARIO_PATTERN,   /* the section's initial word at that place */
	SCENARIO_STAMP,     /* the pattern xor the stamp of `stamp_of` */
	SCENARIO_FAULT,     /* (a prediction of a read) the read faults */
};
/* Whose stamp: the acting participant's own, the server's, or a client's. */
#define SCENARIO_STAMP_OWN (-1)
#define SCENARIO_STAMP_SERVER 0

struct scenario_value {
	enum scenario_value_kind kind;
	uint32_t word;
	int stamp_of;       /* SCENARIO_STAMP_OWN, _SERVER, or a client's id */
};

/* What the author predicts (never what decides the verdict). */
struct scenario_expect {
	bool given;
	bool has_all;                       /* read: "*" */
	struct scenario_value all;
	struct { uint32_t page; struct scenario_value value; } pages[SCENARIO_EXPECT_PAGES_MAX];
	size_t npages;                      /* read: pages named */
	int fault;                          /* write: -1 not said, 0, 1 */
	int64_t private_pages;              /* evidence: -1 not said */
};

/* Pages relative to the client that acts (or, the server's "each", to
 * each client in turn), resolved for that client by scenario_pages_of. */
enum scenario_rel_kind {
	SCENARIO_ABSOLUTE, SCENARIO_OWN, SCENARIO_NEAR, SCENARIO_AROUND, SCENARIO_EACH,
};
struct scenario_rel {
	enum scenario_rel_kind kind;
	uint32_t width;                     /* near, around: clients on each side */
	struct scenario_pages idx;          /* indexes in a client's pages (nruns 0: all) */
};

struct scenario_action {
	struct scenario_who who;
	bool others;                        /* `who` was "others" (resolved into who) */
	enum scenario_op op;
	enum scenario_view view;
	struct scenario_pages pages;        /* all but map and unmap; relative ones: empty,
					       see scenario_pages_of */
	struct scenario_rel rel;
	struct scenario_value value;        /* write */
	uint32_t offset;                    /* write, read */
	enum scenario_protect protect;      /* protect */
	struct scenario_expect expect;
	char check[SCENARIO_CHECK_MAX];     /* "" when none */
	uint8_t count_as;                   /* members of its check it counts toward
					       (bit i: members[check][i]) */
	int8_t also;                        /* another check it counts toward
					       ("check.member"): its index, or -1 */
	uint8_t also_as;                    /* ...and the members of that one */
	uint32_t at;                        /* its index in the step's `do` */
	int child;                          /* fork: the client its child joins as */
	char rel_text[24];                  /* its pages as written when relative to
					       a client ("own 0"), else "" */
};

struct scenario_step {
	char *say;
	char name[SCENARIO_CHECK_MAX];      /* "" when none: its number names it */
	struct scenario_action *actions;
	size_t nactions;
};

struct scenario {
	char name[SCENARIO_NAME_MAX];
	char title[SCENARIO_TITLE_MAX];     /* "" when none */
	char *about;
	int clients;
	uint32_t pages;
	/* "page_size": the section's page size the file asks for ("2M": huge
	 * pages), or 0: the platform's (or --page-size) */
	uint32_t page_size;
	/* "pages": {"before", "each", "after"}: client k's own pages are
	 * before + (k - 1) * each and the each - 1 after it (each 0: the
	 * section's size was given as a number) */
	uint32_t before, each, after;
	/* where the file names a client by id (a `who`, a "stamp of N"), or
	 * "": it then runs with its `clients` alone, else with any number */
	char names_client[96];
	const char *names_what;             /* "clients by id", ... */
	int file_clients;                   /* `clients` as the file says */
	uint32_t reach;                     /* its widest "near"/"around", or 0 */
	/* the names of checks its actions give, in the order of the file
	 * (an action no client does, "near" with one client, still names
	 * its check: the run says it was not applicable) */
	char checks[SCENARIO_CHECKS_MAX][SCENARIO_CHECK_MAX];
	size_t nchecks;
	/* "checks": {"name": {"per": "client"}}: judged for each client, by
	 * the observations of its own pages, whoever made them */
	bool per_client[SCENARIO_CHECKS_MAX];
	/* "checks": {"name": {"members": {"m": "matches", ...}}}: what the
	 * check's expected and observed say, in that order */
	struct scenario_member members[SCENARIO_CHECKS_MAX][SCENARIO_MEMBERS_MAX];
	uint8_t nmembers[SCENARIO_CHECKS_MAX];
	/* "facts": "image": judged for each client from the facts its
	 * process reports of itself (its hello), not from actions */
	bool image_facts[SCENARIO_CHECKS_MAX];
	/* every check an action names is declared in "checks" (which come
	 * first in `checks`, in the order declared) */
	bool all_declared;
	/* "page_maps": false: no page map after a step's writes (the file's
	 * own evidence actions are its maps) */
	bool no_page_maps;
	struct scenario_step *steps;
	size_t nsteps;
	/* fork: each client's parent (0: a client the run starts) and the
	 * step whose fork makes it (-1: started); children take the last
	 * ids, `forks` of them */
	int parent[SCENARIO_CLIENTS_MAX + 1];
	int born_in[SCENARIO_CLIENTS_MAX + 1];
	int forks;
};

/* Reads a scenario from text[0..len): 0, or COWLAB_E_PROTO (COWLAB_E_NOMEM,
 * COWLAB_E_TOOBIG) with `why` saying which member and what, e.g.
 * "steps[3].do[1].pages: page 40 is past the section's 32 pages".
 * page_size bounds `offset`, unless the file names its own ("page_size"). On failure *out holds nothing. */
int scenario_parse(const char *text, size_t len, uint32_t page_size, struct scenario *out,
		   char *why, size_t cap);
/* The same for `clients` clients (0: the file's own `clients`): a file
 * that names no client by id runs with any number from 1 to
 * SCENARIO_CLIENTS_ANY (past SCENARIO_CLIENTS_MAX when its widest reach is
 * at most SCENARIO_REACH_ANY: it is checked for 64 clients, which then
 * stand for any number), one that does with its own alone. */
int scenario_parse_for(const char *text, size_t len, uint32_t page_size, int clients,
		       struct scenario *out, char *why, size_t cap);
/* The same from a file; `why` then starts with the file's path. */
int scenario_load(const char *path, uint32_t page_size, int clients, struct scenario *out,
		  char *why, size_t cap);
/* The built-in experiment as a scenario (builtin.c): `clients` clients
 * with `pages_per_client` pages each, the layout and check names of
 * cowlab-server --spawn N. 0, or a negative cowlab_err with `why`. */
#define SCENARIO_BUILTIN_CLIENTS_MAX SCENARIO_CLIENTS_ANY
#define SCENARIO_BUILTIN_PAGES_MAX 16384 /* --pages-per-client's most */
int scenario_builtin(int clients, uint64_t pages_per_client, uint32_t page_size,
		     struct scenario *out, char *why, size_t cap);
/* The same document as indented JSON text (free it with free()), or
 * NULL: out of range (`why` says so) or out of memory (`why` empty). */
char *scenario_builtin_text(int clients, uint64_t pages_per_client, char *why, size_t cap);
/* The pages action a acts on for client k: its own when it acts (k its
 * actor), or client k's for the server's "each"; an absolute list for
 * anyone. Empty when a relative list names no page for k ("near", one
 * client). */
void scenario_pages_of(const struct scenario *s, const struct scenario_action *a, int k,
		       struct scenario_pages *out);
/* Whether the check of that name is judged per client ("checks"). */
bool scenario_check_per_client(const struct scenario *s, const char *check);
/* The index of the check of that name in s->checks, or -1. */
int scenario_check_index(const struct scenario *s, const char *check);
/* Whether participant k (0 the server, 1.. the clients) does action a. */
static inline bool scenario_acts(const struct scenario_action *a, int k)
{
	if (k == 0)
		return a->who.server;
	return k <= 64 ? (a->who.clients >> (k - 1) & 1) != 0 : a->who.all;
}
/* Whether participant k (0 the server) does action a in client lane's
 * part of its step (lane 0: the server's actions that are no client's). */
bool scenario_in_lane(const struct scenario_action *a, int k, int lane);

/* The clients a run starts (the others are born of forks). */
static inline int scenario_started(const struct scenario *s)
{
	return s->clients - s->forks;
}

/* The participants that map a copy-on-write view in the run (a child of a
 * fork whose parent has one, too): each private hugetlb mapping has its
 * pages reserved when it is mapped. */
int scenario_cow_mappers(const struct scenario *s);

/* Frees what a scenario holds. Accepts a zeroed one. */
void scenario_free(struct scenario *s);

const char *scenario_op_name(enum scenario_op op);
const char *scenario_view_name(enum scenario_view v);
const char *scenario_protect_name(enum scenario_protect p);
const char *scenario_member_kind_name(enum scenario_member_kind k);

#endif
