/* Multi-process tests: runs cowlab-server with real cowlab-client
 * processes, and with hostile peers played by this program itself in
 * helper mode (the libuv way: the test binary runs again as a helper).
 *
 *   integration SCENARIO SERVER CLIENT [N]
 *   integration helper MODE NAME [MARKER]     (started by the scenarios)
 *
 * Every scenario reads the server's --json report and checks it. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "check.h"
#include "compat.h"
#include "cowlab-config.h"
#include "err.h"
#include "image.h"
#include "interrupt.h"
#include "json.h"
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
	const char *timeout;    /* the server's --timeout, "60" unless a scenario says */
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

static int send_hello_as(struct channel *c, bool no_verdict)
{
	struct proto_hello h = { .pid = platform_pid(), .no_verdict = no_verdict };
	size_t len;
	char *text;
	int err;

	snprintf(h.version, sizeof(h.version), "%s", COWLAB_VERSION);
	text = proto_build_hello(&h, &len);
	err = text != NULL ? channel_send(c, text, len, NULL) : COWLAB_E_NOMEM;
	free(text);
	return err;
}

static int send_hello(struct channel *c)
{
	return send_hello_as(c, false);
}

/* Answers a batch with results that say each operation was not done
 * (valid, so the run goes on). */
static int answer_not_done(struct channel *c, const struct proto_run *run)
{
	static struct proto_op_result res[PROTO_OPS_MAX];
	size_t len;
	char *text;
	int err;

	memset(res, 0, sizeof(res));
	for (size_t k = 0; k < run->nops; k++) {
		res[k].kind = run->ops[k].kind;
		snprintf(res[k].error, sizeof(res[k].error), "not done: a test helper");
	}
	text = proto_build_result(run->seq, res, run->nops, &len);
	err = text != NULL ? channel_send(c, text, len, NULL) : COWLAB_E_NOMEM;
	free(text);
	return err;
}

/* A peer that says it does not wait for the verdict: only its last batch
 * (the observe step's, seq 1) may be marked `last`, and once that is
 * answered the server must close the connection without a `done`. */
static int helper_no_verdict(struct channel *c)
{
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct proto_limits lim = { 0, 0, 0 };
	size_t len;
	int err = send_hello_as(c, true);

	for (int batches = 0; err == 0;) {
		struct proto_msg m;

		err = channel_recv(c, buf, sizeof(buf), &len, 30000);
		if (err_is(err, COWLAB_E_CLOSED) && batches == 2)
			return 0; /* closed after the last results: as it should */
		if (err != 0 || proto_parse(buf, len, &lim, &m, NULL, 0) != 0) {
			fprintf(stderr, "helper noverdict: %s after %d batches\n",
				err ? cowlab_strerror(err) : "an invalid message", batches);
			return 1;
		}
		if (m.type == PROTO_ASSIGN) {
			lim.pages = m.u.assign.section_size / m.u.assign.page_size;
			lim.page_size = m.u.assign.page_size;
			continue;
		}
		if (m.type != PROTO_RUN || batches == 2) {
			fprintf(stderr, "helper noverdict: a \"%s\" message after %d batches\n",
				proto_type_name(m.type), batches);
			proto_msg_free(&m);
			return 1;
		}
		if (m.u.run.last != (m.u.run.seq == 1)) {
			fprintf(stderr, "helper noverdict: batch %llu %s marked last\n",
				(unsigned long long)m.u.run.seq, m.u.run.last ? "is" : "is not");
			return 1;
		}
		batches++;
		err = answer_not_done(c, &m.u.run);
	}
	return 1;
}

/* Says hello and receives `n` messages (the assignment, then batches),
 * answering every batch but the last one received with results that say
 * each operation was not done (valid, so the run goes on). */
static int hello_and_receive(struct channel *c, int n)
{
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct proto_limits lim = { 0, 0, 0 };
	size_t len;
	int err = send_hello(c);

	for (int i = 1; err == 0 && i <= n; i++) {
		struct proto_msg m;

		err = channel_recv(c, buf, sizeof(buf), &len, 30000);
		if (err != 0 || proto_parse(buf, len, &lim, &m, NULL, 0) != 0)
			return err ? err : COWLAB_E_PROTO;
		if (m.type == PROTO_ASSIGN) {
			lim.pages = m.u.assign.section_size / m.u.assign.page_size;
			lim.page_size = m.u.assign.page_size;
		}
		if (m.type == PROTO_RUN && i < n)
			err = answer_not_done(c, &m.u.run);
		proto_msg_free(&m);
	}
	return err;
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f != NULL)
		fclose(f);
}

static int helper(const char *mode, const char *name, const char *marker)
{
	struct channel *c;
	char big[CHANNEL_MSG_MAX + 4096];
	int status = 1;

	char why[256];

	if (channel_connect(&c, name, 30000, why, sizeof(why)) != 0) {
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
	} else if (strcmp(mode, "empty") == 0) {
		channel_send(c, "", 0, NULL);
		status = expect_error(c, "bad_message");
	} else if (strcmp(mode, "wrongtype") == 0) {
		struct proto_done d = { .held = true, .checks_held = 1, .checks_total = 1 };
		size_t len;
		char *text = proto_build_done(&d, &len);
		channel_send(c, text, len, NULL);
		free(text);
		status = expect_error(c, "unexpected");
	} else if (strcmp(mode, "badresult") == 0) {
		const char bad[] = "{\"type\":\"result\",\"v\":1,\"seq\":0,\"results\":\"no\"}";
		if (hello_and_receive(c, 2) == 0) {
			channel_send(c, bad, sizeof(bad) - 1, NULL);
			status = expect_error(c, "bad_message");
		}
	} else if (strncmp(mode, "stall-", 6) == 0 && marker != NULL) {
		/* stall-N: say hello (unless N is "prehello"), receive N messages,
		 * tell the test, then hang until it kills us. */
		bool hello = strcmp(mode + 6, "prehello") != 0;
		if (!hello || hello_and_receive(c, atoi(mode + 6)) == 0) {
			touch(marker);
			platform_sleep_ms(WAIT_MS);
		}
	} else if (strcmp(mode, "noverdict") == 0) {
		status = helper_no_verdict(c);
	} else if (strcmp(mode, "forkliar") == 0) {
		/* says it is the child of client 1's fork, and is not */
		struct proto_hello h = { .pid = platform_pid(), .fork_parent = 1, .fork_child = 2 };
		size_t len;
		char *text;

		snprintf(h.version, sizeof(h.version), "%s", COWLAB_VERSION);
		text = proto_build_hello(&h, &len);
		if (text != NULL && channel_send(c, text, len, NULL) == 0)
			status = expect_error(c, "uninvited");
		free(text);
	} else if (strcmp(mode, "intruder") == 0) {
		/* a same-user process that found a --spawn run's socket */
		if (send_hello(c) == 0)
			status = expect_error(c, "uninvited");
	} else if (strcmp(mode, "silent") == 0 && marker != NULL) {
		/* connected (so the server is listening): say so, say nothing else */
		touch(marker);
		platform_sleep_ms(WAIT_MS);
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
	char why[160];
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
	if (j != NULL) {
		/* kept for the test report-schema, which holds every report the
		 * suite reads to docs/report.schema.json */
		static int kept;
		char keep[96];
		FILE *k;

		snprintf(keep, sizeof(keep), "report-kept-%ld-%d.json", platform_pid(), ++kept);
		if ((k = fopen(keep, "wb")) != NULL) {
			fwrite(text, 1, n, k);
			fclose(k);
		}
	}
	/* and JSON to the letter (RFC 8259: well-formed UTF-8 throughout),
	 * which cJSON does not hold it to */
	CHECK_MSG(j == NULL || json_check(text, strlen(text), 64, why, sizeof(why)), "%s", why);
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

static const char *str_at(const cJSON *o, const char *key);

/* A complete client beside a lost one (every run here is within one
 * client window, EXPERIMENT_WINDOW): its isolation from the lost client
 * was not observed, as that client never made its finds, so its
 * cow_write_isolated is unproven, saying so; every other check held. */
static void check_complete_client_in(const cJSON *cl, bool lost_beside)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(cl, "checks");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(cl, "status");

	CHECK(cJSON_IsString(st) && strcmp(st->valuestring, "complete") == 0);
	/* and image_section_shared, which check_image_section looks at */
	CHECK(cJSON_GetArraySize(checks) == (int)NCHECKS + 1);
	for (size_t i = 0; i < NCHECKS; i++) {
		const cJSON *c = find_check(checks, all_checks[i]);

		if (lost_beside && strcmp(all_checks[i], "cow_write_isolated") == 0) {
			CHECK_MSG(strcmp(str_at(c, "status"), "unproven") == 0 &&
				  strstr(str_at(c, "detail"), "was not made: it was lost") != NULL,
				  "beside a lost client, cow_write_isolated is %s: %s",
				  str_at(c, "status"), str_at(c, "detail"));
			continue;
		}
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
	CHECK(cJSON_IsString(pages) &&
	      (double)strlen(pages->valuestring) == num(cl, "pages.count"));
	if (cJSON_IsString(pages))
		for (size_t i = 0; pages->valuestring[i]; i++)
			CHECK_MSG((pages->valuestring[i] == 'P') == (i % 4 == 0),
				  "page %zu of the client's range: '%c'", i, pages->valuestring[i]);
}

/* A complete client: all seven checks present and held, each with
 * observed equal to expected. */
static void check_complete_client(const cJSON *cl)
{
	check_complete_client_in(cl, false);
}

static const char *status_of(const cJSON *cl)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(cl, "status");

	return cJSON_IsString(st) ? st->valuestring : "?";
}

static const char *str_at(const cJSON *o, const char *key);

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
			/* and say that its Shared bit is Linux's pagemap, not Windows' */
			CHECK_MSG(cJSON_IsString(dev) && strstr(dev->valuestring, "Linux's pagemap"),
				  "under Wine the deviation must say where the Shared bit comes from");
			CHECK_MSG(strstr(str_at(source_named(ev, "workingset_shared"), "note"),
					 "/proc/self/pagemap") != NULL,
				  "under Wine workingset_shared's note must name pagemap");
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

static const char *str_at(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(it) ? it->valuestring : "";
}

/* The course's exercise, image_section_shared (docs/report.md): on Linux
 * not applicable, with the reason and the client's own .data line; on
 * Windows the section is 0xD0000040 and either the shared counter counted
 * each client once (values unique in the run: other runs may count in
 * between) while the private one stayed 1, or, under Wine only, the
 * report names the deviation. */
static void check_image_section(const cJSON *report)
{
	const cJSON *platform = cJSON_GetObjectItemCaseSensitive(report, "platform");
	bool windows = strcmp(str_at(platform, "os"), "Windows") == 0;
	bool wine = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(platform, "wine"));
	double seen[64];
	int nseen = 0;
	const cJSON *cl;

	cJSON_ArrayForEach(cl, cJSON_GetObjectItemCaseSensitive(report, "clients")) {
		const cJSON *c = find_check(cJSON_GetObjectItemCaseSensitive(cl, "checks"),
					    "image_section_shared");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(c, "evidence");
		const cJSON *obs = cJSON_GetObjectItemCaseSensitive(c, "observed");
		const char *status = str_at(c, "status");

		if (strcmp(status_of(cl), "complete") != 0)
			continue;
		CHECK_MSG(c != NULL, "image_section_shared is missing");
		CHECK(num(obs, "private") == 1);
		if (!windows) {
			CHECK(strcmp(status, "not_applicable") == 0);
			CHECK(strstr(str_at(c, "detail"), "ELF has no shared-section flag") != NULL);
			CHECK(strstr(str_at(ev, "explanation"), "copy-on-write") != NULL);
			CHECK_MSG(strstr(str_at(ev, "data_mapping"), " rw-p ") != NULL &&
				  strstr(str_at(ev, "data_mapping"), "cowlab-client") != NULL,
				  "data_mapping \"%s\"", str_at(ev, "data_mapping"));
			continue;
		}
		CHECK(strcmp(str_at(ev, "section"), "shared") == 0);
		CHECK(strcmp(str_at(obs, "characteristics"), "0xD0000040") == 0);
		CHECK(strcmp(str_at(ev, "characteristics_text"),
			     "initialized data, shared, read, write") == 0);
		if (strcmp(status, "held") == 0) {
			CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(c, "expected"), obs, 1));
			if (nseen < 64)
				seen[nseen++] = num(ev, "shared");
		} else {
			CHECK_MSG(wine && strcmp(status, "not_applicable") == 0 &&
				  strstr(str_at(ev, "platform_deviation"), "does not share") != NULL,
				  "image_section_shared %s: %s", status, str_at(c, "detail"));
		}
		/* Wine's VirtualQuery deviates even where it shares: said, too, and
		 * what Windows would say there only as expected, not verified */
		if (wine)
			CHECK(strstr(str_at(ev, "platform_deviation"), "Wine") != NULL);
		if (wine && strstr(str_at(ev, "platform_deviation"), "PAGE_WRITECOPY") != NULL)
			CHECK_MSG(strstr(str_at(ev, "platform_deviation"),
					 "expected on Windows, not verified there") != NULL,
				  "the deviation claims what Windows says: %s",
				  str_at(ev, "platform_deviation"));
	}
	for (int i = 0; i < nseen; i++)
		for (int k = i + 1; k < nseen; k++)
			CHECK_MSG(seen[i] != seen[k], "two clients counted %.0f", seen[i]);
}

static void check_server_checks_in(const cJSON *report, bool intact, bool lost)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(report, "server_checks");
	const cJSON *iso = find_check(sc, "server_cow_isolated");

	CHECK(check_held(sc, "section_intact") == intact);
	/* a lost client never looked at page 0: not observed */
	if (lost)
		CHECK_MSG(strcmp(str_at(iso, "status"), "unproven") == 0 &&
			  strstr(str_at(iso, "detail"), "it was lost") != NULL,
			  "server_cow_isolated is %s: %s", str_at(iso, "status"), str_at(iso, "detail"));
	else
		CHECK(check_held(sc, "server_cow_isolated"));
	CHECK(check_held(sc, "server_cow_tracks"));
}

static void check_server_checks(const cJSON *report, bool intact)
{
	check_server_checks_in(report, intact, false);
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
	argv[i++] = t->timeout;
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
		/* Every other client within the window (EXPERIMENT_WINDOW, 2, on
		 * each side) saw its one shared "private" page: each looked only
		 * once the window had written. An observe step sent before the
		 * window's write steps were all answered would miss some. */
		int slot = (int)num(cl, "id") - 1;
		int window = (slot < 2 ? slot : 2) + (n - 1 - slot < 2 ? n - 1 - slot : 2);
		double seen = num(find_check(checks, "cow_write_isolated"),
				  "observed.seen_by_other_clients");
		CHECK_MSG(seen == window, "client %d seen by %.0f of the %d others in its window",
			  slot + 1, seen, window);
	}
	check_server_checks(r, !control);
	check_image_section(r);
	if (!control)
		check_platform_evidence(r);
	else
		CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
				 "negative_control_detected"));
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
	check_image_section(r);
	cJSON_Delete(r);
}

