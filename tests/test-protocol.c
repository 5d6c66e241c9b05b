/* Unit tests for common/protocol.c: every message type built and parsed
 * back field for field, every kind of malformed message refused with a
 * reason, result batches checked against their runs, and page ranges.
 *
 * The message tables write JSON with single quotes for readability;
 * json_text() turns them into double quotes before parsing. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "check.h"
#include "err.h"
#include "pattern.h"
#include "protocol.h"

#define TEXT_CAP 2048

/* The section every table message refers to: 8 pages of 4 KiB. */
static const struct proto_limits lim8 = { 8, 4096, 0 };

/* The largest number the builders carry exactly: cJSON 1.7 prints numbers
 * of 16 digits with 15 significant ones when they compare equal within
 * DBL_EPSILON (9007199254740991 comes back as 9007199254740990). Every
 * page, offset and count of a section (at most 2^46 bytes) is far below. */
#define BIG_EXACT 999999999999999ULL

/* Copies `single` into buf with every ' turned into ". Returns the length. */
static size_t json_text(const char *single, char *buf, size_t cap)
{
	size_t n = strlen(single);

	CHECK_MSG(n < cap, "test text of %zu bytes truncated", n);
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

/* Parses a builder's output (and frees it); the message must be valid.
 * `len` is a pointer: the builder, an argument, sets it before the call. */
static bool parse_built(char *text, const size_t *len, const struct proto_limits *lim,
			struct proto_msg *msg)
{
	char why[PROTO_TEXT_MAX];
	int err;

	CHECK_MSG(text != NULL, "a builder returned NULL");
	if (text == NULL)
		return false;
	err = proto_parse(text, *len, lim, msg, why, sizeof(why));
	CHECK_MSG(err == 0, "built message refused (%d: %s): %.*s", err, why, (int)*len, text);
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

	if (!parse_built(proto_build_hello(&h, &len), &len, NULL, &m))
		return;
	CHECK(m.type == PROTO_HELLO);
	CHECK(m.u.hello.pid == 2147483647L);
	CHECK(strcmp(m.u.hello.version, "0.1.0-rc1") == 0);
	CHECK(!m.u.hello.has_image);
	CHECK(!m.u.hello.no_verdict);
	proto_msg_free(&m);
	/* a client that leaves once its last results are taken says so */
	h.no_verdict = true;
	if (!parse_built(proto_build_hello(&h, &len), &len, NULL, &m))
		return;
	CHECK(m.u.hello.no_verdict);
	proto_msg_free(&m);
}

/* Both image formats, each with the facts only it has. */
static void test_roundtrip_image(void)
{
	struct proto_hello pe = { .pid = 7, .version = "0.1.0", .has_image = true, .image = {
		.format = IMAGE_FORMAT_PE, .private_count = 1, .shared_count = 4000000000u,
		.section_found = true, .section_name = "shared",
		.characteristics = IMAGE_SHARED_CHARACTERISTICS, .protect = "PAGE_READWRITE" } };
	struct proto_hello elf = { .pid = 8, .version = "0.1.0", .has_image = true, .image = {
		.format = IMAGE_FORMAT_ELF, .private_count = 2, .shared_count = 3,
		.data_mapping = "5600-5601 rw-p 00015000 fe:00 531 /b/cowlab-client" } };
	struct proto_msg m;
	size_t len = 0;

	if (parse_built(proto_build_hello(&pe, &len), &len, NULL, &m)) {
		const struct image_facts *f = &m.u.hello.image;

		CHECK(m.u.hello.has_image && f->format == IMAGE_FORMAT_PE);
		CHECK(f->private_count == 1 && f->shared_count == 4000000000u);
		CHECK(f->section_found && strcmp(f->section_name, "shared") == 0);
		CHECK(f->characteristics == 0xD0000040u);
		CHECK(strcmp(f->protect, "PAGE_READWRITE") == 0);
		CHECK(f->data_mapping[0] == '\0');
		proto_msg_free(&m);
	}
	if (parse_built(proto_build_hello(&elf, &len), &len, NULL, &m)) {
		const struct image_facts *f = &m.u.hello.image;

		CHECK(m.u.hello.has_image && f->format == IMAGE_FORMAT_ELF);
		CHECK(f->private_count == 2 && f->shared_count == 3 && !f->section_found);
		CHECK(strcmp(f->data_mapping, elf.image.data_mapping) == 0);
		proto_msg_free(&m);
	}
	/* an ELF image without its maps line says null, and still parses */
	elf.image.data_mapping[0] = '\0';
	if (parse_built(proto_build_hello(&elf, &len), &len, NULL, &m)) {
		CHECK(m.u.hello.has_image && m.u.hello.image.data_mapping[0] == '\0');
		proto_msg_free(&m);
	}
}

static void test_roundtrip_assign(void)
{
	struct proto_assign a = {
		.id = 42, .section_name = "cowlab-unit.Test_1", .section_size = 64 * 4096,
		.page_size = 4096, .seed = 0xFEDCBA98u, .first_page = 17, .page_count = 47,
		.timeout_ms = PROTO_WAIT_MAX_MS,
	};
	struct proto_msg m;
	size_t len = 0;

	if (!parse_built(proto_build_assign(&a, &len), &len, NULL, &m))
		return;
	CHECK(m.type == PROTO_ASSIGN);
	CHECK(m.u.assign.id == 42);
	CHECK(strcmp(m.u.assign.section_name, "cowlab-unit.Test_1") == 0);
	CHECK(m.u.assign.section_size == 64 * 4096);
	CHECK(m.u.assign.page_size == 4096);
	CHECK(m.u.assign.seed == 0xFEDCBA98u);
	CHECK(m.u.assign.first_page == 17);
	CHECK(m.u.assign.page_count == 47);
	CHECK(m.u.assign.timeout_ms == PROTO_WAIT_MAX_MS);
	proto_msg_free(&m);
}

static bool op_equal(const struct proto_op *a, const struct proto_op *b)
{
	return a->kind == b->kind && a->view == b->view && a->as_shared == b->as_shared &&
	       a->range.first == b->range.first && a->range.count == b->range.count &&
	       a->range.step == b->range.step && a->offset == b->offset &&
	       a->xor_value == b->xor_value && a->literal == b->literal &&
	       a->value == b->value && a->protect == b->protect;
}

/* Every op kind and view; fields an op does not carry stay 0. */
static const struct proto_op sample_ops[] = {
	{ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_RW },
	{ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW },
	{ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW, .as_shared = true },
	{ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_RO },
	{ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_RW, .range = { 1, 4, 2 }, .offset = 4092,
	  .xor_value = 0xA5A5A5A5u },
	{ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_COW, .range = { 7, 1, 1 },
	  .xor_value = 0xFFFFFFFFu },
	{ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_COW, .range = { 5, 3, 1 }, .offset = 8,
	  .literal = true, .value = 0x12345678u },
	{ .kind = PROTO_OP_EXPECT, .view = PROTO_VIEW_RO, .range = { 0, 8, 1 }, .offset = 12 },
	{ .kind = PROTO_OP_EXPECT, .view = PROTO_VIEW_RW, .range = { 0, 8, 1 }, .literal = true },
	{ .kind = PROTO_OP_FIND, .view = PROTO_VIEW_COW, .range = { 2, 2, 5 }, .offset = 8,
	  .xor_value = 0x3C3C3C3Cu },
	{ .kind = PROTO_OP_FAULT_WRITE, .view = PROTO_VIEW_RO, .range = { 3, 2, 4 },
	  .offset = 64, .xor_value = 0xDEADBEEFu },
	{ .kind = PROTO_OP_EVIDENCE, .view = PROTO_VIEW_COW, .range = { 0, 8, 1 } },
	{ .kind = PROTO_OP_UNMAP, .view = PROTO_VIEW_COW },
	{ .kind = PROTO_OP_PROTECT, .view = PROTO_VIEW_RW, .range = { 1, 2, 3 },
	  .protect = PROTO_NOACCESS },
	{ .kind = PROTO_OP_PROTECT, .view = PROTO_VIEW_COW, .range = { 0, 1, 1 },
	  .protect = PROTO_WRITECOPY },
	{ .kind = PROTO_OP_DISCARD, .view = PROTO_VIEW_COW, .range = { 4, 4, 1 } },
};
#define NSAMPLE_OPS (sizeof(sample_ops) / sizeof(sample_ops[0]))

static void test_roundtrip_run(void)
{
	struct proto_run *r = calloc(1, sizeof(*r));
	struct proto_msg m;
	size_t len = 0;

	if (r == NULL)
		return;
	r->seq = BIG_EXACT;
	r->nops = NSAMPLE_OPS;
	memcpy(r->ops, sample_ops, sizeof(sample_ops));
	if (parse_built(proto_build_run(r, &len), &len, &lim8, &m)) {
		CHECK(m.type == PROTO_RUN);
		CHECK(m.u.run.seq == BIG_EXACT);
		CHECK(m.u.run.nops == NSAMPLE_OPS);
		for (size_t i = 0; i < NSAMPLE_OPS && i < m.u.run.nops; i++)
			CHECK_MSG(op_equal(&m.u.run.ops[i], &sample_ops[i]), "op %zu differs", i);
		CHECK(!m.u.run.last);
		proto_msg_free(&m);
	}
	r->last = true;
	if (parse_built(proto_build_run(r, &len), &len, &lim8, &m)) {
		CHECK(m.u.run.last && m.u.run.nops == NSAMPLE_OPS);
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
		.samples = { { 3, 0xFFFFFFFFu }, { BIG_EXACT, 0 } } };
	res[3] = (struct proto_op_result){ .kind = PROTO_OP_FIND, .ok = true, .matched = 1,
		.nsamples = 1, .samples = { { 6, 0x12345678u } } };
	res[4] = (struct proto_op_result){ .kind = PROTO_OP_FAULT_WRITE, .ok = true,
		.matched = 2, .mismatched = 0, .fault_target = 12352, .fault_offset = 12352,
		.fault = { .faulted = true, .code = "SIGSEGV/SEGV_ACCERR", .address = 1 } };
	/* a fault at an address outside the view: fault_offset null */
	res[5] = (struct proto_op_result){ .kind = PROTO_OP_FAULT_WRITE, .ok = true,
		.matched = 0, .mismatched = 2, .fault_target = 4096, .fault_outside = true,
		.fault = { .faulted = true, .code = "SIGSEGV/SEGV_MAPERR", .address = 1 } };
	res[6].kind = PROTO_OP_EVIDENCE;
	res[6].ok = true;
	ev->pages = strdup(".Ps?P...");
	ev->count = 8;
	ev->private_pages = 2;
	snprintf(ev->deviation, sizeof(ev->deviation), "a \"quoted\" \\ deviation, caf\xc3\xa9");
	ev->nsources = 3;
	ev->sources[0] = (struct evidence_source){ "pagemap", true, 2, "bit 61" };
	ev->sources[1] = (struct evidence_source){ "pagemap_scan", false, 0, "needs 6.7" };
	ev->sources[2] = (struct evidence_source){ "smaps", true, BIG_EXACT, "" };
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
			  a->samples[s].value == b->samples[s].value,
			  "result %zu sample %zu", i, s);
	CHECK_MSG(a->fault.faulted == b->fault.faulted, "result %zu: faulted", i);
	CHECK_MSG(strcmp(a->fault.code, b->fault.code) == 0, "result %zu: fault code", i);
	CHECK_MSG(a->fault_target == b->fault_target && a->fault_offset == b->fault_offset &&
		  a->fault_outside == b->fault_outside, "result %zu: fault offsets", i);
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
	if (parse_built(proto_build_result(77, res, NRESULTS, &len), &len, &lim8, &m)) {
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
		{ true, 1000, 1000, "all checks held", 0 },
		{ false, 0, 7, "", 3 },
	};
	struct proto_msg m;
	size_t len = 0;

	for (size_t i = 0; i < 2; i++) {
		if (!parse_built(proto_build_done(&d[i], &len), &len, NULL, &m))
			continue;
		CHECK(m.type == PROTO_DONE);
		CHECK(m.u.done.held == d[i].held);
		CHECK(m.u.done.checks_held == d[i].checks_held);
		CHECK(m.u.done.checks_total == d[i].checks_total);
		CHECK(strcmp(m.u.done.message, d[i].message) == 0);
		CHECK(m.u.done.run_exit_status == d[i].run_exit_status);
		proto_msg_free(&m);
	}
}

