/* The running executable's own image, for the course's exercise
 * (docs/course.md): what the image format says about the pages of two
 * counters the client keeps in it, one in the ordinary data section and
 * one in a section marked shared. The counters themselves live in
 * client/main.c (compat.h has the annotations that place them). */
#ifndef COWLAB_IMAGE_H
#define COWLAB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The section characteristics `dumpbin /headers` shows for the course's
 * "shared" section: IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_SHARED
 * | IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_WRITE. */
#define IMAGE_SHARED_CHARACTERISTICS 0xD0000040u
#define IMAGE_NAME_MAX 9       /* a PE section name: 8 bytes and a NUL */
#define IMAGE_PROTECT_MAX 32
#define IMAGE_MAPPING_MAX 240  /* a /proc/self/maps line, clipped */

enum image_format { IMAGE_FORMAT_ELF, IMAGE_FORMAT_PE, IMAGE_FORMAT_COUNT };

struct image_facts {
	enum image_format format;
	uint64_t private_count;   /* what the .data counter's increment returned */
	uint64_t shared_count;    /* what the shared counter's increment returned */
	/* PE: the section holding the shared counter, from the image's own
	 * section table; section_found false on ELF or when none holds it. */
	bool section_found;
	char section_name[IMAGE_NAME_MAX];
	uint32_t characteristics;
	char protect[IMAGE_PROTECT_MAX]; /* VirtualQuery's word for its page */
	/* ELF: the /proc/self/maps line holding the .data counter; "" on PE. */
	char data_mapping[IMAGE_MAPPING_MAX];
};

bool image_has_shared_sections(void);

/* Describes the pages of the two counters at `private_counter` and
 * `shared_counter` (their increments are the caller's: it fills in the
 * counts). Returns 0 or a negative cowlab_err; facts the platform cannot
 * give stay empty. */
int image_describe(struct image_facts *f, const void *private_counter,
		   const void *shared_counter);

const char *image_format_name(enum image_format f);
/* "initialized data, shared, read, write": the IMAGE_SCN_* flags that
 * matter here, as words (the rest are left out). */
void image_characteristics_text(uint32_t characteristics, char *buf, size_t cap);

#endif
