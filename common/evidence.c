#include <stdlib.h>

#include "evidence.h"

void evidence_free(struct evidence_report *r)
{
	free(r->pages);
	r->pages = NULL;
	r->count = 0;
}
