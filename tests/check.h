/* A minimal assertion kit for cowlab's tests: CHECK never stops the test,
 * it counts; check_exit() turns the count into the exit status Meson reads
 * (0 pass, 1 fail). */
#ifndef COWLAB_TEST_CHECK_H
#define COWLAB_TEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>

static int check_failures;

#define CHECK(cond) \
	((cond) ? (void)0 : (void)(check_failures++, \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond)))

/* CHECK that also yields whether it held, to explain a failure. */
#define CHECK_OK(cond) \
	((cond) ? true : (check_failures++, \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond), false))

#define CHECK_MSG(cond, ...) \
	((cond) ? (void)0 : (void)(check_failures++, \
		fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond), \
		fprintf(stderr, __VA_ARGS__), fputc('\n', stderr)))

/* A whole file (up to 1 MiB) as a string, "" when it cannot be read; the
 * text lives until the next call. */
static inline char *check_read_file(const char *path)
{
	static char text[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	text[n] = '\0';
	return text;
}

static inline int check_exit(const char *name)
{
	if (check_failures > 0)
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
	else
		printf("%s: all checks passed\n", name);
	return check_failures > 0 ? 1 : 0;
}

#endif