static void test_roundtrip_error(void)
{
	const char *text = "a \"quoted\" C:\\path, na\xc3\xafve / </script>";
	struct proto_msg m;
	size_t len = 0;

	if (!parse_built(proto_build_error("bad_result", text, &len), &len, NULL, &m))
		return;
	CHECK(m.type == PROTO_ERROR);
	CHECK(strcmp(m.u.error.code, "bad_result") == 0);
	CHECK(strcmp(m.u.error.message, text) == 0);
	proto_msg_free(&m);
}

/* A builder refuses to produce a message over the channel's cap. */
static void test_build_over_cap(void)
{
	struct proto_hello h = { .pid = 1 };
	char *big = malloc(CHANNEL_MSG_MAX + 1);
	size_t len = 12345;

	if (big == NULL)
		return;
	/* a small message is built (the version field cannot hold more) */
	snprintf(h.version, sizeof(h.version), "0.1.0");
	char *ok = proto_build_hello(&h, &len);
	CHECK(ok != NULL);
	free(ok);
	/* eight evidence results of 16384 pages each: 128 KiB, over the cap */
	struct proto_op_result res[8];
	memset(res, 0, sizeof(res));
	memset(big, 'P', PROTO_EVIDENCE_MAX);
	big[PROTO_EVIDENCE_MAX] = '\0';
	for (int i = 0; i < 8; i++) {
		res[i].kind = PROTO_OP_EVIDENCE;
		res[i].ok = true;
		res[i].evidence.pages = big;
		res[i].evidence.count = PROTO_EVIDENCE_MAX;
	}
	len = 12345;
	char *one = proto_build_result(0, res, 1, &len);
	CHECK(one != NULL);
	free(one);
	CHECK(proto_build_result(0, res, 8, &len) == NULL);
	/* An error or done text is clipped to what the peer accepts instead:
	 * the message builds, parses, and no UTF-8 character is cut. */
	memset(big, 'x', CHANNEL_MSG_MAX);
	memcpy(big + PROTO_TEXT_MAX - 2, "\xc3\xa9\xc3\xa9", 4); /* "éé" across the limit */
	char *text = proto_build_error("big", big, &len);
	struct proto_msg m;
	CHECK(text != NULL);
	if (text != NULL) {
		CHECK(proto_parse(text, len, NULL, &m, NULL, 0) == 0 && m.type == PROTO_ERROR);
		CHECK(strlen(m.u.error.message) == PROTO_TEXT_MAX - 2);
		CHECK(m.u.error.message[PROTO_TEXT_MAX - 3] == 'x');
		free(text);
	}
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
/* "image" first: the NUL test below cuts into the version string. */
#define H_OK "'image':null,'pid':1,'version':'0.1.0'"
#define H_IMG(f) HELLO("'pid':1,'version':'0.1.0','image':{" f "}")
#define I_PE "'format':'pe','private':1,'shared':1"
#define I_ELF "'format':'elf','private':1,'shared':1"
#define I_SEC "'section':{'name':'shared','characteristics':3489660992,'protect':'PAGE_READWRITE'}"
#define I_MAP "'data_mapping':'55d0-55d1 rw-p 00015000 fe:00 53 /x/cowlab-client'"
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
	"  \n" HELLO("'pid':2147483647,'version':'" S31 "','image':null") " \r\n\t",
	HELLO("'pid':1,'version':'','image':null"),
	/* UTF-8 of every length, raw and escaped */
	HELLO("'pid':1,'version':'\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \\u00e9','image':null"),
	H_IMG(I_PE "," I_SEC ",'data_mapping':null"),
	H_IMG(I_PE ",'section':null,'data_mapping':null"),
	H_IMG("'format':'pe','private':999999999999999,'shared':999999999999999,"
	      "'section':{'name':'12345678','characteristics':4294967295,'protect':null},"
	      "'data_mapping':null"),
	H_IMG("'format':'pe','private':1,'shared':1,"
	      "'section':{'name':'s','characteristics':0,'protect':''},'data_mapping':null"),
	H_IMG(I_ELF ",'section':null," I_MAP),
	H_IMG(I_ELF ",'section':null,'data_mapping':null"),
	H_IMG(I_ELF ",'section':null,'data_mapping':'" S199 "0123456789abcdef" S16 "01234567'"),
	ASSIGN(A_TOP, A_SEC, A_PG),
	ASSIGN("'id':2147483647,'timeout_ms':259200000",
	       "'name':'" S95 "','page_size':512,'size':512,'seed':4294967295",
	       "'first':0,'count':1"),
	ASSIGN(A_TOP, "'name':'a.b-c_D\\\\9','page_size':1073741824,'size':70368744177664,'seed':0",
	       "'first':65535,'count':1"),
	ASSIGN(A_TOP, A_SEC, "'first':7,'count':1"),
	RUN(WRITE(RANGE "," OX)),
	"{'type':'run','v':1,'seq':1,'last':true,'ops':[" WRITE(RANGE "," OX) "]}",
	"{'type':'run','v':1,'seq':1,'last':false,'ops':[" WRITE(RANGE "," OX) "]}",
	HELLO("'pid':1,'version':'0.1.0','verdict':false,'image':null"),
	HELLO("'pid':1,'version':'0.1.0','verdict':true,'image':null"),
	RUN(WRITE("'first':1,'count':4,'step':2,'offset':4092,'xor':4294967295")),
	RUN(WRITE("'first':7,'count':1,'step':8," OX)),
	"{'type':'run','v':1,'seq':999999999999999,'ops':["
		"{'op':'map','view':'cow','as_shared':true}]}",
	RUN("{'op':'map','view':'ro','as_shared':false}"),
	RUN("{'op':'evidence','view':'rw'," RANGE "}"),
	RUN("{'op':'fault_write','view':'ro','first':3,'count':5,'step':1,'offset':8,'xor':0}"),
	RUN(WRITE(RANGE ",'offset':0,'value':0")),
	RUN(WRITE(RANGE ",'offset':0,'value':4294967295")),
	RUN("{'op':'unmap','view':'cow'}"),
	RUN("{'op':'protect','view':'rw'," RANGE ",'protect':'noaccess'}"),
	RUN("{'op':'protect','view':'cow'," RANGE ",'protect':'writecopy'}"),
	RUN("{'op':'discard','view':'cow','first':7,'count':1,'step':1}"),
	RESULT("{'op':'unmap','ok':true}"),
	RESULT("{'op':'protect','ok':false,'error':'refused'}"),
	RESULT("{'op':'discard','ok':true}"),
	RESULT(EXPECT_R("'mismatched':0,'matched':8,'samples':[]")),
	RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[999999999999999,4294967295]]")),
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
	DONE("'held':true,'checks_held':1000,'checks_total':1000,'message':'" S159 "','run_exit_status':0"),
	DONE("'held':true,'checks_held':7,'checks_total':7,'message':'','run_exit_status':1"),
	DONE("'held':false,'checks_held':0,'checks_total':0,'message':'','run_exit_status':3"),
	ERROR("'code':'" S31 "','message':'" S159 "'"),
	ERROR("'code':'','message':'caf\xc3\xa9'"),
	ERROR("'code':'x','message':'C:\\\\u0000'"),
	/* what RFC 8259 allows, the one rule of docs/protocol.md: whitespace
	 * before and after, -0 (the integer 0), any valid JSON in a field the
	 * protocol does not know, escapes of control characters there, nesting
	 * to PROTO_DEPTH_MAX */
	" \t\r\n" HELLO(H_OK) " \n",
	"{'type':'run','v':1,'seq':-0,'ops':[" WRITE(RANGE "," OX) "]}",
	HELLO(H_OK ",'x':{'y':[1,-0.5e+3,true,null,'\\u0001\\ud83d\\ude00\\/']}"),
	HELLO(H_OK ",'x':[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]"),
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

struct bad_message {
	const char *json;   /* single-quoted JSON */
	const char *why;    /* a part of the reason given, single-quoted too */
};

static const struct bad_message bad_envelopes[] = {
	{ "", "empty" },
	{ "not json", "not valid JSON" },
	{ "{", "not valid JSON" },
	{ "{'type':'hello',}", "not valid JSON" },
	{ "   ", "not valid JSON" },
	{ "[]", "not a JSON object" },
	{ "[" HELLO(H_OK) "]", "not a JSON object" },
	{ "'hello'", "not a JSON object" },
	{ "42", "not a JSON object" },
	{ "null", "not a JSON object" },
	{ "true", "not a JSON object" },
	{ HELLO(H_OK) "x", "trailing" },
	{ HELLO(H_OK) " {}", "trailing" },
	{ HELLO(H_OK) HELLO(H_OK), "trailing" },
	{ "{'v':1," H_OK "}", "missing field 'type'" },
	{ "{'type':'goodbye','v':1," H_OK "}", "unknown value" },
	{ "{'type':'HELLO','v':1," H_OK "}", "unknown value" },
	{ "{'type':'hello ','v':1," H_OK "}", "unknown value" },
	{ "{'type':1,'v':1," H_OK "}", "'type' is not a string" },
	{ "{'type':null,'v':1," H_OK "}", "'type' is not a string" },
	{ "{'type':['hello'],'v':1," H_OK "}", "'type' is not a string" },
	{ "{'type':'" S32 "','v':1}", "'type' is longer" },
	{ "{'type':'hello'," H_OK "}", "missing field 'v'" },
	{ "{'type':'hello','v':0," H_OK "}", "protocol version 0" },
	{ "{'type':'hello','v':2," H_OK "}", "protocol version 2" },
	{ "{'type':'hello','v':'1'," H_OK "}", "'v' is not a number" },
	{ "{'type':'hello','v':true," H_OK "}", "'v' is not a number" },
	{ "{'type':'hello','v':1.5," H_OK "}", "'v' is not a non-negative integer" },
	{ "{'type':'hello','v':-1," H_OK "}", "'v' is not a non-negative integer" },
	{ "{'type':'hello','v':9007199254740993," H_OK "}", "'v' is not a non-negative" },
	/* raw bytes that are no UTF-8 (cJSON passes them through): a report
	 * printing them would be invalid JSON */
	{ HELLO("'image':null,'pid':1,'version':'\xff'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'a\x80'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'\xc0\xaf'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'\xe0\x80\xaf'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'\xed\xa0\x80'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'\xe2\x82'"), "'version' is not valid UTF-8" },
	{ HELLO("'image':null,'pid':1,'version':'\xf4\x90\x80\x80'"), "'version' is not valid UTF-8" },
	{ ERROR("'code':'x','message':'caf\xe9'"), "'message' is not valid UTF-8" },
	/* RFC 8259 where cJSON is lenient, in fields nobody reads too */
	{ HELLO(H_OK ",'x':'a\x01b'"), "a control character in a string" },
	{ HELLO(H_OK ",'x':'\xff'"), "not well-formed UTF-8" },
	{ HELLO(H_OK ",'x':01"), "a number with a leading zero" },
	{ HELLO(H_OK ",'x':1."), "without digits after its point" },
	{ HELLO(H_OK ",'x':1e999e"), "not valid JSON" },
	{ HELLO(H_OK ",'x':[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"), "nested too deep" },
	{ HELLO(H_OK ",'x':'\\ud800'"), "not valid JSON" },
	{ HELLO(H_OK ",'\\u0000':1"), "NUL" },
	/* an escaped NUL would end the string early without a word */
	{ HELLO("'pid':1,'version':'0.1.0\\u0000evil'"), "NUL" },
	{ ERROR("'code':'x','message':'\\u0000'"), "NUL" },
};

