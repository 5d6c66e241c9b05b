/* The primitive operations a client performs on its views when the server
 * asks (protocol.h): map, write, expect, find, fault_write, evidence. */
#ifndef COWLAB_CLIENT_OPS_H
#define COWLAB_CLIENT_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"
#include "section.h"

struct section;

struct client_views {
	struct section *section;
	void *view[PROTO_VIEW_COUNT];
	enum section_view kind[PROTO_VIEW_COUNT]; /* how each was mapped */
	bool guarded[PROTO_VIEW_COUNT]; /* a protection was set: access through the probe */
	uint64_t pages;
	uint32_t page_size;
	uint32_t seed;
};

/* Performs one operation; never fails as a whole: a failure is reported in
 * r->ok / r->error. */
void ops_run(struct client_views *cv, const struct proto_op *op, struct proto_op_result *r);

#endif
