/* Small helpers for the two programs' command lines (GNU-style long
 * options, "--opt VALUE" or "--opt=VALUE"), portable to every platform. */
#ifndef COWLAB_CLI_H
#define COWLAB_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* 1 when argv[*i] is option `name` (its value in *value, *i advanced past
 * it), 0 when it is another argument, -1 when the value is missing. */
int cli_take(int argc, char **argv, int *i, const char *name, const char **value);
/* An option with a value may be given once: records `value` in *seen, or,
 * when *seen already holds one, says on stderr "PROG: NAME is given twice
 * ("a", then "b"): give it once" and returns false. */
bool cli_once(const char *prog, const char **seen, const char *name, const char *value);
/* Parses a whole decimal number in [min, max]. */
bool cli_number(const char *text, int64_t min, int64_t max, int64_t *out);
/* Parses a page size: a number of bytes, or of K, M or G (binary: 2M is
 * 2097152), optionally followed by "iB" or "B" ("4K", "2MiB", "1G"); a
 * power of two from 4 KiB to 1 GiB. */
bool cli_page_size(const char *text, uint64_t *out);

#endif
