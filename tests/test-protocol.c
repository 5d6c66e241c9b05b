/* Unit tests for common/protocol.c: every message type built and parsed
 * back field for field, every kind of malformed message refused with a
 * reason, result batches checked against their runs, and page ranges.
 *
 * The message tables write JSON with single quotes for readability;
 * json_text() turns them into double quotes before parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "check.h"
#include "err.h"
#include "protocol.h"

#define TEXT_CAP 2048

/* The section every table message refers to: 8 pages of 4 KiB. */
static const struct proto_limits lim8 = { 8, 4096 };

/* Copies `single` into buf with every ' turned into ". Returns the length. */
static size_t json_text(const char *single, char *buf, size_t cap)
{
	size_t n = strlen(single);

	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = single[i] == '\'' ? '"' : single[i];
	buf[n] = '\0';
	return n;
}

static int parse_single(const char *single, const struct proto_limits *lim,
			struct proto_msg *msg, char *why, size_t why_cap)
{
	char text[TEXT_CAP];
	size_t len = json_text(single, text, sizeof(text));

	return proto_parse(text, len, lim, msg, why, why_cap);
}

/* Parses a builder's output (and frees it); the message must be valid. */
static bool parse_built(char *text, size_t len, const struct proto_limits *lim,
			struct proto_msg *msg)
{
	char why[PROTO_TEXT_MAX];
	int err;

	CHECK_MSG(text != NULL, "a builder returned NULL");
	if (text == NULL)
		return false;
	err = proto_parse(text, len, lim, msg, why, sizeof(why));
	CHECK_MSG(err == 0, "built message refused (%d: %s): %.*s", err, why, (int)len, text);
	free(text);
	return err == 0;
}

/* ---- names ---- */

static void test_names(void)
{
	CHECK(strcmp(proto_type_name(PROTO_HELLO), "hello") == 0);
	CHECK(strcmp(proto_type_name(PROTO_ERROR), "error") == 0);
	CHECK(strcmp(proto_view_name(PROTO_VIEW_COW), "cow") == 0);
	CHECK(strcmp(proto_op_name(PROTO_OP_FAULT_WRITE), "fault_write") == 0);
	for (int a = 0; a < PROTO_OP_KIND_COUNT; a++)
		for (int b = a + 1; b < PROTO_OP_KIND_COUNT; b++)
			CHECK(strcmp(proto_op_name((enum proto_op_kind)a),
				     proto_op_name((enum proto_op_kind)b)) != 0);
}

/* ---- round trips ---- */

static void test_roundtrip_hello(void)
{
	struct proto_hello h = { .pid = 2147483647L, .version = "0.1.0-rc1" };
	struct proto_msg m;
	size_t len = 0;

	if (!parse_built(proto_build_hello(&h, &len), len, NULL, &m))
		return;
	CHECK(m.type == PROTO_HELLO);
	CHECK(m.u.hello.pid == 2147483647L);
	CHECK(strcmp(m.u.hello.version, "0.1.0-rc1") == 0);
	proto_msg_free(&m);
}

static void test_roundtrip_assign(void)
{
	struct proto_assign a = {
		.id = 42, .section_name = "cowlab-unit.Test_1", .section_size = 64 * 4096,
		.page_size = 4096, .seed = 0xFEDCBA98u, .first_page = 17, .page_count = 47,
		.timeout_ms = 86400000,
	};
	struct proto_msg m;
	size_t len = 0;

	if (!parse_built(proto_build_assign(&a, &len), len, NULL, &m))
		return;
	CHECK(m.type == PROTO_ASSIGN);
	CHECK(m.u.assign.id == 42);
	CHECK(strcmp(m.u.assign.section_name, "cowlab-unit.Test_1") == 0);
	CHECK(m.u.assign.section_size == 64 * 4096);
	CHECK(m.u.assign.page_size == 4096);
	CHECK(m.u.assign.seed == 0xFEDCBA98u);
	CHECK(m.u.assign.first_page == 17);
	CHECK(m.u.assign.page_count == 47);
	CHECK(m.u.assign.timeout_ms == 86400000);
	proto_msg_free(&m);
}

static bool op_equal(const struct proto_op *a, const struct proto_op *b)
{
	return a->kind == b->kind && a->view == b->view && a->as_shared == b->as_shared &&
	       a->range.first == b->range.first && a->range.count == b->range.count &&
	       a->range.step == b->range.step && a->offset == b->offset &&
	       a->xor_value == b->xor_value;
}

