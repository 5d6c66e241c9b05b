#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_take(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

bool cli_once(const char *prog, const char **seen, const char *name, const char *value)
{
	if (*seen != NULL) {
		fprintf(stderr, "%s: %s is given twice (\"%s\", then \"%s\"): give it once\n", prog,
			name, *seen, value);
		return false;
	}
	*seen = value;
	return true;
}

bool cli_number(const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	/* digits only, with an optional minus: no spaces, no plus sign */
	if (!(text[0] >= '0' && text[0] <= '9') &&
	    !(text[0] == '-' && text[1] >= '0' && text[1] <= '9'))
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_page_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!(text[0] >= '0' && text[0] <= '9'))
		return false;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text)
		return false;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	end += shift != 0;
	if (shift != 0 && strcmp(end, "iB") == 0)
		end += 2;
	else if (strcmp(end, "B") == 0)
		end++;
	if (*end != '\0' || v > ((unsigned long long)1 << 30) >> shift)
		return false;
	v <<= shift;
	if (v < 4096 || v > ((unsigned long long)1 << 30) || (v & (v - 1)) != 0)
		return false;
	*out = v;
	return true;
}
