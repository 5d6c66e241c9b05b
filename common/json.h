/* What cJSON lacks: attaching an item without ever leaking it, and writing
 * a value out without building its text in memory first, byte for byte as
 * cJSON prints it. */
#ifndef COWLAB_JSON_H
#define COWLAB_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* cJSON_AddItemToObject leaves the item to its caller when it fails (out
 * of memory); json_attach frees it then. The key is not copied: a string
 * that outlives the object (a literal). Returns the item, or NULL when it
 * is NULL or could not be attached. */
static inline cJSON *json_attach(cJSON *o, const char *key, cJSON *item)
{
	if (item != NULL && (o == NULL || !cJSON_AddItemToObjectCS(o, key, item))) {
		cJSON_Delete(item); /* nobody would own it */
		return NULL;
	}
	return item;
}

/* A string's body as cJSON escapes it: '"', '\\' and the control
 * characters escaped (\b \f \n \r \t, else \u00XX), every other byte as
 * it is. Hands the pieces to emit(ctx, bytes, n); no quotes. */
void json_escape(const char *s, void (*emit)(void *ctx, const char *p, size_t n), void *ctx);

/* A number as cJSON 1.7.15 prints it: "%1.15g", or "%1.17g" when that
 * does not read back as the same double, NaN and the infinities as null;
 * integers below 10^15 straight as digits, which is what "%1.15g" gives
 * them, without the round trip through sscanf. buf holds JSON_NUMBER_MAX
 * bytes; returns the length. */
#define JSON_NUMBER_MAX 32
int json_number(char *buf, double d);

/* Writes v to out as cJSON_PrintUnformatted would print it. A 1000-client
 * report is 3.4 MB with some 60 000 numbers; cJSON prints each through
 * sprintf and sscanf, and builds the whole text in memory. */
void json_write(FILE *out, const cJSON *v);

/* The writer under json_write, for text written without a tree: output
 * gathered in a buffer and handed to stdio a few KiB at a time (each stdio
 * call takes the stream's lock). Strings, numbers and values come out as
 * cJSON prints them; a NULL value as null. json_out_flush before anything
 * else writes to the file. */
struct json_out {
	FILE *file;
	size_t len;
	char buf[8192];
};
void json_out_init(struct json_out *o, FILE *file);
void json_out_raw(struct json_out *o, const char *text, size_t n);
void json_out_string(struct json_out *o, const char *s);
void json_out_number(struct json_out *o, double d);
/* `"key":`, a comma first unless `first`. */
void json_out_key(struct json_out *o, const char *key, bool first);
void json_out_value(struct json_out *o, const cJSON *v);
void json_out_flush(struct json_out *o);

/* Whether text[0..len) is exactly one JSON text as RFC 8259 defines it:
 * whitespace around one value; strings of well-formed UTF-8 without raw
 * control characters, whose escapes are valid and decode to neither
 * U+0000 nor an unpaired surrogate; numbers of the grammar's form; nested
 * at most depth_max deep. cJSON, which parses the protocol, lets more
 * through (raw control characters, bytes that are not UTF-8, "01", "1."):
 * the protocol holds every message to this first. On failure `why` says
 * "not valid JSON (at byte N): what". */
bool json_check(const char *text, size_t len, int depth_max, char *why, size_t cap);

#endif
