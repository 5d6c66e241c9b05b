/* The built-in experiment's layout (builtin.c writes it as a scenario):
 * page 0 the server's, then each client's pages_per_client pages, page i
 * of a client's having role i % ROLE_COUNT, then a last page nobody
 * writes (so that every client has pages above its own). */
#ifndef COWLAB_BUILTIN_H
#define COWLAB_BUILTIN_H

#include <stdint.h>

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

/* The section: page 0 is the server's, then every client's range, then a
 * last page nobody writes (so that every client has pages above its own). */
static inline uint64_t builtin_section_pages(uint64_t clients, uint64_t pages_per_client)
{
	return 2 + clients * pages_per_client;
}

#endif