/* Hostile first messages beside three good clients: each is rejected with
 * its reason and does not count; the good clients complete. */
static void scenario_garbage(struct ctx *t)
{
	static const char *const modes[] = { "garbage", "oversize", "wrongtype", "empty" };
	static const char *const reasons[] = { "invalid hello", "cap", "not \"hello\"",
					       "empty message" };
	struct process *srv, *cl[3];
	cJSON *r;
	const cJSON *c;

	srv = start_server(t, "--clients", "3", NULL);
	/* The hostile peers first, so that they are there before the run fills. */
	for (int i = 0; i < 4; i++)
		start_helper(t, modes[i], NULL);
	for (int i = 0; i < 4; i++)
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
	CHECK(num(r, "summary.rejected") == 4);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients"))
		check_complete_client(c);
	for (int i = 0; i < 4; i++) {
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

/* Waits until a helper has touched its marker. */
static bool wait_marker(const char *marker)
{
	FILE *f = NULL;

	for (int waited = 0; waited < WAIT_MS && (f = fopen(marker, "r")) == NULL; waited += 20)
		platform_sleep_ms(20);
	CHECK_MSG(f != NULL, "a helper never reached its point");
	if (f != NULL)
		fclose(f);
	remove(marker);
	return f != NULL;
}

static void kill_helpers(struct ctx *t)
{
	for (int i = 0; i < t->nhelpers; i++) {
		process_kill(t->helpers[i]);
		finish(t->helpers[i]);
	}
	t->nhelpers = 0;
}

/* A file's text with Windows' CR LF read as LF. */
static char *read_text(const char *path)
{
	char *text = check_read_file(path), *w = text;

	for (const char *r = text; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return text;
}

/* Every connection is accounted for exactly once: complete, lost or
 * rejected, and the good clients' reports are whole. */
static cJSON *check_accounted(struct ctx *t, int complete, int lost, int rejected, int missing)
{
	cJSON *r = read_report(t->out);
	const cJSON *c;
	int n_complete = 0, n_lost = 0, n_rejected = 0;

	if (r == NULL)
		return NULL;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients")) {
		if (strcmp(status_of(c), "complete") == 0) {
			/* a lost client within two ids (EXPERIMENT_WINDOW) would
			 * have searched its pages */
			const cJSON *o;
			bool beside = false;

			cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r, "clients"))
				beside |= strcmp(status_of(o), "lost") == 0 &&
					  num(o, "id") - num(c, "id") <= 2 &&
					  num(c, "id") - num(o, "id") <= 2;
			n_complete++;
			check_complete_client_in(c, beside);
		} else {
			n_lost += strcmp(status_of(c), "lost") == 0;
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "checks")) == 0);
		}
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "rejected"))
		n_rejected += strcmp(status_of(c), "rejected") == 0;
	CHECK_MSG(n_complete == complete && n_lost == lost && n_rejected == rejected,
		  "complete %d lost %d rejected %d, expected %d %d %d", n_complete, n_lost,
		  n_rejected, complete, lost, rejected);
	CHECK(num(r, "summary.complete") == complete && num(r, "summary.lost") == lost &&
	      num(r, "summary.rejected") == rejected && num(r, "summary.missing") == missing);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")) ==
	      (lost == 0 && missing == 0));
	return r;
}

/* The reason a lost or rejected entry gives must name what happened. */
static void check_reason(const cJSON *r, const char *list, const char *words)
{
	const cJSON *c;
	bool found = false;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, list)) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "reason");
		found |= cJSON_IsString(why) && strstr(why->valuestring, words) != NULL;
	}
	CHECK_MSG(found, "no entry under \"%s\" says \"%s\"", list, words);
}

/* A client killed at a step of the protocol (before its hello, after it,
 * after the assignment, after each batch): it is lost (or, before a hello,
 * rejected and the run short of a client); the others finish normally. */
static void scenario_killed(struct ctx *t, const char *at)
{
	char marker[300], mode[32];
	bool prehello = strcmp(at, "prehello") == 0;
	struct process *srv, *cl[2];
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	snprintf(mode, sizeof(mode), "stall-%s", at);
	remove(marker);
	if (prehello)
		t->timeout = "3"; /* the run then waits in vain for its third client */
	srv = start_server(t, "--clients", "3", NULL);
	start_helper(t, mode, marker);
	/* the first client's words kept: it must say the run's verdict */
	const char *cargv[] = { t->client, "--name", t->name, "--timeout", "60", NULL };
	char said[300];
	snprintf(said, sizeof(said), "%s.client", t->out);
	cl[0] = start(t->client, cargv, said);
	cl[1] = start_client(t);
	if (wait_marker(marker))
		platform_sleep_ms(prehello ? 0 : 100); /* let the others get going */
	kill_helpers(t);
	CHECK(finish(srv) == 3);
	/* each client exits with the run's status: not proven */
	for (int i = 0; i < 2; i++)
		CHECK(finish(cl[i]) == 3);
	/* its checks that apply: seven, and the image's on Windows (PE) */
	int total = (int)NCHECKS + (image_has_shared_sections() ? 1 : 0);
	char own[48];
	snprintf(own, sizeof(own), "%d of %d checks held", prehello ? total : total - 1, total);
	CHECK_MSG(strstr(read_text(said), "the run: isolation NOT PROVEN (exit 3)") != NULL &&
		  strstr(read_text(said), own) != NULL, "the client said: %s", read_text(said));
	remove(said);
	if ((r = check_accounted(t, 2, prehello ? 0 : 1, prehello ? 1 : 0, prehello ? 1 : 0)) == NULL)
		return;
	check_reason(r, prehello ? "rejected" : "clients", prehello ? "before a hello" : "disconnected");
	check_server_checks_in(r, true, !prehello);
	cJSON_Delete(r);
}

/* A client that answers a batch with garbage: lost, with the reason. */
static void scenario_badresult(struct ctx *t)
{
	struct process *srv, *cl[2];
	cJSON *r;

	srv = start_server(t, "--clients", "3", NULL);
	start_helper(t, "badresult", NULL);
	for (int i = 0; i < 2; i++)
		cl[i] = start_client(t);
	CHECK(finish(t->helpers[0]) == 0);
	t->nhelpers = 0;
	CHECK(finish(srv) == 3);
	for (int i = 0; i < 2; i++)
		CHECK(finish(cl[i]) == 3);
	if ((r = check_accounted(t, 2, 1, 0, 0)) == NULL)
		return;
	check_reason(r, "clients", "invalid message");
	cJSON_Delete(r);
}

/* A client that stops answering mid-run: after --timeout it is lost, and
 * the `good` others complete. With none, the run ends as soon as it is
 * dropped: nothing else is left to wait for. */
static void scenario_stall(struct ctx *t, int good)
{
	char marker[300], count[8];
	struct process *srv, *cl[2];
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	snprintf(count, sizeof(count), "%d", good + 1);
	remove(marker);
	t->timeout = "3";
	srv = start_server(t, "--clients", count, NULL);
	start_helper(t, "stall-2", marker);
	for (int i = 0; i < good; i++)
		cl[i] = start_client(t);
	wait_marker(marker);
	CHECK(finish(srv) == 3);
	kill_helpers(t);
	for (int i = 0; i < good; i++)
		CHECK(finish(cl[i]) == 3);
	if ((r = check_accounted(t, good, 1, 0, 0)) == NULL)
		return;
	check_reason(r, "clients", "no answer to step \"write\"");
	cJSON_Delete(r);
}

/* A client that stalls and joins late holds up the others for longer than
 * --timeout: its neighbours' observe step waits for its write step, which
 * is dropped --timeout after it joined, and everyone's `done` waits for
 * that. Clients with the same --timeout as the server must not give up
 * meanwhile: the assignment tells them how long the server may take. */
static void scenario_late_stall(struct ctx *t)
{
	const char *argv[] = { t->client, "--name", t->name, "--timeout", "3", NULL };
	char marker[300];
	struct process *srv, *cl[3];
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	t->timeout = "3";
	srv = start_server(t, "--clients", "4", NULL);
	for (int i = 0; i < 3; i++)
		cl[i] = start(t->client, argv, NULL);
	platform_sleep_ms(2000); /* the three have observed, or wait for the fourth */
	start_helper(t, "stall-2", marker);
	wait_marker(marker);
	CHECK(finish(srv) == 3);
	kill_helpers(t);
	for (int i = 0; i < 3; i++)
		CHECK_MSG(finish(cl[i]) == 3, "client %d gave up waiting, or did not say the "
			  "run's status", i + 1);
	if ((r = check_accounted(t, 3, 1, 0, 0)) == NULL)
		return;
	check_reason(r, "clients", "no answer to step \"write\"");
	cJSON_Delete(r);
}

/* Whether a process has ended, without waiting. */
static bool running(struct process *p)
{
	int code;

	return err_is(process_wait(p, 0, &code), COWLAB_E_TIMEOUT);
}

/* A client started with --no-verdict leaves once the server has taken its
 * last results, while the run goes on: here a neighbour stalls in its
 * observe step, so the verdict cannot come until it is killed. The client
 * that waits for the verdict is still there; the one that does not has
 * exited 0 and is complete in the report. */
static void scenario_noverdict(struct ctx *t)
{
	const char *argv[] = { t->client, "--name", t->name, "--timeout", "60", "--no-verdict",
			       NULL };
	char marker[300];
	struct process *srv, *leaver, *waiter;
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "3", NULL);
	start_helper(t, "stall-3", marker); /* answers the write step, not the observe step */
	leaver = start(t->client, argv, NULL);
	waiter = start_client(t);
	wait_marker(marker);
	CHECK_MSG(finish(leaver) == 0, "the --no-verdict client did not exit 0");
	CHECK_MSG(running(srv), "the server ended before the stalled client was dropped");
	CHECK_MSG(running(waiter), "the client waiting for its verdict ended without it");
	kill_helpers(t);
	CHECK(finish(srv) == 3);
	CHECK_MSG(finish(waiter) == 3, "the client waiting for its verdict did not exit with "
		  "the run's, 3");
	if ((r = check_accounted(t, 2, 1, 0, 0)) == NULL)
		return;
	check_reason(r, "clients", "disconnected");
	cJSON_Delete(r);
}

/* Where the image has a shared section (PE), the course's shared counter
 * lives only while an instance maps it, so a --no-verdict client stays
 * until admission has closed: here six clients run with a seventh still to
 * come. Clients 1 to 4 have their windows complete and answer their last
 * batch; on ELF they leave at once, on PE none may leave until the seventh
 * is in. The seventh then stalls in its observe step, so the run cannot
 * end: all six must leave meanwhile, as a client waiting for its verdict
 * could not. */
static void scenario_noverdict_hold(struct ctx *t)
{
	const char *argv[] = { t->client, "--name", t->name, "--timeout", "60", "--no-verdict",
			       NULL };
	bool pe = image_has_shared_sections();
	char marker[300];
	struct process *srv, *cl[6];
	int gone = 0;
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "7", NULL);
	for (int i = 0; i < 6; i++)
		cl[i] = start(t->client, argv, NULL);
	/* ELF: wait for one to leave; PE: give them 10 s to leave wrongly */
	for (int waited = 0; waited < (pe ? 10000 : WAIT_MS) && (pe || gone == 0); waited += 50) {
		platform_sleep_ms(50);
		gone = 0;
		for (int i = 0; i < 6; i++)
			gone += !running(cl[i]);
	}
	if (pe)
		CHECK_MSG(gone == 0, "%d PE clients left before admission closed", gone);
	else
		CHECK_MSG(gone > 0, "no ELF client left before admission closed");
	CHECK(running(srv));
	start_helper(t, "stall-3", marker); /* the seventh: writes, then stalls */
	wait_marker(marker);
	for (int i = 0; i < 6; i++)
		CHECK_MSG(finish(cl[i]) == 0, "client %d did not exit 0", i + 1);
	CHECK_MSG(running(srv), "the server ended before the stalled client was dropped");
	kill_helpers(t);
	CHECK(finish(srv) == 3);
	if ((r = check_accounted(t, 6, 1, 0, 0)) == NULL)
		return;
	check_image_section(r);
	cJSON_Delete(r);
}

/* The wire side of it: a peer that says "verdict": false gets its last
 * batch marked `last` and then the server's close, no `done` (the helper
 * checks both). Its results say nothing was done, so nothing was
 * observed: every check that rests on them is unproven, exit 3. */
static void scenario_noverdict_protocol(struct ctx *t)
{
	struct process *srv = start_server(t, "--clients", "1", NULL);
	cJSON *r;

	start_helper(t, "noverdict", NULL);
	CHECK_MSG(finish(t->helpers[0]) == 0, "the server broke the no-verdict protocol");
	t->nhelpers = 0;
	/* nothing done is nothing observed: not proven, never broken */
	CHECK(finish(srv) == 3);
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK(num(r, "summary.complete") == 1 && num(r, "summary.lost") == 0);
	CHECK(num(r, "summary.checks_failed") == 0 && num(r, "summary.checks_unproven") >= 7);
	/* its 11 of the write step and 5 of the observe step: the reads of
	 * its copy-on-write pages are not asked for, since a copy-on-write
	 * write not seen done leaves them unknown (nothing could judge them) */
	CHECK(num(r, "summary.operations_failed") == 16);
	cJSON_Delete(r);
}

/* Same-user processes that poll for a --spawn run's socket and say hello
 * the moment it is there: each is turned away as uninvited, and the run is
 * made with the clients the server started. The section is large enough
 * (128 MiB) that its fill keeps the server's own clients from starting
 * until the intruders, polling already, have connected. */
static void scenario_uninvited(struct ctx *t)
{
	const char *argv[] = { t->server, "--spawn", "2", "--name", t->name, "--json",
			       "--timeout", "60", "--pages-per-client", "16384", "--client",
			       t->client, NULL };
	struct process *srv;
	int turned_away = 0;
	cJSON *r;
	const cJSON *c;

	for (int i = 0; i < 4; i++)
		start_helper(t, "intruder", NULL);
	srv = start(t->server, argv, t->out);
	CHECK(finish(srv) == 0);
	for (int i = 0; i < t->nhelpers; i++) {
		int code = -1;

		/* one still polling never got in: nothing to judge it by */
		if (process_wait(t->helpers[i], 5000, &code) != 0)
			code = -1;
		CHECK_MSG(code == 0 || code == -1, "intruder %d: exit %d", i, code);
		turned_away += code == 0;
		process_destroy(t->helpers[i]);
	}
	t->nhelpers = 0;
	CHECK_MSG(turned_away > 0, "no intruder got in before the run's own clients");
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK(num(r, "summary.complete") == 2 && num(r, "summary.rejected") == turned_away);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients"))
		check_complete_client(c);
	check_reason(r, "rejected", "not a client this server started");
	cJSON_Delete(r);
}