static const struct bad_message bad_hellos[] = {
	/* the image facts (docs/protocol.md#hello-client--server) */
	{ HELLO("'pid':1,'version':'x'"), "missing field 'image'" },
	{ HELLO("'pid':1,'version':'x','image':1"), "'image' is neither an object nor null" },
	{ HELLO("'pid':1,'version':'x','verdict':0,'image':null"), "'verdict' is not a boolean" },
	{ HELLO("'pid':1,'version':'x','verdict':'no','image':null"), "'verdict' is not a boolean" },
	{ HELLO("'pid':1,'version':'x','verdict':null,'image':null"), "'verdict' is not a boolean" },
	{ HELLO("'pid':1,'version':'x','image':[]"), "'image' is neither an object nor null" },
	{ HELLO("'pid':1,'version':'x','image':'pe'"), "'image' is neither an object nor null" },
	{ H_IMG("'private':1,'shared':1,'section':null,'data_mapping':null"),
	  "missing field 'format'" },
	{ H_IMG("'format':'coff','private':1,'shared':1,'section':null,'data_mapping':null"),
	  "'format' has an unknown value" },
	{ H_IMG("'format':'PE','private':1,'shared':1,'section':null,'data_mapping':null"),
	  "'format' has an unknown value" },
	{ H_IMG("'format':1,'private':1,'shared':1,'section':null,'data_mapping':null"),
	  "'format' is not a string" },
	{ H_IMG("'format':'pe','shared':1,'section':null,'data_mapping':null"),
	  "missing field 'private'" },
	{ H_IMG("'format':'pe','private':0,'shared':1,'section':null,'data_mapping':null"),
	  "'private' is out of range" },
	{ H_IMG("'format':'pe','private':-1,'shared':1,'section':null,'data_mapping':null"),
	  "'private' is not a non-negative integer" },
	{ H_IMG("'format':'pe','private':1.5,'shared':1,'section':null,'data_mapping':null"),
	  "'private' is not a non-negative integer" },
	{ H_IMG("'format':'pe','private':1,'section':null,'data_mapping':null"),
	  "missing field 'shared'" },
	{ H_IMG("'format':'pe','private':1,'shared':0,'section':null,'data_mapping':null"),
	  "'shared' is out of range" },
	{ H_IMG("'format':'pe','private':1,'shared':'1','section':null,'data_mapping':null"),
	  "'shared' is not a number" },
	{ H_IMG("'format':'pe','private':1,'shared':1e300,'section':null,'data_mapping':null"),
	  "'shared' is not a non-negative integer" },
	{ H_IMG(I_PE ",'data_mapping':null"), "missing field 'section'" },
	{ H_IMG(I_PE ",'section':1,'data_mapping':null"), "'section' is neither an object" },
	{ H_IMG(I_PE ",'section':[],'data_mapping':null"), "'section' is neither an object" },
	{ H_IMG(I_ELF "," I_SEC "," I_MAP), "'section' of an ELF image is not null" },
	{ H_IMG(I_PE ",'section':{'characteristics':0,'protect':''},'data_mapping':null"),
	  "missing field 'name'" },
	{ H_IMG(I_PE ",'section':{'name':'','characteristics':0,'protect':''},'data_mapping':null"),
	  "'name' of the section is empty" },
	{ H_IMG(I_PE ",'section':{'name':null,'characteristics':0,'protect':''},"
		"'data_mapping':null"), "'name' of the section is empty" },
	{ H_IMG(I_PE ",'section':{'name':'123456789','characteristics':0,'protect':''},"
		"'data_mapping':null"), "'name' is longer than 8" },
	{ H_IMG(I_PE ",'section':{'name':'sh\\u001bred','characteristics':0,'protect':''},"
		"'data_mapping':null"), "'name' has control characters" },
	{ H_IMG(I_PE ",'section':{'name':'shared','protect':''},'data_mapping':null"),
	  "missing field 'characteristics'" },
	{ H_IMG(I_PE ",'section':{'name':'shared','characteristics':4294967296,'protect':''},"
		"'data_mapping':null"), "'characteristics' is out of range" },
	{ H_IMG(I_PE ",'section':{'name':'shared','characteristics':-64,'protect':''},"
		"'data_mapping':null"), "'characteristics' is not a non-negative integer" },
	{ H_IMG(I_PE ",'section':{'name':'shared','characteristics':'0xD0000040',"
		"'protect':''},'data_mapping':null"), "'characteristics' is not a number" },
	{ H_IMG(I_PE ",'section':{'name':'shared','characteristics':0,'protect':7},"
		"'data_mapping':null"), "'protect' is not a string" },
	{ H_IMG(I_PE ",'section':{'name':'shared','characteristics':0,'protect':'" S32 "'},"
		"'data_mapping':null"), "'protect' is longer than 31" },
	{ H_IMG(I_PE "," I_SEC), "missing field 'data_mapping'" },
	{ H_IMG(I_PE "," I_SEC "," I_MAP), "'data_mapping' of a PE image is not null" },
	{ H_IMG(I_ELF ",'section':null,'data_mapping':1"), "'data_mapping' is not a string" },
	{ H_IMG(I_ELF ",'section':null,'data_mapping':'rw-p\\n'"),
	  "'data_mapping' has control characters" },
	{ H_IMG(I_ELF ",'section':null,'data_mapping':'" S199 "0123456789abcdef" S16 "012345678'"),
	  "'data_mapping' is longer than 239" },
	{ HELLO("'version':'x'"), "missing field 'pid'" },
	{ HELLO("'pid':0,'version':'x'"), "'pid' is out of range" },
	{ HELLO("'pid':-1,'version':'x'"), "'pid' is not a non-negative integer" },
	{ HELLO("'pid':1.5,'version':'x'"), "'pid' is not a non-negative integer" },
	{ HELLO("'pid':1e300,'version':'x'"), "'pid' is not a non-negative integer" },
	{ HELLO("'pid':1e400,'version':'x'"), "'pid' is not a non-negative integer" },
	{ HELLO("'pid':9007199254740992,'version':'x'"), "'pid' is not a non-negative" },
	{ HELLO("'pid':2147483648,'version':'x'"), "'pid' is out of range" },
	{ HELLO("'pid':'1','version':'x'"), "'pid' is not a number" },
	{ HELLO("'pid':null,'version':'x'"), "'pid' is not a number" },
	{ HELLO("'pid':1"), "missing field 'version'" },
	{ HELLO("'pid':1,'version':1"), "'version' is not a string" },
	{ HELLO("'pid':1,'version':null"), "'version' is not a string" },
	{ HELLO("'pid':1,'version':'" S32 "'"), "'version' is longer than 31" },
	{ HELLO("'pid':1,'version':'0.1\\u0001'"), "control characters" },
	{ HELLO("'pid':1,'version':'0.1\\n'"), "control characters" },
	{ HELLO("'pid':1,'version':'\\u001b[2J'"), "control characters" },
	{ HELLO("'pid':1,'version':'0.1\x01'"), "control characters" },
	{ HELLO("'pid':1,'version':'0\t1'"), "control characters" },
	{ HELLO("'pid':1,'version':'0.1\\u007f'"), "control characters" },
	{ HELLO("'pid':1,'version':'0.1\\u009b2J'"), "control characters" },
};

static const struct bad_message bad_assigns[] = {
	{ ASSIGN("'timeout_ms':1000", A_SEC, A_PG), "missing field 'id'" },
	{ ASSIGN("'id':0,'timeout_ms':1000", A_SEC, A_PG), "'id' is out of range" },
	{ ASSIGN("'id':2147483648,'timeout_ms':1000", A_SEC, A_PG), "'id' is out of range" },
	{ ASSIGN("'id':'1','timeout_ms':1000", A_SEC, A_PG), "'id' is not a number" },
	{ ASSIGN("'id':1", A_SEC, A_PG), "missing field 'timeout_ms'" },
	{ ASSIGN("'id':1,'timeout_ms':0", A_SEC, A_PG), "'timeout_ms' is out of range" },
	{ ASSIGN("'id':1,'timeout_ms':259200001", A_SEC, A_PG), "'timeout_ms' is out of range" },
	{ "{'type':'assign','v':1," A_TOP ",'pages':{" A_PG "}}", "'section' is not an object" },
	{ "{'type':'assign','v':1," A_TOP ",'section':[],'pages':{" A_PG "}}",
	  "'section' is not an object" },
	{ "{'type':'assign','v':1," A_TOP ",'section':{" A_SEC "}}", "'pages' is not an object" },
	{ "{'type':'assign','v':1," A_TOP ",'section':{" A_SEC "},'pages':8}",
	  "'pages' is not an object" },
	{ ASSIGN(A_TOP, "'page_size':4096,'size':32768,'seed':7", A_PG), "missing field 'name'" },
	{ ASSIGN(A_TOP, "'name':7,'page_size':4096,'size':32768,'seed':7", A_PG),
	  "'name' is not a string" },
	{ ASSIGN(A_TOP, "'name':'','page_size':4096,'size':32768,'seed':7", A_PG),
	  "characters outside" },
	{ ASSIGN(A_TOP, "'name':'a/b','page_size':4096,'size':32768,'seed':7", A_PG),
	  "characters outside" },
	{ ASSIGN(A_TOP, "'name':'a b','page_size':4096,'size':32768,'seed':7", A_PG),
	  "characters outside" },
	{ ASSIGN(A_TOP, "'name':'a\\nb','page_size':4096,'size':32768,'seed':7", A_PG),
	  "characters outside" },
	{ ASSIGN(A_TOP, "'name':'" S32 S32 S32 "','page_size':4096,'size':32768,'seed':7", A_PG),
	  "'name' is longer than 95" },
	{ ASSIGN(A_TOP, "'name':'x','size':32768,'seed':7", A_PG), "missing field 'page_size'" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4095,'size':32760,'seed':7", A_PG),
	  "not a power of two" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':3072,'size':30720,'seed':7", A_PG),
	  "not a power of two" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':256,'size':2048,'seed':7", A_PG),
	  "'page_size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':0,'size':32768,'seed':7", A_PG),
	  "'page_size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':2147483648,'size':2147483648,'seed':7", A_PG),
	  "'page_size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096.5,'size':32768,'seed':7", A_PG),
	  "'page_size' is not a non-negative integer" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'seed':7", A_PG), "missing field 'size'" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':0,'seed':7", A_PG),
	  "'size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':2048,'seed':7", A_PG),
	  "'size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':32769,'seed':7", A_PG),
	  "not a multiple of page_size" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':6144,'seed':7", A_PG),
	  "not a multiple of page_size" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':70368744181760,'seed':7", A_PG),
	  "'size' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':32768", A_PG), "missing field 'seed'" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':32768,'seed':-1", A_PG),
	  "'seed' is not a non-negative integer" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':32768,'seed':4294967296", A_PG),
	  "'seed' is out of range" },
	{ ASSIGN(A_TOP, "'name':'x','page_size':4096,'size':32768,'seed':0.5", A_PG),
	  "'seed' is not a non-negative integer" },
	{ ASSIGN(A_TOP, A_SEC, "'count':8"), "missing field 'first'" },
	{ ASSIGN(A_TOP, A_SEC, "'first':8,'count':1"), "'first' is out of range" },
	{ ASSIGN(A_TOP, A_SEC, "'first':'0','count':8"), "'first' is not a number" },
	{ ASSIGN(A_TOP, A_SEC, "'first':0"), "missing field 'count'" },
	{ ASSIGN(A_TOP, A_SEC, "'first':0,'count':0"), "'count' is out of range" },
	{ ASSIGN(A_TOP, A_SEC, "'first':6,'count':3"), "'count' is out of range" },
	{ ASSIGN(A_TOP, A_SEC, "'first':0,'count':9"), "'count' is out of range" },
};

