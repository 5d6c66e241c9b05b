/* The report model: every client's checks with expected and observed
 * values and the OS evidence, the server's own checks, the page map and
 * the verdict; printed as one JSON object (docs/report.md) or for people. */
#ifndef COWLAB_REPORT_H
#define COWLAB_REPORT_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compat.h"
#include "platform.h"

/* A client's checks (eight at most today), and the server's: a
 * scenario's 11 named checks (SCENARIO_CHECKS_MAX), model_agrees and
 * negative_control_detected */
#define REPORT_CHECKS_MAX 12
#define REPORT_SERVER_CHECKS_MAX 13
#define REPORT_TEXT_MAX 200

/* Page map characters, one per page of the section. */
#define MAP_SERVER  'S' /* the server's own page */
#define MAP_COPY    'C' /* written through cow: a private copy, detached */
#define MAP_TRACK   't' /* untouched in cow: still tracks the section */
#define MAP_RW      'W' /* written through rw: visible in the section */
#define MAP_FAULT   'F' /* a write to the ro view faulted, nothing changed */
#define MAP_BROKEN  '!' /* a check about this page failed */
#define MAP_UNKNOWN '?' /* not proven: its client was lost, or a check about
			   it is unproven */
#define MAP_UNUSED  '.' /* assigned to nobody */

enum client_status { CLIENT_COMPLETE, CLIENT_LOST, CLIENT_REJECTED };

/* A check's outcome, from its flags: failed outranks unproven, which
 * outranks held (report_check_status). */
enum check_status { CHECK_HELD, CHECK_FAILED, CHECK_UNPROVEN, CHECK_NOT_APPLICABLE };

/* An operation a client answered with ok: false: an observation that was
 * not made. */
struct report_failed_op {
	char step[16];          /* "write" or "observe" */
	int index;              /* its index in the step's batch */
	char op[16];            /* its kind, e.g. "find" */
	char error[160];        /* the client's own words */
};
#define REPORT_FAILED_OPS_MAX 4

struct report_check {
	char name[32];
	char basis[16];         /* "server", "client" or "client+server" */
	bool held;
	bool applicable;        /* false: not applicable here, no failure */
	bool unproven;          /* an observation it rests on was not made:
				   neither held nor failed (docs/report.md) */
	char *detail;           /* one line for people (owned; NULL reads as "") */
	cJSON *expected;        /* owned JSON values; may be NULL */
	cJSON *observed;
	cJSON *evidence;
};

/* The version of docs/report.schema.json a report follows. */
#define REPORT_SCHEMA_VERSION 1

struct report_client {
	int id;                 /* 1.. for admitted clients, 0 for rejected */
	long pid;
	enum client_status status;
	char reason[REPORT_TEXT_MAX];
	uint64_t first_page, page_count;
	int parent;             /* born of this client's fork, or 0 */
	struct report_check checks[REPORT_CHECKS_MAX];
	size_t nchecks;
	/* Its operations that failed: the first REPORT_FAILED_OPS_MAX, and
	 * how many in all. */
	struct report_failed_op failed_ops[REPORT_FAILED_OPS_MAX];
	size_t nfailed_ops;
};

struct report {
	char version[32];
	struct platform_info platform;
	char section_name[96];
	uint64_t section_size;
	uint64_t page_size;
	uint32_t seed;
	bool cow_as_shared;     /* the negative control was asked for */
	int expected_clients;
	int64_t elapsed_ms;
	struct report_client *clients; /* admitted, by id */
	size_t nclients;
	struct report_client *rejected;
	size_t nrejected;
	size_t clients_cap, rejected_cap;
	struct report_check server_checks[REPORT_SERVER_CHECKS_MAX];
	size_t nserver_checks;
	char *page_map;         /* section pages + NUL */
	char setup_error[512];   /* set when the run could not start */
	char interrupted[32];   /* what interrupted the run ("SIGINT"), or "" */
	int run;                /* 1-based, with --repeat */
	struct platform_resources before, after; /* the server's, around the run */
	cJSON *scenario;        /* a scenario's run (server/play.c), or NULL */
	cJSON *copy_cost;       /* the cost of a copy (server/play.c), or NULL */
	bool color;             /* the human report's page map in colour (--color) */
};

