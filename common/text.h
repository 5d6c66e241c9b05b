/* UTF-8, as the protocol and the reports require it: every text a peer
 * sends must be well-formed, and text taken from the system (a path in
 * /proc/self/maps may hold any bytes) is made so before it is sent. */
#ifndef COWLAB_TEXT_H
#define COWLAB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The length of the well-formed UTF-8 character at s (1 to 4), or 0 if
 * there is none there: a stray continuation byte, a cut or overlong
 * sequence, a surrogate, or a code point over U+10FFFF. s[0] != NUL. */
size_t text_utf8_char(const char *s);

/* Whether the NUL-terminated s is well-formed UTF-8. */
bool text_utf8_valid(const char *s);

/* Where to cut s to keep at most n bytes without splitting a character:
 * n, or less when s[n] continues a character. s holds more than n bytes. */
size_t text_utf8_cut(const char *s, size_t n);

/* Ends s where it stops being well-formed UTF-8: after formatting with a
 * byte limit (snprintf, "%.120s") that may have cut a peer's text inside
 * a character. Returns the new length. */
size_t text_utf8_trim(char *s);

/* "s" for a plural count, "" for one: "1 client", "2 clients". */
static inline const char *text_s(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Output for people fits this many columns. */
#define TEXT_WIDTH 80

/* Prints `text` after `lead` and a space, breaking lines at spaces to stay
 * within TEXT_WIDTH columns (a single word longer than a line stays
 * whole); continuation lines are indented by `indent`. Ends with a
 * newline. */
void text_print_wrapped(FILE *out, const char *lead, const char *text, int indent);

/* v in decimal digits at dst (at most TEXT_U64_MAX of them, no NUL);
 * returns how many. Where printf's number code would cost more than the
 * text it writes: the protocol's and the report's integers. */
#define TEXT_U64_MAX 20
size_t text_u64(char *dst, uint64_t v);

#endif