/* A server stopped mid-run leaves no client behind: none of its clients
 * joins the next server of the same name. Where a process can be asked to
 * stop (SIGTERM), the server also ends its run cleanly: the report so far
 * (not proven), every unfinished client dropped saying why, and it dies of
 * the signal. A server killed outright (SIGKILL; TerminateProcess) runs
 * nothing: on Windows its job object ends the clients; on Linux the ones
 * already started live on, but each joins only the server that started it
 * (cowlab-client --parent, which --spawn passes). */
static void stop_server(struct ctx *t, const char *name, bool ask)
{
	const char *spawn = platform_path_sep == '\\' ? "64" : "1000";
	const char *argv[] = { t->server, "--spawn", spawn, "--name", name, "--json",
			       "--timeout", "60", "--client", t->client, NULL };
	struct process *srv = NULL;
	char err_path[300];
	bool asked = false;
	int code = -1;
	cJSON *r;

	/* The server's stderr, which its clients inherit, to a file: under
	 * Wine 8.0 a process killed inside CreateProcess leaves the child's
	 * process object in wineserver, holding its inherited handles for
	 * good, and meson would wait for ever on a pipe among them. */
	snprintf(err_path, sizeof(err_path), "%s.err", t->out);
	CHECK(process_start_files(&srv, t->server, argv, t->out, err_path, false) == 0);
	if (srv == NULL)
		return;
	platform_sleep_ms(300);
	if (ask)
		asked = process_interrupt(srv) == 0;
	if (!asked)
		process_kill(srv);
	CHECK(process_wait(srv, WAIT_MS, &code) == 0);
	process_destroy(srv);
	if (asked) {
		CHECK_MSG(code == 128 + 15, "exit %d, not death by SIGTERM (143)", code);
		if ((r = read_report(t->out)) != NULL) {
			const cJSON *itr = cJSON_GetObjectItemCaseSensitive(r, "interrupted");

			CHECK(cJSON_IsString(itr) && strcmp(itr->valuestring, "SIGTERM") == 0);
			CHECK(num(r, "exit_status") == 3);
			CHECK(num(r, "summary.lost") + num(r, "summary.missing") > 0);
			CHECK(num(r, "summary.checks_failed") == 0);
			if (num(r, "summary.lost") > 0)
				check_reason(r, "clients", "interrupted (SIGTERM)");
			cJSON_Delete(r);
		}
	} else {
		CHECK_MSG(code == 137, "exit %d, not killed", code);
	}
	remove(err_path);
	/* Its clients are gone: a server of the same name sees none of them.
	 * (A client being started when the server was killed holds the name's
	 * lock, inherited, until its exec closes it: a moment, longer on a
	 * loaded machine. The name is asked for again until it is free.) */
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->timeout = "5";
	code = 2;
	for (int tries = 0; code == 2 && tries < 20; tries++) {
		if (tries > 0)
			platform_sleep_ms(100);
		srv = start_server(t, "--clients", "5", NULL);
		code = finish(srv);
	}
	CHECK_MSG(code == 3, "exit %d", code);
	if ((r = read_report(t->out)) == NULL)
		return;
	CHECK_MSG(num(r, "summary.complete") + num(r, "summary.lost") == 0,
		  "%.0f clients of the %s server joined the next one",
		  num(r, "summary.complete") + num(r, "summary.lost"), asked ? "stopped" : "killed");
	cJSON_Delete(r);
}

static void scenario_interrupted(struct ctx *t)
{
	char asked[64], killed[64];

	snprintf(asked, sizeof(asked), "%.40s-a", t->name);
	snprintf(killed, sizeof(killed), "%.40s-k", t->name);
	stop_server(t, asked, true);
	stop_server(t, killed, false);
}

/* The report for people: within 80 columns, the verdict, and one line that
 * says what the verdict rests on (docs/report.md). */
