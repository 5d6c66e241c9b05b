#include "pattern.h"

/* The pattern in two parts, so that filling a page computes the part that
 * does not depend on the word once. Multiplying by an odd constant is a
 * bijection mod 2^32: distinct pages (below 2^32) and distinct words of a
 * page never share a value. */
static inline uint32_t page_part(uint32_t seed, uint64_t page)
{
	return ((uint32_t)page * 0x9E3779B1u) ^ seed;
}

#define WORD_MULT 0x85EBCA77u
#define M(k) ((uint32_t)((k) * (uint64_t)WORD_MULT))
static const uint32_t word_mults[16] = {
	M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7),
	M(8), M(9), M(10), M(11), M(12), M(13), M(14), M(15),
};
#undef M

static inline uint32_t word_value(uint32_t page_bits, uint64_t page, uint32_t word)
{
	return (page_bits ^ (word * WORD_MULT)) + (uint32_t)(page >> 32);
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
	uint32_t bits = page_part(seed, page), hi = (uint32_t)(page >> 32);
	uint32_t *w = dst;
	size_t n = page_size / 4;
	/* word i's part, i * WORD_MULT, as a running sum rather than a product:
	 * gcc vectorizes the sum into one vector add, where x86-64's baseline
	 * (SSE2) has no 32-bit vector multiply and the product took a dozen
	 * instructions each four words (the fill of a large section then ran
	 * slower than memory) */
	uint32_t m = 0;
	size_t i = 0;

	/* Sixteen words at a time: a loop of a known count, which gcc -O2
	 * vectorizes (the multiples, a table, are then four constant vectors) */
	for (; i + 16 <= n; i += 16, m += 16 * WORD_MULT)
		for (uint32_t k = 0; k < 16; k++)
			w[i + k] = (bits ^ (m + word_mults[k])) + hi;
	for (; i < n; i++, m += WORD_MULT)
		w[i] = (bits ^ m) + hi;
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
