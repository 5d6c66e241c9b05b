/* cowlab-server: creates a pagefile-backed section, maps it read/write and
 * copy-on-write, drives clients through the experiment and prints one
 * verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "cli.h"
#include "cowlab-config.h"
#include "err.h"
#include "html.h"
#include "builtin.h"
#include "interrupt.h"
#include "platform.h"
#include "play.h"
#include "scenario.h"
#include "section.h"
#include "server.h"
#include "process.h"
#include "text.h"

#define PAGES_PER_CLIENT_MIN 4
#define PAGES_PER_CLIENT_MAX 16384
#define CLIENTS_MAX 100000
#define SECTION_MAX ((uint64_t)16 << 30)
/* What the processes of a run take besides the section and its copies. */
#define MEMORY_MARGIN ((uint64_t)16 << 20)
/* The largest section whose clients start while it is filled (some 30 ms
 * of filling here; see run()). */
#define EARLY_START_MAX ((uint64_t)64 << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cowlab-server (--spawn N | --clients N) [options]\n"
		"       cowlab-server --scenario FILE|NAME [--spawn N | --clients N] [options]\n"
		"       cowlab-server --scenario list\n"
		"\n"
		"Creates a section backed by the paging file (memfd on Linux), maps it\n"
		"read/write and copy-on-write, and has every client map it too, write it and\n"
		"report what it sees; prints whether copy-on-write isolation held.\n"
		"With --scenario, runs a copy-on-write experiment written as a file\n"
		"(docs/scenarios.md) and judges every observation against a model of\n"
		"copy-on-write (docs/model.md), step by step.\n"
		"\n"
		"  --scenario FILE|NAME   run a scenario: a file, or a lesson by name;\n"
		"                         \"list\" names the lessons, \"builtin\" is the\n"
		"                         built-in experiment as one. --spawn defaults to the\n"
		"                         clients it needs\n"
		"  --tap                  with --scenario: print the run as TAP version 13\n"
		"  --print                with --scenario: print the scenario's file (builtin's\n"
		"                         as made for --spawn N) and run nothing\n"
		"  --spawn N              start N cowlab-client processes and run with them\n"
		"                         (1 to %d)\n"
		"  --clients N            wait for N clients started by hand (cowlab-client\n"
		"                         --name NAME), 1 to %d\n"
		"  --name NAME            the name clients connect to (default: \"cowlab\", or a\n"
		"                         unique one with --spawn)\n"
		"  --pages-per-client N   pages each client owns, %d to %d (default 4)\n"
		"  --page-size SIZE       the section's page size: 2M or 1G for huge pages\n"
		"                         (Linux: hugetlb pages, reserved by root with\n"
		"                         sysctl vm.nr_hugepages=N; Windows: large pages,\n"
		"                         which need SeLockMemoryPrivilege); default: the\n"
		"                         system's own, or the scenario's page_size\n"
		"  --timeout SECONDS      longest wait for clients to connect and for each\n"
		"                         answer, 1 to 86400 (default 30)\n"
		"  --client PATH          the cowlab-client to start with --spawn\n"
		"  --repeat N             run the whole experiment N times (1 to 1000000), one\n"
		"                         report each, then a line that sums them up\n"
		"  --json                 print the report as one JSON object (docs/report.md);\n"
		"                         with --repeat, one per run, a line each (JSON lines:\n"
		"                         read them one by one, not as one document)\n"
		"  --cow-as-shared        negative control: clients map their \"copy-on-write\"\n"
		"                         view shared, so isolation must be seen to fail (a\n"
		"                         scenario's too: the model must be seen to differ)\n"
		"  --step                 pause before each step: say what comes, what the\n"
		"                         model predicts and where each view is, and go on at\n"
		"                         Enter or on SIGUSR1 (Windows: a named event)\n"
		"  --step-ms N            --step, going on by itself after N ms (0 to\n"
		"                         86400000)\n"
		"  --hold                 after the last step, keep every process with its\n"
		"                         views mapped and say how many private pages each\n"
		"                         holds and where; let go as --step goes on\n"
		"  --hold-ms N            --hold, letting go by itself after N ms\n"
		"  --html FILE            also write the run as one self-contained HTML page\n"
		"  --color=WHEN           the page map in colour: auto (on a terminal, without\n"
		"                         NO_COLOR or TERM=dumb), always or never\n"
		"  --help, --version\n"
		"\n"
		"Exit status: 0 isolation held for every client, 1 a check failed (BROKEN),\n"
		"2 usage or setup error, 3 not proven (an observation not made, a client\n"
		"lost or missing, or the run interrupted).\n",
		CLIENTS_MAX, CLIENTS_MAX, PAGES_PER_CLIENT_MIN, PAGES_PER_CLIENT_MAX);
}