/* --color: the page map's letters in colour, for a terminal. */
enum report_color { REPORT_COLOR_AUTO, REPORT_COLOR_ALWAYS, REPORT_COLOR_NEVER };
/* Whether to colour a stream: always, never, or (auto) when it is a
 * terminal that takes ANSI sequences, NO_COLOR is unset or empty
 * (no-color.org) and TERM is not "dumb". */
bool report_color_wanted(enum report_color when, bool ansi_terminal);
/* n letters of a page map; coloured, each letter keeps its colour's
 * meaning and the letters stay (the map reads the same without colour). */
void report_print_map_row(FILE *out, const char *row, size_t n, bool color);

/* "cost of a copy: ..." for people, from copy_cost (nothing without). */
void report_print_copy_cost(const struct report *r, FILE *out);

/* Exit statuses. */
enum report_exit {
	REPORT_EXIT_HELD = 0,
	REPORT_EXIT_FAILED = 1,
	REPORT_EXIT_USAGE = 2,
	REPORT_EXIT_LOST = 3,
};

struct report_summary {
	int complete, lost, rejected, missing;
	int checks_held, checks_failed, checks_unproven, checks_not_applicable;
	int operations_failed;
};

void report_init(struct report *r);
void report_free(struct report *r);
/* Appends a zeroed client (admitted or rejected); NULL when out of memory. */
struct report_client *report_add_client(struct report *r, bool rejected);
/* Makes room for `n` admitted clients at once (no slack from doubling).
 * Returns 0 or a negative cowlab_err. */
int report_reserve_clients(struct report *r, size_t n);
/* Appends a check to a list of room for `cap` (REPORT_CHECKS_MAX for a
 * client's, REPORT_SERVER_CHECKS_MAX for the server's); returns it for the
 * caller to fill, or NULL when the list is full. Takes ownership of
 * expected/observed/evidence (any may be NULL). */
struct report_check *report_add_check(struct report_check *list, size_t cap, size_t *n,
				      const char *name, bool held, cJSON *expected,
				      cJSON *observed, cJSON *evidence);

/* Sets a check's detail line (at most REPORT_TEXT_MAX bytes), allocated
 * to its length. */
struct evidence_report;
/* An evidence report as JSON: {pages, private, sources, platform_deviation}. */
cJSON *report_evidence_json(const struct evidence_report *ev);
void report_check_detail(struct report_check *c, const char *fmt, ...) COWLAB_PRINTF(2, 3);
void report_check_vdetail(struct report_check *c, const char *fmt, va_list ap)
	COWLAB_PRINTF(2, 0);

enum check_status report_check_status(const struct report_check *c);
const char *report_check_status_name(enum check_status s);
/* Marks a check unproven (neither held nor failed), with a detail that
 * says which observation is missing; it replaces the detail. The caller
 * decides: an observation that contradicts isolation fails a check even
 * when another one it rests on is missing. */
void report_check_unproven(struct report_check *c, const char *fmt, ...) COWLAB_PRINTF(2, 3);
/* Records an operation of a client that failed (ok: false). */
void report_client_failed_op(struct report_client *c, const char *step, int index,
			     const char *op, const char *error);

void report_summarize(const struct report *r, struct report_summary *s);
bool report_isolation_held(const struct report *r);
enum report_exit report_exit_status(const struct report *r);

/* The report as one JSON object on one line, written in two parts:
 * report_json_begin writes every member but the last, "server_resources",
 * which is known only once the run is torn down; report_json_end writes
 * that, the closing brace and a newline. */
void report_json_begin(const struct report *r, FILE *out);
void report_json_end(const struct report *r, FILE *out);
void report_print_human(const struct report *r, FILE *out);

const char *report_client_status_name(enum client_status s);

#endif
