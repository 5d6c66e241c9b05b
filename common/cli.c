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