static void scenario_human(struct ctx *t)
{
	const char *argv[] = { t->server, "--spawn", "3", "--client", t->client, NULL };
	static char text[1 << 16];
	size_t n = 0;
	FILE *f;

	CHECK(finish(start(t->server, argv, t->out)) == 0);
	if ((f = fopen(t->out, "rb")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	for (char *line = text, *next; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		CHECK_MSG(next - line <= 80, "a line of %td columns: %.*s", next - line,
			  (int)(next - line), line);
		next += *next == '\n';
	}
	CHECK_MSG(strstr(text, "verdict: isolation HELD (exit 0)") != NULL, "%s", text);
	/* every check that applies is counted once, by what it rests on:
	 * three clients' rw_write_visible and two of the server's are its own */
	const char *rests = strstr(text, "\n  resting on: "), *held = strstr(text, "complete; ");
	int server = -1, client = -1, both = -1, total = -1;
	CHECK_MSG(rests != NULL && held != NULL &&
		  sscanf(rests, "\n  resting on: the server's own views %d, the clients' word %d, "
			 "both %d", &server, &client, &both) == 3 &&
		  sscanf(held, "complete; %d checks held", &total) == 1,
		  "no line says what it rests on:\n%s", text);
	CHECK_MSG(server == 5 && both == 7 && server + client + both == total,
		  "resting on %d, %d, %d of %d checks", server, client, both, total);
}

/* Every line within 80 columns. */
static void check_width(const char *text, const char *what)
{
	for (const char *line = text, *next; *line != '\0'; line = next) {
		size_t len = strcspn(line, "\n");

		next = line + len + (line[len] == '\n');
		CHECK_MSG(len <= 80, "%s: a line of %zu columns: %.*s", what, len, (int)len, line);
	}
}

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* The report for people in its shapes (issue 14): 41 and 1000 clients (64
 * under Wine, where starting is slow) show at most 40 rows, and the rest
 * are accounted for; one client is said in the singular; a setup error is
 * said once; repeated options are refused; --repeat says which run is
 * which and sums them up. */
static void scenario_shape(struct ctx *t)
{
	const char *many = platform_path_sep == '\\' ? "64" : "1000";
	const char *sizes[] = { "41", many };
	char err_path[300];
	struct process *p;
	char *text;

	snprintf(err_path, sizeof(err_path), "%s.err", t->out);
	for (int k = 0; k < 2; k++) {
		const char *argv[] = { t->server, "--spawn", sizes[k], "--client", t->client,
				       "--timeout", "120", NULL };
		int n = atoi(sizes[k]), rows = 0;
		char want[160];

		p = start(t->server, argv, t->out);
		CHECK_MSG(finish(p) == 0, "--spawn %s did not hold", sizes[k]);
		text = read_text(t->out);
		check_width(text, sizes[k]);
		for (int id = 1; id <= n; id++) {
			char row[32];

			/* a row: the id in 6 columns, then the pid right-aligned
			 * in 8 (so two spaces at least: not the verdict's "1000 of") */
			snprintf(row, sizeof(row), "\n%6d  ", id);
			rows += strstr(text, row) != NULL;
		}
		CHECK_MSG(rows == 40, "--spawn %d: %d client rows, not 40", n, rows);
		snprintf(want, sizeof(want), "... %d more client%s not shown: %d complete with every",
			 n - 40, n - 40 == 1 ? "" : "s", n - 40);
		CHECK_MSG(strstr(text, want) != NULL, "--spawn %d: no \"%s\":\n%s", n, want, text);
		snprintf(want, sizeof(want), "%d of %d clients complete", n, n);
		CHECK(strstr(text, want) != NULL);
	}
	/* one: singulars */
	{
		const char *argv[] = { t->server, "--spawn", "1", "--client", t->client, NULL };

		CHECK(finish(start(t->server, argv, t->out)) == 0);
		text = read_text(t->out);
		check_width(text, "1");
		CHECK_MSG(strstr(text, "1 of 1 client complete") != NULL, "%s", text);
		CHECK_MSG(count_of(text, " 1 clients") + count_of(text, " 1 checks") +
			  count_of(text, " 1 pages") == 0, "a plural for one:\n%s", text);
	}
	/* a setup error, said once: on stdout for people, not again on stderr */
	{
		const char *argv[] = { t->server, "--spawn", "1", "--client", "/nonexistent", NULL };

		CHECK(process_start_files(&p, t->server, argv, t->out, err_path, false) == 0);
		CHECK(finish(p) == 2);
		CHECK_MSG(count_of(read_text(t->out), "is not an executable file") == 1,
			  "stdout: %s", read_text(t->out));
		CHECK_MSG(count_of(read_text(err_path), "is not an executable file") == 0,
			  "said again on stderr: %s", read_text(err_path));
	}
	/* a repeated option: refused, both values said, for either program */
	{
		const char *srv[] = { t->server, "--spawn", "2", "--spawn", "3", NULL };
		const char *cl[] = { t->client, "--name", "a", "--name", "b", NULL };

		CHECK(process_start_files(&p, t->server, srv, t->out, err_path, false) == 0);
		CHECK(finish(p) == 2);
		CHECK_MSG(strstr(read_text(err_path), "--spawn is given twice (\"2\", then \"3\")"),
			  "%s", read_text(err_path));
		CHECK(process_start_files(&p, t->client, cl, t->out, err_path, false) == 0);
		CHECK(finish(p) == 2);
		CHECK_MSG(strstr(read_text(err_path), "--name is given twice"), "%s",
			  read_text(err_path));
	}
	/* --repeat: which run is which, and one line for them all */
	{
		const char *argv[] = { t->server, "--spawn", "1", "--repeat", "2", "--client",
				       t->client, NULL };

		CHECK(finish(start(t->server, argv, t->out)) == 0);
		text = read_text(t->out);
		CHECK(strstr(text, "run 1 of 2\n") != NULL && strstr(text, "run 2 of 2\n") != NULL);
		CHECK_MSG(strstr(text, "\n2 of 2 runs made: 2 HELD, 0 BROKEN, 0 NOT PROVEN, 0 setup "
				       "errors; exit 0\n") != NULL, "%s", text);
	}
	remove(err_path);
}

/* ---- --scenario (server/play.c) from the command line ---- */

static const char *const lessons[] = {
	"copied-page-detached", "discard-tracks-again", "fork-after-copy", "fork-child-writes",
	"fork-generations", "fork-parent-writes", "fork-readonly-view", "many-writers-many-copies",
	"noaccess-faults-on-read", "read-does-not-copy", "readonly-view-faults",
	"reprotect-keeps-copy", "same-value-still-copies", "server-writes-after-copy",
	"unmap-forgets-copies", "untouched-page-tracks", "writecopy-on-shared-view",
};
#define NLESSONS (sizeof(lessons) / sizeof(lessons[0]))

/* Runs the server with argv, stdout to t->out and stderr to err; returns
 * its exit status. */
static int run_server(struct ctx *t, const char *const argv[], const char *err)
{
	struct process *p = NULL;

	CHECK(process_start_files(&p, t->server, argv, t->out, err, false) == 0);
	return finish(p);
}

/* As a user meets it: the lessons listed and run, each transcript within
 * 80 columns and holding; TAP and JSON of one; a file that is wrong, a name
 * that is no lesson, and options that do not go with a scenario, each
 * refused with exit 2 and words that say why. */
static void scenario_play_cli(struct ctx *t)
{
	char err[300], file[300], *text;
	int code;

	snprintf(err, sizeof(err), "%s.err", t->out);
	snprintf(file, sizeof(file), "%s.scn.json", t->out);
	{
		const char *argv[] = { t->server, "--scenario", "list", NULL };

		CHECK(run_server(t, argv, err) == 0);
		text = read_text(t->out);
		check_width(text, "--scenario list");
		for (size_t i = 0; i < NLESSONS; i++) {
			char line[80];

			snprintf(line, sizeof(line), "%s%s ", i ? "\n" : "", lessons[i]);
			/* the first at the start, the others at a line's */
			CHECK_MSG(i == 0 ? strncmp(text, line, strlen(line)) == 0 :
				  strstr(text, line) != NULL, "list lacks %s:\n%s", lessons[i], text);
		}
	}
	for (size_t i = 0; i < NLESSONS; i++) {
		const char *argv[] = { t->server, "--scenario", lessons[i], "--client", t->client,
				       NULL };

		code = run_server(t, argv, err);
		text = read_text(t->out);
		CHECK_MSG(code == 0, "%s: exit %d:\n%s", lessons[i], code, text);
		check_width(text, lessons[i]);
		CHECK_MSG(strstr(text, "\nverdict: HELD, the OS did as the model predicts (exit 0)") !=
			  NULL && strstr(text, "Step 1 of ") != NULL, "%s:\n%s", lessons[i], text);
	}
	{
		const char *argv[] = { t->server, "--scenario", "read-does-not-copy", "--tap",
				       "--client", t->client, NULL };

		CHECK(run_server(t, argv, err) == 0);
		text = read_text(t->out);
		CHECK_MSG(strncmp(text, "TAP version 13\n1..6\n", 20) == 0 &&
			  count_of(text, "\nok ") == 6 && count_of(text, "not ok") == 0,
			  "TAP:\n%s", text);
	}
	{
		const char *argv[] = { t->server, "--scenario", "many-writers-many-copies", "--json",
				       "--client", t->client, NULL };
		cJSON *r;
		const cJSON *sc, *step;

		CHECK(run_server(t, argv, err) == 0);
		r = read_report(t->out);
		sc = cJSON_GetObjectItemCaseSensitive(r, "scenario");
		CHECK(num(r, "exit_status") == 0 && num(r, "summary.complete") == 4);
		CHECK(sc != NULL && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sc,
							"steps")) == 3);
		CHECK(num(sc, "observations.as_predicted") > 0 && num(sc, "observations.differs") == 0);
		step = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sc, "steps"), 1);
		CHECK_MSG(strcmp(str_at(step, "status"), "as_predicted") == 0 &&
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(step, "page_maps")) == 4,
			  "step 2: %s", str_at(step, "status"));
		CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
				 "one_copy_each"));
		cJSON_Delete(r);
	}
	/* a scenario that names no client by id runs with as many as --spawn
	 * says: six writers, six copies, each seen by its writer alone */
	{
		const char *argv[] = { t->server, "--scenario", "many-writers-many-copies", "--json",
				       "--spawn", "6", "--client", t->client, NULL };
		cJSON *r;
		const cJSON *sc, *step;

		CHECK(run_server(t, argv, err) == 0);
		r = read_report(t->out);
		sc = cJSON_GetObjectItemCaseSensitive(r, "scenario");
		CHECK_MSG(num(r, "exit_status") == 0 && num(r, "summary.complete") == 6 &&
			  num(sc, "clients") == 6, "%s", read_text(err));
		step = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sc, "steps"), 1);
		CHECK_MSG(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(step, "page_maps")) == 6,
			  "step 2: %d page maps",
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(step, "page_maps")));
		/* 6 reads and 6 page-evidence reports under one_copy_each */
		CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
				 "one_copy_each"));
		cJSON_Delete(r);
	}
	/* pages relative to each client: with one client, "near 1" is nobody's,
	 * and the check made of it alone is not applicable, never held */
	{
		const char *argv[] = { t->server, "--scenario", file, "--json", "--spawn", "1",
				       "--client", t->client, NULL };
		FILE *f = fopen(file, "wb");
		cJSON *r;
		const cJSON *c;

		if (f != NULL) {
			fputs("{\"scenario\":\"near\",\"about\":\"Neighbours.\",\"clients\":3,"
			      "\"pages\":{\"before\":1,\"each\":2},\"steps\":[{\"say\":\"\","
			      "\"do\":[{\"who\":\"all\",\"op\":\"map\",\"view\":\"cow\"},"
			      "{\"who\":\"all\",\"op\":\"write\",\"view\":\"cow\",\"pages\":"
			      "\"own 1\",\"value\":\"stamp\"}]},{\"say\":\"\",\"do\":["
			      "{\"who\":\"all\",\"op\":\"read\",\"view\":\"cow\",\"pages\":"
			      "\"own\",\"check\":\"own\"},{\"who\":\"all\",\"op\":\"read\","
			      "\"view\":\"cow\",\"pages\":\"near 1\",\"check\":\"near\"}]}]}", f);
			fclose(f);
		}
		CHECK(run_server(t, argv, err) == 0);
		r = read_report(t->out);
		c = find_check(cJSON_GetObjectItemCaseSensitive(r, "server_checks"), "near");
		CHECK_MSG(c != NULL && strcmp(str_at(c, "status"), "not_applicable") == 0 &&
			  strstr(str_at(c, "detail"), "no participant had pages") != NULL,
			  "near: %s", c != NULL ? str_at(c, "detail") : "missing");
		CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"), "own"));
		cJSON_Delete(r);
		/* with three, each reads its neighbours' pages: 3 observations */
		argv[5] = "3";
		CHECK(run_server(t, argv, err) == 0);
		r = read_report(t->out);
		c = find_check(cJSON_GetObjectItemCaseSensitive(r, "server_checks"), "near");
		CHECK(c != NULL && check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
					      "near") && num(c, "observed.as_predicted") == 3);
		cJSON_Delete(r);
		/* the transcript says each such action once, as written, for the
		 * clients that did it alike (a read whose pages read differently
		 * names them, client by client) */
		{
			const char *hargv[] = { t->server, "--scenario", file, "--spawn", "3",
						"--client", t->client, NULL };

			CHECK(run_server(t, hargv, err) == 0);
			text = read_text(t->out);
			CHECK_MSG(strstr(text, "\n  clients 1-3 write their stamps to cow own 1: done\n") !=
				  NULL && strstr(text, "\n  client 2 reads cow 3-4: page 3: the pattern; "
						 "page 4: its own stamp\n") != NULL &&
				  strstr(text, "\n  clients 1-3 read cow near 1: ") != NULL,
				  "%s", text);
			check_width(text, "relative pages");
		}
		remove(file);
	}
	/* Lanes keep the order of the steps where it matters (a hostile review
	 * found both HELD on the code before, the reads predicted out of
	 * order): the server's unmap waits for its own "each" writes of the
	 * step before, so its copies are gone when it maps and reads again;
	 * and client 1's read of client 2's page waits for client 3's write of
	 * it a step before, though client 4's copying of 16 000 pages holds
	 * client 3 back. Every prediction of the author's is then right. */
	{
		static const char *const files[] = {
			"{\"scenario\":\"a2\",\"about\":\"server each write through cow, the"
			"n the server unmaps and maps its cow view again, then reads\""
			",\"clients\":2,\"pages\":{\"each\":2},\"steps\":[{\"say\":\"maps\",\"do\":"
			"[{\"who\":\"server\",\"op\":\"map\",\"view\":\"cow\"},{\"who\":\"all\",\"op\":"
			"\"map\",\"view\":\"cow\"}]},{\"say\":\"server writes each through cow"
			"\",\"do\":[{\"who\":\"server\",\"op\":\"write\",\"view\":\"cow\",\"pages\":\"e"
			"ach\",\"value\":\"stamp\"}]},{\"say\":\"server unmaps cow\",\"do\":[{\"w"
			"ho\":\"server\",\"op\":\"unmap\",\"view\":\"cow\"}]},{\"say\":\"server map"
			"s cow again\",\"do\":[{\"who\":\"server\",\"op\":\"map\",\"view\":\"cow\"}]"
			"},{\"say\":\"server reads each: the copies are gone\",\"do\":[{\"wh"
			"o\":\"server\",\"op\":\"read\",\"view\":\"cow\",\"pages\":\"each\",\"expect\""
			":{\"*\":\"pattern\"},\"check\":\"copies_gone\"}]}]}",
			"{\"scenario\":\"d2\",\"about\":\"client 3 writes client 2's page th"
			"rough the section; client 1 reads it a step later\",\"clients\""
			":4,\"pages\":{\"each\":16000},\"steps\":[{\"say\":\"maps\",\"do\":[{\"who"
			"\":\"all\",\"op\":\"map\",\"view\":\"rw\"},{\"who\":\"all\",\"op\":\"map\",\"vie"
			"w\":\"cow\"}]},{\"say\":\"client 4 copies its pages\",\"do\":[{\"who\":"
			"4,\"op\":\"write\",\"view\":\"cow\",\"pages\":\"48000-63999\",\"value\":\"s"
			"tamp\"}]},{\"say\":\"client 3 writes client 2's first page throu"
			"gh the section\",\"do\":[{\"who\":3,\"op\":\"write\",\"view\":\"rw\",\"pag"
			"es\":\"16000\",\"value\":\"0x1234\"}]},{\"say\":\"client 1 reads clien"
			"t 2's first page\",\"do\":[{\"who\":1,\"op\":\"read\",\"view\":\"rw\",\"pa"
			"ges\":\"16000\",\"expect\":{\"*\":\"0x1234\"},\"check\":\"seen\"}]}]}",
		};

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			const char *argv[] = { t->server, "--scenario", file, "--json", "--client",
					       t->client, NULL };
			FILE *f = fopen(file, "wb");
			cJSON *r;

			if (f != NULL) {
				fputs(files[i], f);
				fclose(f);
			}
			code = run_server(t, argv, err);
			r = read_report(t->out);
			CHECK_MSG(code == 0 && r != NULL &&
				  num(cJSON_GetObjectItemCaseSensitive(r, "scenario"),
				      "your_predictions.wrong") == 0 &&
				  num(cJSON_GetObjectItemCaseSensitive(r, "scenario"),
				      "your_predictions.right") > 0,
				  "order %zu: exit %d, %.0f wrong predictions", i, code,
				  r != NULL ? num(cJSON_GetObjectItemCaseSensitive(r, "scenario"),
						  "your_predictions.wrong") : -1.0);
			cJSON_Delete(r);
		}
		remove(file);
	}
	/* a whole section of the largest size asked about at once, and a page
	 * list of 64 parts: the results fit their messages (batches are cut by
	 * what their results can say), the lines fit 80 columns */
	{
		const char *argv[] = { t->server, "--scenario", file, "--client", t->client, NULL };
		FILE *f = fopen(file, "wb");

		if (f != NULL) {
			fputs("{\"scenario\":\"big\",\"about\":\"A whole section of 65536 pages "
			      "at once.\",\"clients\":2,\"pages\":65536,\"steps\":[{\"say\":\"\","
			      "\"do\":[{\"who\":\"all\",\"op\":\"map\",\"view\":\"cow\"}]},"
			      "{\"say\":\"\",\"do\":[{\"who\":\"all\",\"op\":\"read\",\"view\":"
			      "\"cow\",\"pages\":\"0-65535\",\"expect\":{\"*\":\"pattern\"}},"
			      "{\"who\":\"all\",\"op\":\"evidence\",\"view\":\"cow\",\"pages\":"
			      "\"0-65535\",\"expect\":{\"private\":0}},{\"who\":1,\"op\":\"write\","
			      "\"view\":\"cow\",\"value\":\"stamp\",\"pages\":\"", f);
			for (int k = 0; k < 64; k++)
				fprintf(f, "%s%d", k ? "," : "", 1000 + 2 * k);
			fputs("\"}]}]}", f);
			fclose(f);
		}
		code = run_server(t, argv, err);
		text = read_text(t->out);
		CHECK_MSG(code == 0, "the whole section: exit %d:\n%s\n%s", code, text, read_text(err));
		check_width(text, "the whole section");
		CHECK_MSG(strstr(text, "1000,1002,1004,...,1126 (64 pages)") != NULL, "%s", text);
		CHECK_MSG(strstr(text, "clients 1,2 ask the OS about cow 0-65535: 0 private copies") !=
			  NULL, "%s", text);
	}
	/* a file that breaks a rule: where, in one line; nothing run */
	{
		const char *argv[] = { t->server, "--scenario", file, NULL };
		const char *tap[] = { t->server, "--scenario", file, "--tap", NULL };
		FILE *f = fopen(file, "wb");

		CHECK(f != NULL && fputs("{\"scenario\":\"x\",\"about\":\"x\",\"clients\":1,"
					 "\"pages\":4,\"steps\":[{\"say\":\"\",\"do\":[{\"who\":1,"
					 "\"op\":\"read\",\"view\":\"cow\",\"pages\":\"0-3\"}]}]}",
					 f) >= 0);
		if (f != NULL)
			fclose(f);
		CHECK(run_server(t, argv, err) == 2);
		CHECK_MSG(strstr(read_text(err), "steps[0].do[0]: client 1 has no cow view mapped") !=
			  NULL && strstr(read_text(err), file) != NULL, "%s", read_text(err));
		CHECK_MSG(read_text(t->out)[0] == '\0', "stdout: %s", read_text(t->out));
		CHECK(run_server(t, tap, err) == 2);
		CHECK_MSG(strncmp(read_text(t->out), "TAP version 13\n1..0\nBail out! ", 30) == 0,
			  "%s", read_text(t->out));
		remove(file);
	}
	/* refusals */
	{
		static const struct {
			const char *argv[8];
			const char *says;
		} no[] = {
			{ { "--scenario", "no-such-lesson" }, "--scenario list" },
			{ { "--scenario", "read-does-not-copy", "--repeat", "2" },
			  "--repeat is for the built-in experiment's run" },
			{ { "--scenario", "read-does-not-copy", "--spawn", "2" },
			  "needs 1 client, not 2" },
			{ { "--scenario", "read-does-not-copy", "--json", "--tap" },
			  "give one of --json and --tap" },
			{ { "--spawn", "1", "--tap" }, "--tap is for a scenario's run" },
			{ { "--scenario", "list", "--json" }, "list prints the lessons for people" },
		};

		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
			const char *argv[10] = { t->server };

			for (int k = 0; k < 8 && no[i].argv[k] != NULL; k++)
				argv[k + 1] = no[i].argv[k];
			CHECK_MSG(run_server(t, argv, err) == 2, "%s %s: not refused", no[i].argv[0],
				  no[i].argv[1]);
			CHECK_MSG(strstr(read_text(err), no[i].says) != NULL, "%s: %s", no[i].says,
				  read_text(err));
		}
	}
	remove(err);
}

/* ---- --step ---- */

#ifdef __linux__
/* Whether process pid maps something at addr (its /proc/PID/maps): the
 * address a pause printed is where the view really is. */
static bool maps_at(long pid, unsigned long long addr)
{
	char path[64], line[512];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long lo = 0, hi = 0;

		found = sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo == addr &&
			strstr(line, "memfd:cowlab-") != NULL;
	}
	fclose(f);
	return found;
}
#endif

/* Pauses before each step (--step): said on stderr, in order, once each,
 * with what the model predicts, the run's own output untouched; going on
 * by --step-ms and by the step signal (SIGUSR1; a named event on Windows);
 * answer deadlines not running while paused; a run stopped while paused
 * gives the report so far. */
