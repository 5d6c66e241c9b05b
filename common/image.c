/* The platform-independent part of the image module. */
#include <stdio.h>
#include <string.h>

#include "image.h"

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_FORMAT_ELF: return "elf";
	case IMAGE_FORMAT_PE: return "pe";
	case IMAGE_FORMAT_COUNT: break;
	}
	return "?";
}

void image_characteristics_text(uint32_t characteristics, char *buf, size_t cap)
{
	/* winnt.h's values, here for every platform */
	static const struct { uint32_t bit; const char *word; } flags[] = {
		{ 0x00000020u, "code" },
		{ 0x00000040u, "initialized data" },
		{ 0x00000080u, "uninitialized data" },
		{ 0x02000000u, "discardable" },
		{ 0x10000000u, "shared" },
		{ 0x20000000u, "execute" },
		{ 0x40000000u, "read" },
		{ 0x80000000u, "write" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int w;

		if (!(characteristics & flags[i].bit))
			continue;
		w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", flags[i].word);
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
}
