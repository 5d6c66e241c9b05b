/* Unit tests for the command-line helpers (cli.h) and channel names. */
#include <stdint.h>
#include <string.h>

#include "channel.h"
#include "check.h"
#include "cli.h"

/* cli_take on argv[1] of {"prog", a1, a2}; a2 may be NULL (argc 2). */
static int take(const char *a1, const char *a2, int *i, const char **value)
{
	char *argv[] = { (char *)"prog", (char *)a1, (char *)a2, NULL };
	int argc = a2 != NULL ? 3 : 2;

	*i = 1;
	*value = "untouched";
	return cli_take(argc, argv, i, "--name", value);
}

static void test_take(void)
{
	const char *v;
	int i;

	CHECK(take("--name", "x", &i, &v) == 1 && strcmp(v, "x") == 0 && i == 2);
	CHECK(take("--name=x", NULL, &i, &v) == 1 && strcmp(v, "x") == 0 && i == 1);
	CHECK(take("--name=x=y", "z", &i, &v) == 1 && strcmp(v, "x=y") == 0 && i == 1);
	CHECK(take("--name=", NULL, &i, &v) == 1 && strcmp(v, "") == 0 && i == 1);
	/* the value is the next argument, whatever it looks like */
	CHECK(take("--name", "--other", &i, &v) == 1 && strcmp(v, "--other") == 0 && i == 2);
	CHECK(take("--name", NULL, &i, &v) == -1 && i == 1);
	CHECK(take("--names", "x", &i, &v) == 0 && i == 1 && strcmp(v, "untouched") == 0);
	CHECK(take("--names=x", NULL, &i, &v) == 0 && i == 1);
	CHECK(take("--nam", "x", &i, &v) == 0 && i == 1);
	CHECK(take("-name", "x", &i, &v) == 0 && i == 1);
	CHECK(take("name", "x", &i, &v) == 0 && i == 1);
	CHECK(take("", "x", &i, &v) == 0 && i == 1);
	CHECK(take("x", "--name", &i, &v) == 0 && i == 1);
}

/* cli_number must say `ok`, and give `want` when it does. */
static void number(const char *text, int64_t min, int64_t max, bool ok, int64_t want)
{
	int64_t out = 12345;
	bool got = cli_number(text, min, max, &out);

	CHECK_MSG(got == ok, "cli_number(\"%s\", %lld, %lld) said %d", text, (long long)min,
		  (long long)max, got);
	CHECK_MSG(out == (ok ? want : 12345), "cli_number(\"%s\") gave %lld", text,
		  (long long)out);
}

static void test_number(void)
{
	number("42", 0, 100, true, 42);
	/* digits and an optional minus only: no spaces, no plus */
	number(" 12", 0, 100, false, 0);
	number("+12", 0, 100, false, 0);
	number("\t-0", -5, 5, false, 0);
	number("-", -5, 5, false, 0);
	number("-3", -5, 5, true, -3);
	number("0", 0, 100, true, 0);
	number("100", 0, 100, true, 100);
	number("101", 0, 100, false, 0);
	number("-1", 0, 100, false, 0);
	number("-5", -10, 10, true, -5);
	number("-11", -10, 10, false, 0);
	number("007", 0, 100, true, 7);
	number("9223372036854775807", INT64_MIN, INT64_MAX, true, INT64_MAX);
	number("-9223372036854775808", INT64_MIN, INT64_MAX, true, INT64_MIN);
	number("9223372036854775808", INT64_MIN, INT64_MAX, false, 0);
	number("-9223372036854775809", INT64_MIN, INT64_MAX, false, 0);
	number("99999999999999999999999", 0, INT64_MAX, false, 0);
	number("", 0, 100, false, 0);
	number("abc", 0, 100, false, 0);
	number("12abc", 0, 100, false, 0);
	number("12 ", 0, 100, false, 0);
	number("1.5", 0, 100, false, 0);
	number("1e2", 0, 1000, false, 0);
	number("0x10", 0, 100, false, 0);
	number("-", 0, 100, false, 0);
	number("+", 0, 100, false, 0);
}

static void test_channel_name(void)
{
	char name[CHANNEL_NAME_MAX + 1];

	CHECK(channel_name_valid("cowlab"));
	CHECK(channel_name_valid("a"));
	CHECK(channel_name_valid("Run-1_test.2"));
	CHECK(channel_name_valid("a.b"));
	CHECK(channel_name_valid("-x"));
	CHECK(channel_name_valid("x."));
	memset(name, 'n', sizeof(name));
	name[CHANNEL_NAME_MAX - 1] = '\0';
	CHECK(strlen(name) == 63 && channel_name_valid(name));
	name[CHANNEL_NAME_MAX - 1] = 'n';
	name[CHANNEL_NAME_MAX] = '\0';
	CHECK(strlen(name) == 64 && !channel_name_valid(name));
	CHECK(!channel_name_valid(""));
	CHECK(!channel_name_valid(".hidden"));
	CHECK(!channel_name_valid("."));
	CHECK(!channel_name_valid(".."));
	CHECK(!channel_name_valid("a/b"));
	CHECK(!channel_name_valid("/abs"));
	CHECK(!channel_name_valid("../up"));
	CHECK(!channel_name_valid("a b"));
	CHECK(!channel_name_valid(" a"));
	CHECK(!channel_name_valid("a\\b"));
	CHECK(!channel_name_valid("a:b"));
	CHECK(!channel_name_valid("a\nb"));
	CHECK(!channel_name_valid("caf\xc3\xa9"));
}

/* Page sizes: bytes or K/M/G, powers of two from 4 KiB to 1 GiB. */
static void test_page_size(void)
{
	static const struct { const char *text; uint64_t want; } good[] = {
		{ "4096", 4096 }, { "4K", 4096 }, { "4k", 4096 }, { "2M", 2097152 },
		{ "2MiB", 2097152 }, { "2MB", 2097152 }, { "1G", 1073741824 }, { "64KiB", 65536 },
		{ "2097152", 2097152 }, { "4096B", 4096 },
	};
	static const char *const bad[] = {
		"", "2", "2048", "3M", "2T", "2G", "M", "-2M", " 2M", "2M ", "2m", "2Mi", "2MiBs",
		"0x200000", "99999999999999999999M", "1073741825",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_MSG(cli_page_size(good[i].text, &v) && v == good[i].want, "\"%s\"",
			  good[i].text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!cli_page_size(bad[i], &v), "\"%s\" was taken", bad[i]);
}

int main(void)
{
	test_page_size();
	test_take();
	test_number();
	test_channel_name();
	return check_exit("test-cli");
}