static const struct bad_message bad_runs[] = {
	{ "{'type':'run','v':1,'ops':[" WRITE(RANGE "," OX) "]}", "missing field 'seq'" },
	{ "{'type':'run','v':1,'seq':-1,'ops':[" WRITE(RANGE "," OX) "]}", "'seq' is not a non" },
	{ "{'type':'run','v':1,'seq':1000000000000000,'ops':[" WRITE(RANGE "," OX) "]}",
	  "'seq' is not a non-negative" },
	{ "{'type':'run','v':1,'seq':'1','ops':[" WRITE(RANGE "," OX) "]}",
	  "'seq' is not a number" },
	{ "{'type':'run','v':1,'seq':1}", "'ops' is not an array" },
	{ "{'type':'run','v':1,'seq':1,'ops':{}}", "'ops' is not an array" },
	{ "{'type':'run','v':1,'seq':1,'ops':" WRITE(RANGE "," OX) "}", "'ops' is not an array" },
	{ RUN(""), "must hold 1 to 64 operations" },
	{ "{'type':'run','v':1,'seq':1,'last':1,'ops':[" WRITE(RANGE "," OX) "]}",
	  "'last' is not a boolean" },
	{ "{'type':'run','v':1,'seq':1,'last':'true','ops':[" WRITE(RANGE "," OX) "]}",
	  "'last' is not a boolean" },
	{ RUN("1"), "an operation is not an object" },
	{ RUN(WRITE(RANGE "," OX) ",[]"), "an operation is not an object" },
	{ RUN("{'view':'cow'," RANGE "," OX "}"), "missing field 'op'" },
	{ RUN("{'op':'read','view':'cow'," RANGE "," OX "}"), "'op' has an unknown value" },
	{ RUN("{'op':'Write','view':'cow'," RANGE "," OX "}"), "'op' has an unknown value" },
	{ RUN("{'op':1,'view':'cow'," RANGE "," OX "}"), "'op' is not a string" },
	{ RUN("{'op':'write'," RANGE "," OX "}"), "missing field 'view'" },
	{ RUN("{'op':'write','view':'RW'," RANGE "," OX "}"), "'view' has an unknown value" },
	{ RUN("{'op':'write','view':'cow-as-shared'," RANGE "," OX "}"), "'view' has an unknown" },
	{ RUN("{'op':'write','view':null," RANGE "," OX "}"), "'view' is not a string" },
	{ RUN("{'op':'map','view':'cow'}"), "missing field 'as_shared'" },
	{ RUN("{'op':'map','view':'cow','as_shared':'true'}"), "'as_shared' is not a boolean" },
	{ RUN("{'op':'map','view':'cow','as_shared':1}"), "'as_shared' is not a boolean" },
	{ RUN("{'op':'map','view':'rw','as_shared':true}"), "only the cow view" },
	{ RUN("{'op':'map','view':'ro','as_shared':true}"), "only the cow view" },
	{ RUN(WRITE("'count':8,'step':1," OX)), "missing field 'first'" },
	{ RUN(WRITE("'first':8,'count':1,'step':1," OX)), "'first' is out of range" },
	{ RUN(WRITE("'first':-1,'count':1,'step':1," OX)), "'first' is not a non-negative" },
	{ RUN(WRITE("'first':0.5,'count':1,'step':1," OX)), "'first' is not a non-negative" },
	{ RUN(WRITE("'first':0,'step':1," OX)), "missing field 'count'" },
	{ RUN(WRITE("'first':0,'count':0,'step':1," OX)), "'count' is out of range" },
	{ RUN(WRITE("'first':0,'count':9,'step':1," OX)), "'count' is out of range" },
	{ RUN(WRITE("'first':0,'count':1," OX)), "missing field 'step'" },
	{ RUN(WRITE("'first':0,'count':1,'step':0," OX)), "'step' is out of range" },
	{ RUN(WRITE("'first':0,'count':1,'step':9," OX)), "'step' is out of range" },
	{ RUN(WRITE("'first':1,'count':8,'step':1," OX)), "runs past" },
	{ RUN(WRITE("'first':6,'count':2,'step':2," OX)), "runs past" },
	{ RUN(WRITE("'first':0,'count':8,'step':2," OX)), "runs past" },
	{ RUN(WRITE("'first':1,'count':2,'step':7," OX)), "runs past" },
	{ RUN(WRITE(RANGE ",'xor':1")), "missing field 'offset'" },
	{ RUN(WRITE(RANGE ",'offset':2,'xor':1")), "not a multiple of 4" },
	{ RUN(WRITE(RANGE ",'offset':4090,'xor':1")), "not a multiple of 4" },
	{ RUN(WRITE(RANGE ",'offset':4096,'xor':1")), "'offset' is out of range" },
	{ RUN(WRITE(RANGE ",'offset':-4,'xor':1")), "'offset' is not a non-negative" },
	{ RUN(WRITE(RANGE ",'offset':'0','xor':1")), "'offset' is not a number" },
	{ RUN(WRITE(RANGE ",'offset':0")), "missing field 'xor'" },
	{ RUN(WRITE(RANGE ",'offset':0,'xor':-1")), "'xor' is not a non-negative" },
	{ RUN(WRITE(RANGE ",'offset':0,'xor':4294967296")), "'xor' is out of range" },
	{ RUN(WRITE(RANGE ",'offset':0,'xor':1.5")), "'xor' is not a non-negative" },
	{ RUN("{'op':'evidence','view':'cow','first':0,'count':4,'step':2}"),
	  "evidence takes step 1" },
	{ RUN(WRITE(RANGE ",'offset':0,'xor':1,'value':1")), "\"xor\" or \"value\", not both" },
	{ RUN(WRITE(RANGE ",'offset':0,'value':-1")), "'value' is not a non-negative" },
	{ RUN(WRITE(RANGE ",'offset':0,'value':4294967296")), "'value' is out of range" },
	{ RUN(WRITE(RANGE ",'offset':0,'value':null")), "'value' is not a number" },
	{ RUN("{'op':'unmap'}"), "missing field 'view'" },
	{ RUN("{'op':'protect','view':'rw'," RANGE "}"), "missing field 'protect'" },
	{ RUN("{'op':'protect','view':'rw'," RANGE ",'protect':'rwx'}"),
	  "'protect' has an unknown value" },
	{ RUN("{'op':'protect','view':'rw'," RANGE ",'protect':1}"), "'protect' is not a string" },
	{ RUN("{'op':'protect','view':'rw','first':0,'count':9,'step':1,'protect':'readonly'}"),
	  "'count' is out of range" },
	{ RUN("{'op':'discard','view':'cow','first':0,'count':2,'step':8}"), "runs past" },
	{ RUN("{'op':'expect','view':'ro','first':0,'count':9,'step':1," OX "}"),
	  "'count' is out of range" },
	{ RUN("{'op':'fault_write','view':'ro','first':4,'count':5,'step':1," OX "}"),
	  "runs past" },
	/* the bad op is not the first one */
	{ RUN("{'op':'map','view':'rw','as_shared':false}," WRITE(RANGE ",'offset':1,'xor':1")),
	  "not a multiple of 4" },
};