/* Every op kind and view; fields an op does not carry stay 0. */
static const struct proto_op sample_ops[] = {
	{ PROTO_OP_MAP, PROTO_VIEW_RW, false, { 0, 0, 0 }, 0, 0 },
	{ PROTO_OP_MAP, PROTO_VIEW_COW, false, { 0, 0, 0 }, 0, 0 },
	{ PROTO_OP_MAP, PROTO_VIEW_COW, true, { 0, 0, 0 }, 0, 0 },
	{ PROTO_OP_MAP, PROTO_VIEW_RO, false, { 0, 0, 0 }, 0, 0 },
	{ PROTO_OP_WRITE, PROTO_VIEW_RW, false, { 1, 4, 2 }, 4092, 0xA5A5A5A5u },
	{ PROTO_OP_WRITE, PROTO_VIEW_COW, false, { 7, 1, 1 }, 0, 0xFFFFFFFFu },
	{ PROTO_OP_EXPECT, PROTO_VIEW_RO, false, { 0, 8, 1 }, 12, 0 },
	{ PROTO_OP_FIND, PROTO_VIEW_COW, false, { 2, 3, 3 }, 8, 0x3C3C3C3Cu },
	{ PROTO_OP_FAULT_WRITE, PROTO_VIEW_RO, false, { 3, 2, 4 }, 64, 0xDEADBEEFu },
	{ PROTO_OP_EVIDENCE, PROTO_VIEW_COW, false, { 0, 8, 1 }, 0, 0 },
};
#define NSAMPLE_OPS (sizeof(sample_ops) / sizeof(sample_ops[0]))

static void test_roundtrip_run(void)
{
	struct proto_run *r = calloc(1, sizeof(*r));
	struct proto_msg m;
	size_t len = 0;

	if (r == NULL)
		return;
	r->seq = 9007199254740991ULL;
	r->nops = NSAMPLE_OPS;
	memcpy(r->ops, sample_ops, sizeof(sample_ops));
	if (parse_built(proto_build_run(r, &len), len, &lim8, &m)) {
		CHECK(m.type == PROTO_RUN);
		CHECK(m.u.run.seq == 9007199254740991ULL);
		CHECK(m.u.run.nops == NSAMPLE_OPS);
		for (size_t i = 0; i < NSAMPLE_OPS && i < m.u.run.nops; i++)
			CHECK_MSG(op_equal(&m.u.run.ops[i], &sample_ops[i]), "op %zu differs", i);
		proto_msg_free(&m);
	}
	free(r);
}

/* One result of each kind, ok or not, for the round trip. */
static void fill_results(struct proto_op_result *res)
{
	struct evidence_report *ev = &res[6].evidence;

	res[0].kind = PROTO_OP_MAP;
	res[0].ok = true;
	res[1].kind = PROTO_OP_WRITE;
	res[1].ok = true;
	res[2] = (struct proto_op_result){ .kind = PROTO_OP_EXPECT, .ok = true, .matched = 5,
		.mismatched = 2, .nsamples = 2,
		.samples = { { 3, 0xFFFFFFFFu }, { 9007199254740991ULL, 0 } } };
	res[3] = (struct proto_op_result){ .kind = PROTO_OP_FIND, .ok = true, .matched = 1,
		.nsamples = 1, .samples = { { 6, 0x12345678u } } };
	res[4] = (struct proto_op_result){ .kind = PROTO_OP_FAULT_WRITE, .ok = true,
		.matched = 2, .mismatched = 0, .fault_target = 12352, .fault_offset = 12352,
		.fault = { .faulted = true, .code = "SIGSEGV/SEGV_ACCERR", .address = 1 } };
	res[5] = (struct proto_op_result){ .kind = PROTO_OP_FAULT_WRITE, .ok = true,
		.matched = 0, .mismatched = 2 };
	res[6].kind = PROTO_OP_EVIDENCE;
	res[6].ok = true;
	ev->pages = strdup(".Ps?P...");
	ev->count = 8;
	ev->private_pages = 2;
	snprintf(ev->deviation, sizeof(ev->deviation), "a \"quoted\" \\ deviation, caf\xc3\xa9");
	ev->nsources = 3;
	ev->sources[0] = (struct evidence_source){ "pagemap", true, 2, "bit 61" };
	ev->sources[1] = (struct evidence_source){ "pagemap_scan", false, 0, "needs 6.7" };
	ev->sources[2] = (struct evidence_source){ "smaps", true, 9007199254740991ULL, "" };
	res[7] = (struct proto_op_result){ .kind = PROTO_OP_EXPECT, .ok = false,
		.error = "the view is not mapped" };
}
#define NRESULTS 8