static void scenario_step(struct ctx *t)
{
	char err[300], *text;
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	/* by --step-ms, a lesson of four steps */
	{
		const char *argv[] = { t->server, "--scenario", "server-writes-after-copy",
				       "--step-ms", "50", "--json", "--client", t->client, NULL };
		const char *at = NULL;

		CHECK(run_server(t, argv, err) == 0);
		if ((r = read_report(t->out)) != NULL) {
			CHECK(num(r, "exit_status") == 0);
			cJSON_Delete(r);
		}
		text = read_text(err);
		CHECK_MSG(count_of(text, "paused before step") == 4, "%s", text);
		for (int i = 1; i <= 4; i++) {
			char what[64];
			const char *here;

			snprintf(what, sizeof(what), "paused before step %d of 4\n", i);
			here = strstr(text, what);
			CHECK_MSG(here != NULL && here > at, "pause %d missing or out of order", i);
			at = here;
		}
		/* the model's word on each, the step before's in it */
		CHECK_MSG(strstr(text, "client 1 writes its stamp to cow 0 at +8: page 0: a "
				 "private copy made now\n") != NULL, "%s", text);
		CHECK_MSG(strstr(text, "client 2 reads cow 0-7: pages 0-7: the stamp of the "
				 "server\n") != NULL, "%s", text);
		CHECK(strstr(text, "client 1 cow 0-7 Psssssss\n") != NULL);
		CHECK(strstr(text, "going on in 50 ms") != NULL);
		check_width(text, "--step");
	}
	/* by the step signal alone: each pause waits for it */
	{
		const char *argv[] = { t->server, "--scenario", "read-does-not-copy", "--name",
				       t->name, "--step", "--json", "--client", t->client, NULL };
		struct process *srv = NULL;
		int pauses = 0, steps = -1, code = -1;
		bool seen_view = false;

		CHECK(process_start_files(&srv, t->server, argv, t->out, err, false) == 0);
		for (int waited = 0; srv != NULL && waited < WAIT_MS; waited += 20) {
			int n;

			if (process_wait(srv, 0, &code) == 0)
				break;
			text = read_text(err);
			n = count_of(text, "paused before step");
			if (steps < 0 && n > 0) {
				const char *of = strstr(text, " of ");

				steps = of != NULL ? atoi(of + 4) : 0;
			}
#ifdef __linux__
			/* a client's cow view, where the pause says it is */
			const char *cl = strstr(text, "client 1, pid ");
			const char *cow = cl != NULL ? strstr(cl, "\n      cow 0x") : NULL;

			if (n > pauses && cow != NULL && !seen_view) {
				long pid = atol(cl + 14);
				unsigned long long addr = strtoull(cow + 13, NULL, 16);

				CHECK_MSG(maps_at(pid, addr), "client %ld maps no view at 0x%llx", pid,
					  addr);
				seen_view = true;
			}
#else
			seen_view = true;
#endif
			if (n > pauses) {
				/* not before it paused: a signal before the pause goes nowhere */
				pauses = n;
				CHECK(step_signal_send(t->name, process_pid(srv)) == 0);
			}
			platform_sleep_ms(20);
		}
		process_destroy(srv);
		CHECK_MSG(code == 0, "exit %d", code);
		CHECK_MSG(steps > 0 && pauses == steps, "%d pauses for %d steps", pauses, steps);
		CHECK(seen_view);
	}
	/* answer deadlines stand still while paused: --timeout 1, pauses of 1.5 s */
	{
		const char *argv[] = { t->server, "--spawn", "2", "--timeout", "1", "--step-ms",
				       "1500", "--json", "--client", t->client, NULL };

		CHECK(run_server(t, argv, err) == 0);
		if ((r = read_report(t->out)) != NULL) {
			CHECK(num(r, "summary.complete") == 2 && num(r, "summary.lost") == 0);
			cJSON_Delete(r);
		}
		CHECK(count_of(read_text(err), "paused before step") == 4);
	}
	/* stopped while paused: the report so far, NOT PROVEN */
	{
		const char *argv[] = { t->server, "--spawn", "2", "--name", t->name, "--step",
				       "--json", "--client", t->client, NULL };
		struct process *srv = NULL;
		int code = -1;

		CHECK(process_start_files(&srv, t->server, argv, t->out, err, false) == 0);
		/* past the first step: its writes made, its checks begun */
		for (int waited = 0; waited < WAIT_MS &&
		     count_of(read_text(err), "paused before step 1") == 0; waited += 20)
			platform_sleep_ms(20);
		CHECK(step_signal_send(t->name, process_pid(srv)) == 0);
		for (int waited = 0; waited < WAIT_MS &&
		     count_of(read_text(err), "paused before step 2") == 0; waited += 20)
			platform_sleep_ms(20);
		CHECK(count_of(read_text(err), "paused before step 2") == 1);
		if (process_interrupt(srv) != 0) {
			/* Windows sends no console event to one process */
			printf("step: a run stopped while paused is not tested here: this platform "
			       "cannot ask one process to stop\n");
			process_kill(srv);
		} else if (CHECK_OK(process_wait(srv, WAIT_MS, &code) == 0) &&
			   (r = read_report(t->out)) != NULL) {
			CHECK_MSG(code == 128 + 15, "exit %d, not death by SIGTERM", code);
			CHECK(num(r, "exit_status") == 3);
			CHECK(strcmp(str_at(r, "interrupted"), "SIGTERM") == 0);
			CHECK(num(r, "summary.checks_failed") == 0);
			cJSON_Delete(r);
		}
		process_destroy(srv);
	}
	remove(err);
}

#ifdef __linux__
/* The kB of a field ("Anonymous:") of the mapping at addr in
 * /proc/PID/smaps (addr 0: of smaps_rollup), or -1. */
static long smaps_kib(long pid, unsigned long long addr, const char *field)
{
	char path[64], line[512];
	FILE *f;
	long kib = -1;
	bool in = addr == 0;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, addr ? "smaps" : "smaps_rollup");
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (kib < 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long lo, hi;

		/* a mapping's first line: "lo-hi perms ..." (no field name is
		 * hex digits then '-') */
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2)
			in = addr == 0 || lo == addr;
		else if (in && strncmp(line, field, strlen(field)) == 0)
			kib = atol(line + strlen(field));
	}
	fclose(f);
	return kib;
}
#endif

/* --hold: after the last step every process stays, with its views, and
 * cowlab says how many private pages each holds; the OS's own count of
 * the view's anonymous pages (smaps) is exactly that, what smaps_rollup
 * counts as the process's is at least that; let go by the step signal,
 * every client then gone; --hold-ms lets go by itself. */
static void scenario_hold(struct ctx *t)
{
	char err[300], *text;
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	{
		const char *argv[] = { t->server, "--scenario", "many-writers-many-copies", "--name",
				       t->name, "--hold", "--json", "--client", t->client, NULL };
		struct process *srv = NULL;
		long pids[8];
		int n = 0, code = -1;

		CHECK(process_start_files(&srv, t->server, argv, t->out, err, false) == 0);
		/* the whole of it: its last line */
		for (int waited = 0; waited < WAIT_MS &&
		     strstr(read_text(err), "letting go at Enter") == NULL; waited += 20)
			platform_sleep_ms(20);
		text = read_text(err);
		CHECK_MSG(strstr(text, "holding every process") != NULL, "%s", text);
		check_width(text, "--hold");
		for (const char *c = strstr(text, "\n  client "); c != NULL && n < 8;
		     c = strstr(c + 1, "\n  client ")) {
			long pid = 0;
			unsigned long long pages = 0, kib = 0, addr = 0;
			/* "... view at 0x...", the line wrapped where it may be */
			const char *at = strstr(c, "copy-on-write view");

			CHECK_MSG(sscanf(c, "\n  client %*d, pid %ld: %llu private page%*[s] (%llu KiB)",
					 &pid, &pages, &kib) == 3 ||
				  sscanf(c, "\n  client %*d, pid %ld: %llu private page (%llu KiB)",
					 &pid, &pages, &kib) == 3, "cannot read: %.80s", c + 1);
			/* each of the four wrote one page of its own copy */
			CHECK_MSG(pages == 1, "%.80s", c + 1);
			if (at != NULL) {
				at += 18;
				at += strspn(at, " \n");
				if (strncmp(at, "at", 2) == 0)
					at += 2 + strspn(at + 2, " \n");
				addr = strtoull(at, NULL, 16);
			}
			CHECK(addr != 0);
			pids[n++] = pid;
#ifdef __linux__
			long anon = smaps_kib(pid, addr, "Anonymous:");
			long all = smaps_kib(pid, 0, "Anonymous:");

			CHECK_MSG(anon >= 0 && (unsigned long long)anon == kib,
				  "client pid %ld: smaps says Anonymous %ld kB of the view, cowlab %llu",
				  pid, anon, kib);
			CHECK_MSG(all >= anon, "smaps_rollup's Anonymous %ld kB < the view's %ld",
				  all, anon);
#else
			(void)kib;
			(void)pids;
#endif
		}
		CHECK_MSG(n == 4, "%d clients held, not 4", n);
		CHECK(step_signal_send(t->name, process_pid(srv)) == 0);
		CHECK(process_wait(srv, WAIT_MS, &code) == 0);
		process_destroy(srv);
		CHECK_MSG(code == 0, "exit %d", code);
		if ((r = read_report(t->out)) != NULL) {
			CHECK(num(r, "summary.lost") == 0);
			cJSON_Delete(r);
		}
#ifdef __linux__
		/* let go: they had their `done` and are gone (zombies at most,
		 * until the server reaped them: it has ended) */
		for (int i = 0; i < n; i++) {
			char path[64];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%ld/maps", pids[i]);
			f = fopen(path, "r");
			CHECK_MSG(f == NULL, "client pid %ld still mapped after the run", pids[i]);
			if (f != NULL)
				fclose(f);
		}
#endif
	}
	{
		const char *argv[] = { t->server, "--spawn", "2", "--hold-ms", "200", "--json",
				       "--client", t->client, NULL };

		CHECK(run_server(t, argv, err) == 0);
		text = read_text(err);
		CHECK(count_of(text, "1 private page (") == 3); /* the server and both clients */
		CHECK(strstr(text, "letting go in 200 ms") != NULL);
		if ((r = read_report(t->out)) != NULL) {
			CHECK(num(r, "exit_status") == 0 && num(r, "summary.complete") == 2);
			cJSON_Delete(r);
		}
	}
	remove(err);
}

/* The cost of a copy (report.md, "copy_cost"): every write the model says
 * copies timed, and the same page written again at once; the counts are
 * the model's (a built-in run of 3 clients: the server's copy of page 0 and
 * each client's one cow page; 3 rw writes and the server's 6 later ones
 * copy nothing), times are positive, the 99th percentile at least the
 * median, the histogram sums to the counts; the kernel's fault count at
 * least one a copy on Linux, and said to be missing under Wine. */
static void check_cost_stats(const cJSON *o, const char *what, double count)
{
	CHECK_MSG(num(o, "count") == count, "%s: %.0f, not %.0f", what, num(o, "count"), count);
	if (count > 0)
		CHECK_MSG(num(o, "median_us") > 0 && num(o, "p99_us") >= num(o, "median_us"),
			  "%s: median %.3f, p99 %.3f", what, num(o, "median_us"), num(o, "p99_us"));
}

static void scenario_copy_cost(struct ctx *t)
{
	char err[300];
	const char *argv[] = { t->server, "--spawn", "3", "--json", "--client", t->client, NULL };
	const char *human[] = { t->server, "--spawn", "3", "--client", t->client, NULL };
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	CHECK(run_server(t, argv, err) == 0);
	if ((r = read_report(t->out)) != NULL) {
		const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "copy_cost"), *h, *k;
		double sum[3] = { 0, 0, 0 };

		CHECK_MSG(cJSON_IsObject(cc), "no copy_cost");
		check_cost_stats(cJSON_GetObjectItemCaseSensitive(cc, "copies"), "copies", 4);
		check_cost_stats(cJSON_GetObjectItemCaseSensitive(cc, "copied_page_again"), "again", 4);
		check_cost_stats(cJSON_GetObjectItemCaseSensitive(cc, "other_writes"), "other", 9);
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cc, "histogram")) {
			CHECK(num(h, "to_us") > num(h, "from_us"));
			sum[0] += num(h, "copies");
			sum[1] += num(h, "copied_page_again");
			sum[2] += num(h, "other_writes");
		}
		CHECK_MSG(sum[0] == 4 && sum[1] == 4 && sum[2] == 9, "histogram %.0f %.0f %.0f",
			  sum[0], sum[1], sum[2]);
		/* by step: the copies in the write step, the later writes between */
		h = cJSON_GetObjectItemCaseSensitive(cc, "steps");
		CHECK(cJSON_GetArraySize(h) == 2 &&
		      num(cJSON_GetArrayItem(h, 0), "step") == 1 &&
		      num(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 0), "copies"),
			  "count") == 4 &&
		      num(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 1), "other_writes"),
			  "count") == 6);
		k = cJSON_GetObjectItemCaseSensitive(cc, "kernel_faults");
		CHECK(num(k, "copies") == 4);
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(r, "platform"), "wine")))
			CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(k, "during_copies")) &&
			      strstr(str_at(k, "platform_deviation"), "PageFaultCount") != NULL);
		else
			CHECK_MSG(num(k, "during_copies") >= 4, "the kernel counted %.0f faults in "
				  "4 copies", num(k, "during_copies"));
		cJSON_Delete(r);
	}
	CHECK(run_server(t, human, err) == 0);
	CHECK_MSG(strstr(read_text(t->out), "\ncost of a copy: 4 copies timed, median ") != NULL,
		  "%s", read_text(t->out));
	check_width(read_text(t->out), "copy cost");
	remove(err);
}

/* The observation of `who` in a scenario's step (1-based) of a report. */
static const cJSON *step_obs(const cJSON *r, int step, const char *who)
{
	const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(r, "scenario"), "steps"), step - 1), *o;

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(st, "actions"))
		if (strcmp(str_at(o, "who"), who) == 0)
			return o;
	CHECK_MSG(0, "step %d has no observation of %s", step, who);
	return NULL;
}

/* Fork (issue 17). On Linux: the child joins as the client the file names,
 * born of its parent (the report says whose); after the fork the copy is
 * one page the two share (R in both, pagemap bit 56 clear), and each
 * write copies it again for the writer alone (P in both); the negative
 * control, whose views are shared, is caught; a process that says it is a
 * fork's child and is not is turned away, and the run carries on. Where
 * there is no fork (Windows), the fork and the child's actions are not
 * applicable, saying why, and no child joins. */
