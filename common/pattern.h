/* The section's initial pattern and the stamps written over it. At any one
 * offset every page holds a value of its own, and within a page every
 * offset does, so a word read back at a known offset says which page it
 * came from. A stamp is the pattern XORed with a constant, so stamps
 * differ from the pattern and from one another at every location by
 * construction. (Two different locations may hold the same value; every
 * comparison cowlab makes is at one location.) */
#ifndef COWLAB_PATTERN_H
#define COWLAB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* The stamp constants the built-in experiment uses (distinct, non-zero). */
#define PATTERN_XOR_NONE       0x00000000u /* the pattern itself */
#define PATTERN_XOR_RW         0xA5A5A5A5u /* a client's write through rw */
#define PATTERN_XOR_COW        0x3C3C3C3Cu /* a client's write through cow */
#define PATTERN_XOR_LATER      0x5A5A5A5Au /* the server's later section write */
#define PATTERN_XOR_SERVER_COW 0x0F0F0F0Fu /* the server's own cow write */
#define PATTERN_XOR_FAULT      0xDEADBEEFu /* what a faulting write tried */

uint32_t pattern_value(uint32_t seed, uint64_t page, uint32_t offset);
void pattern_fill_page(uint32_t seed, uint64_t page, void *dst, size_t page_size);
/* The same for section_fill (section.h's section_fill_fn): ctx points at
 * the seed. */
void pattern_fill(void *ctx, uint64_t page, void *dst, size_t page_size);
/* The first word at or after word `from` of a page (src) that is not the
 * pattern's, or page_size / 4 when none is. */
size_t pattern_first_differing(uint32_t seed, uint64_t page, const void *src, size_t page_size,
			       size_t from);

#endif
