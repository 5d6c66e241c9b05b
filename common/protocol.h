/* The JSON messages between cowlab-server and cowlab-client (see
 * docs/protocol.md). Every message is one JSON object with "type" and "v".
 * Builders return a malloc'd, unformatted text; parsers validate every
 * field (type, range, page within the section) before anything uses it.
 *
 * The client is a small agent: the server sends it batches of primitive
 * operations ("run") and it answers each batch with one "result". */
#ifndef COWLAB_PROTOCOL_H
#define COWLAB_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence.h"
#include "fault.h"
#include "image.h"

#define PROTO_VERSION 1
/* Most operations in one batch; most mismatches or matches a result lists. */
#define PROTO_OPS_MAX 64
#define PROTO_SAMPLES_MAX 64
/* How deep a message may nest (the protocol's own go 5 deep). */
#define PROTO_DEPTH_MAX 16
/* Most pages one evidence operation may cover (its page string must fit). */
#define PROTO_EVIDENCE_MAX 16384
#define PROTO_TEXT_MAX 160
/* The longest wait an assignment may ask of a client (assign.timeout_ms):
 * three times the longest --timeout, a day. */
#define PROTO_WAIT_MAX_MS (3 * 24 * 3600 * 1000)

enum proto_type {
	PROTO_HELLO,   /* client -> server: first message */
	PROTO_ASSIGN,  /* server -> client: id, section, pages (section attached) */
	PROTO_RUN,     /* server -> client: a batch of operations */
	PROTO_RESULT,  /* client -> server: the batch's results, in order */
	PROTO_DONE,    /* server -> client: the client's verdict; then close */
	PROTO_ERROR,   /* either way: what was wrong; then close */
};

enum proto_view { PROTO_VIEW_RW, PROTO_VIEW_COW, PROTO_VIEW_RO, PROTO_VIEW_COUNT };

enum proto_op_kind {
	PROTO_OP_MAP,         /* map a view (cow may be mapped shared: the control) */
	PROTO_OP_WRITE,       /* write pattern^xor at offset of each page of a range */
	PROTO_OP_EXPECT,      /* compare each page's word with pattern^xor */
	PROTO_OP_FIND,        /* list the pages whose word equals pattern^xor */
	PROTO_OP_FAULT_WRITE, /* try a write that must fault, for each page */
	PROTO_OP_EVIDENCE,    /* what the OS says about each page */
	PROTO_OP_UNMAP,       /* unmap a view (its private copies go with it) */
	PROTO_OP_PROTECT,     /* set a range's protection */
	PROTO_OP_DISCARD,     /* drop a range's private copies (Linux) */
	PROTO_OP_FORK,        /* fork: the child joins the run as client `child`
				 (POSIX; its result is the child's pid) */
	PROTO_OP_KIND_COUNT,
};

/* A protection, as a scenario names it (section.h's, on the wire). */
enum proto_protect {
	PROTO_READONLY, PROTO_READWRITE, PROTO_WRITECOPY, PROTO_NOACCESS, PROTO_PROTECT_COUNT,
};

/* A range of pages: first, first+step, ... (count pages in all). */
struct proto_range {
	uint64_t first;
	uint64_t count;
	uint64_t step;
};

struct proto_op {
	enum proto_op_kind kind;
	enum proto_view view;
	bool as_shared;       /* MAP of the cow view: map it shared (control) */
	struct proto_range range;
	uint32_t offset;      /* byte offset in each page, multiple of 4 */
	uint32_t xor_value;   /* the stamp constant (pattern.h) */
	bool literal;         /* the word is `value` on every page, not pattern ^ xor */
	uint32_t value;
	enum proto_protect protect; /* PROTECT */
	int child;            /* FORK: the id the child joins the run as */
};

/* The word a write, expect, find or fault_write means at a page: its
 * literal value, or the pattern xor its stamp constant. */
uint32_t proto_op_word(const struct proto_op *op, uint32_t seed, uint64_t page);

struct proto_sample {
	uint64_t page;
	uint32_t value;
};

/* The time a write of one page took, in buckets of a quarter octave of
 * nanoseconds: bucket b holds [proto_time_lo_ns(b), proto_time_lo_ns(b +
 * 1)); 0 to 3 are 0 to 3 ns. */
#define PROTO_TIME_BUCKETS 128
struct proto_time {
	uint32_t bucket, count;
};
uint32_t proto_time_bucket(uint64_t ns);
uint64_t proto_time_lo_ns(uint32_t bucket);

struct proto_op_result {
	enum proto_op_kind kind;
	bool ok;
	char error[PROTO_TEXT_MAX];
	/* EXPECT: matched + mismatched == pages; samples are mismatches.
	 * FIND: matched pages; samples are matches (value = the word).
	 * FAULT_WRITE: matched = writes that faulted at their own address,
	 * mismatched = writes that did not fault or faulted elsewhere. */
	uint64_t matched;
	uint64_t mismatched;
	struct proto_sample samples[PROTO_SAMPLES_MAX];
	size_t nsamples;
	struct fault_info fault;       /* FAULT_WRITE: the first fault seen */
	uint64_t fault_target;         /* FAULT_WRITE: offset of the first write in its view */
	uint64_t fault_offset;         /* FAULT_WRITE: offset of the first fault in its view */
	bool fault_outside;            /* FAULT_WRITE: the OS reported an address outside
					  the view (fault_offset null on the wire) */
	struct evidence_report evidence; /* EVIDENCE */
	uint64_t pid;                  /* FORK: the child's pid */
	uint64_t address;              /* MAP: where the client mapped the view (optional
					  on the wire, "address"; 0 when not said) */
	/* WRITE (optional on the wire): how long each page's write took,
	 * "times", the non-empty buckets in order, counting every page of the
	 * range; how long the same word written again at once took, the page
	 * now the process's own, "again"; and the page faults the kernel
	 * counted in the process while the operation ran, "faults" */
	struct proto_time times[PROTO_TIME_BUCKETS];
	size_t ntimes;
	struct proto_time again[PROTO_TIME_BUCKETS];
	size_t nagain;
	uint64_t faults;
	bool has_faults;
};

