/* The executable's own image on Linux: ELF has no shared-section flag,
 * so both counters sit in .data, a private (copy-on-write) file mapping
 * of the executable; /proc/self/maps shows it as "rw-p". */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "image.h"
#include "internal.h"

bool image_has_shared_sections(void)
{
	return false;
}

int image_describe(struct image_facts *f, const void *private_counter,
		   const void *shared_counter)
{
	char line[POSIX_MAPS_LINE_MAX];
	int err = posix_maps_find((uintptr_t)private_counter, line);

	(void)shared_counter; /* in .data as well: no section of its own */
	f->format = IMAGE_FORMAT_ELF;
	f->section_found = false;
	f->data_mapping[0] = '\0';
	if (err == 0)
		posix_maps_line(f->data_mapping, sizeof(f->data_mapping), line);
	return err;
}