static void scenario_fork(struct ctx *t)
{
	char err[300];
	const char *after[] = { t->server, "--scenario", "fork-after-copy", "--json", "--client",
				t->client, NULL };
	const char *control[] = { t->server, "--scenario", "fork-child-writes", "--json",
				  "--cow-as-shared", "--client", t->client, NULL };
	const char *manual[] = { t->server, "--scenario", "fork-generations", "--clients", "1",
				 "--name", t->name, "--json", "--timeout", "60", NULL };
	bool windows = platform_path_sep == '\\';
	const cJSON *o, *cl;
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	CHECK(run_server(t, after, err) == 0);
	if ((r = read_report(t->out)) != NULL) {
		cl = cJSON_GetObjectItemCaseSensitive(r, "clients");
		if (windows) {
			CHECK_MSG(cJSON_GetArraySize(cl) == 1, "%d clients under Wine",
				  cJSON_GetArraySize(cl));
			o = step_obs(r, 2, "client 1");
			CHECK(o != NULL && strcmp(str_at(o, "status"), "not_applicable") == 0 &&
			      strstr(str_at(o, "not_applicable"), "Win32 has no fork") != NULL);
			o = step_obs(r, 3, "client 2");
			CHECK(o != NULL && strcmp(str_at(o, "status"), "not_applicable") == 0 &&
			      strstr(str_at(o, "not_applicable"), "Win32 has no fork") != NULL);
			CHECK(!check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
					  "copy_shared_after_fork"));
		} else {
			CHECK_MSG(cJSON_GetArraySize(cl) == 2 &&
				  num(cJSON_GetArrayItem(cl, 1), "id") == 2 &&
				  num(cJSON_GetArrayItem(cl, 1), "parent") == 1 &&
				  cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cl, 0),
								   "parent") == NULL,
				  "the child is not client 2 of client 1");
			/* after the fork, the parent's copy is shared by both */
			o = step_obs(r, 4, "client 1");
			CHECK_MSG(o != NULL && strcmp(str_at(o, "os_pages"), ".R..") == 0 &&
				  strcmp(str_at(o, "model_pages"), "-R--") == 0, "parent: %s",
				  o ? str_at(o, "os_pages") : "");
			o = step_obs(r, 4, "client 2");
			CHECK_MSG(o != NULL && str_at(o, "os_pages")[1] == 'R' &&
				  strcmp(str_at(o, "status"), "as_predicted") == 0, "child: %s",
				  o ? str_at(o, "os_pages") : "");
		}
		CHECK(num(r, "exit_status") == 0);
		cJSON_Delete(r);
	}
	/* the views mapped shared: caught (on Linux, the child's write reaches
	 * its parent too) */
	CHECK(run_server(t, control, err) == 1);
	if ((r = read_report(t->out)) != NULL) {
		CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
				 "negative_control_detected"));
		o = windows ? NULL : step_obs(r, 4, "client 1");
		CHECK(windows || (o != NULL && strcmp(str_at(o, "status"), "differs") == 0));
		cJSON_Delete(r);
	}
	/* the parent's fork is its last action, and only the child acts
	 * after: the run waits for the child (it once ended without it) */
	{
		char file[320];
		const char *last[] = { t->server, "--scenario", file, "--json", "--client", t->client,
				       NULL };
		FILE *f;

		snprintf(file, sizeof(file), "%s.last-fork.json", t->out);
		if ((f = fopen(file, "w")) != NULL) {
			fputs("{\"scenario\":\"last-fork\",\"about\":\"a\",\"clients\":2,\"pages\":2,"
			      "\"steps\":[{\"say\":\"w\",\"do\":[{\"who\":1,\"op\":\"map\",\"view\":"
			      "\"cow\"},{\"who\":1,\"op\":\"write\",\"view\":\"cow\",\"pages\":\"0\","
			      "\"value\":\"7\"}]},{\"say\":\"f\",\"do\":[{\"who\":1,\"op\":\"fork\","
			      "\"child\":2}]},{\"say\":\"r\",\"do\":[{\"who\":2,\"op\":\"read\","
			      "\"view\":\"cow\",\"pages\":\"0\",\"check\":\"child_reads\"}]}]}", f);
			fclose(f);
		}
		CHECK(run_server(t, last, err) == 0);
		if ((r = read_report(t->out)) != NULL) {
			const cJSON *c = find_check(cJSON_GetObjectItemCaseSensitive(r,
								"server_checks"), "child_reads");

			CHECK_MSG(windows ? c != NULL && !check_held(cJSON_GetObjectItemCaseSensitive(
							r, "server_checks"), "child_reads") :
				  c != NULL && num(c, "observed.as_predicted") == 1 &&
				  check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
					     "child_reads"), "the child's read was not judged");
			cJSON_Delete(r);
		}
		remove(file);
	}
	/* five forks by one client in one step (a batch's forks were capped at
	 * four, and the fifth child's slot held the run), and a parent that
	 * never came: its child is lost, its actions not proven (Linux) */
	if (!windows) {
		char file[320];
		const char *five[] = { t->server, "--scenario", file, "--json", "--timeout", "20",
				       "--client", t->client, NULL };
		FILE *f;

		snprintf(file, sizeof(file), "%s.five.json", t->out);
		if ((f = fopen(file, "w")) != NULL) {
			fputs("{\"scenario\":\"five\",\"about\":\"a\",\"clients\":6,\"pages\":2,"
			      "\"steps\":[{\"say\":\"m\",\"do\":[{\"who\":1,\"op\":\"map\",\"view\":"
			      "\"cow\"},{\"who\":1,\"op\":\"write\",\"view\":\"cow\",\"pages\":\"0\","
			      "\"value\":\"7\"}]},{\"say\":\"f\",\"do\":[", f);
			for (int c = 2; c <= 6; c++)
				fprintf(f, "%s{\"who\":1,\"op\":\"fork\",\"child\":%d}", c > 2 ? "," : "",
					c);
			fputs("]},{\"say\":\"e\",\"do\":[{\"who\":\"all\",\"op\":\"evidence\","
			      "\"view\":\"cow\",\"pages\":\"0-1\",\"check\":\"all_share\"}]}]}", f);
			fclose(f);
		}
		CHECK_MSG(run_server(t, five, err) == 0, "five forks in one step did not hold");
		if ((r = read_report(t->out)) != NULL) {
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "clients")) == 6 &&
			      check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
					 "all_share"));
			cJSON_Delete(r);
		}
		remove(file);
	}
	if (!windows) {
		char file[320];
		const char *nc[] = { t->server, "--scenario", file, "--clients", "2", "--name", t->name,
				     "--json", "--timeout", "3", NULL };
		struct process *srv, *c;
		FILE *f;

		snprintf(file, sizeof(file), "%s.nc.json", t->out);
		if ((f = fopen(file, "w")) != NULL) {
			fputs("{\"scenario\":\"nc\",\"about\":\"a\",\"clients\":3,\"pages\":2,"
			      "\"steps\":[{\"say\":\"m\",\"do\":[{\"who\":\"all\",\"op\":\"map\","
			      "\"view\":\"cow\"}]},{\"say\":\"f\",\"do\":[{\"who\":2,\"op\":\"fork\","
			      "\"child\":3}]},{\"say\":\"r\",\"do\":[{\"who\":3,\"op\":\"read\","
			      "\"view\":\"cow\",\"pages\":\"0\"}]}]}", f);
			fclose(f);
		}
		srv = start(t->server, nc, t->out);
		c = start_client(t);
		finish(c);
		CHECK_MSG(finish(srv) == 3, "a parent that never came: not NOT PROVEN");
		if ((r = read_report(t->out)) != NULL) {
			const cJSON *one;
			bool child_lost = false;

			cJSON_ArrayForEach(one, cJSON_GetObjectItemCaseSensitive(r, "clients"))
				child_lost |= num(one, "id") == 3 &&
					      strcmp(str_at(one, "status"), "lost") == 0 &&
					      strstr(str_at(one, "reason"), "never came") != NULL;
			CHECK_MSG(child_lost, "the child of a parent that never came is not lost");
			cJSON_Delete(r);
		}
		remove(file);
	}
	/* a liar first, then the one client the run starts */
	{
		struct process *srv = start(t->server, manual, t->out), *c;
		char marker[300];

		snprintf(marker, sizeof(marker), "%s.liar", t->out);
		start_helper(t, "forkliar", marker);
		CHECK_MSG(finish(t->helpers[--t->nhelpers]) == 0, "the liar was not turned away "
			  "as uninvited");
		c = start_client(t);
		CHECK(finish(c) == 0);
		CHECK(finish(srv) == 0);
		if ((r = read_report(t->out)) != NULL) {
			check_reason(r, "rejected", "not the child of a fork this run waits for");
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "clients")) ==
			      (windows ? 1 : 3));
			CHECK(num(r, "exit_status") == 0);
			cJSON_Delete(r);
		}
	}
	remove(err);
}

/* Huge pages (issue 17): with 2 MiB pages reserved, the lesson holds in
 * 2 MiB pages (a 4-byte write copies all of one: the section's write 1 MiB
 * further in does not show), the report's section and copy cost say so,
 * and a fork lesson holds in huge pages too. Without enough free, the run
 * is refused (exit 2) saying how many it needs and the sysctl, and the
 * test is skipped (77) saying so; under Wine, which backs SEC_LARGE_PAGES
 * with 4 KiB pages, refused with that reason (checked, not skipped). */
static int scenario_huge(struct ctx *t)
{
	char err[300];
	const char *lesson[] = { t->server, "--scenario", "huge-page-copies-whole", "--json",
				 "--client", t->client, NULL };
	const char *forked[] = { t->server, "--scenario", "fork-child-writes", "--page-size", "2M",
				 "--json", "--client", t->client, NULL };
	bool windows = platform_path_sep == '\\';
	struct platform_huge h;
	int code, skip = 0;
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	platform_huge_pages(2u << 20, &h);
	code = run_server(t, lesson, err);
	r = read_report(t->out);
	if (windows) {
		CHECK_MSG(code == 2, "exit %d", code);
		CHECK_MSG(r != NULL && strstr(str_at(r, "error"), "SEC_LARGE_PAGES") != NULL &&
			  (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(r, "platform"), "wine")) ||
			   strstr(str_at(r, "error"), "backs the section with ordinary pages (a page "
				  "written says LargePage 0") != NULL),
			  "%s", r ? str_at(r, "error") : "");
	} else if (h.free < 12) {
		/* 4 huge pages, and 4 again for the one copy-on-write view */
		CHECK_MSG(code == 2 && r != NULL &&
			  strstr(str_at(r, "error"), "needs 8 huge pages of 2 MiB") != NULL &&
			  strstr(str_at(r, "error"), "sysctl vm.nr_hugepages=") != NULL,
			  "exit %d: %s", code, r ? str_at(r, "error") : "");
		printf("SKIP: %ld huge pages of 2 MiB free, 12 needed (as root: sysctl "
		       "vm.nr_hugepages=12); the refusal said so\n", h.free);
		skip = 77;
	} else {
		CHECK_MSG(code == 0, "exit %d", code);
		if (r != NULL) {
			const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "copy_cost");

			CHECK(num(r, "section.page_size") == 2097152 && num(r, "section.pages") == 4);
			CHECK(num(cJSON_GetObjectItemCaseSensitive(cc, "copies"), "count") == 1);
			CHECK(check_held(cJSON_GetObjectItemCaseSensitive(r, "server_checks"),
					 "whole_page_copied"));
		}
		cJSON_Delete(r);
		r = NULL;
		CHECK(run_server(t, forked, err) == 0);
		if ((r = read_report(t->out)) != NULL)
			CHECK(num(r, "section.page_size") == 2097152);
	}
	cJSON_Delete(r);
	remove(err);
	return skip;
}

/* Colour and the live map are for terminals (tests/live.py drives one):
 * on a file, the output is what it always was, no escape sequence in
 * either stream; --color=always colours the human report's page map
 * even there, never a JSON report; a --color that is none of the three
 * is refused. */
static void scenario_color(struct ctx *t)
{
	char err[300];
	const char *plain[] = { t->server, "--spawn", "3", "--client", t->client, NULL };
	const char *always[] = { t->server, "--spawn", "3", "--color=always", "--client", t->client,
				 NULL };
	const char *json[] = { t->server, "--spawn", "3", "--json", "--color", "always", "--client",
			       t->client, NULL };
	const char *bad[] = { t->server, "--spawn", "3", "--color=sometimes", NULL };

	snprintf(err, sizeof(err), "%s.err", t->out);
	CHECK(run_server(t, plain, err) == 0);
	CHECK_MSG(strchr(read_text(t->out), '\033') == NULL, "an escape on a file: %s",
		  read_text(t->out));
	CHECK(strchr(read_text(err), '\033') == NULL);
	CHECK(strstr(read_text(t->out), "      0 SCtWFCtWFCtWFS\n") != NULL);
	CHECK(run_server(t, always, err) == 0);
	CHECK_MSG(strstr(read_text(t->out), "\033[36mS\033[32mC\033[0mt\033[34mW\033[33mF") != NULL,
		  "%s", read_text(t->out));
	CHECK(strchr(read_text(err), '\033') == NULL); /* no live map: not a terminal */
	CHECK(run_server(t, json, err) == 0);
	CHECK(strchr(read_text(t->out), '\033') == NULL);
	CHECK(run_server(t, bad, err) == 2);
	CHECK(strstr(read_text(err), "--color takes auto, always or never") != NULL);
	remove(err);
}

/* --html FILE: one self-contained page (nothing fetched from elsewhere):
 * the verdict, a cell a page of the section in the page map, a panel a
 * step whose rows have a cell for each page they name, the checks, the
 * histogram; a control run's differing rows marked; a path that cannot be
 * written refused before the run. (tests/html.py renders it in Chromium.) */
