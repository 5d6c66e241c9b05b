#include <string.h>

#include "pattern.h"

uint32_t pattern_value(uint32_t seed, uint64_t page, uint32_t offset)
{
	/* Multiplying by an odd constant is a bijection mod 2^32: distinct
	 * pages (below 2^32) and distinct offsets never share a value. */
	uint32_t p = (uint32_t)page * 0x9E3779B1u;
	uint32_t o = (offset / 4u) * 0x85EBCA77u;

	return (p ^ o ^ seed) + (uint32_t)(page >> 32);
}

void pattern_fill_page(uint32_t seed, uint64_t page, void *dst, size_t page_size)
{
	/* pattern_value() unrolled by hand for the loop: what does not depend
	 * on the word is computed once, and the rest vectorizes. */
	uint32_t base = ((uint32_t)page * 0x9E3779B1u) ^ seed, hi = (uint32_t)(page >> 32);
	uint32_t *w = dst;
	size_t n = page_size / 4;

	for (size_t i = 0; i < n; i++)
		w[i] = (base ^ ((uint32_t)i * 0x85EBCA77u)) + hi;
}