static int number_option(const char *opt, const char *v, int64_t min, int64_t max, int64_t *out)
{
	if (cli_number(v, min, max, out))
		return 0;
	fprintf(stderr, "cowlab-server: %s takes a number from %lld to %lld, not \"%s\"\n", opt,
		(long long)min, (long long)max, v);
	return -1;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct server_options *o)
{
	static const char *const numeric[] = { "--spawn", "--clients", "--pages-per-client",
					       "--timeout", "--repeat", "--step-ms", "--hold-ms" };
	/* what each option with a value was given: numeric's, --name, --client,
	 * --scenario */
	const char *seen[13] = { NULL }; /* ..., --step-ms, --hold-ms, --html, --color,
					     --page-size */
	int64_t n;

	o->pages_per_client = 4;
	o->timeout_ms = 30000;
	o->repeat = 1;
	o->step_ms = -1;
	o->hold_ms = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int r = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return REPORT_EXIT_HELD;
		}
		if (strcmp(a, "--version") == 0) {
			printf("cowlab-server %s\n", COWLAB_VERSION);
			return REPORT_EXIT_HELD;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--cow-as-shared") == 0) {
			o->cow_as_shared = true;
			continue;
		}
		if (strcmp(a, "--tap") == 0) {
			o->tap = true;
			continue;
		}
		if (strcmp(a, "--print") == 0) {
			o->print = true;
			continue;
		}
		if (strcmp(a, "--step") == 0) {
			o->step = true;
			continue;
		}
		if (strcmp(a, "--hold") == 0) {
			o->hold = true;
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--page-size", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[12], "--page-size", v))
				return REPORT_EXIT_USAGE;
			if (!cli_page_size(v, &o->page_size)) {
				fprintf(stderr, "cowlab-server: --page-size takes 4K to 1G, a power "
					"of two (\"2M\"), not \"%s\"\n", v);
				return REPORT_EXIT_USAGE;
			}
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--html", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[10], "--html", v))
				return REPORT_EXIT_USAGE;
			o->html = v;
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--color", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[11], "--color", v))
				return REPORT_EXIT_USAGE;
			if (strcmp(v, "auto") == 0)
				o->color = REPORT_COLOR_AUTO;
			else if (strcmp(v, "always") == 0)
				o->color = REPORT_COLOR_ALWAYS;
			else if (strcmp(v, "never") == 0)
				o->color = REPORT_COLOR_NEVER;
			else {
				fprintf(stderr, "cowlab-server: --color takes auto, always or never, "
					"not \"%s\"\n", v);
				return REPORT_EXIT_USAGE;
			}
			continue;
		}
		for (size_t k = 0; r == 0 && k < sizeof(numeric) / sizeof(numeric[0]); k++) {
			if ((r = cli_take(argc, argv, &i, numeric[k], &v)) != 1)
				continue;
			if (!cli_once("cowlab-server", &seen[k >= 5 ? k + 3 : k], numeric[k], v))
				return REPORT_EXIT_USAGE;
			if (k == 0 && number_option(numeric[k], v, 1, CLIENTS_MAX, &n) == 0)
				o->spawn = (int)n;
			else if (k == 1 && number_option(numeric[k], v, 1, CLIENTS_MAX, &n) == 0)
				o->clients = (int)n;
			else if (k == 2 && number_option(numeric[k], v, PAGES_PER_CLIENT_MIN,
							 PAGES_PER_CLIENT_MAX, &n) == 0)
				o->pages_per_client = (uint64_t)n;
			else if (k == 3 && number_option(numeric[k], v, 1, 86400, &n) == 0)
				o->timeout_ms = (int)n * 1000;
			else if (k == 4 && number_option(numeric[k], v, 1, 1000000, &n) == 0)
				o->repeat = (int)n;
			else if (k == 5 && number_option(numeric[k], v, 0, 86400000, &n) == 0)
				o->step_ms = (int)n;
			else if (k == 6 && number_option(numeric[k], v, 0, 86400000, &n) == 0)
				o->hold_ms = (int)n;
			else
				return REPORT_EXIT_USAGE;
		}
		if (r == 1)
			continue;
		if (r == 0 && (r = cli_take(argc, argv, &i, "--name", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[5], "--name", v))
				return REPORT_EXIT_USAGE;
			if (!channel_name_valid(v)) {
				fprintf(stderr, "cowlab-server: invalid --name \"%s\" (1-63 of "
					"A-Z a-z 0-9 . _ -, not starting with '.')\n", v);
				return REPORT_EXIT_USAGE;
			}
			snprintf(o->name, sizeof(o->name), "%s", v);
			o->name_given = true;
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--scenario", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[7], "--scenario", v))
				return REPORT_EXIT_USAGE;
			o->scenario = v;
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--client", &v)) == 1) {
			if (!cli_once("cowlab-server", &seen[6], "--client", v))
				return REPORT_EXIT_USAGE;
			o->client_path = v;
			continue;
		}
		if (r < 0)
			fprintf(stderr, "cowlab-server: %s needs a value\n", a);
		else
			fprintf(stderr, "cowlab-server: unknown argument \"%s\"\n", a);
		usage(stderr);
		return REPORT_EXIT_USAGE;
	}
	if (seen[8] != NULL)
		o->step = true; /* --step-ms N: --step, going on by itself */
	if (seen[9] != NULL)
		o->hold = true; /* --hold-ms N: --hold, letting go by itself */
	if (o->html != NULL && o->repeat > 1) {
		fprintf(stderr, "cowlab-server: --html writes one run: not with --repeat\n");
		return REPORT_EXIT_USAGE;
	}
	if ((o->step || o->hold) && o->repeat > 1) {
		fprintf(stderr, "cowlab-server: --%s pauses one run: not with --repeat\n",
			o->step ? "step" : "hold");
		return REPORT_EXIT_USAGE;
	}
	if (o->scenario != NULL) {
		bool builtin = strcmp(o->scenario, "builtin") == 0;

		if (seen[2] && !builtin) {
			fprintf(stderr, "cowlab-server: --pages-per-client is for the built-in "
				"experiment (and --scenario builtin): a scenario file says its own "
				"pages\n");
			return REPORT_EXIT_USAGE;
		}
		if (seen[4]) {
			fprintf(stderr, "cowlab-server: --repeat is for the built-in experiment's "
				"run (without --scenario), not a scenario's\n");
			return REPORT_EXIT_USAGE;
		}
		if (o->json && o->tap) {
			fprintf(stderr, "cowlab-server: give one of --json and --tap\n");
			return REPORT_EXIT_USAGE;
		}
		if (strcmp(o->scenario, "list") == 0 && (o->json || o->tap)) {
			fprintf(stderr, "cowlab-server: --scenario list prints the lessons for "
				"people: not with --json or --tap\n");
			return REPORT_EXIT_USAGE;
		}
		if (o->html != NULL && (o->print || strcmp(o->scenario, "list") == 0)) {
			fprintf(stderr, "cowlab-server: --html writes a run: not with --print or "
				"list\n");
			return REPORT_EXIT_USAGE;
		}
		if ((o->step || o->hold) && (o->print || strcmp(o->scenario, "list") == 0)) {
			fprintf(stderr, "cowlab-server: --%s pauses a run: not with --print or "
				"list\n", o->step ? "step" : "hold");
			return REPORT_EXIT_USAGE;
		}
		if (o->print && (o->json || o->tap || strcmp(o->scenario, "list") == 0)) {
			fprintf(stderr, "cowlab-server: --print prints a scenario's file, and "
				"nothing else: not with --json, --tap or list\n");
			return REPORT_EXIT_USAGE;
		}
		if (o->spawn > 0 && o->clients > 0) {
			fprintf(stderr, "cowlab-server: give one of --spawn N and --clients N\n");
			return REPORT_EXIT_USAGE;
		}
		if (!o->name_given)
			snprintf(o->name, sizeof(o->name), o->clients ? "cowlab" : "spawn-%ld",
				 platform_pid());
		return -1; /* how many clients: once the scenario is read */
	}
	if (o->tap || o->print) {
		fprintf(stderr, "cowlab-server: %s (--scenario)\n",
			o->tap ? "--tap is for a scenario's run" : "--print is for a scenario");
		return REPORT_EXIT_USAGE;
	}
	if ((o->spawn > 0) == (o->clients > 0)) {
		fprintf(stderr, "cowlab-server: give exactly one of --spawn N and --clients N\n");
		usage(stderr);
		return REPORT_EXIT_USAGE;
	}
	if (o->spawn > 0)
		o->clients = o->spawn;
	if (!o->name_given)
		snprintf(o->name, sizeof(o->name), o->spawn ? "spawn-%ld" : "cowlab", platform_pid());
	return -1;
}