static const struct bad_message bad_results[] = {
	{ "{'type':'result','v':1,'results':[{'op':'map','ok':true}]}", "missing field 'seq'" },
	{ "{'type':'result','v':1,'seq':1.25,'results':[{'op':'map','ok':true}]}", "'seq' is not" },
	{ "{'type':'result','v':1,'seq':1}", "'results' is not an array" },
	{ "{'type':'result','v':1,'seq':1,'results':'map'}", "'results' is not an array" },
	{ RESULT(""), "must hold 1 to 64 results" },
	{ RESULT("[]"), "a result is not an object" },
	{ RESULT("{'ok':true}"), "missing field 'op'" },
	{ RESULT("{'op':'peek','ok':true}"), "'op' has an unknown value" },
	{ RESULT("{'op':'map'}"), "missing field 'ok'" },
	{ RESULT("{'op':'map','ok':1}"), "'ok' is not a boolean" },
	{ RESULT("{'op':'map','ok':false}"), "missing field 'error'" },
	{ RESULT("{'op':'map','ok':false,'error':null}"), "'error' is not a string" },
	{ RESULT("{'op':'map','ok':false,'error':'" S32 S32 S32 S32 S32 "'}"),
	  "'error' is longer" },
	{ RESULT("{'op':'map','ok':false,'error':'a\\u0007'}"), "'error' has control" },
	{ RESULT(EXPECT_R("'matched':8,'samples':[]")), "missing field 'mismatched'" },
	{ RESULT(EXPECT_R("'mismatched':0,'samples':[]")), "missing field 'matched'" },
	{ RESULT(EXPECT_R("'mismatched':0,'matched':-8,'samples':[]")), "'matched' is not a non" },
	{ RESULT(EXPECT_R("'mismatched':0.5,'matched':8,'samples':[]")),
	  "'mismatched' is not a non" },
	{ RESULT(EXPECT_R("'mismatched':0,'matched':8")), "'samples' is not an array" },
	{ RESULT(EXPECT_R("'mismatched':0,'matched':8,'samples':{}")),
	  "'samples' is not an array" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1]]")), "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1,2,3]]")), "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[1,2]")), "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[{'a':1,'b':2}]")),
	  "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[['1',2]]")), "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1,null]]")),
	  "not [page, value]" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[-1,2]]")), "out of range" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1.5,2]]")), "out of range" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1000000000000000,2]]")),
	  "out of range" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1,4294967296]]")),
	  "out of range" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1,-2]]")), "out of range" },
	{ RESULT(EXPECT_R("'mismatched':1,'matched':7,'samples':[[1,2.5]]")), "out of range" },
	{ RESULT("{'op':'find','ok':true,'samples':[]}"), "missing field 'matched'" },
	{ RESULT("{'op':'find','ok':true,'matched':1}"), "'samples' is not an array" },
	{ RESULT("{'op':'fault_write','ok':true,'matched':1,'mismatched':0}"), "neither null" },
	{ RESULT(FAULT_R("'fault':1")), "neither null nor an object" },
	{ RESULT(FAULT_R("'fault':'SIGSEGV'")), "neither null nor an object" },
	{ RESULT(FAULT_R("'fault':{}")), "missing field 'code'" },
	{ RESULT(FAULT_R("'fault':{'code':'SIGSEGV\\r','target_offset':0,'fault_offset':0}")),
	  "'code' has control" },
	{ RESULT(FAULT_R("'fault':{'code':'" S16 S16 S16 "','target_offset':0,'fault_offset':0}")),
	  "'code' is longer" },
	{ RESULT(FAULT_R("'fault':{'code':'SIGSEGV','target_offset':-1,'fault_offset':0}")),
	  "'target_offset' is not a non-negative" },
	{ RESULT(FAULT_R("'fault':{'code':'SIGSEGV','target_offset':0}")),
	  "missing field 'fault_offset'" },
	{ RESULT(EVID("'private':0,'deviation':'','sources':[]")), "'pages' is not a string" },
	{ RESULT(EVID("'pages':4,'private':0,'deviation':'','sources':[]")),
	  "'pages' is not a string" },
	{ RESULT(EVID("'pages':'PsX.','private':0,'deviation':'','sources':[]")), "other than" },
	{ RESULT(EVID("'pages':'p','private':0,'deviation':'','sources':[]")), "other than" },
	{ RESULT(EVID("'pages':'P s','private':0,'deviation':'','sources':[]")), "other than" },
	{ RESULT(EVID("'pages':'Ps','private':3,'deviation':'','sources':[]")),
	  "'private' is out of range" },
	{ RESULT(EVID("'pages':'Ps','private':-1,'deviation':'','sources':[]")),
	  "'private' is not a non-negative" },
	{ RESULT(EVID("'pages':'Ps','deviation':'','sources':[]")), "missing field 'private'" },
	{ RESULT(EVID("'pages':'Ps','private':1,'sources':[]")), "missing field 'deviation'" },
	{ RESULT(EVID("'pages':'Ps','private':1,'deviation':'" S32 S32 S32 S32 S32 S32 S16 S16 S16
		      "','sources':[]")), "'deviation' is longer" },
	{ RESULT(EVID("'pages':'Ps','private':1,'deviation':'\\u001b]0;x\\u0007','sources':[]")),
	  "control characters" },
	{ RESULT(EVID("'pages':'Ps','private':1,'deviation':''")), "'sources' is not an array" },
	{ RESULT(EVID("'pages':'Ps','private':1,'deviation':'','sources':{}")),
	  "'sources' is not an array" },
	{ RESULT(EVID(EV_SRC(SRC_OK "," SRC_OK "," SRC_OK "," SRC_OK "," SRC_OK))),
	  "at most 4" },
	{ RESULT(EVID(EV_SRC("'pagemap'"))), "a source is not an object" },
	{ RESULT(EVID(EV_SRC("{'supported':true,'private':1,'note':'n'}"))),
	  "missing field 'name'" },
	{ RESULT(EVID(EV_SRC("{'name':'" S32 "','supported':true,'private':1,'note':'n'}"))),
	  "'name' is longer" },
	{ RESULT(EVID(EV_SRC("{'name':'x\\ty','supported':true,'private':1,'note':'n'}"))),
	  "control characters" },
	{ RESULT(EVID(EV_SRC("{'name':'x','private':1,'note':'n'}"))),
	  "missing field 'supported'" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':'yes','private':1,'note':'n'}"))),
	  "'supported' is not a boolean" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':true,'note':'n'}"))),
	  "missing field 'private'" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':true,'private':-1,'note':'n'}"))),
	  "'private' is not a non-negative" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':true,'private':1}"))),
	  "missing field 'note'" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':true,'private':1,'note':'" S199 "x'}"))),
	  "'note' is longer" },
	{ RESULT(EVID(EV_SRC("{'name':'x','supported':true,'private':1,'note':'a\\nb'}"))),
	  "control characters" },
	/* a bad result after a good evidence result: the first one is freed */
	{ RESULT(EVID(EV_OK) ",{'op':'find','ok':true,'matched':1}"), "'samples' is not an array" },
	{ RESULT(EVID(EV_OK) "," EVID("'pages':'Ps','private':9,'deviation':'','sources':[]")),
	  "'private' is out of range" },
};

static const struct bad_message bad_others[] = {
	{ DONE("'checks_held':1,'checks_total':1,'message':'','run_exit_status':3"), "missing field 'held'" },
	{ DONE("'held':1,'checks_held':1,'checks_total':1,'message':'','run_exit_status':3"),
	  "'held' is not a boolean" },
	{ DONE("'held':true,'checks_total':1,'message':'','run_exit_status':3"), "missing field 'checks_held'" },
	{ DONE("'held':true,'checks_held':1,'message':'','run_exit_status':3"), "missing field 'checks_total'" },
	{ DONE("'held':true,'checks_held':2,'checks_total':1,'message':'','run_exit_status':3"), "greater than" },
	{ DONE("'held':true,'checks_held':1001,'checks_total':1001,'message':'','run_exit_status':3"), "out of range" },
	{ DONE("'held':true,'checks_held':0,'checks_total':-1,'message':'','run_exit_status':3"),
	  "'checks_total' is not a non-negative" },
	{ DONE("'held':true,'checks_held':0.5,'checks_total':1,'message':'','run_exit_status':3"),
	  "'checks_held' is not a non-negative" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'run_exit_status':3"), "missing field 'message'" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':['x'],'run_exit_status':3"),
	  "'message' is not a string" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':''"), "missing field 'run_exit_status'" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':'','run_exit_status':2"),
	  "'run_exit_status' is 2" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':'','run_exit_status':4"),
	  "'run_exit_status' is out of range" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':'" S159 "x','run_exit_status':3"),
	  "'message' is longer" },
	{ DONE("'held':true,'checks_held':1,'checks_total':1,'message':'\\u001b[31mred','run_exit_status':3"),
	  "'message' has control" },
	{ ERROR("'message':'m'"), "missing field 'code'" },
	{ ERROR("'code':'x'"), "missing field 'message'" },
	{ ERROR("'code':5,'message':'m'"), "'code' is not a string" },
	{ ERROR("'code':'" S32 "','message':'m'"), "'code' is longer" },
	{ ERROR("'code':'x','message':'" S159 "x'"), "'message' is longer" },
	{ ERROR("'code':'x\\by','message':'m'"), "control characters" },
	{ ERROR("'code':'x','message':'m\\r\\n'"), "control characters" },
};

static void check_bad(const struct bad_message *bad, size_t n, const char *table)
{
	char why[PROTO_TEXT_MAX], want[PROTO_TEXT_MAX];
	struct proto_msg m;

	for (size_t i = 0; i < n; i++) {
		int err;

		memset(why, 0, sizeof(why));
		err = parse_single(bad[i].json, &lim8, &m, why, sizeof(why));
		json_text(bad[i].why, want, sizeof(want));
		CHECK_MSG(err_is(err, COWLAB_E_PROTO), "%s[%zu] gave %d: %s", table, i, err, bad[i].json);
		CHECK_MSG(why[0] != '\0', "%s[%zu]: no reason given", table, i);
		CHECK_MSG(strstr(why, want) != NULL, "%s[%zu]: reason \"%s\" lacks \"%s\"",
			  table, i, why, want);
		/* a refused message holds nothing; freeing it again is harmless */
		proto_msg_free(&m);
	}
}

#define CHECK_BAD(table) check_bad(table, sizeof(table) / sizeof(table[0]), #table)

static void test_bad_messages(void)
{
	CHECK_BAD(bad_envelopes);
	CHECK_BAD(bad_hellos);
	CHECK_BAD(bad_assigns);
	CHECK_BAD(bad_runs);
	CHECK_BAD(bad_results);
	CHECK_BAD(bad_others);
}

/* ---- messages that need more than a table line ---- */

static void expect_error(const char *text, size_t len, const struct proto_limits *lim,
			 int want, const char *what)
{
	char why[PROTO_TEXT_MAX] = "";
	struct proto_msg m;
	int err = proto_parse(text, len, lim, &m, why, sizeof(why));

	CHECK_MSG(err == want, "%s: got %d, want %d (%s)", what, err, want, why);
	CHECK_MSG(why[0] != '\0', "%s: no reason given", what);
	proto_msg_free(&m);
}

static void test_nul_byte(void)
{
	char text[TEXT_CAP];
	size_t len = json_text(HELLO(H_OK), text, sizeof(text));

	/* inside a string, and after the object */
	text[len - 4] = '\0';
	expect_error(text, len, NULL, COWLAB_E_PROTO, "NUL inside");
	len = json_text(HELLO(H_OK), text, sizeof(text));
	text[len] = '\0';
	expect_error(text, len + 1, NULL, COWLAB_E_PROTO, "NUL after");
}

/* A valid hello padded with spaces to `len` bytes. */
static char *padded_hello(size_t len)
{
	char *text = malloc(len);
	char base[TEXT_CAP];
	size_t n = json_text(HELLO(H_OK), base, sizeof(base));

	if (text == NULL)
		return NULL;
	memcpy(text, base, n);
	memset(text + n, ' ', len - n);
	return text;
}

static void test_size_cap(void)
{
	char *at = padded_hello(CHANNEL_MSG_MAX), *over = padded_hello(CHANNEL_MSG_MAX + 1);
	struct proto_msg m;
	char why[PROTO_TEXT_MAX];

	if (at != NULL && over != NULL) {
		CHECK(proto_parse(at, CHANNEL_MSG_MAX, NULL, &m, why, sizeof(why)) == 0);
		proto_msg_free(&m);
		expect_error(over, CHANNEL_MSG_MAX + 1, NULL, COWLAB_E_TOOBIG, "over the cap");
		/* the cap comes before any look at the content */
		memset(over, 'x', CHANNEL_MSG_MAX + 1);
		expect_error(over, CHANNEL_MSG_MAX + 1, NULL, COWLAB_E_TOOBIG, "garbage over cap");
	}
	free(at);
	free(over);
}

