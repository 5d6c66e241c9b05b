#include "pattern.h"

/* The pattern in two parts, so that filling a page computes the part that
 * does not depend on the word once. Multiplying by an odd constant is a
 * bijection mod 2^32: distinct pages (below 2^32) and distinct words of a
 * page never share a value. */
static inline uint32_t page_part(uint32_t seed, uint64_t page)
{
	return ((uint32_t)page * 0x9E3779B1u) ^ seed;
}

static inline uint32_t word_value(uint32_t page_bits, uint64_t page, uint32_t word)
{
	return (page_bits ^ (word * 0x85EBCA77u)) + (uint32_t)(page >> 32);
}

uint32_t pattern_value(uint32_t seed, uint64_t page, uint32_t offset)
{
	return word_value(page_part(seed, page), page, offset / 4u);
}

void pattern_fill(void *ctx, uint64_t page, void *dst, size_t page_size)
{
	pattern_fill_page(*(const uint32_t *)ctx, page, dst, page_size);
}

void pattern_fill_page(uint32_t seed, uint64_t page, void *dst, size_t page_size)
{
	uint32_t bits = page_part(seed, page);
	uint32_t *w = dst;
	size_t n = page_size / 4;

	size_t i = 0;

	/* Sixteen words at a time: a loop of a known count, which gcc -O2
	 * vectorizes (the fill of a large section runs at memory speed). */
	for (; i + 16 <= n; i += 16)
		for (uint32_t k = 0; k < 16; k++)
			w[i + k] = word_value(bits, page, (uint32_t)i + k);
	for (; i < n; i++)
		w[i] = word_value(bits, page, (uint32_t)i);
}

size_t pattern_first_differing(uint32_t seed, uint64_t page, const void *src, size_t page_size,
			       size_t from)
{
	uint32_t bits = page_part(seed, page);
	const uint32_t *w = src;
	size_t n = page_size / 4, i = from;

	for (; i < n && i % 16 != 0; i++)
		if (w[i] != word_value(bits, page, (uint32_t)i))
			return i;
	/* Sixteen words at a time, differences ORed together: vectorized, as
	 * the fill is; the block that differs is then looked at word by word. */
	for (; i + 16 <= n; i += 16) {
		uint32_t diff = 0;

		for (uint32_t k = 0; k < 16; k++)
			diff |= w[i + k] ^ word_value(bits, page, (uint32_t)i + k);
		if (diff != 0)
			break;
	}
	for (; i < n; i++)
		if (w[i] != word_value(bits, page, (uint32_t)i))
			return i;
	return n;
}