/* ---- --scenario ---- */

/* Where the lessons are: installed beside the program (../share/cowlab/
 * scenarios), or in the build tree (../scenarios). */
static int lesson_dir(int which, char *buf, size_t cap)
{
	char dir[1024], *last;
	char sep = platform_path_sep;

	if (platform_self_dir(dir, sizeof(dir)) != 0)
		return COWLAB_E_NOENT;
	/* the program's directory's parent, said as a path people read:
	 * /usr/bin -> /usr, not /usr/bin/.. */
	last = strrchr(dir, sep);
	if (last != NULL && last != dir && strcmp(last + 1, "..") != 0 &&
	    strcmp(last + 1, ".") != 0)
		*last = '\0';
	else
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "%c..", sep);
	if (which == 0)
		snprintf(buf, cap, "%s%cshare%ccowlab%cscenarios", dir, sep, sep, sep);
	else
		snprintf(buf, cap, "%s%cscenarios", dir, sep);
	return 0;
}

struct names {
	char (*name)[SCENARIO_NAME_MAX];
	size_t n, cap;
};

static void add_name(void *ctx, const char *file)
{
	struct names *ns = ctx;
	size_t len = strlen(file) - strlen(".json");

	if (len == 0 || len >= SCENARIO_NAME_MAX)
		return;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 32;
		char (*n)[SCENARIO_NAME_MAX] = realloc(ns->name, cap * sizeof(*n));

		if (n == NULL)
			return;
		ns->name = n;
		ns->cap = cap;
	}
	snprintf(ns->name[ns->n++], SCENARIO_NAME_MAX, "%.*s", (int)len, file);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* --scenario list: every lesson, one line each. */