static void compare_result(const struct proto_op_result *a, const struct proto_op_result *b,
			   size_t i)
{
	CHECK_MSG(a->kind == b->kind && a->ok == b->ok, "result %zu: kind/ok", i);
	CHECK_MSG(strcmp(a->error, b->error) == 0, "result %zu: error", i);
	CHECK_MSG(a->matched == b->matched && a->mismatched == b->mismatched,
		  "result %zu: counts", i);
	CHECK_MSG(a->nsamples == b->nsamples, "result %zu: nsamples", i);
	for (size_t s = 0; s < a->nsamples && s < b->nsamples; s++)
		CHECK_MSG(a->samples[s].page == b->samples[s].page &&
			  a->samples[s].value == b->samples[s].value, "result %zu sample %zu", i, s);
	CHECK_MSG(a->fault.faulted == b->fault.faulted, "result %zu: faulted", i);
	CHECK_MSG(strcmp(a->fault.code, b->fault.code) == 0, "result %zu: fault code", i);
	CHECK_MSG(a->fault_target == b->fault_target && a->fault_offset == b->fault_offset,
		  "result %zu: fault offsets", i);
}

static void compare_evidence(const struct evidence_report *a, const struct evidence_report *b)
{
	CHECK(a->count == b->count);
	CHECK(a->pages != NULL && strcmp(a->pages, b->pages) == 0);
	CHECK(a->private_pages == b->private_pages);
	CHECK(strcmp(a->deviation, b->deviation) == 0);
	CHECK(a->nsources == b->nsources);
	for (size_t i = 0; i < a->nsources && i < b->nsources; i++) {
		const struct evidence_source *x = &a->sources[i], *y = &b->sources[i];

		CHECK_MSG(strcmp(x->name, y->name) == 0 && x->supported == y->supported &&
			  x->private_pages == y->private_pages && strcmp(x->note, y->note) == 0,
			  "source %zu differs", i);
	}
}

static void test_roundtrip_result(void)
{
	struct proto_op_result *res = calloc(NRESULTS, sizeof(*res));
	struct proto_msg m;
	size_t len = 0;

	if (res == NULL)
		return;
	fill_results(res);
	if (parse_built(proto_build_result(77, res, NRESULTS, &len), len, &lim8, &m)) {
		CHECK(m.type == PROTO_RESULT);
		CHECK(m.u.result.seq == 77);
		CHECK(m.u.result.nresults == NRESULTS);
		for (size_t i = 0; i < NRESULTS && i < m.u.result.nresults; i++)
			compare_result(&m.u.result.results[i], &res[i], i);
		if (m.u.result.nresults == NRESULTS)
			compare_evidence(&m.u.result.results[6].evidence, &res[6].evidence);
		proto_msg_free(&m);
		CHECK(m.u.result.results == NULL && m.u.result.nresults == 0);
	}
	for (size_t i = 0; i < NRESULTS; i++)
		proto_op_result_free(&res[i]);
	free(res);
}

static void test_roundtrip_done(void)
{
	struct proto_done d[2] = {
		{ true, 1000, 1000, "all checks held" },
		{ false, 0, 7, "" },
	};
	struct proto_msg m;
	size_t len = 0;

	for (size_t i = 0; i < 2; i++) {
		if (!parse_built(proto_build_done(&d[i], &len), len, NULL, &m))
			continue;
		CHECK(m.type == PROTO_DONE);
		CHECK(m.u.done.held == d[i].held);
		CHECK(m.u.done.checks_held == d[i].checks_held);
		CHECK(m.u.done.checks_total == d[i].checks_total);
		CHECK(strcmp(m.u.done.message, d[i].message) == 0);
		proto_msg_free(&m);
	}
}

static void test_roundtrip_error(void)
{
	const char *text = "a \"quoted\" C:\\path, na\xc3\xafve / </script>";
	struct proto_msg m;
	size_t len = 0;

	if (!parse_built(proto_build_error("bad_result", text, &len), len, NULL, &m))
		return;
	CHECK(m.type == PROTO_ERROR);
	CHECK(strcmp(m.u.error.code, "bad_result") == 0);
	CHECK(strcmp(m.u.error.message, text) == 0);
	proto_msg_free(&m);
}

/* A builder refuses to produce a message over the channel's cap. */
static void test_build_over_cap(void)
{
	char *big = malloc(CHANNEL_MSG_MAX + 1);
	size_t len = 12345;

	if (big == NULL)
		return;
	memset(big, 'x', CHANNEL_MSG_MAX);
	big[CHANNEL_MSG_MAX] = '\0';
	CHECK(proto_build_error("big", big, &len) == NULL);
	free(big);
}

/* ---- the message tables ---- */

#define S16 "0123456789abcdef"
#define S32 S16 S16
#define S31 S16 "0123456789abcde"
#define S95 S32 S32 S31
#define S159 S32 S32 S32 S32 S31
#define S199 S32 S32 S32 S32 S32 S32 "0123456"

