/* Multi-process tests: runs cowlab-server with real cowlab-client
 * processes, and with hostile peers played by this program itself in
 * helper mode (the libuv way: the test binary runs again as a helper).
 *
 *   integration SCENARIO SERVER CLIENT [N]
 *   integration helper MODE NAME [MARKER]     (started by the scenarios)
 *
 * Every scenario reads the server's --json report and checks it. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "check.h"
#include "cowlab-config.h"
#include "err.h"
#include "platform.h"
#include "process.h"
#include "protocol.h"

#define WAIT_MS 120000

static const char *const all_checks[] = {
	"rw_write_visible", "cow_write_private", "cow_write_isolated", "cow_untouched_tracks",
	"cow_copy_detached", "cow_copy_evidence", "ro_write_faults",
};
#define NCHECKS (sizeof(all_checks) / sizeof(all_checks[0]))

struct ctx {
	const char *self, *server, *client;
	char name[48];
	char out[256];
	struct process *helpers[8];
	int nhelpers;
};

/* ---- helper mode: hostile or dying peers ---- */

static int expect_error(struct channel *c, const char *code)
{
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct proto_msg msg;
	size_t len;
	char why[PROTO_TEXT_MAX];

	if (channel_recv(c, buf, sizeof(buf), &len, 30000) != 0 ||
	    proto_parse(buf, len, NULL, &msg, why, sizeof(why)) != 0 || msg.type != PROTO_ERROR) {
		fprintf(stderr, "helper: expected an error message \"%s\"\n", code);
		return 1;
	}
	if (strcmp(msg.u.error.code, code) != 0) {
		fprintf(stderr, "helper: error code \"%s\", expected \"%s\"\n", msg.u.error.code, code);
		return 1;
	}
	return 0;
}

static int send_hello_and_wait_run(struct channel *c)
{
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct proto_hello h = { .pid = platform_pid() };
	size_t len;
	char *text;
	int err;

	snprintf(h.version, sizeof(h.version), "%s", COWLAB_VERSION);
	text = proto_build_hello(&h, &len);
	err = channel_send(c, text, len, NULL);
	free(text);
	/* the assignment, then the first batch */
	if (err == 0)
		err = channel_recv(c, buf, sizeof(buf), &len, 30000);
	if (err == 0)
		err = channel_recv(c, buf, sizeof(buf), &len, 30000);
	return err;
}

static int helper(const char *mode, const char *name, const char *marker)
{
	struct channel *c;
	char big[CHANNEL_MSG_MAX + 4096];
	int status = 1;

	if (channel_connect(&c, name, 30000) != 0) {
		fprintf(stderr, "helper %s: cannot connect to %s\n", mode, name);
		return 1;
	}
	if (strcmp(mode, "garbage") == 0) {
		const char junk[] = "this is not JSON {";
		channel_send(c, junk, sizeof(junk) - 1, NULL);
		status = expect_error(c, "bad_message");
	} else if (strcmp(mode, "oversize") == 0) {
		memset(big, ' ', sizeof(big));
		channel_send_uncapped(c, big, sizeof(big));
		status = expect_error(c, "too_big");
	} else if (strcmp(mode, "wrongtype") == 0) {
		struct proto_done d = { .held = true, .checks_held = 1, .checks_total = 1 };
		size_t len;
		char *text = proto_build_done(&d, &len);
		channel_send(c, text, len, NULL);
		free(text);
		status = expect_error(c, "unexpected");
	} else if (strcmp(mode, "badresult") == 0) {
		const char bad[] = "{\"type\":\"result\",\"v\":1,\"seq\":0,\"results\":\"no\"}";
		if (send_hello_and_wait_run(c) == 0) {
			channel_send(c, bad, sizeof(bad) - 1, NULL);
			status = expect_error(c, "bad_message");
		}
	} else if (strcmp(mode, "stall") == 0 && marker != NULL) {
		/* Mid-run: tell the test, then hang until it kills us. */
		if (send_hello_and_wait_run(c) == 0) {
			FILE *f = fopen(marker, "w");
			if (f != NULL)
				fclose(f);
			platform_sleep_ms(WAIT_MS);
		}
	} else {
		fprintf(stderr, "helper: unknown mode %s\n", mode);
	}
	channel_close(c);
	return status;
}

/* ---- scenario plumbing ---- */

static struct process *start(const char *path, const char *const argv[], const char *out)
{
	struct process *p = NULL;
	int err = process_start(&p, path, argv, out);

	CHECK_MSG(err == 0, "cannot start %s: %s", path, cowlab_strerror(err));
	return p;
}