static int list_lessons(void)
{
	struct names ns = { NULL, 0, 0 };
	char dir[1100] = "", path[1200], why[400];
	int which;

	for (which = 0; which < 2; which++)
		if (lesson_dir(which, dir, sizeof(dir)) == 0 &&
		    platform_list_dir(dir, ".json", add_name, &ns) == 0 && ns.n > 0)
			break;
	if (ns.n == 0) {
		fprintf(stderr, "cowlab-server: no lessons found (looked in %s)\n", dir);
		free(ns.name);
		return REPORT_EXIT_USAGE;
	}
	qsort(ns.name, ns.n, sizeof(ns.name[0]), by_name);
	for (size_t i = 0; i < ns.n; i++) {
		struct scenario sc;
		char line[TEXT_WIDTH + 8];
		size_t len;

		snprintf(path, sizeof(path), "%s%c%s.json", dir, platform_path_sep, ns.name[i]);
		if (scenario_load(path, (uint32_t)platform_page_size(), 0, &sc, why, sizeof(why)) !=
		    0) {
			printf("%-28s (cannot be read: %s)\n", ns.name[i], why);
			continue;
		}
		/* its title, else its first sentence, cut to the line at a word */
		len = strcspn(sc.about, ".");
		snprintf(line, sizeof(line), "%-24s %.*s", ns.name[i], sc.title[0] ? 55 : (int)len,
			 sc.title[0] ? sc.title : sc.about);
		if (strlen(line) > TEXT_WIDTH) {
			char *cut = line + TEXT_WIDTH - 4;

			while (cut > line + 25 && *cut != ' ')
				cut--;
			snprintf(cut, sizeof(line) - (size_t)(cut - line), " ...");
		}
		printf("%s\n", line);
		scenario_free(&sc);
	}
	printf("%-24s %s\n%-24s (--spawn 1 to %d, --pages-per-client %d to %d)\n", "builtin",
	       "cowlab's own experiment, as a scenario", "", SCENARIO_BUILTIN_CLIENTS_MAX,
	       ROLE_COUNT, SCENARIO_BUILTIN_PAGES_MAX);
	printf("\nrun one: cowlab-server --scenario NAME; the files are in\n%s\n", dir);
	free(ns.name);
	return REPORT_EXIT_HELD;
}

/* Reads --scenario's file (or lesson), and settles how many clients.
 * Returns -1 to go on, or an exit status. */
