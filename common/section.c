/* The platform-independent part of the section module. */
#include "section.h"

const char *section_view_name(enum section_view kind)
{
	switch (kind) {
	case SECTION_VIEW_RW: return "rw";
	case SECTION_VIEW_COW: return "cow";
	case SECTION_VIEW_RO: return "ro";
	case SECTION_VIEW_COW_AS_SHARED: return "cow-as-shared";
	}
	return "?";
}