static void scenario_html(struct ctx *t)
{
	char err[300], page[300], *text;
	const char *argv[] = { t->server, "--spawn", "3", "--html", page, "--json", "--client",
			       t->client, NULL };
	const char *control[] = { t->server, "--spawn", "2", "--cow-as-shared", "--html", page,
				  "--client", t->client, NULL };
	const char *bad[] = { t->server, "--spawn", "1", "--html", ".", "--client", t->client,
			      NULL };
	int map_cells = 0, rows = 0;

	snprintf(err, sizeof(err), "%s.err", t->out);
	snprintf(page, sizeof(page), "%s.html", t->out);
	CHECK(run_server(t, argv, err) == 0);
	text = check_read_file(page);
	CHECK(strncmp(text, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
	CHECK(strlen(text) > 8 && strcmp(text + strlen(text) - 8, "</html>\n") == 0);
	CHECK(strstr(text, "id=\"verdict\">verdict: isolation HELD (exit 0)") != NULL);
	/* self-contained: no resource from anywhere */
	CHECK(strstr(text, " src=") == NULL && strstr(text, "<link") == NULL &&
	      strstr(text, "@import") == NULL && strstr(text, "url(") == NULL);
	/* a letter a page in the map's rows, made a cell each in view */
	for (const char *r = strstr(text, "<div class=\"row\" data-first="); r != NULL;
	     r = strstr(r + 1, "<div class=\"row\" data-first=")) {
		const char *seen = strstr(r, "data-seen=\"");

		map_cells += seen != NULL ? (int)strcspn(seen + 11, "\"") : 0;
	}
	CHECK_MSG(map_cells == 14, "%d cells in the page map, not 14", map_cells);
	CHECK(count_of(text, "<article class=\"step\"") == 4);
	for (const char *r = strstr(text, "data-pages=\""); r != NULL;
	     r = strstr(r + 1, "data-pages=\"")) {
		int pages = 0;

		/* runs of pages: "1-4,9" */
		for (const char *c = r + 12; *c != '"';) {
			long lo = strtol(c, (char **)&c, 10), hi = lo;

			if (*c == '-')
				hi = strtol(c + 1, (char **)&c, 10);
			pages += (int)(hi - lo + 1);
			if (*c == ',')
				c++;
		}
		/* a letter a page, made a cell each when its panel is in view */
		const char *seen = strstr(r, "data-seen=\"");
		int letters = seen != NULL ? (int)strcspn(seen + 11, "\"") : -1;

		CHECK_MSG(letters == pages, "a row of %d pages has %d letters", pages, letters);
		rows++;
	}
	/* each client's evidence in the write step (before, after) and the observe step */
	CHECK_MSG(rows == 9, "%d rows of pages, not 9", rows);
	CHECK(strstr(text, "<svg") != NULL && strstr(text, "<rect") != NULL);
	CHECK(strstr(text, "<script type=\"application/json\" id=\"checks-data\">{\"server\":[") !=
	      NULL);
	/* the JSON report is unchanged by it */
	{
		cJSON *jr = read_report(t->out);

		CHECK_MSG(jr != NULL, "no JSON report beside --html");
		cJSON_Delete(jr);
	}
	CHECK(run_server(t, control, err) == 1);
	text = check_read_file(page);
	CHECK(strstr(text, "verdict: BROKEN (exit 1)") != NULL);
	CHECK(strstr(text, "<div class=\"row differs\"") != NULL);
	CHECK(strstr(text, "data-seen=\"S!tWF!tWFS\"") != NULL);
	CHECK(run_server(t, bad, err) == 2);
	CHECK_MSG(strstr(read_text(t->out), "cannot write .") != NULL ||
		  strstr(read_text(err), "cannot write .") != NULL, "%s", read_text(t->out));
	remove(page);
	remove(err);
}

/* ---- the built-in run's report, as recorded ----
 *
 * The built-in run's report is a contract (docs/report.md): its checks'
 * names and order, statuses, basis, expected and observed members, the
 * evidence's shape, the page map and the summary. tests/builtin/ holds it
 * as the built-in run of server/verdict.c (commit a540321, the last before
 * the engine took the run over) wrote it, in the lines below, one file a
 * run and platform; play-builtin runs the same and compares line by line,
 * both `--spawn N` and `--scenario builtin`. A line is what may not change:
 * a sample's word (the run's seed), pids, names and times are left out.
 * `integration play-builtin-record SERVER CLIENT DIR` writes the files. */
struct builtin_run {
	const char *file;          /* DIR/PLATFORM-file.txt */
	const char *args[6];
	int exit_status;
	int show[9];               /* the clients written, 0-ended; none: all */
};

static const struct builtin_run builtin_runs[] = {
	{ "three", { "--spawn", "3" }, 0, { 0 } },
	{ "control", { "--spawn", "2", "--cow-as-shared" }, 1, { 0 } },
	{ "pages101", { "--spawn", "3", "--pages-per-client", "101" }, 0, { 0 } },
	{ "hundred", { "--spawn", "100" }, 0, { 1, 2, 3, 49, 50, 51, 98, 99, 100 } },
};

/* A text that grows (the lines of a report) */
struct lines {
	char *text;
	size_t len, cap;
};

static void lines_add(struct lines *f, const char *fmt, ...) COWLAB_PRINTF(2, 3);

static void lines_add(struct lines *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (f->len + (size_t)n + 1 > f->cap) {
		size_t cap = (f->len + (size_t)n + 1) * 2;
		char *t = realloc(f->text, cap);

		if (t == NULL)
			return;
		f->text = t;
		f->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(f->text + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	f->len += (size_t)n;
}

/* One check's line: "ID NAME STATUS BASIS E O EVIDENCE" */
static void builtin_check_line(struct lines *f, const char *who, const cJSON *c)
{
	cJSON *o = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c, "observed"), true);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(c, "evidence");
	cJSON *smp = cJSON_GetObjectItemCaseSensitive(o, "samples"), *pw;
	char *e = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "expected"));
	char *ot;

	cJSON_ArrayForEach(pw, smp) /* [page, word]: the word is the seed's */
		if (cJSON_GetArrayItem(pw, 1) != NULL)
			cJSON_SetNumberValue(cJSON_GetArrayItem(pw, 1), 0);
	ot = cJSON_PrintUnformatted(o);
	lines_add(f, "%s %s %s %s %s %s ", who, str_at(c, "name"), str_at(c, "status"),
		str_at(c, "basis"), e ? e : "?", ot ? ot : "?");
	if (cJSON_IsNull(ev) || ev == NULL)
		lines_add(f, "evidence:null\n");
	else
		lines_add(f, "evidence:%d\n", cJSON_GetArraySize(ev));
	free(e);
	free(ot);
	cJSON_Delete(o);
}

/* A report in those lines, into a text of its own (free it). */
static char *builtin_lines(const cJSON *r, const struct builtin_run *br)
{
	struct lines lines = { NULL, 0, 0 }, *f = &lines;
	const cJSON *cl, *c;
	char *sum;

	lines_add(f, "exit_status %.0f\n", num(r, "exit_status"));
	cJSON_ArrayForEach(cl, cJSON_GetObjectItemCaseSensitive(r, "clients")) {
		int id = (int)num(cl, "id");
		bool shown = br->show[0] == 0;
		char who[16];

		for (int i = 0; i < 9 && br->show[i] != 0 && !shown; i++)
			shown = br->show[i] == id;
		if (!shown)
			continue;
		snprintf(who, sizeof(who), "%d", id);
		lines_add(f, "client %d %s pages %.0f+%.0f operations_failed %.0f\n", id,
			str_at(cl, "status"), num(cl, "pages.first"), num(cl, "pages.count"),
			num(cl, "operations_failed"));
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cl, "checks"))
			builtin_check_line(f, who, c);
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "server_checks"))
		builtin_check_line(f, "S", c);
	lines_add(f, "page_map %s\n", str_at(r, "page_map"));
	sum = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r, "summary"));
	lines_add(f, "summary %s\n", sum ? sum : "?");
	free(sum);
	return lines.text;
}

static const char *builtin_platform(const cJSON *r)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(r, "platform");

	if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pl, "wine")))
		return "wine";
	return strcmp(str_at(pl, "os"), "Linux") == 0 ? "linux" : "windows";
}

/* Runs one of builtin_runs (as a scenario: `scenario`), its report. */
static cJSON *builtin_run(struct ctx *t, const struct builtin_run *br, bool scenario,
			  const char *err)
{
	const char *argv[16] = { t->server, "--json", "--client", t->client };
	int n = 4, code;

	for (int i = 0; i < 6 && br->args[i] != NULL; i++)
		argv[n++] = br->args[i];
	if (scenario) {
		argv[n++] = "--scenario";
		argv[n++] = "builtin";
	}
	code = run_server(t, argv, err);
	CHECK_MSG(code == br->exit_status, "%s%s: exit %d, not %d", br->file,
		  scenario ? " (--scenario builtin)" : "", code, br->exit_status);
	return read_report(t->out);
}

static void scenario_builtin_record(struct ctx *t, const char *dir)
{
	char err[300], path[600];

	snprintf(err, sizeof(err), "%s.err", t->out);
	for (size_t i = 0; i < sizeof(builtin_runs) / sizeof(builtin_runs[0]); i++) {
		cJSON *r = builtin_run(t, &builtin_runs[i], false, err);
		char *text = r != NULL ? builtin_lines(r, &builtin_runs[i]) : NULL;
		FILE *f;

		if (text == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s-%s.txt", dir, builtin_platform(r),
			 builtin_runs[i].file);
		CHECK_MSG((f = fopen(path, "wb")) != NULL, "cannot write %s", path);
		if (f != NULL) {
			fputs(text, f);
			fclose(f);
		}
		free(text);
		cJSON_Delete(r);
	}
	remove(err);
}

/* The report's lines against the recorded ones: the first differences. */
static void builtin_compare(const char *want, const char *got, const char *how)
{
	int line = 1, shown = 0;

	while (*want != '\0' || *got != '\0') {
		size_t a = strcspn(want, "\n"), b = strcspn(got, "\n");

		if ((a != b || memcmp(want, got, a) != 0) && shown++ < 3)
			CHECK_MSG(false, "%s, line %d:\n  recorded: %.*s\n  this run: %.*s", how,
				  line, (int)a, want, (int)b, got);
		want += a + (want[a] == '\n');
		got += b + (got[b] == '\n');
		line++;
	}
}

/* The built-in run and --scenario builtin, each against the built-in
 * run's report as recorded; then a run where a client never comes, and
 * the document as TAP and --print. */
static void scenario_play_builtin(struct ctx *t, const char *dir)
{
	char err[300], *text;

	snprintf(err, sizeof(err), "%s.err", t->out);
	for (size_t i = 0; i < sizeof(builtin_runs) / sizeof(builtin_runs[0]); i++) {
		for (int scenario = 0; scenario < 2; scenario++) {
			const struct builtin_run *br = &builtin_runs[i];
			cJSON *r = builtin_run(t, br, scenario, err);
			char path[600], how[120], *got;
			const char *want;

			if (!CHECK_OK(r != NULL))
				continue;
			snprintf(path, sizeof(path), "%s/%s-%s.txt", dir, builtin_platform(r),
				 br->file);
			snprintf(how, sizeof(how), "%s%s", br->file,
				 scenario ? " (--scenario builtin)" : "");
			want = check_read_file(path); /* "" when there is none */
			got = builtin_lines(r, br);
			CHECK_MSG(want[0] != '\0', "no recorded report %s", path);
			CHECK(got != NULL);
			if (want[0] != '\0' && got != NULL)
				builtin_compare(want, got, how);
			/* the report says which scenario ran: the built-in one */
			CHECK_MSG(strcmp(str_at(cJSON_GetObjectItemCaseSensitive(r, "scenario"),
						"name"), "builtin") == 0 || !scenario,
				  "%s: not the builtin scenario", how);
			free(got);
			cJSON_Delete(r);
		}
	}
	/* a client that never comes does nothing: its neighbours' checks hold
	 * on what was observed (as in the built-in run), its pages are '.',
	 * and the run is NOT PROVEN */
	{
		const char *argv[] = { t->server, "--scenario", "builtin", "--clients", "3",
				       "--name", t->name, "--timeout", "3", "--json", NULL };
		struct process *srv = start(t->server, argv, t->out), *cl[2];
		cJSON *r;
		const cJSON *c;

		cl[0] = start_client(t);
		cl[1] = start_client(t);
		CHECK(finish(srv) == 3);
		finish(cl[0]);
		finish(cl[1]);
		if ((r = read_report(t->out)) != NULL) {
			CHECK(num(cJSON_GetObjectItemCaseSensitive(r, "summary"), "missing") == 1 &&
			      num(cJSON_GetObjectItemCaseSensitive(r, "summary"), "checks_failed") == 0 &&
			      num(cJSON_GetObjectItemCaseSensitive(r, "summary"),
				  "checks_unproven") == 0);
			CHECK_MSG(strcmp(str_at(r, "page_map"), "SCtWFCtWF....S") == 0, "%s",
				  str_at(r, "page_map"));
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients"))
				CHECK_MSG(check_held(cJSON_GetObjectItemCaseSensitive(c, "checks"),
						     "cow_write_isolated"), "client %d",
					  (int)num(c, "id"));
			cJSON_Delete(r);
		}
	}
	/* as TAP: four steps and its eleven checks, all ok; and its limits */
	{
		const char *argv[] = { t->server, "--scenario", "builtin", "--spawn", "64",
				       "--pages-per-client", "32", "--tap", "--client", t->client,
				       NULL };
		const char *big[] = { t->server, "--scenario", "builtin", "--spawn", "2",
				      "--pages-per-client", "16385", "--client", t->client, NULL };

		CHECK(run_server(t, argv, err) == 0);
		text = read_text(t->out);
		CHECK_MSG(strncmp(text, "TAP version 13\n1..15\n", 21) == 0 &&
			  count_of(text, "\nok ") == 15 && count_of(text, "not ok") == 0,
			  "TAP:\n%s", text);
		CHECK(run_server(t, big, err) == 2);
		CHECK_MSG(strstr(read_text(err), "--pages-per-client") != NULL, "%s",
			  read_text(err));
	}
	/* --print: builtin's document, which runs as a file and holds; a
	 * lesson's file as it is; nothing printed but the document */
	{
		char file[300];
		const char *print[] = { t->server, "--scenario", "builtin", "--spawn", "2",
					"--print", NULL };
		const char *run[] = { t->server, "--scenario", file, "--client", t->client, NULL };
		const char *lesson[] = { t->server, "--scenario", "read-does-not-copy", "--print",
					 NULL };
		const char *no[] = { t->server, "--scenario", "builtin", "--print", "--json", NULL };
		FILE *f;

		snprintf(file, sizeof(file), "%s.builtin.json", t->out);
		CHECK(run_server(t, print, err) == 0);
		text = read_text(t->out);
		CHECK_MSG(strncmp(text, "{\n  \"scenario\": \"builtin\",", 26) == 0 &&
			  strstr(text, "\"clients\": 2,") != NULL, "%s", text);
		if ((f = fopen(file, "wb")) != NULL) {
			fputs(text, f);
			fclose(f);
		}
		CHECK(run_server(t, run, err) == 0);
		CHECK_MSG(strstr(read_text(t->out), "\nverdict: HELD") != NULL, "%s",
			  read_text(t->out));
		remove(file);
		CHECK(run_server(t, lesson, err) == 0);
		text = read_text(t->out);
		CHECK_MSG(strncmp(text, "{\n  \"scenario\": \"read-does-not-copy\",", 37) == 0 &&
			  strstr(text, "Step 1") == NULL, "%s", text);
		CHECK(run_server(t, no, err) == 2);
		CHECK(strstr(read_text(err), "not with --json") != NULL);
	}
	remove(err);
}

static const cJSON *check_named(const cJSON *r, const char *name)
{
	return find_check(cJSON_GetObjectItemCaseSensitive(r, "server_checks"), name);
}

/* --cow-as-shared with a scenario of its own: never HELD. A scenario with
 * every one of its 11 names of checks still gets negative_control_detected
 * (failed: it reads only a rw view, so nothing can differ) and a TAP plan
 * that counts its lines; and a control whose client that could have shown
 * the difference never came is unproven (exit 3), not failed. */