static int load_scenario(struct server_options *o, struct scenario *sc)
{
	const char *arg = o->scenario;
	char path[1200], why[400];
	int needed, err;

	if (arg == NULL)
		return REPORT_EXIT_USAGE;
	if (strcmp(arg, "list") == 0)
		return list_lessons();
	if (strcmp(arg, "builtin") == 0) {
		/* the built-in experiment, written as a scenario (builtin.c) */
		needed = o->spawn ? o->spawn : o->clients ? o->clients : 3;
		if (o->print) {
			char *text = scenario_builtin_text(needed, o->pages_per_client, why,
							   sizeof(why));

			if (text == NULL) {
				fprintf(stderr, "cowlab-server: --scenario builtin: %s\n",
					why[0] ? why : "out of memory");
				return REPORT_EXIT_USAGE;
			}
			printf("%s\n", text);
			free(text);
			return REPORT_EXIT_HELD;
		}
		if ((err = scenario_builtin(needed, o->pages_per_client,
					    (uint32_t)platform_page_size(), sc, why,
					    sizeof(why))) != 0) {
			fprintf(stderr, "cowlab-server: --scenario builtin: %s\n", why);
			if (o->tap)
				play_tap_bail(stdout, why);
			return REPORT_EXIT_USAGE;
		}
		if (o->clients == 0)
			o->spawn = needed;
		o->clients = needed;
		return -1;
	}
	snprintf(path, sizeof(path), "%s", arg);
	/* a name without a separator or ".json" is a lesson's, if there is one */
	if (strpbrk(arg, "/\\") == NULL && strstr(arg, ".json") == NULL) {
		for (int which = 0; which < 2; which++) {
			char dir[1100];
			FILE *f;

			if (lesson_dir(which, dir, sizeof(dir)) != 0)
				continue;
			snprintf(path, sizeof(path), "%s%c%s.json", dir, platform_path_sep, arg);
			if ((f = platform_fopen(path, "rb")) != NULL) {
				fclose(f);
				break;
			}
			snprintf(path, sizeof(path), "%s", arg);
		}
	}
	needed = o->spawn > 0 ? o->spawn : o->clients;
	if ((err = scenario_load(path, (uint32_t)platform_page_size(), needed, sc, why,
				 sizeof(why))) != 0) {
		fprintf(stderr, "cowlab-server: %s\n", why);
		/* a name that is no lesson, nor a file */
		if (err_is(err, COWLAB_E_NOENT) && strpbrk(arg, "/\\") == NULL &&
		    strstr(arg, ".json") == NULL)
			fprintf(stderr, "cowlab-server: no lesson \"%.30s\" either; --scenario "
				"list names them\n", arg);
		if (o->tap)
			play_tap_bail(stdout, why);
		return REPORT_EXIT_USAGE;
	}
	if (o->print) {
		/* the file as it is, now that it is known to be a scenario */
		FILE *f = platform_fopen(path, "rb");
		char buf[4096];
		size_t n;

		scenario_free(sc);
		if (f == NULL) {
			fprintf(stderr, "cowlab-server: %s: cannot be read again\n", path);
			return REPORT_EXIT_USAGE;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
		fclose(f);
		return REPORT_EXIT_HELD;
	}
	needed = scenario_started(sc); /* the others are born of forks */
	if (o->clients == 0)
		o->spawn = needed;
	o->clients = needed;
	return -1;
}

/* The cowlab-client to start: --client, else beside this program (an
 * installed tree), else in the build tree's client/ directory. */
static int find_client(const struct server_options *o, char *path, size_t cap)
{
	char dir[1024];
	char sep = platform_path_sep;

	if (o->client_path != NULL) {
		snprintf(path, cap, "%s", o->client_path);
		return process_is_executable(path) ? 0 : COWLAB_E_NOENT;
	}
	if (platform_self_dir(dir, sizeof(dir)) != 0)
		return COWLAB_E_NOENT;
	snprintf(path, cap, "%s%ccowlab-client%s", dir, sep, platform_exe_suffix);
	if (process_is_executable(path))
		return 0;
	snprintf(path, cap, "%s%c..%cclient%ccowlab-client%s", dir, sep, sep, sep,
		 platform_exe_suffix);
	return process_is_executable(path) ? 0 : COWLAB_E_NOENT;
}

/* --spawn: the clients are started in the background (process.h), so
 * that those already connected are served while the others start. */
static int spawn_clients(struct server *s)
{
	char path[1200], timeout[16];

	if (find_client(&s->opt, path, sizeof(path)) != 0) {
		if (s->opt.client_path != NULL)
			snprintf(s->report.setup_error, sizeof(s->report.setup_error),
				 "--client %.150s is not an executable file", s->opt.client_path);
		else
			snprintf(s->report.setup_error, sizeof(s->report.setup_error),
				 "cannot find cowlab-client beside cowlab-server (give --client PATH)");
		return COWLAB_E_NOENT;
	}
	snprintf(timeout, sizeof(timeout), "%d", s->opt.timeout_ms / 1000);
	/* Nobody reads a spawned client's verdict: the report has them all. It
	 * leaves once its last results are sent (docs/design.md). */
	const char *argv[] = { path, "--name", s->opt.name, "--timeout", timeout, "--quiet",
			       "--no-verdict", "--parent", NULL };
	s->procs = calloc((size_t)s->opt.spawn, sizeof(*s->procs));
	if (s->procs == NULL)
		return COWLAB_E_NOMEM;
	return process_starter_begin(&s->starter, path, argv, s->procs, s->opt.spawn);
}

static void reap_clients(struct server *s)
{
	int64_t deadline = platform_now_ms() + 5000;
	int code;

	server_stop_starting(s); /* the run may end while clients are still being started */

	/* a run that failed as a whole told them nothing: they go at once */
	for (int i = 0; s->report.setup_error[0] != '\0' && i < s->nprocs; i++)
		process_kill(s->procs[i]);
	for (int i = 0; i < s->nprocs; i++) {
		/* They have left, or were told the verdict and exit at once: 5 s
		 * for them all, then the stragglers are killed. */
		int64_t left = deadline - platform_now_ms();

		if (process_wait(s->procs[i], left > 0 ? (int)left : 0, &code) != 0)
			fprintf(stderr, "cowlab-server: client process %ld did not exit; killed\n",
				process_pid(s->procs[i]));
		process_destroy(s->procs[i]);
	}
	free(s->procs);
	s->procs = NULL;
	s->nprocs = 0;
}

/* The section is filled before any client joins, and with --spawn its
 * clients' private copies (a quarter of their pages) are charged where the
 * server is: a run that needs more than the system or the server's memory
 * cgroup will give is refused with the figures, not killed half way by
 * the OOM killer with nothing said. */
static int check_memory(struct server *s, uint64_t size)
{
	uint64_t copies = s->opt.spawn > 0 ? size / 4 : 0, need = size + copies + MEMORY_MARGIN;
	uint64_t room;
	char how[200];

	if (platform_memory_room(&room, how, sizeof(how)) != 0 || need <= room)
		return 0;
	snprintf(s->report.setup_error, sizeof(s->report.setup_error),
		 "a section of %llu MiB%s needs more memory than this server may take: %llu "
		 "MiB (%s)", (unsigned long long)(size >> 20),
		 copies ? " and its clients' private copies" : "",
		 (unsigned long long)(room >> 20), how);
	return COWLAB_E_NOMEM;
}

/* The section's page size: --page-size, else the scenario's, else the
 * platform's. Huge pages must be there: a machine without them, or with too
 * few free, is told what to run (exit 2). */
static int choose_page_size(struct server *s)
{
	uint64_t file = s->sc != NULL ? s->sc->page_size : 0, ps = s->opt.page_size;
	struct platform_huge h;
	char size[32];

	if (ps != 0 && file != 0 && ps != file) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "the scenario's page_size is %llu KiB and --page-size %llu KiB: give one",
			 (unsigned long long)(file >> 10), (unsigned long long)(ps >> 10));
		return COWLAB_E_INVAL;
	}
	ps = ps != 0 ? ps : file != 0 ? file : platform_page_size();
	s->page_size = (uint32_t)ps;
	if (ps == platform_page_size())
		return 0;
	if (ps >= (1u << 30))
		snprintf(size, sizeof(size), "%llu GiB", (unsigned long long)(ps >> 30));
	else
		snprintf(size, sizeof(size), "%llu MiB", (unsigned long long)(ps >> 20));
	platform_huge_pages((size_t)ps, &h);
	s->pages_unavailable = true; /* until they are found there */
	if (ps < platform_page_size() || !h.usable) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "pages of %s: %.320s", size, h.why[0] ? h.why : "not this system's");
		return COWLAB_E_UNSUPPORTED;
	}
	/* the section's pages, and as many again for each private mapping,
	 * whose pages Linux reserves when it is mapped */
	uint64_t views = s->sc != NULL ? (uint64_t)scenario_cow_mappers(s->sc) :
					 (uint64_t)s->opt.clients + 1;
	uint64_t need = s->pages * (1 + views);

	if (h.free >= 0 && (uint64_t)h.free < need) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "this run needs %llu huge pages of %s (the section's %llu, and as many "
			 "again for each of its %llu copy-on-write view%s: Linux reserves a private "
			 "mapping's when it is mapped); %ld of %ld are free. As root: sysctl "
			 "vm.nr_hugepages=%llu (and give them back after: sysctl vm.nr_hugepages=%ld)",
			 (unsigned long long)need, size, (unsigned long long)s->pages,
			 (unsigned long long)views, text_s(views), h.free, h.total,
			 (unsigned long long)(need + (uint64_t)(h.total - h.free)), h.total);
		return COWLAB_E_NOMEM;
	}
	s->pages_unavailable = false;
	return 0;
}

