#include <string.h>

#include "text.h"

size_t text_utf8_char(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;
	unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, C0/C1 (overlong) or F5-FF */
	if (u[0] == 0xe0)
		lo = 0xa0;  /* overlong */
	else if (u[0] == 0xed)
		hi = 0x9f;  /* UTF-16 surrogates */
	else if (u[0] == 0xf0)
		lo = 0x90;  /* overlong */
	else if (u[0] == 0xf4)
		hi = 0x8f;  /* over U+10FFFF */
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if ((u[k] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool text_utf8_valid(const char *s)
{
	while (*s != '\0') {
		size_t n = text_utf8_char(s);

		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

size_t text_utf8_trim(char *s)
{
	size_t at = 0, n;

	while (s[at] != '\0') {
		if ((n = text_utf8_char(s + at)) == 0) {
			s[at] = '\0';
			break;
		}
		at += n;
	}
	return at;
}

size_t text_utf8_cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

size_t text_u64(char *dst, uint64_t v)
{
	char digits[TEXT_U64_MAX];
	size_t n = 0, len = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		dst[len++] = digits[--n];
	return len;
}

void text_print_wrapped(FILE *out, const char *lead, const char *text, int indent)
{
	int col = fprintf(out, "%s", lead);
	bool line_start = false;

	while (*text != '\0') {
		int word = (int)strcspn(text, " ");

		if (!line_start && col + 1 + word > TEXT_WIDTH) {
			col = fprintf(out, "\n%*s", indent, "") - 1;
			line_start = true;
		}
		if (!line_start)
			col += fprintf(out, " ");
		col += fprintf(out, "%.*s", word, text);
		line_start = false;
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}