static void test_run_without_limits(void)
{
	char text[TEXT_CAP];
	size_t len = json_text(RUN(WRITE(RANGE "," OX)), text, sizeof(text));
	struct proto_limits none = { 0, 4096, 0 };
	char why[PROTO_TEXT_MAX];
	struct proto_msg m;

	expect_error(text, len, NULL, COWLAB_E_PROTO, "run, NULL limits");
	expect_error(text, len, &none, COWLAB_E_PROTO, "run, 0 pages");
	CHECK(proto_parse(text, len, &lim8, &m, why, sizeof(why)) == 0);
	proto_msg_free(&m);
	/* other messages need no limits */
	len = json_text(HELLO(H_OK), text, sizeof(text));
	CHECK(proto_parse(text, len, NULL, &m, why, sizeof(why)) == 0);
	proto_msg_free(&m);
}

/* head, then n copies of item joined by commas, then tail; ' becomes ". */
static char *repeat_json(const char *head, const char *item, size_t n, const char *tail,
			 size_t *len)
{
	size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
	char *s = malloc(hl + n * (il + 1) + tl + 1), *p = s;

	if (s == NULL)
		return NULL;
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, item, il);
		p += il;
	}
	memcpy(p, tail, tl + 1);
	*len = strlen(s);
	for (size_t i = 0; i < *len; i++)
		if (s[i] == '\'')
			s[i] = '"';
	return s;
}

/* n copies of item must parse (0) or be refused with want. */
static void check_repeat(const char *head, const char *item, size_t n, const char *tail,
			 const struct proto_limits *lim, int want, const char *what)
{
	size_t len = 0;
	char *text = repeat_json(head, item, n, tail, &len);
	char why[PROTO_TEXT_MAX] = "";
	struct proto_msg m;
	int err;

	if (text == NULL)
		return;
	err = proto_parse(text, len, lim, &m, why, sizeof(why));
	CHECK_MSG(err == want, "%s x%zu: got %d, want %d (%s)", what, n, err, want, why);
	CHECK_MSG(want == 0 || why[0] != '\0', "%s x%zu: no reason given", what, n);
	proto_msg_free(&m);
	free(text);
}

static void test_counts(void)
{
	const char *run = "{'type':'run','v':1,'seq':1,'ops':[";
	const char *res = "{'type':'result','v':1,'seq':1,'results':[";
	const char *samples = "{'type':'result','v':1,'seq':1,'results':[{'op':'expect',"
			      "'ok':true,'mismatched':65,'matched':0,'samples':[";
	const char *w = WRITE(RANGE "," OX), *map = "{'op':'map','ok':true}";

	check_repeat(run, w, PROTO_OPS_MAX, "]}", &lim8, 0, "ops");
	check_repeat(run, w, PROTO_OPS_MAX + 1, "]}", &lim8, COWLAB_E_PROTO, "ops");
	check_repeat(res, map, PROTO_OPS_MAX, "]}", &lim8, 0, "results");
	check_repeat(res, map, PROTO_OPS_MAX + 1, "]}", &lim8, COWLAB_E_PROTO, "results");
	check_repeat(samples, "[1,2]", PROTO_SAMPLES_MAX, "]}]}", &lim8, 0, "samples");
	check_repeat(samples, "[1,2]", PROTO_SAMPLES_MAX + 1, "]}]}", &lim8, COWLAB_E_PROTO,
		     "samples");
}

/* An evidence result whose page string is n characters long. */
static char *evidence_text(size_t n, size_t *len)
{
	const char *head = "{\"type\":\"result\",\"v\":1,\"seq\":1,\"results\":["
			   "{\"op\":\"evidence\",\"ok\":true,\"pages\":\"";
	const char *tail = "\",\"private\":0,\"deviation\":\"\",\"sources\":[]}]}";
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + n + tl + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, head, hl);
	memset(s + hl, EVIDENCE_PAGE_SHARED, n);
	memcpy(s + hl + n, tail, tl + 1);
	*len = hl + n + tl;
	return s;
}

static void test_evidence_max(void)
{
	struct proto_limits big = { PROTO_EVIDENCE_MAX + 100, 4096, 0 };
	char why[PROTO_TEXT_MAX], text[TEXT_CAP];
	struct proto_msg m;
	size_t len = 0;
	char *at = evidence_text(PROTO_EVIDENCE_MAX, &len);

	if (at != NULL && proto_parse(at, len, NULL, &m, why, sizeof(why)) == 0) {
		CHECK(m.u.result.results[0].evidence.count == PROTO_EVIDENCE_MAX);
		proto_msg_free(&m);
	} else {
		CHECK_MSG(false, "evidence of PROTO_EVIDENCE_MAX pages refused");
	}
	free(at);
	at = evidence_text(PROTO_EVIDENCE_MAX + 1, &len);
	if (at != NULL)
		expect_error(at, len, NULL, COWLAB_E_PROTO, "evidence pages over max");
	free(at);
	/* the op asking for it */
	len = json_text(RUN("{'op':'evidence','view':'cow','first':0,'count':16384,'step':1}"),
			text, sizeof(text));
	CHECK(proto_parse(text, len, &big, &m, why, sizeof(why)) == 0);
	proto_msg_free(&m);
	len = json_text(RUN("{'op':'evidence','view':'cow','first':0,'count':16385,'step':1}"),
			text, sizeof(text));
	expect_error(text, len, &big, COWLAB_E_PROTO, "evidence op over max");
}

/* `why` may be NULL or short: the parser truncates, never overruns. */
static void test_why_buffer(void)
{
	char text[TEXT_CAP], why[8];
	size_t len = json_text(HELLO("'pid':0,'version':'x'"), text, sizeof(text));
	struct proto_msg m;

	CHECK(err_is(proto_parse(text, len, NULL, &m, NULL, 0), COWLAB_E_PROTO));
	memset(why, '#', sizeof(why));
	CHECK(err_is(proto_parse(text, len, NULL, &m, why, 4), COWLAB_E_PROTO));
	CHECK(strlen(why) == 3 && why[4] == '#');
	len = json_text(HELLO(H_OK), text, sizeof(text));
	strcpy(why, "stale");
	CHECK(proto_parse(text, len, NULL, &m, why, sizeof(why)) == 0);
	CHECK_MSG(why[0] == '\0', "why after success: \"%s\"", why);
}

/* ---- proto_result_matches ---- */

#define NMATCH_OPS 6

static void match_run(struct proto_run *run)
{
	static const struct proto_op ops[NMATCH_OPS] = {
		{ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW },
		{ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_COW, .range = { 0, 4, 2 }, .offset = 8, .xor_value = 1 },
		{ .kind = PROTO_OP_EXPECT, .view = PROTO_VIEW_RW, .range = { 1, 3, 2 }, .offset = 8 }, /* 1 3 5 */
		{ .kind = PROTO_OP_FIND, .view = PROTO_VIEW_RO, .range = { 0, 8, 1 }, .offset = 8, .xor_value = 1 },
		{ .kind = PROTO_OP_FAULT_WRITE, .view = PROTO_VIEW_RO, .range = { 0, 2, 3 }, .offset = 8, .xor_value = 2 }, /* 0 3 */
		{ .kind = PROTO_OP_EVIDENCE, .view = PROTO_VIEW_COW, .range = { 0, 8, 1 } },
	};

	memset(run, 0, sizeof(*run));
	run->seq = 5;
	run->nops = NMATCH_OPS;
	memcpy(run->ops, ops, sizeof(ops));
}

/* What page `page` holds at offset 8 under lim8's seed, XOR x. */
static uint32_t word8(uint64_t page, uint32_t x)
{
	return pattern_value(lim8.seed, page, 8) ^ x;
}

/* The right answer to match_run(), with room for one result too many. */
static void match_results(struct proto_op_result *r)
{
	static char pages[] = "P...P...";

	memset(r, 0, (NMATCH_OPS + 1) * sizeof(*r));
	r[0] = (struct proto_op_result){ .kind = PROTO_OP_MAP, .ok = true };
	r[1] = (struct proto_op_result){ .kind = PROTO_OP_WRITE, .ok = true };
	r[2] = (struct proto_op_result){ .kind = PROTO_OP_EXPECT, .ok = true, .matched = 2,
		.mismatched = 1, .nsamples = 1, .samples = { { 3, 99 } } };
	r[3] = (struct proto_op_result){ .kind = PROTO_OP_FIND, .ok = true, .matched = 2,
		.nsamples = 2, .samples = { { 0, word8(0, 1) }, { 7, word8(7, 1) } } };
	r[4] = (struct proto_op_result){ .kind = PROTO_OP_FAULT_WRITE, .ok = true,
		.matched = 2, .fault = { .faulted = true, .code = "SIGSEGV" },
		.fault_target = 8, .fault_offset = 8 };
	r[5] = (struct proto_op_result){ .kind = PROTO_OP_EVIDENCE, .ok = true,
		.evidence = { .pages = pages, .count = 8, .private_pages = 2 } };
	r[6] = (struct proto_op_result){ .kind = PROTO_OP_MAP, .ok = true };
}

static int matches(struct proto_op_result *r, size_t n, uint64_t seq,
		   const struct proto_run *run)
{
	struct proto_result res = { seq, r, n };
	char why[PROTO_TEXT_MAX] = "";
	int err = proto_result_matches(&res, run, &lim8, why, sizeof(why));

	CHECK_MSG(err == 0 || (err_is(err, COWLAB_E_PROTO) && why[0] != '\0'),
		  "refused with %d and reason \"%s\"", err, why);
	match_results(r); /* ready for the next mutation */
	return err;
}

static void test_result_matches_counts(struct proto_op_result *r, const struct proto_run *run)
{
	CHECK(matches(r, NMATCH_OPS, 5, run) == 0);
	CHECK(matches(r, NMATCH_OPS, 4, run) != 0);
	CHECK(matches(r, NMATCH_OPS, 6, run) != 0);
	CHECK(matches(r, NMATCH_OPS - 1, 5, run) != 0);
	CHECK(matches(r, NMATCH_OPS + 1, 5, run) != 0);
	r[2].kind = PROTO_OP_FIND;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[0].kind = PROTO_OP_WRITE;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[2].matched = 3;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[2].matched = 1;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].mismatched = 1;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].matched = 0;
	r[4].mismatched = 2;
	CHECK(matches(r, NMATCH_OPS, 5, run) == 0);
	r[3].matched = 9;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[5].evidence.count = 7;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[5].evidence.count = 9;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].fault_target = 8 * 4096;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].fault_offset = 8 * 4096;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	/* an address outside the view is said as such, and is no offset */
	r[4].fault_offset = 8 * 4096;
	r[4].fault_outside = true;
	CHECK(matches(r, NMATCH_OPS, 5, run) == 0);
	/* a failed op carries no counts, but must still be the right op */
	r[2] = (struct proto_op_result){ .kind = PROTO_OP_EXPECT, .ok = false, .matched = 99 };
	CHECK(matches(r, NMATCH_OPS, 5, run) == 0);
	r[2] = (struct proto_op_result){ .kind = PROTO_OP_FIND, .ok = false };
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
}