static int setup(struct server *s)
{
	char secname[SECTION_NAME_MAX], why[256];
	uint8_t rnd[8];
	uint64_t size;
	int err;

	/* One descriptor a client, and some to spare for the server itself. */
	long fds = platform_descriptor_limit();
	if (fds > 0 && (long)s->opt.clients + 64 > fds) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "%d client%s need%s about %d open descriptors; this process may have %ld "
			 "(raise it: ulimit -n)", s->opt.clients, text_s((uint64_t)s->opt.clients),
			 s->opt.clients == 1 ? "s" : "", s->opt.clients + 64, fds);
		return COWLAB_E_INVAL;
	}
	s->pages = s->sc != NULL ? s->sc->pages :
		   builtin_section_pages((uint64_t)s->opt.clients, s->opt.pages_per_client);
	if ((err = choose_page_size(s)) != 0)
		return err;
	size = s->pages * s->page_size;
	if (size > SECTION_MAX) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "a section of %llu MiB is over the %llu MiB limit",
			 (unsigned long long)(size >> 20), (unsigned long long)(SECTION_MAX >> 20));
		return COWLAB_E_INVAL;
	}
	if ((err = check_memory(s, size)) != 0)
		return err;
	s->seed = (uint32_t)(platform_now_us() ^ (uint64_t)platform_pid() * 2654435761u);
	/* the clients the run starts, and the children of its forks */
	s->nslots = s->sc != NULL && s->sc->forks > 0 ? s->sc->clients : s->opt.clients;
	s->clients = calloc((size_t)s->nslots, sizeof(*s->clients));
	if (s->clients == NULL)
		return COWLAB_E_NOMEM;
	/* A random part: nobody can guess the name to squat on it first. */
	if ((err = platform_random(rnd, sizeof(rnd))) != 0)
		return err;
	snprintf(secname, sizeof(secname), "cowlab-%.60s-%02x%02x%02x%02x%02x%02x%02x%02x",
		 s->opt.name, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	err = section_create_paged(&s->section, secname, size, s->page_size);
	if (err == 0)
		err = section_map(s->section, SECTION_VIEW_RW, &s->rw);
	if (err != 0) {
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "cannot create the section: %s", cowlab_strerror(err));
		return err;
	}
	snprintf(s->report.section_name, sizeof(s->report.section_name), "%s",
		 section_name(s->section));
	s->report.section_size = size;
	s->report.page_size = s->page_size;
	s->report.seed = s->seed;
	err = channel_hub_listen(&s->hub, s->opt.name, why, sizeof(why));
	if (err != 0) {
		if (why[0] != '\0')
			snprintf(s->report.setup_error, sizeof(s->report.setup_error),
				 "cannot listen on \"%s\": %.160s", s->opt.name, why);
		else if (err_is(err, COWLAB_E_EXISTS))
			snprintf(s->report.setup_error, sizeof(s->report.setup_error),
				 "the name \"%s\" is in use by another running server", s->opt.name);
		else
			snprintf(s->report.setup_error, sizeof(s->report.setup_error),
				 "cannot listen on \"%s\": %s", s->opt.name, cowlab_strerror(err));
		return err;
	}
	return 0;
}