#define HELLO(f) "{'type':'hello','v':1," f "}"
#define H_OK "'pid':1,'version':'0.1.0'"
#define ASSIGN(top, sec, pages) \
	"{'type':'assign','v':1," top ",'section':{" sec "},'pages':{" pages "}}"
#define A_TOP "'id':1,'timeout_ms':1000"
#define A_SEC "'name':'cowlab-x','page_size':4096,'size':32768,'seed':7"
#define A_PG "'first':0,'count':8"
#define RUN(ops) "{'type':'run','v':1,'seq':1,'ops':[" ops "]}"
#define WRITE(f) "{'op':'write','view':'cow'," f "}"
#define RANGE "'first':0,'count':8,'step':1"
#define OX "'offset':0,'xor':1"
#define RESULT(r) "{'type':'result','v':1,'seq':1,'results':[" r "]}"
#define EXPECT_R(f) "{'op':'expect','ok':true," f "}"
#define FAULT_R(f) "{'op':'fault_write','ok':true,'matched':1,'mismatched':0," f "}"
#define FT_OK "'code':'SIGSEGV','target_offset':0,'fault_offset':0"
#define EVID(f) "{'op':'evidence','ok':true," f "}"
#define SRC_OK "{'name':'pagemap','supported':true,'private':1,'note':'n'}"
#define EV_SRC(s) "'pages':'.Ps?','private':1,'deviation':'','sources':[" s "]"
#define EV_OK EV_SRC(SRC_OK)
#define DONE(f) "{'type':'done','v':1," f "}"
#define ERROR(f) "{'type':'error','v':1," f "}"

/* Messages that must parse: the bases of the bad ones below, and the
 * values at the edges of every range. */
static const char *const good_messages[] = {
	HELLO(H_OK),
	"  \n" HELLO("'pid':2147483647,'version':'" S31 "'") " \r\n\t",
	HELLO("'pid':1,'version':''"),
	ASSIGN(A_TOP, A_SEC, A_PG),
	ASSIGN("'id':2147483647,'timeout_ms':86400000",
	       "'name':'" S95 "','page_size':512,'size':512,'seed':4294967295", "'first':0,'count':1"),
	ASSIGN(A_TOP, "'name':'a.b-c_D\\\\9','page_size':1073741824,'size':70368744177664,'seed':0",
	       "'first':65535,'count':1"),
	ASSIGN(A_TOP, A_SEC, "'first':7,'count':1"),
	RUN(WRITE(RANGE "," OX)),
	RUN(WRITE("'first':1,'count':4,'step':2,'offset':4092,'xor':4294967295")),
	RUN(WRITE("'first':7,'count':1,'step':8," OX)),
	"{'type':'run','v':1,'seq':9007199254740991,'ops':[{'op':'map','view':'cow','as_shared':true}]}",
	RUN("{'op':'map','view':'ro','as_shared':false}"),
	RUN("{'op':'evidence','view':'rw'," RANGE "}"),
	RUN("{'op':'fault_write','view':'ro','first':3,'count':5,'step':1,'offset':8,'xor':0}"),
	RESULT(EXPECT_R("'mismatched':0,'matched':8,'samples':[]")),
	RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[9007199254740991,4294967295]]")),
	RESULT("{'op':'find','ok':true,'matched':0,'samples':[]}"),
	RESULT("{'op':'write','ok':false,'error':'" S159 "'}"),
	RESULT("{'op':'map','ok':true}"),
	RESULT(FAULT_R("'fault':null")),
	RESULT(FAULT_R("'fault':{" FT_OK "}")),
	RESULT(EVID(EV_OK)),
	RESULT(EVID("'pages':'','private':0,'deviation':'" S199 "','sources':[]")),
	RESULT(EVID(EV_SRC(SRC_OK "," SRC_OK "," SRC_OK ","
			   "{'name':'" S31 "','supported':false,'private':0,'note':'" S199 "'}"))),
	RESULT(EVID("'pages':'PPPP','private':4,'deviation':'','sources':[]")),
	DONE("'held':true,'checks_held':1000,'checks_total':1000,'message':'" S159 "'"),
	DONE("'held':false,'checks_held':0,'checks_total':0,'message':''"),
	ERROR("'code':'" S31 "','message':'" S159 "'"),
	ERROR("'code':'','message':'caf\xc3\xa9'"),
};

static void test_good_messages(void)
{
	char why[PROTO_TEXT_MAX];
	struct proto_msg m;

	for (size_t i = 0; i < sizeof(good_messages) / sizeof(good_messages[0]); i++) {
		int err = parse_single(good_messages[i], &lim8, &m, why, sizeof(why));

		CHECK_MSG(err == 0, "good message %zu refused (%d: %s): %s", i, err, why,
			  good_messages[i]);
		proto_msg_free(&m);
	}
}
