/* The facts a client's process reports of itself (its hello's image
 * facts), judged by the platform's rule: image_section_shared
 * (docs/report.md). */
#ifndef COWLAB_FACTS_H
#define COWLAB_FACTS_H

#include <stdbool.h>

#include "report.h"
#include "server.h"

/* For each complete client (by `complete`), how many complete clients,
 * itself included, counted the same value of the image's shared counter
 * (client_state.image_twins). Returns the number compared. */
int facts_image_twins(struct server *s, bool (*complete)(const struct client_state *c));
/* Adds check `name` to rc: client c's image facts against the platform's
 * rule (Windows: the shared counter counted every client once, the private
 * one stayed 1, the section is shared; Linux: not applicable, as ELF has no
 * shared sections, unless the private counter was not 1). */
void facts_image_check(struct server *s, struct report_client *rc, const struct client_state *c,
		       int compared, const char *name);

#endif