/* Begins the scenario, which fills the section with its pattern: the
 * built-in experiment (a scenario too, builtin.c) in the report's own
 * form. */
static int prepare(struct server *s)
{
	int err;

	if (s->sc == NULL) { /* (setup refuses such a section first) */
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "a section of %llu pages is over the limit of %u",
			 (unsigned long long)s->pages, (unsigned)SCENARIO_SECTION_PAGES_MAX);
		return COWLAB_E_INVAL;
	}
	err = play_begin(s, s->sc, s->opt.scenario == NULL ? PLAY_REPORT : s->opt.json ?
			     PLAY_JSON : s->opt.tap ? PLAY_TAP : PLAY_HUMAN);

	if (err != 0)
		snprintf(s->report.setup_error, sizeof(s->report.setup_error),
			 "cannot begin the scenario: %s", cowlab_strerror(err));
	return err;
}

static int run(struct server *s)
{
	/* The first clients start while the section is filled: they connect
	 * and wait for their assignment, which needs the fill. Only for a
	 * section that fills in milliseconds: a client waits for its
	 * assignment no longer than --timeout (a second at least), and a fill
	 * of many GiB can take longer. */
	bool early = s->opt.spawn > 0 && section_size(s->section) <= EARLY_START_MAX;
	int err;

	if (early && (err = spawn_clients(s)) != 0)
		return err;
	if ((err = prepare(s)) != 0)
		return err;
	if (s->opt.spawn > 0 && !early && (err = spawn_clients(s)) != 0)
		return err;
	if (s->opt.spawn == 0) {
		char says[600];

		/* within 80 columns, where the path allows */
		snprintf(says, sizeof(says), "listening on %s; waiting for %d client%s "
			 "(cowlab-client --name %s)", channel_hub_path(s->hub), s->opt.clients,
			 text_s((uint64_t)s->opt.clients), s->opt.name);
		text_print_wrapped(stderr, "cowlab-server:", says, 2);
	}
	return server_run(s);
}

static void teardown(struct server *s)
{
	channel_hub_destroy(s->hub);
	reap_clients(s);
	play_free(s);
	if (s->html != NULL) {
		/* the run did not get as far as its page: none */
		html_discard(s->html);
		s->html = NULL;
		remove(s->opt.html);
	}
	free(s->clients);
	free(s->invited.slots);
	section_unmap(s->section, s->rw);
	section_destroy(s->section);
}

/* One whole run: setup, experiment, verdict, the report, teardown; what
 * the server held before and after is the report's last member. */
static int run_once(struct server *s, int index)
{
	int status, err;

	memset(&s->report, 0, sizeof(s->report));
	report_init(&s->report);
	s->report.color = !s->opt.json && !s->opt.tap &&
			  report_color_wanted(s->opt.color, s->opt.color == REPORT_COLOR_AUTO &&
					      platform_terminal_ansi(1));
	platform_resources(&s->report.before);
	s->started_ms = platform_now_ms();
	/* a scenario's transcript is its progress */
	s->progress = s->opt.scenario == NULL && platform_stderr_is_terminal();
	/* the page map, live, where the progress line goes, on a terminal that
	 * can move its cursor (not TERM=dumb); in colour as --color says */
	{
		const char *term = getenv("TERM");

		s->live = s->progress && s->plan->live_map != NULL &&
			  (term == NULL || strcmp(term, "dumb") != 0) && platform_terminal_ansi(2);
		s->live_color = s->live && report_color_wanted(s->opt.color, true);
		s->live_lines = 0;
	}
	s->report.run = index;
	snprintf(s->report.version, sizeof(s->report.version), "%s", COWLAB_VERSION);
	platform_describe(&s->report.platform);
	s->report.cow_as_shared = s->opt.cow_as_shared;
	s->report.expected_clients = s->opt.clients;
	err = setup(s);
	if (err == 0 && s->opt.html != NULL) {
		char why[sizeof(s->report.setup_error)];

		err = html_open(&s->html, s->opt.html, why, sizeof(why));
		if (err != 0)
			memcpy(s->report.setup_error, why, sizeof(why));
	}
	if (err == 0)
		err = run(s);
	if (err != 0 && s->report.setup_error[0] == '\0')
		snprintf(s->report.setup_error, sizeof(s->report.setup_error), "the run failed: %s",
			 cowlab_strerror(err));
	if (s->report.setup_error[0] == '\0') {
		play_end(s);
		server_finish(s);
	} else if (s->opt.json || s->opt.tap) {
		/* said once: for people the report below says it; with --json
		 * the report is for a script, and a person reads stderr */
		text_print_wrapped(stderr, "cowlab-server:", s->report.setup_error, 2);
	}
	s->report.elapsed_ms = platform_now_ms() - s->started_ms;
	/* The report while the clients told the verdict exit; the resources
	 * held afterwards last. */
	if (s->opt.json) {
		report_json_begin(&s->report, stdout);
	} else if (s->opt.tap) {
		/* pages this machine does not have (huge pages not reserved):
		 * TAP's way to say the whole test is skipped, and why */
		if (s->report.setup_error[0] != '\0' && s->pages_unavailable)
			printf("1..0 # SKIP %s\n", s->report.setup_error);
		else if (s->report.setup_error[0] != '\0' && s->play != NULL)
			printf("Bail out! %s\n", s->report.setup_error);
		else if (s->report.setup_error[0] != '\0')
			play_tap_bail(stdout, s->report.setup_error);
	} else if (s->opt.scenario != NULL) {
		if (s->report.setup_error[0] != '\0')
			report_print_human(&s->report, stdout);
	} else {
		if (s->opt.repeat > 1)
			printf("%srun %d of %d\n", index > 1 ? "\n" : "", index, s->opt.repeat);
		report_print_human(&s->report, stdout);
	}
	teardown(s);
	platform_trim_heap();
	platform_resources(&s->report.after);
	if (s->opt.json)
		report_json_end(&s->report, stdout);
	status = report_exit_status(&s->report);
	if (s->opt.tap && s->pages_unavailable && s->report.setup_error[0] != '\0')
		status = REPORT_EXIT_HELD; /* a skip, said in the plan: not a pass */
	/* the report is the product: one that could not be written is an error */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cowlab-server: cannot write the report to standard output\n");
		status = REPORT_EXIT_USAGE;
	}
	/* After the last run the process ends, and its memory goes back at
	 * once: freeing the report's values one by one first (some 60 000 for
	 * 1000 clients) only delays the exit. They stay reachable from `s`. */
	if (index < s->opt.repeat)
		report_free(&s->report);
	return status;
}

