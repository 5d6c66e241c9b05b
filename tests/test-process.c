/* process.h: arguments arrive exactly as given (quoting on Windows),
 * stdout goes to the file asked for, stdin is the null device (test-posix
 * checks the signal mask), exit codes come back, a hung child can be
 * waited for with a timeout and killed. The program starts itself as the
 * child. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "platform.h"
#include "process.h"

static const char *const tricky[] = {
	"plain", "with space", "quote\"inside", "trailing\\", "back\\\\slash\\\"q", "",
	"tab\there", "\\\\server\\share\\dir\\", "ünïcödé",
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* The child: prints its arguments as one JSON array. */
static int child_echo(int argc, char **argv)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;

	for (int i = 2; i < argc; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(argv[i]));
	text = cJSON_PrintUnformatted(arr);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(arr);
	return 0;
}

/* The child: exits 0 if its stdin is at its end at once (the null
 * device), 1 if not. */
static int child_fresh(void)
{
	return getchar() == EOF ? 0 : 1;
}

static void test_fresh_child(const char *self)
{
	const char *fresh[] = { self, "fresh", NULL };
	struct process *p = NULL;
	int code = -1;

	CHECK(process_start(&p, self, fresh, NULL) == 0);
	if (p != NULL) {
		CHECK(process_wait(p, 60000, &code) == 0);
		CHECK_MSG(code == 0, "the child %s", code == 1 ? "could read its stdin" : "failed");
		process_destroy(p);
	}
}

static void self_path(char *buf, size_t cap)
{
	CHECK(platform_self_dir(buf, cap - 32) == 0);
	snprintf(buf + strlen(buf), 32, "%ctest-process%s", platform_path_sep, platform_exe_suffix);
}

static void test_arguments(const char *self)
{
	const char *argv[NTRICKY + 3] = { self, "echo" };
	struct process *p = NULL;
	char text[4096];
	size_t n = 0;
	int code = -1;
	FILE *f;

	for (size_t i = 0; i < NTRICKY; i++)
		argv[i + 2] = tricky[i];
	argv[NTRICKY + 2] = NULL;
	CHECK(process_start(&p, self, argv, "test-process.out") == 0);
	if (p == NULL)
		return;
	CHECK(process_wait(p, 60000, &code) == 0 && code == 0);
	process_destroy(p);
	f = fopen("test-process.out", "rb");
	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	remove("test-process.out");
	cJSON *arr = cJSON_Parse(text);
	CHECK_MSG(cJSON_GetArraySize(arr) == (int)NTRICKY, "child saw: %s", text);
	for (size_t i = 0; i < NTRICKY; i++) {
		const cJSON *s = cJSON_GetArrayItem(arr, (int)i);
		CHECK_MSG(cJSON_IsString(s) && strcmp(s->valuestring, tricky[i]) == 0,
			  "argument %zu arrived as %s", i, cJSON_IsString(s) ? s->valuestring : "?");
	}
	cJSON_Delete(arr);
}

static void test_exit_and_kill(const char *self)
{
	const char *exit7[] = { self, "exit", "7", NULL };
	const char *hang[] = { self, "hang", NULL };
	struct process *p = NULL;
	int code = -1;

	CHECK(process_start(&p, self, exit7, NULL) == 0);
	if (p != NULL) {
		CHECK(process_wait(p, 60000, &code) == 0 && code == 7);
		CHECK(process_pid(p) > 0);
		process_destroy(p);
	}
	p = NULL;
	CHECK(process_start(&p, self, hang, NULL) == 0);
	if (p != NULL) {
		CHECK(err_is(process_wait(p, 200, &code), COWLAB_E_TIMEOUT));
		process_kill(p);
		CHECK(process_wait(p, 60000, &code) == 0 && code != 0);
		process_destroy(p);
	}
	p = NULL;
	CHECK(process_start(&p, "no-such-program-anywhere", hang, NULL) != 0 && p == NULL);
}

int main(int argc, char **argv)
{
	char self[1200], dir[1200];

	CHECK(platform_utf8_argv(&argc, &argv) == 0);
	if (argc > 1 && strcmp(argv[1], "echo") == 0)
		return child_echo(argc, argv);
	if (argc > 2 && strcmp(argv[1], "exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "fresh") == 0)
		return child_fresh();
	if (argc > 1 && strcmp(argv[1], "hang") == 0) {
		platform_sleep_ms(120000);
		return 0;
	}
	self_path(self, sizeof(self));
	CHECK(process_is_executable(self));
	CHECK(platform_self_dir(dir, sizeof(dir)) == 0 && !process_is_executable(dir));
	test_arguments(self);
	test_exit_and_kill(self);
	test_fresh_child(self);
	return check_exit("test-process");
}
