/* The built-in experiment's layout, shared by the code that builds each
 * step's batch (experiment.c) and the code that judges the results
 * (verdict.c). Each client owns page_count pages; page i of its range has
 * role i % ROLE_COUNT (experiment_role_of). */
#ifndef COWLAB_EXPERIMENT_H
#define COWLAB_EXPERIMENT_H

#include <stdint.h>

#include "protocol.h"

struct client_state;
struct server;

enum role {
	ROLE_COW,   /* written through the cow view: must become a private copy */
	ROLE_TRACK, /* never written: its cow view must keep tracking the section */
	ROLE_RW,    /* written through the rw view: must be visible in the section */
	ROLE_FAULT, /* written through the ro view: must fault and change nothing */
	ROLE_COUNT,
};

/* How many neighbouring clients' pages, on each side, a client searches
 * for others' copy-on-write writes. */
#define EXPERIMENT_WINDOW 2

/* Clients write word 0 of a page; the server's later write goes to word 1,
 * so a copied page and the section can differ in both directions. */
#define LATER_OFFSET 4

/* Operation indexes of each step's batch. */
enum { W_MAP_RW, W_MAP_COW, W_MAP_RO, W_EVIDENCE_BEFORE, W_WRITE_COW, W_WRITE_RW, W_EXPECT_COW,
       W_EXPECT_RW_CLEAN, W_FAULT, W_EXPECT_RO_CLEAN, W_EVIDENCE };
enum { O_TRACKS_LATER, O_TRACKS_RW, O_COW_DETACHED, O_COW_STILL, O_FIND_COW_BELOW,
       O_FIND_COW_ABOVE, O_FIND_RW, O_FIND_SERVER_COW, O_EVIDENCE };

/* The role of page i of a client's range (i counts from its first page). */
static inline enum role experiment_role_of(uint64_t i)
{
	return (enum role)(i % ROLE_COUNT);
}

/* The pages of a client's range that have a role. */
struct proto_range experiment_role_range(const struct client_state *c, enum role role);
uint64_t experiment_role_count(const struct client_state *c, enum role role);
/* How many pages of a range hold pattern^xor at offset in one of the
 * server's own views. */
uint64_t experiment_count_matching(const struct server *s, void *view, struct proto_range r,
				   uint32_t offset, uint32_t xor_value);

/* The section: page 0 is the server's, then every client's range, then a
 * last page nobody writes (so that every client has pages above its own). */
static inline uint64_t experiment_section_pages(uint64_t clients, uint64_t pages_per_client)
{
	return 2 + clients * pages_per_client;
}
/* The admitted client that owns a page, or NULL (the server's pages,
 * unassigned ones). */
struct client_state *experiment_owner(struct server *s, uint64_t page);

#endif