static void start_helper(struct ctx *t, const char *mode, const char *marker)
{
	const char *argv[] = { t->self, "helper", mode, t->name, marker, NULL };

	t->helpers[t->nhelpers++] = start(t->self, argv, NULL);
}

static struct process *start_client(struct ctx *t)
{
	const char *argv[] = { t->client, "--name", t->name, "--timeout", "60", NULL };

	return start(t->client, argv, NULL);
}

static int finish(struct process *p)
{
	int code = -1;

	if (p == NULL)
		return -1;
	CHECK_MSG(process_wait(p, WAIT_MS, &code) == 0, "process %ld did not end", process_pid(p));
	process_destroy(p);
	return code;
}

static cJSON *read_report(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char text[4 << 20];
	size_t n;
	cJSON *j;

	if (f == NULL) {
		CHECK_MSG(0, "no report at %s", path);
		return NULL;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	j = cJSON_Parse(text);
	CHECK_MSG(j != NULL, "the report is not JSON: %.200s", text);
	return j;
}

/* A number at a dotted path ("summary.complete"). */
static double num(const cJSON *o, const char *path)
{
	char part[64];

	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		snprintf(part, sizeof(part), "%.*s", (int)n, path);
		o = cJSON_GetObjectItemCaseSensitive(o, part);
		path += n + (path[n] == '.');
	}
	CHECK_MSG(cJSON_IsNumber(o), "%s is not a number", path);
	return cJSON_IsNumber(o) ? o->valuedouble : -1;
}

static const cJSON *find_check(const cJSON *checks, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, checks) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return c;
	}
	return NULL;
}

static bool check_held(const cJSON *checks, const char *name)
{
	const cJSON *c = find_check(checks, name);

	CHECK_MSG(c != NULL, "check %s is missing", name);
	return c != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "held"));
}

/* A complete client: all seven checks present and held, each with
 * observed equal to expected. */
static void check_complete_client(const cJSON *cl)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(cl, "checks");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(cl, "status");

	CHECK(cJSON_IsString(st) && strcmp(st->valuestring, "complete") == 0);
	CHECK(cJSON_GetArraySize(checks) == (int)NCHECKS);
	for (size_t i = 0; i < NCHECKS; i++) {
		const cJSON *c = find_check(checks, all_checks[i]);

		CHECK_MSG(check_held(checks, all_checks[i]), "%s did not hold", all_checks[i]);
		if (c != NULL)
			CHECK_MSG(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(c, "expected"),
						cJSON_GetObjectItemCaseSensitive(c, "observed"), 1),
				  "%s: observed differs from expected", all_checks[i]);
	}
	/* The OS evidence: one private page per cow-role page, by pagemap. */
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(find_check(checks, "cow_copy_evidence"),
							   "evidence");
	const cJSON *pages = cJSON_GetObjectItemCaseSensitive(ev, "pages");
	CHECK(cJSON_IsString(pages));
	if (cJSON_IsString(pages))
		for (size_t i = 0; pages->valuestring[i]; i++)
			CHECK_MSG((pages->valuestring[i] == 'P') == (i % 4 == 0),
				  "page %zu of the client's range: '%c'", i, pages->valuestring[i]);
}

static const char *status_of(const cJSON *cl)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(cl, "status");

	return cJSON_IsString(st) ? st->valuestring : "?";
}

static const cJSON *source_named(const cJSON *evidence, const char *name)
{
	const cJSON *src;

	cJSON_ArrayForEach(src, cJSON_GetObjectItemCaseSensitive(evidence, "sources")) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(src, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return src;
	}
	CHECK_MSG(0, "no evidence source \"%s\"", name);
	return NULL;
}

static bool source_supported(const cJSON *evidence, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(source_named(evidence, name),
							     "supported"));
}

/* What each platform can and cannot show must be said, never hidden:
 * under Wine, VirtualQuery and Win32Protection are named as platform
 * deviations and not counted; on Linux and Windows nothing deviates. */