static void test_result_matches_samples(struct proto_op_result *r, const struct proto_run *run)
{
	static const struct { size_t op; uint64_t page; bool inside; } cases[] = {
		{ 2, 1, true }, { 2, 5, true }, { 2, 0, false }, { 2, 2, false },
		{ 2, 4, false }, { 2, 6, false }, { 2, 7, false }, { 2, UINT64_MAX, false },
		{ 3, 6, true }, { 3, 7, true }, { 3, 8, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the find's last sample (its first is page 0), true to the pattern */
		struct proto_sample *sm = &r[cases[i].op].samples[cases[i].op == 3 ? 1 : 0];

		sm->page = cases[i].page;
		if (cases[i].op == 3)
			sm->value = word8(cases[i].page, 1);
		CHECK_MSG((matches(r, NMATCH_OPS, 5, run) == 0) == cases[i].inside,
			  "op %zu, sample page %llu", cases[i].op,
			  (unsigned long long)cases[i].page);
	}
	/* samples must be true to their operation: a find's hold pattern^xor,
	 * an expect's do not (a client cannot frame a page it did not see) */
	r[3].samples[1].value ^= 1;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[2].samples[0].value = word8(3, 0);
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	/* in range order, no repeats, no more than counted */
	r[3].samples[0] = r[3].samples[1];
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[3].samples[1] = (struct proto_sample){ 0, word8(0, 1) };
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[3].matched = 1;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[2].nsamples = 2;
	r[2].samples[1] = (struct proto_sample){ 5, 99 };
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	/* evidence: its private count is its own P pages */
	r[5].evidence.private_pages = 3;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	/* a fault at another offset than the operation's, or outside its pages */
	r[4].fault_target = 12;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].fault_target = 4096 + 8;
	CHECK(matches(r, NMATCH_OPS, 5, run) != 0);
	r[4].fault_target = 3 * 4096 + 8;
	CHECK(matches(r, NMATCH_OPS, 5, run) == 0);
}

/* Built, sent and parsed both ways, a right answer still matches. */
static void test_result_matches_parsed(struct proto_op_result *r, const struct proto_run *run)
{
	struct proto_msg mr, ms;
	size_t len = 0;
	char why[PROTO_TEXT_MAX] = "";

	char *saved = r[5].evidence.pages;

	r[5].evidence.pages = strdup(saved);
	if (parse_built(proto_build_run(run, &len), &len, &lim8, &mr)) {
		if (parse_built(proto_build_result(5, r, NMATCH_OPS, &len), &len, &lim8, &ms)) {
			CHECK_MSG(proto_result_matches(&ms.u.result, &mr.u.run, &lim8, why,
						       sizeof(why)) == 0, "%s", why);
			proto_msg_free(&ms);
		}
		proto_msg_free(&mr);
	}
	free(r[5].evidence.pages);
	r[5].evidence.pages = saved;
}

static void test_result_matches(void)
{
	struct proto_run *run = malloc(sizeof(*run));
	struct proto_op_result *r = calloc(NMATCH_OPS + 1, sizeof(*r));

	if (run != NULL && r != NULL) {
		match_run(run);
		match_results(r);
		test_result_matches_counts(r, run);
		test_result_matches_samples(r, run);
		test_result_matches_parsed(r, run);
	}
	free(run);
	free(r);
}

/* ---- proto_range_valid ---- */

static bool range_ok(uint64_t first, uint64_t count, uint64_t step, uint64_t pages)
{
	struct proto_range r = { first, count, step };

	return proto_range_valid(&r, pages);
}

static void test_range_edges(void)
{
	const uint64_t big = UINT64_MAX, half = (uint64_t)1 << 63;
	struct proto_range r = { 1, 4, 2 };

	CHECK(range_ok(0, 1, 1, 1));
	CHECK(!range_ok(0, 1, 1, 0));
	CHECK(!range_ok(0, 0, 1, 8));
	CHECK(!range_ok(0, 1, 0, 8));
	CHECK(!range_ok(8, 1, 1, 8));
	CHECK(!range_ok(big, 1, 1, 8));
	CHECK(range_ok(0, 8, 1, 8));
	CHECK(!range_ok(0, 9, 1, 8));
	CHECK(!range_ok(1, 8, 1, 8));
	CHECK(range_ok(1, 4, 2, 8));
	CHECK(!range_ok(2, 4, 2, 8));
	CHECK(range_ok(7, 1, big, 8));
	/* first + (count-1)*step wraps around 2^64 back into the section */
	CHECK(!range_ok(0, 2, big, 8));
	CHECK(!range_ok(5, 3, half, 8));
	CHECK(!range_ok(0, half + 1, 2, big));
	CHECK(!range_ok(1, big, 1, big));
	CHECK(!range_ok(0, big, big, big));
	CHECK(!range_ok(0, 3, half, big));
	CHECK(range_ok(0, big, 1, big));
	CHECK(range_ok(0, 2, half, big));
	CHECK(proto_range_page(&r, 0) == 1 && proto_range_page(&r, 3) == 7);
}

/* Against the definition, for every small range. */
static void test_range_exhaustive(void)
{
	int wrong = 0;

	for (uint64_t pages = 0; pages <= 10; pages++)
		for (uint64_t first = 0; first <= 11; first++)
			for (uint64_t count = 0; count <= 11; count++)
				for (uint64_t step = 0; step <= 11; step++) {
					bool want = count > 0 && step > 0 &&
						    first + (count - 1) * step < pages;

					wrong += range_ok(first, count, step, pages) != want;
				}
	CHECK_MSG(wrong == 0, "%d small ranges judged wrongly", wrong);
}

/* An unknown value with control characters is refused without being
 * echoed: the reason goes to terminals. */
static void test_no_echo(void)
{
	char text[TEXT_CAP], why[PROTO_TEXT_MAX];
	size_t len = json_text("{'type':'\\u001b[2Jred','v':1}", text, sizeof(text));
	struct proto_msg m;

	CHECK(err_is(proto_parse(text, len, NULL, &m, why, sizeof(why)), COWLAB_E_PROTO));
	CHECK_MSG(strchr(why, 0x1b) == NULL && strstr(why, "control characters") != NULL,
		  "the reason echoes the value: %s", why);
	len = json_text("{'type':'nope','v':1}", text, sizeof(text));
	CHECK(err_is(proto_parse(text, len, NULL, &m, why, sizeof(why)), COWLAB_E_PROTO));
	CHECK(strstr(why, "\"nope\"") != NULL);
}

/* run and result are written as text directly: the text must be what
 * cJSON itself prints for the same values (escapes included), and every
 * escaped string must come back as it went. */
static void test_writer_is_cjson(void)
{
	static const char *const texts[] = {
		"plain", "q\"uote b\\ack", "nl\n cr\r tab\t bs\b ff\f",
		"ctl \x01\x1f del \x7f", "utf-8 \xc3\xa9 \xe2\x82\xac", "",
	};
	struct proto_op_result res[2];
	struct proto_run run;

	memset(&run, 0, sizeof(run));
	run.seq = 123456789; /* cJSON re-prints numbers over 2^31 as %g: keep to those it does not */
	run.ops[run.nops++] = (struct proto_op){ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW, .as_shared = true };
	run.ops[run.nops++] = (struct proto_op){ .kind = PROTO_OP_EVIDENCE, .view = PROTO_VIEW_COW, .range = { 3, 2, 1 } };
	run.ops[run.nops++] = (struct proto_op){ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_RW, .range = { 1, 5, 4 }, .offset = 4092, .xor_value = UINT32_MAX };
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		char *built[2];
		size_t len;

		memset(res, 0, sizeof(res));
		res[0].kind = PROTO_OP_WRITE;
		snprintf(res[0].error, sizeof(res[0].error), "%s", texts[k]);
		res[1].kind = PROTO_OP_EVIDENCE;
		res[1].ok = true;
		res[1].evidence.pages = (char *)"Ps.";
		res[1].evidence.count = 3;
		evidence_add_source(&res[1].evidence, "pagemap", true, 1, texts[k]);
		run.last = k % 2 == 1;
		built[0] = proto_build_run(&run, &len);
		built[1] = proto_build_result(5, res, 2, &len);
		for (int i = 0; i < 2; i++) {
			cJSON *tree = built[i] != NULL ? cJSON_Parse(built[i]) : NULL;
			char *again = tree != NULL ? cJSON_PrintUnformatted(tree) : NULL;

			if (!CHECK_OK(again != NULL && strcmp(again, built[i]) == 0))
				fprintf(stderr, "  built: %s\n  cJSON: %s\n", built[i], again);
			if (i == 1 && tree != NULL) {
				const cJSON *r0 = cJSON_GetArrayItem(
					cJSON_GetObjectItemCaseSensitive(tree, "results"), 0);
				const cJSON *err = cJSON_GetObjectItemCaseSensitive(r0, "error");

				CHECK(cJSON_IsString(err) && strcmp(err->valuestring, texts[k]) == 0);
			}
			free(again);
			cJSON_Delete(tree);
			free(built[i]);
		}
	}
}

/* hello, assign, done and error are written as text too: each equal to
 * cJSON's print of itself, with every field, escapes and both image
 * formats (or none). */
static void test_builders_are_cjson(void)
{
	struct proto_hello hellos[3] = {
		{ .pid = 2147483647L, .version = "0.1.0\"\\\t", .no_verdict = true },
		{ .pid = 7, .version = "0.1.0", .has_image = true, .image = {
			.format = IMAGE_FORMAT_PE, .private_count = 1, .shared_count = 4000000000u,
			.section_found = true, .section_name = "shared",
			.characteristics = IMAGE_SHARED_CHARACTERISTICS, .protect = "PAGE_READWRITE" } },
		{ .pid = 8, .version = "0.1.0", .has_image = true, .image = {
			.format = IMAGE_FORMAT_ELF, .private_count = 2, .shared_count = 3,
			.data_mapping = "5600-5601 rw-p 00015000 fe:00 531 /b/\xc3\xa9 \"x\"" } },
	};
	struct proto_assign a = {
		.id = 42, .section_name = "cowlab-unit.Test_1\\x", .section_size = 64 * 4096,
		.page_size = 4096, .seed = 0xFEDCBA98u, .first_page = 17, .page_count = 47,
		.timeout_ms = PROTO_WAIT_MAX_MS,
	};
	struct proto_done d = { .held = false, .checks_held = 3, .checks_total = 7,
				.message = "cow_write_isolated failed: \"seen\"\n twice",
				.run_exit_status = 1 };
	char *built[6];
	size_t len;

	for (int i = 0; i < 3; i++)
		built[i] = proto_build_hello(&hellos[i], &len);
	built[3] = proto_build_assign(&a, &len);
	built[4] = proto_build_done(&d, &len);
	built[5] = proto_build_error("bad\tcode", "a \"quoted\" reason \xe2\x82\xac", &len);
	for (int i = 0; i < 6; i++) {
		cJSON *tree = built[i] != NULL ? cJSON_Parse(built[i]) : NULL;
		char *again = tree != NULL ? cJSON_PrintUnformatted(tree) : NULL;

		if (!CHECK_OK(again != NULL && strcmp(again, built[i]) == 0))
			fprintf(stderr, "  built: %s\n  cJSON: %s\n", built[i], again);
		free(again);
		cJSON_Delete(tree);
		free(built[i]);
	}
}

/* ---- a write's times, a map's address (--step, the cost of a copy) ---- */

