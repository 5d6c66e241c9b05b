/* The Virtual API, explored on the running machine: the system's memory
 * facts, a region walked through its states (free, reserved, committed,
 * decommitted, released) with what the OS says at each step, and
 * demonstrations of faults and protections, each judged against what
 * Windows documents. The backends (common/posix/explore.c,
 * common/win32/explore.c) run it; common/explore.c judges and prints. */
#ifndef COWLAB_EXPLORE_H
#define COWLAB_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "fault.h"

#define EXPLORE_TEXT 320
#define EXPLORE_NOTE 600

struct explore_system {
	char os[32];
	char wine_version[32];         /* "" unless under Wine */
	uint64_t page_size;
	uint64_t allocation_granularity;
	uint64_t large_page_minimum;   /* 0: no large pages */
	uint64_t min_address;          /* lowest and highest user address */
	uint64_t max_address;
	/* How each figure was found (the call, the file, the probe). */
	char page_size_source[EXPLORE_TEXT];
	char large_page_source[EXPLORE_TEXT];
	char min_address_source[EXPLORE_NOTE];
	char max_address_source[EXPLORE_NOTE];
};

/* A page state in Windows's terms; Linux's answer is mapped onto it. */
enum explore_state {
	EXPLORE_FREE,        /* MEM_FREE; no line in /proc/self/maps */
	EXPLORE_RESERVED,    /* MEM_RESERVE; a ---p mapping */
	EXPLORE_COMMITTED,   /* MEM_COMMIT; an accessible mapping */
	EXPLORE_UNKNOWN,
};

/* What VirtualQuery (or /proc/self/maps) said about one address. */
struct explore_query {
	enum explore_state state;
	char protect[48];       /* "PAGE_READWRITE" or "rw-p" */
	char type[32];          /* "MEM_PRIVATE", "MEM_MAPPED", or "anonymous" */
	uint64_t base;          /* the region (or mapping) holding the address */
	uint64_t size;
	uint64_t allocation_base; /* Windows only */
	bool has_allocation_base; /* false where the platform has no such thing */
	char raw[EXPLORE_TEXT]; /* the answer as the OS gave it */
};

enum explore_step_id {
	EXPLORE_STEP_FREE,
	EXPLORE_STEP_RESERVED,
	EXPLORE_STEP_COMMITTED,
	EXPLORE_STEP_DECOMMITTED,
	EXPLORE_STEP_RELEASED,
	EXPLORE_STEPS,
};

struct explore_step {
	char call[EXPLORE_TEXT];    /* what was done to get here */
	bool call_ok;
	enum explore_state expected;
	struct explore_query q;
	char note[EXPLORE_NOTE];    /* where the platform has no such state */
};

enum explore_outcome {
	EXPLORE_AS_DOCUMENTED,
	EXPLORE_DEVIATION,          /* a known platform deviation, explained */
	EXPLORE_NOT_APPLICABLE,     /* the platform has no such thing, explained */
	EXPLORE_UNEXPECTED,         /* none of the above: a failure */
};

/* One access a demonstration made, and whether it faulted. */
struct explore_access {
	char what[96];
	bool write;
	uint64_t touched;
	bool expect_fault;
	char expect_code[48];       /* the fault it must raise, if any */
	uint32_t value;             /* read, or written */
	bool probe_ok;              /* the probe could be set up */
	struct fault_info fault;
	size_t after_facts;         /* facts recorded before it, for the order */
};

#define EXPLORE_ACCESSES_MAX 3
#define EXPLORE_FACTS_MAX 8

enum explore_demo_id {
	EXPLORE_DEMO_RESERVED_TOUCH,
	EXPLORE_DEMO_COMMITTED_ZERO,
	EXPLORE_DEMO_READONLY_WRITE,
	EXPLORE_DEMO_GUARD_ONCE,
	EXPLORE_DEMO_COW_PROTECT,
	EXPLORE_DEMO_FREE_TOUCH,
	EXPLORE_DEMOS,
};

struct explore_demo {
	enum explore_outcome outcome;
	char why[EXPLORE_NOTE];     /* the deviation or why not applicable */
	struct explore_access access[EXPLORE_ACCESSES_MAX];
	size_t naccess;
	char facts[EXPLORE_FACTS_MAX][EXPLORE_TEXT]; /* what the OS said on the way */
	size_t nfacts;
};

struct explore_result {
	struct explore_system sys;
	uint64_t region_size;
	struct explore_step steps[EXPLORE_STEPS];
	struct explore_demo demos[EXPLORE_DEMOS];
};

/* Runs the whole exploration (backend). Returns 0, or a negative
 * cowlab_err if it could not run at all; a demonstration that went wrong
 * is not an error here but an EXPLORE_UNEXPECTED outcome. */
int explore_run(struct explore_result *r);

/* --explore itself: runs, prints to stdout (JSON or for people) and
 * returns the exit status: 0 everything as documented or explained, 1
 * something unexpected, 2 the exploration could not run. */
int explore_command(bool json);

/* ---- for the backends ---- */

/* What platform.h already knows of the system (os, wine_version, page
 * size, allocation granularity); the backend adds the rest, with where
 * each figure came from. */
void explore_describe_platform(struct explore_system *s);

/* What the OS says about the page at addr now (VirtualQuery, or the
 * /proc/self/maps line): each backend's own. */
void explore_query(const void *addr, struct explore_query *q);
/* Records a step of the region walk: the call made, whether it worked,
 * the state it should leave, and what explore_query says after it. */
void explore_step(struct explore_result *r, enum explore_step_id id, bool ok,
		  enum explore_state expected, const void *addr, const char *call);

/* The read-only demonstration once its page is read-only, the same on
 * every platform: a write to w must fault at its address and leave the
 * word as it was. */
void explore_readonly_write(struct explore_demo *d, volatile uint32_t *w);

/* The committed-page demonstration, the same on every platform: pages 0
 * and 1 at base were just committed and never touched. */
void explore_demo_committed_zero(struct explore_result *r, uint8_t *base, size_t ps);

/* The copy-on-write demonstration: a two-page pagefile-backed section and
 * its rw and cow views, set up here, and what is done with them, in
 * explore_cow_protect (each backend's: VirtualProtect or mprotect, then
 * what its OS says of the page). */
void explore_demo_cow(struct explore_result *r, size_t ps);
void explore_cow_protect(struct explore_demo *d, uint8_t *rw, uint8_t *cow, size_t ps);

/* Records one access of demo d and makes it (through the fault probe). */
struct explore_access *explore_read(struct explore_demo *d, const char *what,
				    volatile uint32_t *addr, bool expect_fault,
				    const char *expect_code, unsigned flags);
struct explore_access *explore_write(struct explore_demo *d, const char *what,
				     volatile uint32_t *addr, uint32_t value, bool expect_fault,
				     const char *expect_code, unsigned flags);
/* Appends a line to the demo's facts. */
void explore_fact(struct explore_demo *d, const char *fmt, ...) COWLAB_PRINTF(2, 3);
/* Judges a demo from its accesses: EXPLORE_UNEXPECTED (with why) if any
 * access did not fault as expected, at the address touched with the
 * code expected; else as documented. The backend may then mark a
 * deviation or not-applicable outcome. */
void explore_judge(struct explore_demo *d);
void explore_set(struct explore_demo *d, enum explore_outcome o, const char *fmt, ...)
	COWLAB_PRINTF(3, 4);

#endif