static void check_platform_evidence(const cJSON *report)
{
	const cJSON *platform = cJSON_GetObjectItemCaseSensitive(report, "platform");
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(platform, "os");
	const cJSON *wine = cJSON_GetObjectItemCaseSensitive(platform, "wine");
	const cJSON *cl;

	CHECK(cJSON_IsString(os));
	if (!cJSON_IsString(os))
		return;
	cJSON_ArrayForEach(cl, cJSON_GetObjectItemCaseSensitive(report, "clients")) {
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(
			find_check(cJSON_GetObjectItemCaseSensitive(cl, "checks"), "cow_copy_evidence"),
			"evidence");
		const cJSON *dev = cJSON_GetObjectItemCaseSensitive(ev, "platform_deviation");

		if (strcmp(status_of(cl), "complete") != 0)
			continue;
		if (cJSON_IsString(wine)) {
			CHECK_MSG(cJSON_IsString(dev) && strstr(dev->valuestring, "Wine") &&
				  strstr(dev->valuestring, "PAGE_WRITECOPY"),
				  "under Wine the evidence must name the deviation");
			CHECK(!source_supported(ev, "virtualquery"));
			CHECK(!source_supported(ev, "workingset_protection"));
			CHECK(source_supported(ev, "workingset_shared"));
		} else if (strcmp(os->valuestring, "Windows") == 0) {
			CHECK(cJSON_IsNull(dev));
			CHECK(source_supported(ev, "virtualquery"));
			CHECK(source_supported(ev, "workingset_shared"));
		} else {
			CHECK(cJSON_IsNull(dev));
			CHECK(source_supported(ev, "pagemap"));
			CHECK(source_named(ev, "smaps") != NULL);
		}
	}
}

static void check_server_checks(const cJSON *report, bool intact)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(report, "server_checks");

	CHECK(check_held(sc, "section_intact") == intact);
	CHECK(check_held(sc, "server_cow_isolated"));
}

static struct process *start_server(struct ctx *t, const char *mode, const char *n,
				    const char *extra)
{
	const char *argv[12];
	int i = 0;

	argv[i++] = t->server;
	argv[i++] = mode;
	argv[i++] = n;
	argv[i++] = "--json";
	argv[i++] = "--timeout";
	argv[i++] = "60";
	if (strcmp(mode, "--clients") == 0) {
		argv[i++] = "--name";
		argv[i++] = t->name;
	} else {
		argv[i++] = "--client";
		argv[i++] = t->client;
	}
	if (extra != NULL)
		argv[i++] = extra;
	argv[i] = NULL;
	return start(t->server, argv, t->out);
}

/* ---- scenarios ---- */

static void scenario_spawn(struct ctx *t, int n, bool control)
{
	char count[16];
	cJSON *r;
	int code;

	snprintf(count, sizeof(count), "%d", n);
	code = finish(start_server(t, "--spawn", count, control ? "--cow-as-shared" : NULL));
	r = read_report(t->out);
	if (r == NULL)
		return;
	CHECK_MSG(code == (control ? 1 : 0), "exit status %d", code);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")) == !control);
	CHECK(num(r, "summary.complete") == n);
	CHECK(num(r, "summary.lost") == 0);
	CHECK(num(r, "section.pages") == 2 + 4 * n);
	const cJSON *cl, *clients = cJSON_GetObjectItemCaseSensitive(r, "clients");
	CHECK(cJSON_GetArraySize(clients) == n);
	cJSON_ArrayForEach(cl, clients) {
		const cJSON *checks = cJSON_GetObjectItemCaseSensitive(cl, "checks");

		if (!control) {
			check_complete_client(cl);
			continue;
		}
		/* The control must fail exactly where sharing shows through. */
		CHECK(!check_held(checks, "cow_write_isolated"));
		CHECK(!check_held(checks, "cow_copy_detached"));
		CHECK(!check_held(checks, "cow_copy_evidence"));
		CHECK(check_held(checks, "rw_write_visible"));
		CHECK(check_held(checks, "cow_untouched_tracks"));
		CHECK(check_held(checks, "ro_write_faults"));
	}
	check_server_checks(r, !control);
	if (!control)
		check_platform_evidence(r);
	if (control)
		CHECK(num(r, "summary.checks_failed") >= 3 * n + 1);
	cJSON_Delete(r);
}

static void scenario_manual(struct ctx *t)
{
	struct process *srv = start_server(t, "--clients", "3", NULL);
	struct process *cl[3];
	cJSON *r;
	const cJSON *c;

	for (int i = 0; i < 3; i++)
		cl[i] = start_client(t);
	CHECK(finish(srv) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_MSG(finish(cl[i]) == 0, "client %d did not exit 0", i);
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")));
	CHECK(num(r, "summary.complete") == 3);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients"))
		check_complete_client(c);
	check_server_checks(r, true);
	check_platform_evidence(r);
	cJSON_Delete(r);
}

/* Hostile first messages beside three good clients: each is rejected with
 * its reason and does not count; the good clients complete. */
static void scenario_garbage(struct ctx *t)
{
	static const char *const modes[] = { "garbage", "oversize", "wrongtype" };
	static const char *const reasons[] = { "invalid hello", "cap", "not \"hello\"" };
	struct process *srv, *cl[3];
	cJSON *r;
	const cJSON *c;

	srv = start_server(t, "--clients", "3", NULL);
	/* The hostile peers first, so that they are there before the run fills. */
	for (int i = 0; i < 3; i++)
		start_helper(t, modes[i], NULL);
	for (int i = 0; i < 3; i++)
		CHECK_MSG(finish(t->helpers[i]) == 0, "helper %s did not get its error", modes[i]);
	t->nhelpers = 0;
	for (int i = 0; i < 3; i++)
		cl[i] = start_client(t);
	CHECK(finish(srv) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(finish(cl[i]) == 0);
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")));
	CHECK(num(r, "summary.complete") == 3);
	CHECK(num(r, "summary.rejected") == 3);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients"))
		check_complete_client(c);
	for (int i = 0; i < 3; i++) {
		bool found = false;

		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "rejected")) {
			const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "reason");
			found |= cJSON_IsString(why) && strstr(why->valuestring, reasons[i]) != NULL &&
				 strcmp(status_of(c), "rejected") == 0;
		}
		CHECK_MSG(found, "no rejection for \"%s\"", reasons[i]);
	}
	cJSON_Delete(r);
}