/* The text of a parse of `text` (the error words in why), 0 or an error. */
static int parse_text(const char *text, const struct proto_limits *lim, struct proto_msg *m,
		      char *why, size_t cap)
{
	return proto_parse(text, strlen(text), lim, m, why, cap);
}

static void test_times(void)
{
	struct proto_run run;
	struct proto_op_result *r = calloc(2, sizeof(*r));
	struct proto_msg mr, ms;
	char why[PROTO_TEXT_MAX] = "";
	size_t len = 0;

	/* the buckets: every time in its own */
	for (uint64_t ns = 0; ns < 5000000; ns = ns * 9 / 8 + 1) {
		uint32_t b = proto_time_bucket(ns);

		CHECK_MSG(proto_time_lo_ns(b) <= ns && ns < proto_time_lo_ns(b + 1),
			  "%llu ns in bucket %u [%llu, %llu)", (unsigned long long)ns, b,
			  (unsigned long long)proto_time_lo_ns(b),
			  (unsigned long long)proto_time_lo_ns(b + 1));
	}
	CHECK(proto_time_bucket(UINT64_MAX) == PROTO_TIME_BUCKETS - 1);
	if (r == NULL)
		return;
	memset(&run, 0, sizeof(run));
	run.seq = 3;
	run.nops = 2;
	run.ops[0] = (struct proto_op){ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW };
	run.ops[1] = (struct proto_op){ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_COW,
					.range = { 1, 3, 2 }, .xor_value = 5 };
	r[0] = (struct proto_op_result){ .kind = PROTO_OP_MAP, .ok = true, .address = 0x7f00a000 };
	r[1].kind = PROTO_OP_WRITE;
	r[1].ok = true;
	r[1].times[0] = (struct proto_time){ 20, 2 };
	r[1].times[1] = (struct proto_time){ 22, 1 };
	r[1].ntimes = 2;
	r[1].again[0] = (struct proto_time){ 3, 3 };
	r[1].nagain = 1;
	r[1].faults = 2;
	r[1].has_faults = true;
	if (parse_built(proto_build_run(&run, &len), &len, &lim8, &mr)) {
		char *text = proto_build_result(3, r, 2, &len);

		CHECK(text != NULL && strstr(text, "\"address\":2130747392") != NULL &&
		      strstr(text, "\"times\":[[20,2],[22,1]],\"again\":[[3,3]],\"faults\":2") != NULL);
		if (text != NULL && parse_built(text, &len, &lim8, &ms)) {
			const struct proto_op_result *w = &ms.u.result.results[1];

			CHECK(ms.u.result.results[0].address == 0x7f00a000);
			CHECK(w->ntimes == 2 && w->times[1].bucket == 22 && w->times[1].count == 1 &&
			      w->nagain == 1 && w->again[0].count == 3 && w->has_faults &&
			      w->faults == 2);
			CHECK_MSG(proto_result_matches(&ms.u.result, &mr.u.run, &lim8, why,
						       sizeof(why)) == 0, "%s", why);
			proto_msg_free(&ms);
		}
		/* times that do not count every page are refused */
		r[1].times[1].count = 2;
		text = proto_build_result(3, r, 2, &len);
		if (text != NULL && parse_text(text, &lim8, &ms, why, sizeof(why)) == 0) {
			CHECK(proto_result_matches(&ms.u.result, &mr.u.run, &lim8, why,
						   sizeof(why)) != 0 &&
			      strstr(why, "times 4 writes and 3 again of 3") != NULL);
			proto_msg_free(&ms);
		}
		free(text);
		proto_msg_free(&mr);
	}
	/* buckets out of order, past the last, counts of 0; a map's address of 0 */
	static const char *const bad[][2] = {
		{ "[[22,1],[20,2]]", "out of order" },
		{ "[[128,3]]", "[bucket, count]" },
		{ "[[20,0],[22,3]]", "[bucket, count]" },
		{ "[20,3]", "[bucket, count]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[400];

		snprintf(text, sizeof(text), "{\"type\":\"result\",\"v\":1,\"seq\":3,\"results\":["
			 "{\"op\":\"map\",\"ok\":true},{\"op\":\"write\",\"ok\":true,\"times\":%s}]}",
			 bad[i][0]);
		CHECK_MSG(parse_text(text, &lim8, &ms, why, sizeof(why)) != 0 &&
			  strstr(why, bad[i][1]) != NULL, "%s: %s", bad[i][0], why);
	}
	CHECK(parse_text("{\"type\":\"result\",\"v\":1,\"seq\":3,\"results\":[{\"op\":\"map\","
			 "\"ok\":true,\"address\":0}]}", &lim8, &ms, why, sizeof(why)) != 0);
	free(r);
}

/* fork (issue 17): the op names a child and no view, its result the
 * child's pid; the child's hello says whose fork it is; evidence tells a
 * copy shared with a fork relative (R) and gives the view's dirty pages. */
static void test_fork(void)
{
	struct proto_run run;
	struct proto_op_result *r = calloc(2, sizeof(*r));
	struct proto_hello h = { .pid = 42, .version = "0.1.0", .fork_parent = 1, .fork_child = 3 };
	struct proto_msg m, ms;
	char why[PROTO_TEXT_MAX] = "";
	size_t len = 0;
	char *text;

	if (r == NULL)
		return;
	if (parse_built(proto_build_hello(&h, &len), &len, NULL, &m)) {
		CHECK(m.u.hello.fork_parent == 1 && m.u.hello.fork_child == 3);
		proto_msg_free(&m);
	}
	h.fork_parent = h.fork_child = 0;
	if (parse_built(proto_build_hello(&h, &len), &len, NULL, &m)) {
		CHECK(m.u.hello.fork_parent == 0 && m.u.hello.fork_child == 0);
		proto_msg_free(&m);
	}
	memset(&run, 0, sizeof(run));
	run.seq = 1;
	run.nops = 2;
	run.ops[0] = (struct proto_op){ .kind = PROTO_OP_FORK, .child = 3 };
	run.ops[1] = (struct proto_op){ .kind = PROTO_OP_EVIDENCE, .view = PROTO_VIEW_COW,
					.range = { 0, 4, 1 } };
	text = proto_build_run(&run, &len);
	CHECK(text != NULL && strstr(text, "{\"op\":\"fork\",\"child\":3}") != NULL);
	if (parse_built(text, &len, &lim8, &m)) {
		CHECK(m.u.run.nops == 2 && m.u.run.ops[0].kind == PROTO_OP_FORK &&
		      m.u.run.ops[0].child == 3);
		r[0] = (struct proto_op_result){ .kind = PROTO_OP_FORK, .ok = true, .pid = 4242 };
		r[1].kind = PROTO_OP_EVIDENCE;
		r[1].ok = true;
		r[1].evidence.pages = strdup("PR.s");
		r[1].evidence.count = 4;
		r[1].evidence.private_pages = 2;
		r[1].evidence.private_dirty = 3;
		r[1].evidence.shared_dirty = 7;
		text = proto_build_result(1, r, 2, &len);
		CHECK(text != NULL && strstr(text, "\"pid\":4242") != NULL &&
		      strstr(text, "\"dirty\":{\"private\":3,\"shared\":7}") != NULL);
		if (text != NULL && parse_built(text, &len, &lim8, &ms)) {
			const struct evidence_report *ev = &ms.u.result.results[1].evidence;

			CHECK(ms.u.result.results[0].pid == 4242);
			CHECK(ev->pages != NULL && strcmp(ev->pages, "PR.s") == 0 &&
			      ev->private_dirty == 3 && ev->shared_dirty == 7);
			CHECK_MSG(proto_result_matches(&ms.u.result, &m.u.run, &lim8, why,
						       sizeof(why)) == 0, "%s", why);
			proto_msg_free(&ms);
		}
		/* R counts as a private copy: a count that leaves it out is wrong */
		r[1].evidence.private_pages = 1;
		text = proto_build_result(1, r, 2, &len);
		if (text != NULL && parse_text(text, &lim8, &ms, why, sizeof(why)) == 0) {
			CHECK(proto_result_matches(&ms.u.result, &m.u.run, &lim8, why,
						   sizeof(why)) != 0);
			proto_msg_free(&ms);
		}
		free(text);
		/* without "dirty" it is not known: -1 */
		r[1].evidence.private_dirty = r[1].evidence.shared_dirty = -1;
		r[1].evidence.private_pages = 2;
		text = proto_build_result(1, r, 2, &len);
		CHECK(text != NULL && strstr(text, "dirty") == NULL);
		if (text != NULL && parse_built(text, &len, &lim8, &ms)) {
			CHECK(ms.u.result.results[1].evidence.shared_dirty == -1);
			proto_msg_free(&ms);
		}
		proto_msg_free(&m);
	}
	proto_op_result_free(&r[1]);
	free(r);
	/* refused: a fork with a view, child 0, a hello whose fork is its own,
	 * letters that are none, dirty that is no object */
	static const char *const bad[][2] = {
		{ "{\"type\":\"run\",\"v\":1,\"seq\":0,\"ops\":[{\"op\":\"fork\",\"view\":"
		  "\"cow\",\"child\":2}]}", "no view" },
		{ "{\"type\":\"run\",\"v\":1,\"seq\":0,\"ops\":[{\"op\":\"fork\",\"child\":0}]}",
		  "child" },
		{ "{\"type\":\"hello\",\"v\":1,\"pid\":5,\"version\":\"0.1.0\",\"image\":null,"
		  "\"fork\":{\"parent\":2,\"child\":2}}", "not its parent" },
		{ "{\"type\":\"hello\",\"v\":1,\"pid\":5,\"version\":\"0.1.0\",\"image\":null,"
		  "\"fork\":3}", "not an object" },
		{ "{\"type\":\"result\",\"v\":1,\"seq\":0,\"results\":[{\"op\":\"fork\",\"ok\":"
		  "true}]}", "pid" },
		{ "{\"type\":\"result\",\"v\":1,\"seq\":0,\"results\":[{\"op\":\"evidence\","
		  "\"ok\":true,\"pages\":\"PX\",\"private\":1,\"deviation\":\"\",\"sources\":[]}]}",
		  "P R s . ?" },
		{ "{\"type\":\"result\",\"v\":1,\"seq\":0,\"results\":[{\"op\":\"evidence\","
		  "\"ok\":true,\"pages\":\"PR\",\"private\":2,\"deviation\":\"\",\"dirty\":4,"
		  "\"sources\":[]}]}", "dirty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse_text(bad[i][0], &lim8, &m, why, sizeof(why)) != 0 &&
			  strstr(why, bad[i][1]) != NULL, "%s: %s", bad[i][0], why);
}

int main(void)
{
	test_no_echo();
	test_fork();
	test_names();
	test_roundtrip_hello();
	test_roundtrip_image();
	test_roundtrip_assign();
	test_roundtrip_run();
	test_roundtrip_result();
	test_writer_is_cjson();
	test_builders_are_cjson();
	test_roundtrip_done();
	test_roundtrip_error();
	test_build_over_cap();
	test_good_messages();
	test_bad_messages();
	test_nul_byte();
	test_size_cap();
	test_run_without_limits();
	test_counts();
	test_evidence_max();
	test_why_buffer();
	test_result_matches();
	test_range_edges();
	test_range_exhaustive();
	test_times();
	return check_exit("test-protocol");
}