/* What a message may refer to: validation needs the section's shape. */
struct proto_limits {
	uint64_t pages;       /* pages in the section */
	uint32_t page_size;
	uint32_t seed;        /* the pattern's: samples must be true to it */
};

struct proto_hello {
	long pid;
	char version[32];
	/* The client's own image and its two counters (image.h); a peer
	 * that is no cowlab-client (a test's) may send null: has_image. */
	bool has_image;
	struct image_facts image;
	/* "verdict": false. The client does not wait for the run's verdict:
	 * its last batch comes marked `last`, and once its results are
	 * taken the server closes the connection, without a `done`. */
	bool no_verdict;
	/* "fork": {"parent": P, "child": C}: the process is the child of a
	 * fork client P was asked to make (its views and copies are P's); 0
	 * when not said */
	int fork_parent, fork_child;
};

struct proto_assign {
	int id;
	char section_name[96];
	uint64_t section_size;
	uint32_t page_size;
	uint32_t seed;
	uint64_t first_page;
	uint64_t page_count;
	int timeout_ms;
};

struct proto_run {
	uint64_t seq;
	bool last;            /* the client's last batch: after its result the
				 server sends nothing (an error at most) and
				 closes the connection */
	struct proto_op ops[PROTO_OPS_MAX];
	size_t nops;
};

struct proto_result {
	uint64_t seq;
	struct proto_op_result *results; /* nresults, malloc'd */
	size_t nresults;
};

struct proto_done {
	bool held;
	int checks_held;
	int checks_total;
	char message[PROTO_TEXT_MAX];
	int run_exit_status;    /* the whole run's: 0 HELD, 1 BROKEN, 3 NOT PROVEN */
};

struct proto_error {
	char code[32];
	char message[PROTO_TEXT_MAX];
};

/* A parsed message. */
struct proto_msg {
	enum proto_type type;
	union {
		struct proto_hello hello;
		struct proto_assign assign;
		struct proto_run run;
		struct proto_result result;
		struct proto_done done;
		struct proto_error error;
	} u;
};

/* Optional, once at start-up: message trees then come from a per-thread
 * arena instead of one malloc per value (see protocol.c). */
void proto_init(void);

/* Parses and validates one message of len bytes (not NUL-terminated).
 * `limits` is needed for RUN (NULL otherwise). Returns 0, or
 * COWLAB_E_PROTO / COWLAB_E_TOOBIG / COWLAB_E_NOMEM with `why` (which may
 * be NULL) saying what was wrong. Free with proto_msg_free. */
int proto_parse(const void *data, size_t len, const struct proto_limits *limits,
		struct proto_msg *msg, char *why, size_t why_cap);
void proto_msg_free(struct proto_msg *msg);

/* Checks a result batch against the run it answers: same seq, same count,
 * the same operation at each place, counts that add up, samples inside
 * their range, in order, no more than counted, and true to the pattern (a
 * find's sample holds pattern^xor, an expect's does not), evidence whose
 * private count is its own 'P' pages, a fault inside the range. */
int proto_result_matches(const struct proto_result *res, const struct proto_run *run,
			 const struct proto_limits *limits, char *why, size_t why_cap);

/* Builders: a malloc'd text of *len bytes, or NULL when out of memory or
 * over CHANNEL_MSG_MAX. */
char *proto_build_hello(const struct proto_hello *h, size_t *len);
char *proto_build_assign(const struct proto_assign *a, size_t *len);
char *proto_build_run(const struct proto_run *r, size_t *len);
char *proto_build_result(uint64_t seq, const struct proto_op_result *results,
			 size_t n, size_t *len);

/* A message being written (its fields are the writer's). */
struct proto_text {
	char *buf;
	size_t len, cap;
	bool ok;              /* false once out of memory or over the cap */
};
/* The same result batch written as the operations run, one result at a
 * time: begin, add each operation's result in order, end (the text, or
 * NULL as above). A client then holds only the result at hand: a result
 * is 2.5 KiB, and a batch of them on its stack cost each client a dozen
 * page faults. */
bool proto_result_begin(struct proto_text *t, uint64_t seq);
void proto_result_add(struct proto_text *t, const struct proto_op_result *r);
char *proto_result_end(struct proto_text *t, size_t *len);
char *proto_build_done(const struct proto_done *d, size_t *len);
char *proto_build_error(const char *code, const char *message, size_t *len);

const char *proto_view_name(enum proto_view v);
const char *proto_op_name(enum proto_op_kind k);
const char *proto_type_name(enum proto_type t);
/* Whether a range has pages (count, step >= 1) and all lie in [0, pages). */
bool proto_range_valid(const struct proto_range *r, uint64_t pages);
uint64_t proto_range_page(const struct proto_range *r, uint64_t i);
void proto_op_result_free(struct proto_op_result *r);

#endif