/* With --repeat, the worst status: a usage error, then a failed check,
 * then lost clients. */
static int worse(int a, int b)
{
	static const int rank[] = { [REPORT_EXIT_HELD] = 0, [REPORT_EXIT_LOST] = 1,
				    [REPORT_EXIT_FAILED] = 2, [REPORT_EXIT_USAGE] = 3 };

	return rank[b] > rank[a] ? b : a;
}

int main(int argc, char **argv)
{
	static struct server s;
	struct server_options opt;
	int status;

	if (platform_utf8_argv(&argc, &argv) != 0) {
		fprintf(stderr, "cowlab-server: cannot read the command line\n");
		return REPORT_EXIT_USAGE;
	}
	status = parse_args(argc, argv, &s.opt);
	if (status >= 0)
		return status;
	platform_steady_heap();
	proto_init();
	static struct scenario sc;
	if (s.opt.scenario != NULL && (status = load_scenario(&s.opt, &sc)) >= 0)
		return status;
	/* Ctrl-C, SIGTERM: the run ends cleanly (its clients ended, the report
	 * so far, the name given back), then the process as it was asked. */
	if (interrupt_catch() != 0)
		fprintf(stderr, "cowlab-server: cannot catch interruptions: Ctrl-C will leave "
			"client processes behind\n");
	if (s.opt.spawn > 0 && process_bind_children() != 0)
		fprintf(stderr, "cowlab-server: cannot bind the client processes to this one: "
			"they may outlive it if it is killed\n");
	opt = s.opt;
	status = REPORT_EXIT_HELD;
	int runs[4] = { 0, 0, 0, 0 }, done = 0;
	for (int i = 1; i <= opt.repeat && status != REPORT_EXIT_USAGE; i++) {
		int one;

		memset(&s, 0, sizeof(s));
		s.opt = opt;
		s.sc = opt.scenario != NULL ? &sc : NULL;
		/* the built-in experiment: its document, read as any scenario
		 * (builtin.c), run by the same engine; a section over the limit
		 * is said by setup, as it always was */
		if (opt.scenario == NULL &&
		    builtin_section_pages((uint64_t)opt.clients, opt.pages_per_client) <=
		    SCENARIO_SECTION_PAGES_MAX) {
			char why[300];

			if (scenario_builtin(opt.clients, opt.pages_per_client,
					     (uint32_t)platform_page_size(), &sc, why,
					     sizeof(why)) != 0) {
				fprintf(stderr, "cowlab-server: %s\n", why[0] ? why : "out of memory");
				return REPORT_EXIT_USAGE;
			}
			s.sc = &sc;
		}
		s.plan = &play_plan;
		one = run_once(&s, i);
		runs[one]++;
		done++;
		status = worse(status, one);
		if (interrupt_pending() != 0)
			interrupt_exit(interrupt_pending());
	}
	/* For people, one line for all the runs; JSON lines stay JSON lines. */
	if (opt.repeat > 1 && !opt.json)
		printf("\n%d of %d run%s made: %d HELD, %d BROKEN, %d NOT PROVEN, %d setup "
		       "error%s; exit %d\n", done, opt.repeat, text_s((uint64_t)opt.repeat),
		       runs[REPORT_EXIT_HELD], runs[REPORT_EXIT_FAILED], runs[REPORT_EXIT_LOST],
		       runs[REPORT_EXIT_USAGE], text_s((uint64_t)runs[REPORT_EXIT_USAGE]), status);
	return status;
}
