/* libFuzzer target over everything the programs do with a peer's bytes:
 * proto_parse under several section shapes, then for a result the server's
 * check of it against each batch the experiment really sends
 * (proto_result_matches), and for any valid message a rebuild with the
 * builders that must parse again to the same type (builder and parser
 * agree). Build: CC=clang meson setup build-fuzz -Dfuzz=true. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct proto_limits shapes[] = {
	{ 17, 4096, 0 }, { 1, 4096, 12345 }, { 1u << 20, 65536, 0xC0FFEEu },
};

/* Batches shaped like the experiment's three steps for a client owning
 * pages 1-4 of 17. */
static void make_runs(struct proto_run runs[3])
{
	const struct proto_range own = { 1, 4, 1 }, all = { 0, 17, 1 }, cow = { 1, 1, 4 };

	memset(runs, 0, 3 * sizeof(runs[0]));
	for (int i = 0; i < 3; i++) {
		runs[i].seq = (uint64_t)i;
		runs[i].nops = 3;
	}
	runs[0].ops[0] = (struct proto_op){ .kind = PROTO_OP_MAP, .view = PROTO_VIEW_COW };
	runs[0].ops[1] = (struct proto_op){ .kind = PROTO_OP_EVIDENCE, .view = PROTO_VIEW_COW,
					    .range = own };
	runs[0].ops[2] = (struct proto_op){ .kind = PROTO_OP_FAULT_WRITE, .view = PROTO_VIEW_RO,
					    .range = cow };
	runs[1].ops[0] = (struct proto_op){ .kind = PROTO_OP_WRITE, .view = PROTO_VIEW_COW,
					    .range = cow };
	runs[1].ops[1] = (struct proto_op){ .kind = PROTO_OP_EXPECT, .view = PROTO_VIEW_COW,
					    .range = cow, .offset = 4 };
	runs[1].ops[2] = (struct proto_op){ .kind = PROTO_OP_FIND, .view = PROTO_VIEW_RW,
					    .range = all };
	runs[2] = runs[1];
	runs[2].seq = 2;
}

static void rebuild(const struct proto_msg *m, const struct proto_limits *lim)
{
	struct proto_msg again;
	size_t len = 0;
	char *text = NULL;

	switch (m->type) {
	case PROTO_HELLO: text = proto_build_hello(&m->u.hello, &len); break;
	case PROTO_ASSIGN: text = proto_build_assign(&m->u.assign, &len); break;
	case PROTO_RUN: text = proto_build_run(&m->u.run, &len); break;
	case PROTO_RESULT:
		text = proto_build_result(m->u.result.seq, m->u.result.results,
					  m->u.result.nresults, &len);
		break;
	case PROTO_DONE: text = proto_build_done(&m->u.done, &len); break;
	case PROTO_ERROR: text = proto_build_error(m->u.error.code, m->u.error.message, &len); break;
	}
	/* A valid message may rebuild over the cap (numbers print longer);
	 * anything that does rebuild must parse to the same type. */
	if (text == NULL)
		return;
	if (proto_parse(text, len, lim, &again, NULL, 0) != 0 || again.type != m->type)
		abort();
	proto_msg_free(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_run runs[3];
	char why[PROTO_TEXT_MAX];

	make_runs(runs);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct proto_msg m;
		int err = proto_parse(data, size, &shapes[i], &m, why, sizeof(why));

		if (err != 0) {
			/* every refusal says why */
			if (why[0] == '\0' && !err_is(err, COWLAB_E_NOMEM))
				abort();
			continue;
		}
		if (m.type == PROTO_RESULT)
			for (int k = 0; k < 3; k++)
				proto_result_matches(&m.u.result, &runs[k], &shapes[i], why, sizeof(why));
		rebuild(&m, &shapes[i]);
		proto_msg_free(&m);
	}
	return 0;
}