static void scenario_play_control(struct ctx *t)
{
	char err[300], file[300], *text;
	FILE *f;
	cJSON *r;

	snprintf(err, sizeof(err), "%s.err", t->out);
	snprintf(file, sizeof(file), "%s.scn.json", t->out);
	f = fopen(file, "wb");
	if (!CHECK_OK(f != NULL))
		return;
	fputs("{\"scenario\":\"eleven\",\"about\":\"Eleven checks.\",\"clients\":1,\"pages\":11,"
	      "\"steps\":[{\"say\":\"\",\"do\":[{\"who\":1,\"op\":\"map\",\"view\":\"rw\"}]},"
	      "{\"say\":\"\",\"do\":[", f);
	for (int k = 0; k < 11; k++)
		fprintf(f, "%s{\"who\":1,\"op\":\"read\",\"view\":\"rw\",\"pages\":\"%d\","
			"\"check\":\"c%d\"}", k ? "," : "", k, k);
	fputs("]}]}", f);
	fclose(f);
	{
		const char *json[] = { t->server, "--scenario", file, "--cow-as-shared", "--json",
				       "--client", t->client, NULL };
		const char *tap[] = { t->server, "--scenario", file, "--cow-as-shared", "--tap",
				      "--client", t->client, NULL };
		const cJSON *c;
		int plan = -1;

		CHECK(run_server(t, json, err) == 1);
		if ((r = read_report(t->out)) != NULL) {
			c = check_named(r, "negative_control_detected");
			CHECK_MSG(c != NULL && strcmp(str_at(c, "status"), "failed") == 0,
				  "the control check: %s", c ? str_at(c, "status") : "missing");
			CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "isolation_held")));
			cJSON_Delete(r);
		}
		CHECK(run_server(t, tap, err) == 1);
		text = read_text(t->out);
		CHECK_MSG(sscanf(text, "TAP version 13\n1..%d", &plan) == 1 &&
			  plan == count_of(text, "\nok ") + count_of(text, "\nnot ok ") &&
			  strstr(text, "not ok 15 - check negative_control_detected") != NULL,
			  "plan %d:\n%s", plan, text);
	}
	/* two clients: 1 reads through rw, 2 (which never comes) would have
	 * written through its shared "cow" view */
	f = fopen(file, "wb");
	if (!CHECK_OK(f != NULL))
		return;
	fputs("{\"scenario\":\"missing\",\"about\":\"Client 2 never comes.\",\"clients\":2,"
	      "\"pages\":4,\"steps\":[{\"say\":\"\",\"do\":[{\"who\":1,\"op\":\"map\",\"view\":"
	      "\"rw\"},{\"who\":2,\"op\":\"map\",\"view\":\"cow\"}]},{\"say\":\"\",\"do\":["
	      "{\"who\":2,\"op\":\"write\",\"view\":\"cow\",\"pages\":\"0\",\"value\":\"stamp\"}]},"
	      "{\"say\":\"\",\"do\":[{\"who\":1,\"op\":\"read\",\"view\":\"rw\",\"pages\":\"0-3\","
	      "\"check\":\"iso\"}]}]}", f);
	fclose(f);
	{
		const char *argv[] = { t->server, "--scenario", file, "--clients", "2", "--name",
				       t->name, "--timeout", "3", "--cow-as-shared", "--json", NULL };
		struct process *srv = start(t->server, argv, t->out), *cl;
		const cJSON *c;
		int code;

		cl = start_client(t);
		code = finish(srv);
		finish(cl);
		CHECK_MSG(code == 3, "exit %d", code);
		if ((r = read_report(t->out)) != NULL) {
			c = check_named(r, "negative_control_detected");
			CHECK_MSG(c != NULL && strcmp(str_at(c, "status"), "unproven") == 0,
				  "the control check: %s", c ? str_at(c, "status") : "missing");
			cJSON_Delete(r);
		}
	}
	remove(file);
	remove(err);
}

/* A connection that never speaks does not hold up the run: it is rejected
 * when the run ends, and the others complete. */
static void scenario_silent(struct ctx *t)
{
	char marker[300];
	struct process *srv, *cl[2];
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "2", NULL);
	start_helper(t, "silent", marker);
	wait_marker(marker);
	for (int i = 0; i < 2; i++)
		cl[i] = start_client(t);
	CHECK(finish(srv) == 0);
	kill_helpers(t);
	for (int i = 0; i < 2; i++)
		CHECK(finish(cl[i]) == 0);
	if ((r = check_accounted(t, 2, 0, 1, 0)) == NULL)
		return;
	check_reason(r, "rejected", "hello");
	cJSON_Delete(r);
}

/* Fewer clients than --clients within --timeout: exit 3, one missing. */
static void scenario_fewer(struct ctx *t)
{
	struct process *srv, *cl[2];
	cJSON *r;

	t->timeout = "3";
	srv = start_server(t, "--clients", "3", NULL);
	for (int i = 0; i < 2; i++)
		cl[i] = start_client(t);
	CHECK(finish(srv) == 3);
	for (int i = 0; i < 2; i++)
		CHECK(finish(cl[i]) == 3);
	if ((r = check_accounted(t, 2, 0, 0, 1)) != NULL)
		cJSON_Delete(r);
}

/* More clients than --clients: the extra one is refused with an error
 * message and exits 3. To be sure the extra one comes while the run is
 * on, one of the two clients is a helper that stalls mid-run until the
 * extra one has been refused (it is then killed and lost). */
static void scenario_more(struct ctx *t)
{
	char marker[300];
	struct process *srv, *cl, *extra;
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "2", NULL);
	start_helper(t, "stall-2", marker);
	cl = start_client(t);
	wait_marker(marker); /* both admitted: the run is in its first step */
	extra = start_client(t);
	CHECK_MSG(finish(extra) == 3, "the extra client was not refused");
	kill_helpers(t);
	CHECK(finish(srv) == 3);
	CHECK(finish(cl) == 3);
	if ((r = check_accounted(t, 1, 1, 1, 0)) == NULL)
		return;
	check_reason(r, "rejected", "all 2 of its clients");
	cJSON_Delete(r);
}

/* A server of the name, with one client, runs whole: it took what a
 * server before it left (on Linux its socket and lock files), and takes it
 * away when it ends. */
static void check_reclaimed(struct ctx *t, const char *whose)
{
	struct process *srv = start_server(t, "--clients", "1", NULL);
	struct process *cl = start_client(t);

	CHECK_MSG(finish(srv) == 0, "%s name was not reclaimed", whose);
	CHECK(finish(cl) == 0);
}

/* The server dies mid-run: a waiting client exits 3 at once, not after
 * its timeout, saying it lost the server. */
static void scenario_server_killed(struct ctx *t)
{
	char marker[300];
	/* a timeout no run waits out: the bound below cannot be met by it */
	const char *argv[] = { t->client, "--name", t->name, "--timeout", "3600", NULL };
	struct process *srv, *cl;
	int64_t start_ms;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	srv = start_server(t, "--clients", "2", NULL);
	start_helper(t, "stall-2", marker);
	cl = start(t->client, argv, NULL);
	wait_marker(marker);
	platform_sleep_ms(200); /* the good client has answered the first batch */
	start_ms = platform_now_ms();
	process_kill(srv);
	finish(srv);
	CHECK(finish(cl) == 3);
	CHECK_MSG(platform_now_ms() - start_ms < 30000, "the client waited for its timeout");
	kill_helpers(t);
	remove(t->out);
	check_reclaimed(t, "the killed server's");
	remove(t->out);
}

/* A second server on a live name refuses to start (exit 2, says why);
 * a name left by a server that was killed is reclaimed. */
static void scenario_names(struct ctx *t)
{
	char marker[300];
	struct process *a, *b;
	cJSON *r;

	snprintf(marker, sizeof(marker), "%s.marker", t->out);
	remove(marker);
	a = start_server(t, "--clients", "1", NULL);
	start_helper(t, "silent", marker);
	wait_marker(marker); /* a is listening */
	snprintf(t->out + strlen(t->out), 8, ".b");
	b = start_server(t, "--clients", "1", NULL);
	CHECK(finish(b) == 2);
	if ((r = read_report(t->out)) != NULL) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
		CHECK_MSG(cJSON_IsString(e) && strstr(e->valuestring, "in use"), "no clear error");
		CHECK(num(r, "exit_status") == 2);
		cJSON_Delete(r);
	}
	remove(t->out);
	t->out[strlen(t->out) - 2] = '\0';
	/* kill a: its endpoint stays behind (a socket file on Linux) */
	process_kill(a);
	finish(a);
	kill_helpers(t);
	remove(t->out);
	check_reclaimed(t, "the stale");
	if ((r = check_accounted(t, 1, 0, 0, 0)) != NULL)
		cJSON_Delete(r);
}

/* Every spawned client dies at once (here: this program, which does not
 * know the client's arguments and exits 2): the server stops waiting
 * as soon as all have exited, long before its timeout, and reports them
 * missing. */
static void scenario_spawn_dead(struct ctx *t)
{
	/* a timeout no run waits out: the bound below cannot be met by it */
	const char *argv[] = { t->server, "--spawn", "3", "--json", "--timeout", "3600",
			       "--client", t->self, NULL };
	int64_t start_ms = platform_now_ms();
	cJSON *r;

	CHECK(finish(start(t->server, argv, t->out)) == 3);
	CHECK_MSG(platform_now_ms() - start_ms < 30000, "the server waited for its timeout");
	if ((r = check_accounted(t, 0, 0, 0, 3)) != NULL)
		cJSON_Delete(r);
}

/* Says on stderr why a run did not hold: each client that did not
 * complete, each failed check. */
static void explain(const cJSON *r)
{
	const cJSON *c, *k;
	int shown = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "clients")) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "reason");

		if (strcmp(status_of(c), "complete") != 0 && shown++ < 5)
			fprintf(stderr, "  client %s: %s\n", status_of(c),
				cJSON_IsString(why) ? why->valuestring : "?");
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(c, "checks"))
			if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(k, "held")) && shown++ < 5)
				fprintf(stderr, "  failed: %s\n",
					cJSON_GetObjectItemCaseSensitive(k, "detail")->valuestring);
	}
}

/* Load: n clients at once, the whole experiment three times in one server
 * process; every run accounts for every client, and the server holds no
 * more descriptors after a run than before it and does not grow from one
 * run to the next by more than 256 KiB (the first run sets the allocator's
 * high-water mark; 1 MiB a run passed here while glibc's rising mmap
 * threshold put each run's 500-client report on the heap anew). */
static void scenario_load(struct ctx *t, int n, bool check_rss)
{
	const char *argv[] = { t->server, "--spawn", NULL, "--repeat", "3", "--json", "--timeout", "120",
			       "--client", t->client, NULL };
	static char line[16 << 20]; /* one report: about 1.5 KiB a client */
	char count[16];
	double rss_after[4] = { 0 };
	int runs = 0;
	FILE *f;

	snprintf(count, sizeof(count), "%d", n);
	argv[2] = count;
	CHECK(finish(start(t->server, argv, t->out)) == 0);
	f = fopen(t->out, "r");
	CHECK(f != NULL);
	while (f != NULL && runs < 3 && fgets(line, sizeof(line), f) != NULL) {
		cJSON *r = cJSON_Parse(line);
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "server_resources");
		const cJSON *fd0 = cJSON_GetObjectItemCaseSensitive(res, "descriptors_before");
		const cJSON *fd1 = cJSON_GetObjectItemCaseSensitive(res, "descriptors_after");
		bool wine = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(r, "platform"), "wine"));

		CHECK(r != NULL && num(r, "run") == runs + 1);
		if (!CHECK_OK(num(r, "exit_status") == 0 && num(r, "summary.complete") == n))
			explain(r);
		CHECK(num(r, "summary.lost") == 0 && num(r, "summary.rejected") == 0);
		/* Wine cannot count handles (null): then only memory is checked;
		 * everywhere else both counts must be there. */
		if (!wine || cJSON_IsNumber(fd0) || cJSON_IsNumber(fd1))
			CHECK_MSG(cJSON_IsNumber(fd0) && cJSON_IsNumber(fd1) &&
				  fd0->valuedouble == fd1->valuedouble,
				  "run %d: descriptors before/after differ", runs + 1);
		rss_after[++runs] = num(r, "server_resources.rss_kib_after");
		cJSON_Delete(r);
	}
	if (f != NULL)
		fclose(f);
	CHECK(runs == 3);
	if (check_rss)
		CHECK_MSG(rss_after[3] <= rss_after[2] + 256,
			  "the server grew by %.0f KiB from run 2 to run 3", rss_after[3] - rss_after[2]);
	else
		printf("load: RSS not compared (a sanitizer's quarantine holds freed memory)\n");
}

int main(int argc, char **argv)
{
	static char self[1200];
	struct ctx t = { .self = self, .timeout = "60" };
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
	else if (strcmp(sc, "killed") == 0 && argc > 4)
		scenario_killed(&t, argv[4]);
	else if (strcmp(sc, "badresult") == 0)
		scenario_badresult(&t);
	else if (strcmp(sc, "stall") == 0)
		scenario_stall(&t, 2);
	else if (strcmp(sc, "stall-alone") == 0)
		scenario_stall(&t, 0);
	else if (strcmp(sc, "late-stall") == 0)
		scenario_late_stall(&t);
	else if (strcmp(sc, "human") == 0)
		scenario_human(&t);
	else if (strcmp(sc, "shape") == 0)
		scenario_shape(&t);
	else if (strcmp(sc, "interrupted") == 0)
		scenario_interrupted(&t);
	else if (strcmp(sc, "uninvited") == 0)
		scenario_uninvited(&t);
	else if (strcmp(sc, "silent") == 0)
		scenario_silent(&t);
	else if (strcmp(sc, "noverdict") == 0)
		scenario_noverdict(&t);
	else if (strcmp(sc, "noverdict-protocol") == 0)
		scenario_noverdict_protocol(&t);
	else if (strcmp(sc, "noverdict-hold") == 0)
		scenario_noverdict_hold(&t);
	else if (strcmp(sc, "fewer") == 0)
		scenario_fewer(&t);
	else if (strcmp(sc, "more") == 0)
		scenario_more(&t);
	else if (strcmp(sc, "server-killed") == 0)
		scenario_server_killed(&t);
	else if (strcmp(sc, "names") == 0)
		scenario_names(&t);
	else if (strcmp(sc, "spawn-dead") == 0)
		scenario_spawn_dead(&t);
	else if (strcmp(sc, "fork") == 0)
		scenario_fork(&t);
	else if (strcmp(sc, "huge") == 0) {
		if (scenario_huge(&t) == 77 && check_exit(sc) == 0)
			return 77; /* skipped, saying why, and nothing failed */
	}
	else if (strcmp(sc, "play-cli") == 0)
		scenario_play_cli(&t);
	else if (strcmp(sc, "step") == 0)
		scenario_step(&t);
	else if (strcmp(sc, "hold") == 0)
		scenario_hold(&t);
	else if (strcmp(sc, "copy-cost") == 0)
		scenario_copy_cost(&t);
	else if (strcmp(sc, "color") == 0)
		scenario_color(&t);
	else if (strcmp(sc, "html") == 0)
		scenario_html(&t);
	else if (strcmp(sc, "play-builtin") == 0 && argc > 4)
		scenario_play_builtin(&t, argv[4]);
	else if (strcmp(sc, "play-builtin-record") == 0 && argc > 4)
		scenario_builtin_record(&t, argv[4]);
	else if (strcmp(sc, "play-control") == 0)
		scenario_play_control(&t);
	else if (strcmp(sc, "load") == 0 && argc > 4)
		scenario_load(&t, atoi(argv[4]), argc <= 5 || strcmp(argv[5], "no-rss") != 0);
	else {
		fprintf(stderr, "unknown scenario %s\n", sc);
		return 2;
	}
	if (check_failures == 0)
		remove(t.out);
	return check_exit(sc);
}
