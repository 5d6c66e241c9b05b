/* cowlab-client --explore, run for real: its JSON must show this
 * machine's page size, every state of the walk in order, every fault at
 * the address touched, and the outcome each platform must give (PAGE_GUARD
 * as documented on Windows and under Wine, not applicable on Linux).
 *
 *   test-explore json|human|usage CLIENT */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fault.h"
#include "platform.h"
#include "process.h"

static struct platform_info pi;
static bool windows;

/* Runs the client with `args` (NULL-terminated, argv[0] left out), its
 * output into `out`; returns its exit status, -1 if it did not run. */
static int run(const char *client, const char *const *args, const char *out)
{
	const char *argv[8] = { client };
	struct process *p = NULL;
	int code = -1;

	for (int i = 0; i < 6 && args[i] != NULL; i++)
		argv[i + 1] = args[i];
	if (!CHECK_OK(process_start(&p, client, argv, out) == 0))
		return -1;
	CHECK_MSG(process_wait(p, 120000, &code) == 0, "the client did not end");
	process_destroy(p);
	return code;
}

static char *slurp(const char *path)
{
	static char text[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!CHECK_OK(f != NULL))
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	CHECK_MSG(v != NULL, "no \"%s\"", key);
	return v;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	CHECK_MSG(cJSON_IsString(v), "\"%s\" is not a string", key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	CHECK_MSG(cJSON_IsNumber(v), "\"%s\" is not a number", key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static bool flag(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	CHECK_MSG(cJSON_IsBool(v), "\"%s\" is not a bool", key);
	return cJSON_IsTrue(v);
}

static unsigned long long address(const cJSON *o, const char *key)
{
	const char *s = str(o, key);

	CHECK_MSG(strncmp(s, "0x", 2) == 0, "\"%s\" is \"%s\", not an address", key, s);
	return strtoull(s, NULL, 16);
}

static void check_system(const cJSON *root)
{
	const cJSON *sys = get(root, "system");
	const cJSON *plat = get(root, "platform");
	double lp = num(sys, "large_page_minimum");
	unsigned long long lo = address(sys, "min_address"), hi = address(sys, "max_address");

	CHECK(strcmp(str(plat, "os"), pi.os) == 0);
	/* a string under Wine, null elsewhere, as the report's platform.wine */
	if (pi.wine_version[0] != '\0')
		CHECK(strcmp(str(plat, "wine_version"), pi.wine_version) == 0);
	else
		CHECK(cJSON_IsNull(get(plat, "wine_version")));
	CHECK(num(sys, "page_size") == (double)platform_page_size());
	CHECK(num(sys, "allocation_granularity") == (double)pi.allocation_granularity);
	/* A power of two, or 0 where there are no large pages. */
	CHECK_MSG(lp == 0 || (lp >= 4096 && ((unsigned long long)lp & ((unsigned long long)lp - 1)) == 0),
		  "large_page_minimum %.0f", lp);
	if (windows)
		CHECK_MSG(lp > 0, "GetLargePageMinimum gave 0 on x64");
	CHECK_MSG(lo > 0 && lo < hi, "min 0x%llx max 0x%llx", lo, hi);
	CHECK_MSG(lo % (unsigned long long)pi.page_size == 0, "min 0x%llx", lo);
	/* The last byte of user space: one below a page boundary. */
	CHECK_MSG((hi + 1) % (unsigned long long)pi.page_size == 0, "max 0x%llx", hi);
	if (windows)
		CHECK_MSG(lo == 0x10000, "lpMinimumApplicationAddress 0x%llx", lo);
	CHECK(str(get(sys, "sources"), "max_address")[0] != '\0');
}

static void check_steps(const cJSON *root)
{
	static const char *const names[] = { "free", "reserved", "committed", "decommitted",
					     "released" };
	static const char *const states[] = { "free", "reserved", "committed", "reserved",
					      "free" };
	const cJSON *steps = get(root, "steps");
	unsigned long long base = 0;
	int i = 0;
	const cJSON *s;

	CHECK(cJSON_GetArraySize(steps) == 5);
	cJSON_ArrayForEach(s, steps) {
		if (i >= 5)
			break;
		CHECK_MSG(strcmp(str(s, "name"), names[i]) == 0, "step %d is %s", i, str(s, "name"));
		CHECK_MSG(flag(s, "call_ok"), "step %s: the call failed", names[i]);
		CHECK_MSG(strcmp(str(s, "expected"), states[i]) == 0, "step %s", names[i]);
		CHECK_MSG(strcmp(str(s, "state"), states[i]) == 0, "step %s: state %s (%s)",
			  names[i], str(s, "state"), str(s, "raw"));
		CHECK(str(s, "raw")[0] != '\0');
		if (i == 1)
			base = address(s, "base");
		/* Every step after the reservation looks at its first page. */
		if (i >= 1 && i <= 3)
			CHECK_MSG(address(s, "base") == base, "step %s: base moved", names[i]);
		if (i == 2)
			CHECK_MSG(num(s, "size") == 2.0 * (double)pi.page_size,
				  "two pages committed, the region says %.0f", num(s, "size"));
		i++;
	}
	s = cJSON_GetArrayItem(steps, 2);
	if (windows) {
		CHECK(strcmp(str(s, "protect"), "PAGE_READWRITE") == 0);
		CHECK(strcmp(str(s, "type"), "MEM_PRIVATE") == 0);
		CHECK(address(s, "allocation_base") == base);
		CHECK(strcmp(str(cJSON_GetArrayItem(steps, 1), "protect"), "0") == 0);
		CHECK(strcmp(str(cJSON_GetArrayItem(steps, 0), "type"), "0") == 0);
	} else {
		/* Linux has no allocation base: null, not 0x0 */
		CHECK(cJSON_IsNull(get(s, "allocation_base")));
		CHECK(strcmp(str(s, "protect"), "rw-p") == 0);
		CHECK(strcmp(str(cJSON_GetArrayItem(steps, 1), "protect"), "---p") == 0);
		CHECK(strstr(str(cJSON_GetArrayItem(steps, 3), "note"), "no equivalent") != NULL);
	}
}

static const cJSON *demo(const cJSON *root, int i, const char *name)
{
	const cJSON *d = cJSON_GetArrayItem(get(root, "demonstrations"), i);

	if (!CHECK_OK(d != NULL))
		return NULL;
	CHECK_MSG(strcmp(str(d, "name"), name) == 0, "demonstration %d is %s, not %s", i,
		  str(d, "name"), name);
	return d;
}

static const char *outcome(const cJSON *d)
{
	return str(d, "outcome");
}

/* Every access: faulted as it expected to, and a fault at the address
 * it touched with the code it expected. Returns how many there were. */
static int check_accesses(const cJSON *d)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, get(d, "accesses")) {
		bool expect = flag(a, "expect_fault");

		n++;
		CHECK_MSG(flag(a, "faulted") == expect, "%s: %s %s", str(d, "name"),
			  str(a, "what"), expect ? "did not fault" : "faulted");
		if (!expect || !flag(a, "faulted"))
			continue;
		CHECK_MSG(address(a, "address") == address(a, "touched"),
			  "%s: fault at %s, touched %s", str(d, "name"), str(a, "address"),
			  str(a, "touched"));
		CHECK_MSG(strcmp(str(a, "code"), str(a, "expect_code")) == 0,
			  "%s: code %s, expected %s", str(d, "name"), str(a, "code"),
			  str(a, "expect_code"));
	}
	return n;
}

static const cJSON *access_at(const cJSON *d, int i)
{
	const cJSON *a = cJSON_GetArrayItem(get(d, "accesses"), i);

	CHECK_MSG(a != NULL, "%s: no access %d", str(d, "name"), i);
	return a;
}

static void check_code(const cJSON *d, int i, const char *code)
{
	const cJSON *a = access_at(d, i);

	if (a != NULL)
		CHECK_MSG(strcmp(str(a, "code"), code) == 0, "%s: code %s, not %s",
			  str(d, "name"), str(a, "code"), code);
}

static void check_demos(const cJSON *root)
{
	const char *reserved_code = windows ? "EXCEPTION_ACCESS_VIOLATION/read" :
				    "SIGSEGV/SEGV_ACCERR";
	const char *free_code = windows ? "EXCEPTION_ACCESS_VIOLATION/read" :
				"SIGSEGV/SEGV_MAPERR";
	const cJSON *d;

	CHECK(cJSON_GetArraySize(get(root, "demonstrations")) == 6);
	if ((d = demo(root, 0, "reserved_touch_faults")) != NULL) {
		CHECK(strcmp(outcome(d), "as_documented") == 0);
		CHECK(check_accesses(d) == 1);
		check_code(d, 0, reserved_code);
	}
	if ((d = demo(root, 1, "committed_reads_zero")) != NULL) {
		CHECK(strcmp(outcome(d), "as_documented") == 0);
		CHECK(check_accesses(d) == 1);
		CHECK(access_at(d, 0) && num(access_at(d, 0), "value") == 0);
	}
	if ((d = demo(root, 2, "readonly_write_faults")) != NULL) {
		CHECK(strcmp(outcome(d), "as_documented") == 0);
		CHECK(check_accesses(d) == 1);
		check_code(d, 0, fault_protection_code);
	}
	if ((d = demo(root, 3, "guard_page_once")) != NULL) {
		if (windows) {
			/* Faults once with STATUS_GUARD_PAGE_VIOLATION, then clears. */
			CHECK_MSG(strcmp(outcome(d), "as_documented") == 0, "guard: %s: %s",
				  outcome(d), str(d, "why"));
			CHECK(check_accesses(d) == 2);
			check_code(d, 0, "STATUS_GUARD_PAGE_VIOLATION/read");
			CHECK(access_at(d, 0) && num(access_at(d, 0), "os_code") == 0x80000001);
			CHECK(access_at(d, 1) && !flag(access_at(d, 1), "faulted"));
		} else {
			CHECK(strcmp(outcome(d), "not_applicable") == 0);
			CHECK(check_accesses(d) == 0);
			CHECK(strstr(str(d, "why"), "no PAGE_GUARD") != NULL);
			CHECK(strstr(str(d, "why"), "stack guard gap") != NULL);
		}
	}
	if ((d = demo(root, 4, "cow_view_protect")) != NULL) {
		/* Under Wine VirtualQuery keeps PAGE_WRITECOPY after the copy: a
		 * deviation it must name; anywhere else as documented. */
		if (pi.wine_version[0] != '\0' && strcmp(outcome(d), "deviation") == 0)
			CHECK(strstr(str(d, "why"), "Wine") != NULL);
		else
			CHECK_MSG(strcmp(outcome(d), "as_documented") == 0, "cow: %s: %s",
				  outcome(d), str(d, "why"));
		CHECK(check_accesses(d) == 2);
		check_code(d, 0, fault_protection_code);
		CHECK(access_at(d, 0) && access_at(d, 1) &&
		      strcmp(str(access_at(d, 0), "touched"), str(access_at(d, 1), "touched")) == 0);
	}
	if ((d = demo(root, 5, "free_touch_faults")) != NULL) {
		CHECK(strcmp(outcome(d), "as_documented") == 0);
		CHECK(check_accesses(d) == 1);
		check_code(d, 0, free_code);
	}
}

static void test_json(const char *client, const char *out)
{
	const char *args[] = { "--explore", "--json", NULL };
	const cJSON *sum;
	cJSON *root;
	char *text;

	CHECK_MSG(run(client, args, out) == 0, "--explore --json did not exit 0");
	text = slurp(out);
	root = text ? cJSON_Parse(text) : NULL;
	if (!CHECK_OK(root != NULL)) {
		fprintf(stderr, "output: %.300s\n", text ? text : "(none)");
		return;
	}
	check_system(root);
	check_steps(root);
	check_demos(root);
	sum = get(root, "summary");
	CHECK(num(sum, "unexpected") == 0);
	CHECK(flag(sum, "all_as_expected"));
	CHECK(num(sum, "not_applicable") == (windows ? 0 : 1));
	cJSON_Delete(root);
}

static void test_human(const char *client, const char *out)
{
	static const char *const headings[] = {
		"--explore: the Virtual API on ", "system:", "region walk", "demonstrations:",
		"verdict: everything behaved as documented or as explained (exit 0)",
		"PAGE_GUARD faults once, then clears (guard_page_once): ",
		"the address touched",
	};
	const char *args[] = { "--explore", NULL };
	char *text;

	CHECK_MSG(run(client, args, out) == 0, "--explore did not exit 0");
	text = slurp(out);
	if (text == NULL)
		return;
	/* within 80 columns, wrapped at spaces (a single word longer than a
	 * line, a path, may stand alone on its line) */
	for (char *line = text, *next; *line != '\0'; line = next) {
		size_t len = strcspn(line, "\n"), lead = strspn(line, " ");

		next = line + len + (line[len] == '\n');
		if (len > 0 && line[len - 1] == '\r')
			len--; /* Windows ends its lines with CR LF */
		CHECK_MSG(len <= 80 || memchr(line + lead, ' ', len - lead) == NULL,
			  "a line of %zu columns: %.*s", len, (int)len, line);
	}
	/* then read as one line of words: breaks and indents as one space */
	size_t w = 0;
	for (size_t r = 0; text[r] != '\0'; r++) {
		char ch = text[r] == '\n' || text[r] == '\r' ? ' ' : text[r];

		if (ch == ' ' && w > 0 && text[w - 1] == ' ')
			continue;
		text[w++] = ch;
	}
	text[w] = '\0';
	for (size_t i = 0; i < sizeof(headings) / sizeof(headings[0]); i++)
		CHECK_MSG(strstr(text, headings[i]) != NULL, "no \"%s\" in the output", headings[i]);
	CHECK(strstr(text, "UNEXPECTED") == NULL);
	CHECK(strstr(text, windows ? "State=MEM_RESERVE" : "/proc/self/maps") != NULL);
	if (!windows)
		CHECK(strstr(text, "not applicable on this platform: Linux has no PAGE_GUARD") != NULL);
	/* a signal said as one, an exception code as one */
	CHECK_MSG(strstr(text, windows ? "EXCEPTION_ACCESS_VIOLATION/write (0xC0000005)" :
				 "SIGSEGV/SEGV_ACCERR (signal 11)") != NULL, "%s", text);
	if (pi.wine_version[0] != '\0')
		CHECK(strstr(text, "(Wine ") != NULL);
}

static void test_usage(const char *client, const char *out)
{
	const char *json_alone[] = { "--json", NULL };
	const char *help[] = { "--help", NULL };
	char *text;

	CHECK_MSG(run(client, json_alone, out) == 2, "--json without --explore is no usage error");
	CHECK(run(client, help, out) == 0);
	text = slurp(out);
	CHECK(text != NULL && strstr(text, "--explore") != NULL && strstr(text, "--json") != NULL);
}

int main(int argc, char **argv)
{
	char out[64];

	if (argc < 3) {
		fprintf(stderr, "usage: test-explore json|human|usage CLIENT\n");
		return 2;
	}
	platform_describe(&pi);
	windows = strcmp(pi.os, "Windows") == 0;
	snprintf(out, sizeof(out), "explore-%s-%ld.out", argv[1], platform_pid());
	if (strcmp(argv[1], "json") == 0)
		test_json(argv[2], out);
	else if (strcmp(argv[1], "human") == 0)
		test_human(argv[2], out);
	else if (strcmp(argv[1], "usage") == 0)
		test_usage(argv[2], out);
	else
		return 2;
	if (check_failures == 0)
		remove(out);
	return check_exit(argv[1]);
}
