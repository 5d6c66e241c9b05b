#include <stdio.h>
#include <stdlib.h>

#include "evidence.h"

void evidence_free(struct evidence_report *r)
{
	free(r->pages);
	r->pages = NULL;
	r->count = 0;
}

void evidence_add_source(struct evidence_report *r, const char *name, bool supported,
			 uint64_t private_pages, const char *note)
{
	struct evidence_source *s;

	if (r->nsources >= EVIDENCE_SOURCES_MAX)
		return;
	s = &r->sources[r->nsources++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->supported = supported;
	s->private_pages = private_pages;
	snprintf(s->note, sizeof(s->note), "%s", note);
}
