#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "evidence.h"
#include "platform.h"

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

int evidence_begin(struct evidence_report *out, size_t view_len, size_t first, size_t count)
{
	return evidence_begin_paged(out, view_len, first, count, platform_page_size());
}

int evidence_begin_paged(struct evidence_report *out, size_t view_len, size_t first,
			 size_t count, size_t ps)
{

	memset(out, 0, sizeof(*out));
	if (count == 0 || first > view_len / ps || count > view_len / ps - first)
		return COWLAB_E_INVAL;
	out->pages = calloc(count + 1, 1);
	if (out->pages == NULL)
		return COWLAB_E_NOMEM;
	out->count = count;
	out->private_dirty = out->shared_dirty = -1;
	return COWLAB_OK;
}