/* A client that dies mid-run (killed), or that answers a batch with
 * garbage: it is lost with the reason; the others finish normally. */
static void scenario_lost(struct ctx *t, bool kill)
{
	char marker[300];
	struct process *srv, *cl[2];
	cJSON *r;
	const cJSON *c;
	int lost = 0, complete = 0;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "3", NULL);
	start_helper(t, kill ? "stall" : "badresult", marker);
	for (int i = 0; i < 2; i++)
		cl[i] = start_client(t);
	if (kill) {
		FILE *f = NULL;
		for (int waited = 0; waited < WAIT_MS && (f = fopen(marker, "r")) == NULL; waited += 20)
			platform_sleep_ms(20);
		CHECK_MSG(f != NULL, "the stalling helper never got its first batch");
		if (f != NULL)
			fclose(f);
		process_kill(t->helpers[0]);
		finish(t->helpers[0]);
	} else {
		CHECK(finish(t->helpers[0]) == 0);
	}
	t->nhelpers = 0;
	CHECK(finish(srv) == 3);
	for (int i = 0; i < 2; i++)
		CHECK(finish(cl[i]) == 0);
	remove(marker);
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")));
	CHECK(num(r, "exit_status") == 3);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients")) {
		if (strcmp(status_of(c), "complete") == 0) {
			complete++;
			check_complete_client(c);
			continue;
		}
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "reason");
		lost += strcmp(status_of(c), "lost") == 0;
		CHECK_MSG(cJSON_IsString(why) &&
			  strstr(why->valuestring, kill ? "disconnected" : "invalid message"),
			  "lost for the wrong reason: %s", cJSON_IsString(why) ? why->valuestring : "?");
	}
	CHECK(complete == 2 && lost == 1);
	CHECK(num(r, "summary.lost") == 1);
	check_server_checks(r, true);
	cJSON_Delete(r);
}

int main(int argc, char **argv)
{
	static char self[1200];
	struct ctx t = { .self = self };
	const char *sc;

	if (platform_utf8_argv(&argc, &argv) != 0)
		return 2;
	sc = argc > 1 ? argv[1] : "";
	/* Our own path, to start ourselves as a helper: argv[0] may be
	 * relative or, under Wine, a Unix path. */
	if (platform_self_dir(self, sizeof(self) - 32) == 0)
		snprintf(self + strlen(self), 32, "%cintegration%s", platform_path_sep,
			 platform_exe_suffix);
	else
		snprintf(self, sizeof(self), "%s", argv[0]);

	if (strcmp(sc, "helper") == 0 && argc >= 4)
		return helper(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	if (argc < 4) {
		fprintf(stderr, "usage: integration SCENARIO SERVER CLIENT [N]\n");
		return 2;
	}
	t.server = argv[2];
	t.client = argv[3];
	snprintf(t.name, sizeof(t.name), "it-%s-%ld", sc, platform_pid());
	snprintf(t.out, sizeof(t.out), "integration-%s-%ld.json", sc, platform_pid());
	if (strcmp(sc, "spawn") == 0 && argc > 4)
		scenario_spawn(&t, atoi(argv[4]), false);
	else if (strcmp(sc, "negative") == 0)
		scenario_spawn(&t, 3, true);
	else if (strcmp(sc, "manual") == 0)
		scenario_manual(&t);
	else if (strcmp(sc, "garbage") == 0)
		scenario_garbage(&t);
	else if (strcmp(sc, "killed") == 0)
		scenario_lost(&t, true);
	else if (strcmp(sc, "badresult") == 0)
		scenario_lost(&t, false);
	else {
		fprintf(stderr, "unknown scenario %s\n", sc);
		return 2;
	}
	if (check_failures == 0)
		remove(t.out);
	return check_exit(sc);
}
