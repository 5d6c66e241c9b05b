/* The executable's own image on Linux: ELF has no shared-section flag,
 * so both counters sit in .data, a private (copy-on-write) file mapping
 * of the executable; /proc/self/maps shows it as "rw-p". */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "image.h"
#include "internal.h"

const enum image_format image_native_format = IMAGE_FORMAT_ELF;

bool image_has_shared_sections(void)
{
	return false;
}

int image_describe(struct image_facts *f, const void *private_counter,
		   const void *shared_counter)
{
	uintptr_t at = (uintptr_t)private_counter;
	char line[4352]; /* a range, flags and a PATH_MAX path */
	FILE *maps = fopen("/proc/self/maps", "re");
	int err = COWLAB_E_NOENT;

	(void)shared_counter; /* in .data as well: no section of its own */
	f->format = IMAGE_FORMAT_ELF;
	f->section_found = false;
	f->data_mapping[0] = '\0';
	if (maps == NULL)
		return err_from_os();
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || at < lo || at >= hi)
			continue;
		posix_maps_line(f->data_mapping, sizeof(f->data_mapping), line);
		err = COWLAB_OK;
		break;
	}
	fclose(maps);
	return err;
}
