/* cowlab-client: connects to a cowlab-server, maps the section it hands
 * over, performs the operations it asks for and reports each result. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "cli.h"
#include "cowlab-config.h"
#include "err.h"
#include "compat.h"
#include "explore.h"
#include "image.h"
#include "ops.h"
#include "platform.h"
#include "protocol.h"
#include "section.h"
#include "text.h"

/* The course's exercise, image_section_shared (docs/course.md): a counter
 * in the image's ordinary data, whose pages are copy-on-write (every
 * instance has its own), and one in the image section "shared", which
 * every running instance of this executable on the machine shares, other
 * runs' clients included. Both are initialized data, as the exercise
 * needs; both are counted up once, atomically, when a client joins. */
static _Atomic uint32_t image_private COWLAB_IMAGE_DATA = 0;
COWLAB_IMAGE_SHARED_BEGIN
static _Atomic uint32_t image_shared COWLAB_IMAGE_SHARED = 0;
COWLAB_IMAGE_SHARED_END

enum { EXIT_HELD = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LOST = 3 };
#define FORKED_CHILD 1 /* run_batch: this process is the child of its fork */

struct options {
	const char *name;
	int timeout_ms;
	bool quiet;
	bool no_verdict;        /* leave once our last results are sent */
	bool parent;            /* join only the server that started us */
	bool explore, json;
};

struct client {
	struct options opt;
	struct channel *chan;
	struct client_views views;
	struct proto_assign assign;
	int fork_child;         /* run_batch: the id the child of a fork joins as */
	uint8_t buf[CHANNEL_MSG_MAX];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cowlab-client [--name NAME] [--timeout SECONDS] [--quiet] [--no-verdict]\n"
		"                     [--parent]\n"
		"       cowlab-client --explore [--json]\n"
		"\n"
		"Joins the cowlab-server listening on NAME (default \"cowlab\"), maps the\n"
		"section it hands over and performs the copy-on-write experiment it asks for.\n"
		"\n"
		"  --name NAME        the server's name (cowlab-server --name NAME)\n"
		"  --timeout SECONDS  how long to wait for the server and for each message (30)\n"
		"  --quiet            print nothing but errors\n"
		"  --no-verdict       leave once our last results are sent (on Windows: and\n"
		"                     every client has joined), without waiting for the\n"
		"                     whole run's verdict (the server's report has it)\n"
		"  --parent           join only the server that started this client (what\n"
		"                     --spawn passes): if it has gone, join no other\n"
		"  --explore          no server: show the Virtual API on this machine (page\n"
		"                     sizes, a region's states, faults and protections), each\n"
		"                     demonstration judged against what Windows documents;\n"
		"                     exit 0 as documented or explained, 1 otherwise\n"
		"  --json             with --explore: print it as one JSON document\n"
		"  --help, --version\n"
		"\n"
		"Exit status: the run's, as the server's: 0 isolation held, 1 a check failed,\n"
		"3 not proven (an observation not made, a client lost, the server gone or\n"
		"silent); 2 usage or setup error. With --no-verdict, 0 once our results are\n"
		"sent.\n");
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	const char *seen[2] = { NULL, NULL }; /* --name, --timeout */

	o->name = "cowlab";
	o->timeout_ms = 30000;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int64_t n;
		int r;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_HELD;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("cowlab-client %s\n", COWLAB_VERSION);
			return EXIT_HELD;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			o->quiet = true;
			continue;
		}
		if (strcmp(argv[i], "--no-verdict") == 0) {
			o->no_verdict = true;
			continue;
		}
		if (strcmp(argv[i], "--parent") == 0) {
			o->parent = true;
			continue;
		}
		if (strcmp(argv[i], "--explore") == 0) {
			o->explore = true;
			continue;
		}
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		if ((r = cli_take(argc, argv, &i, "--name", &v)) == 1) {
			if (!cli_once("cowlab-client", &seen[0], "--name", v))
				return EXIT_USAGE;
			o->name = v;
			if (!channel_name_valid(v)) {
				fprintf(stderr, "cowlab-client: invalid --name \"%s\" (1-63 of "
					"A-Z a-z 0-9 . _ -, not starting with '.')\n", v);
				return EXIT_USAGE;
			}
			continue;
		}
		if (r == 0 && (r = cli_take(argc, argv, &i, "--timeout", &v)) == 1) {
			if (!cli_once("cowlab-client", &seen[1], "--timeout", v))
				return EXIT_USAGE;
			if (!cli_number(v, 1, 86400, &n)) {
				fprintf(stderr, "cowlab-client: --timeout takes a number from 1 to 86400, "
					"not \"%s\"\n", v);
				return EXIT_USAGE;
			}
			o->timeout_ms = (int)n * 1000;
			continue;
		}
		if (r < 0)
			fprintf(stderr, "cowlab-client: %s needs a value\n", argv[i]);
		else
			fprintf(stderr, "cowlab-client: unknown argument \"%s\"\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->json && !o->explore) {
		fprintf(stderr, "cowlab-client: --json goes with --explore\n");
		return EXIT_USAGE;
	}
	/* --explore joins no server: what only a client of a run does is
	 * refused, not silently ignored */
	if (o->explore && (o->quiet || o->no_verdict || o->parent || seen[0] || seen[1])) {
		fprintf(stderr, "cowlab-client: --explore joins no server: it does not go with %s\n",
			o->quiet ? "--quiet (it prints the exploration itself)" :
			o->no_verdict ? "--no-verdict" : o->parent ? "--parent" :
			seen[0] ? "--name" : "--timeout");
		return EXIT_USAGE;
	}
	return -1;
}

static int send_text(struct client *c, char *text, size_t len)
{
	int err;

	if (text == NULL)
		return COWLAB_E_NOMEM;
	err = channel_send(c->chan, text, len, NULL);
	free(text);
	return err;
}

static void send_error(struct client *c, const char *code, const char *message)
{
	size_t len = 0;
	char *text = proto_build_error(code, message, &len);

	send_text(c, text, len);
}

/* Receives and parses the next message. */
static int receive(struct client *c, struct proto_msg *msg, char *why, size_t cap)
{
	struct proto_limits lim = { c->views.pages, c->views.page_size, c->views.seed };
	size_t len = 0;
	int err = channel_recv(c->chan, c->buf, sizeof(c->buf), &len, c->opt.timeout_ms);

	if (err != 0) {
		snprintf(why, cap, "%s", cowlab_strerror(err));
		return err;
	}
	return proto_parse(c->buf, len, &lim, msg, why, cap);
}

/* Counts this instance in both counters and says what it saw, with what
 * the image format says about their pages. */
static void count_in_image(struct proto_hello *hello)
{
	struct image_facts *f = &hello->image;

	f->private_count = atomic_fetch_add(&image_private, 1) + 1;
	f->shared_count = atomic_fetch_add(&image_shared, 1) + 1;
	/* Facts it cannot find stay empty: the server judges them. */
	image_describe(f, (const void *)&image_private, (const void *)&image_shared);
	hello->has_image = true;
}

/* --parent: the server we reached must be the process that started us.
 * One that has died leaves us adopted by another (POSIX) while a new
 * server may take its name: we must not be counted in that one's run. */
static bool joined_parent(struct client *c)
{
	struct channel_peer peer = { 0, false };
	long parent = platform_parent_pid();

	if (channel_peer(c->chan, &peer) == 0 && peer.pid > 0 && peer.pid == parent)
		return true;
	fprintf(stderr, "cowlab-client: the server on \"%s\" (pid %ld) is not the one that "
		"started this client (pid %ld): it has gone; not joining another\n", c->opt.name,
		peer.pid, parent);
	return false;
}

/* Connects, retrying while no server listens on the name. On a terminal
 * (and not --quiet) it says at once where it looks, and counts down the
 * time left while it waits, rather than sitting silent for --timeout. */
static int reach(struct client *c, char *why, size_t cap)
{
	int64_t deadline = platform_now_ms() + c->opt.timeout_ms;
	bool tty = !c->opt.quiet && platform_stderr_is_terminal(), waited = false;
	char path[300];
	int err;

	if (tty && channel_path(c->opt.name, path, sizeof(path)) == 0)
		fprintf(stderr, "cowlab-client: looking for server \"%s\" at %s\n", c->opt.name,
			path);
	for (;;) {
		int64_t left = deadline - platform_now_ms();
		int slice = !tty || left < 1000 ? (int)(left > 0 ? left : 0) : 1000;

		err = channel_connect(&c->chan, c->opt.name, slice, why, cap);
		if (err == 0 || left <= slice || !(err_is(err, COWLAB_E_NOENT) ||
						    err_is(err, COWLAB_E_AGAIN)))
			break;
		fprintf(stderr, "\rcowlab-client: no server there yet; waiting, %lld s left "
			"(Ctrl-C to stop) ", (long long)((left - slice + 999) / 1000));
		waited = true;
	}
	if (waited)
		fputc('\n', stderr);
	return err;
}

/* Joins the server; `forked`: as the child of a fork (its views, its
 * section and its copies are its parent's), as client `child`. */
static int join(struct client *c, int parent, int child)
{
	struct proto_hello hello = { .pid = platform_pid(), .no_verdict = c->opt.no_verdict,
				     .fork_parent = parent, .fork_child = child };
	struct section *again = NULL;
	struct proto_msg msg;
	char why[PROTO_TEXT_MAX];
	size_t len = 0;
	char *text;
	int err;

	snprintf(hello.version, sizeof(hello.version), "%s", COWLAB_VERSION);
	/* a fork's child is its parent's image, counted once already */
	if (child == 0)
		count_in_image(&hello);
	err = reach(c, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr, "cowlab-client: cannot reach server \"%s\": %s\n", c->opt.name,
			why[0] != '\0' ? why : cowlab_strerror(err));
		/* no server there (yet): 3; a setup that cannot work here: 2 */
		return err_is(err, COWLAB_E_NOENT) || err_is(err, COWLAB_E_TIMEOUT) ||
		       err_is(err, COWLAB_E_AGAIN) ? EXIT_LOST : EXIT_USAGE;
	}
	/* (a fork's child was started by its parent, not the server) */
	if (c->opt.parent && child == 0 && !joined_parent(c))
		return EXIT_LOST;
	text = proto_build_hello(&hello, &len);
	err = send_text(c, text, len);
	if (err != 0)
		snprintf(why, sizeof(why), "cannot send hello: %s", cowlab_strerror(err));
	else
		err = receive(c, &msg, why, sizeof(why));
	if (err != 0) {
		fprintf(stderr, "cowlab-client: no assignment from the server: %s\n", why);
		return err_is(err, COWLAB_E_PROTO) ? EXIT_USAGE : EXIT_LOST;
	}
	if (msg.type == PROTO_ERROR) {
		fprintf(stderr, "cowlab-client: the server refused us: %s (%s)\n",
			msg.u.error.message, msg.u.error.code);
		return EXIT_LOST;
	}
	if (msg.type != PROTO_ASSIGN) {
		send_error(c, "unexpected", "expected an assign message");
		fprintf(stderr, "cowlab-client: expected an assignment, got \"%s\"\n",
			proto_type_name(msg.type));
		proto_msg_free(&msg);
		return EXIT_USAGE;
	}
	c->assign = msg.u.assign;
	/* our page size, or the huge page size of the section that came */
	if (c->assign.page_size < platform_page_size()) {
		send_error(c, "page_size", "the server's page size is below ours");
		fprintf(stderr, "cowlab-client: page size %u is below ours\n",
			c->assign.page_size);
		return EXIT_USAGE;
	}
	if (child != 0 && c->assign.id != child) {
		send_error(c, "unexpected", "assigned another id than the fork's child's");
		fprintf(stderr, "cowlab-client: forked as client %d, assigned %d\n", child,
			c->assign.id);
		return EXIT_USAGE;
	}
	err = section_open_paged(child != 0 ? &again : &c->views.section, c->assign.section_name,
				 c->assign.section_size, c->assign.page_size, c->chan);
	if (err == 0 && again != NULL) {
		/* the child maps its parent's views already: the section that
		 * came must be theirs, and is not mapped twice */
		bool same = section_same(again, c->views.section);

		section_destroy(again);
		if (!same) {
			send_error(c, "section", "not the section the fork's views map");
			fprintf(stderr, "cowlab-client: the section assigned is not the one "
				"the parent's views map\n");
			return EXIT_USAGE;
		}
	}
	if (err != 0) {
		send_error(c, "section", "cannot open the section");
		if (err_is(err, COWLAB_E_PROTO))
			fprintf(stderr, "cowlab-client: cannot open the section: no descriptor came "
				"with the assignment\n");
		else
			fprintf(stderr, "cowlab-client: cannot open the section: %s\n",
				cowlab_strerror(err));
		return EXIT_USAGE;
	}
	c->views.pages = c->assign.section_size / c->assign.page_size;
	c->views.page_size = c->assign.page_size;
	c->views.seed = c->assign.seed;
	if (c->assign.timeout_ms > c->opt.timeout_ms)
		c->opt.timeout_ms = c->assign.timeout_ms;
	return -1;
}

/* Each operation's result is written out as soon as it is known, so that
 * only one is ever held (proto_result_begin). */
static int run_batch(struct client *c, const struct proto_run *run)
{
	struct proto_op_result result;
	struct proto_text t;
	size_t len;
	char *text;
	int err;

	proto_result_begin(&t, run->seq);
	for (size_t i = 0; i < run->nops; i++) {
		if (run->ops[i].kind == PROTO_OP_FORK) {
			long pid = platform_fork();

			memset(&result, 0, sizeof(result));
			result.kind = PROTO_OP_FORK;
			result.ok = pid > 0;
			if (pid == 0) {
				/* the child: the rest of the batch is the parent's */
				free(proto_result_end(&t, &len));
				c->fork_child = run->ops[i].child;
				return FORKED_CHILD;
			}
			if (pid > 0)
				result.pid = (uint64_t)pid;
			else
				snprintf(result.error, sizeof(result.error), "fork failed: %s",
					 cowlab_strerror((int)pid));
		} else {
			ops_run(&c->views, &run->ops[i], &result);
		}
		proto_result_add(&t, &result);
		proto_op_result_free(&result);
	}
	text = proto_result_end(&t, &len);
	if (text == NULL) {
		send_error(c, "too_big", "the result does not fit in one message");
		return COWLAB_E_TOOBIG;
	}
	err = send_text(c, text, len);
	return err;
}

/* Our last results are sent: nothing is left to do, and the verdict is the
 * server's. */
static int delivered(const struct client *c)
{
	if (!c->opt.quiet)
		printf("cowlab-client: client %d (pid %ld), pages %llu-%llu: results delivered; "
		       "the verdict is the server's\n", c->assign.id, platform_pid(),
		       (unsigned long long)c->assign.first_page,
		       (unsigned long long)(c->assign.first_page + c->assign.page_count - 1));
	return EXIT_HELD;
}

/* A result that could not be sent: the server may have dropped us, and
 * then it said why before it closed: read that rather than guess. */
static int result_not_sent(struct client *c, int err)
{
	struct proto_msg msg;
	char why[PROTO_TEXT_MAX];
	size_t len = 0;

	if (channel_recv(c->chan, c->buf, sizeof(c->buf), &len, 1000) == 0 &&
	    proto_parse(c->buf, len, NULL, &msg, why, sizeof(why)) == 0) {
		if (msg.type == PROTO_ERROR) {
			fprintf(stderr, "cowlab-client: the server dropped us: %s (%s)\n",
				msg.u.error.message, msg.u.error.code);
			return EXIT_LOST;
		}
		proto_msg_free(&msg);
	}
	fprintf(stderr, "cowlab-client: cannot send a result: %s\n", cowlab_strerror(err));
	return EXIT_LOST;
}

/* The run is judged: what we know of it, our own checks and the run's
 * verdict, and the run's exit status as ours (a client whose own checks
 * held in a run that is not proven must not say 0). */
static int finished(const struct client *c, const struct proto_done *d)
{
	static const char *const verdicts[] = { "HELD", "BROKEN", "?", "NOT PROVEN" };

	if (!c->opt.quiet) {
		printf("cowlab-client: client %d (pid %ld), pages %llu-%llu: %d of %d check%s "
		       "held\n", c->assign.id, platform_pid(),
		       (unsigned long long)c->assign.first_page,
		       (unsigned long long)(c->assign.first_page + c->assign.page_count - 1),
		       d->checks_held, d->checks_total, d->checks_total == 1 ? "" : "s");
		printf("cowlab-client: the run: isolation %s (exit %d)\n",
		       verdicts[d->run_exit_status], d->run_exit_status);
		if (d->message[0] != '\0')
			text_print_wrapped(stdout, "cowlab-client:", d->message, 2);
	}
	return d->run_exit_status;
}

static int serve(struct client *c)
{
	char why[PROTO_TEXT_MAX];
	bool held = false; /* a `last` batch answered: the server lets us go */

	for (;;) {
		struct proto_msg msg;
		int err = receive(c, &msg, why, sizeof(why));

		if (held && err_is(err, COWLAB_E_CLOSED))
			return delivered(c);
		if (err_is(err, COWLAB_E_PROTO) || err_is(err, COWLAB_E_TOOBIG)) {
			send_error(c, err_is(err, COWLAB_E_TOOBIG) ? "too_big" : "bad_message", why);
			fprintf(stderr, "cowlab-client: bad message from the server: %s\n", why);
			return EXIT_USAGE;
		}
		if (err != 0) {
			fprintf(stderr, "cowlab-client: lost the server: %s\n", why);
			return EXIT_LOST;
		}
		if (held && msg.type != PROTO_ERROR) {
			/* after a `last` batch only an error may come */
			send_error(c, "unexpected", "a message after the last batch");
			fprintf(stderr, "cowlab-client: unexpected \"%s\" message after the last "
				"batch\n", proto_type_name(msg.type));
			proto_msg_free(&msg);
			return EXIT_USAGE;
		}
		switch (msg.type) {
		case PROTO_RUN:
			err = run_batch(c, &msg.u.run);
			if (err == FORKED_CHILD) {
				/* the child of a fork joins the run as a client of
				 * its own, on a connection of its own (the parent's
				 * stays the parent's) */
				int parent = c->assign.id, status;

				channel_close(c->chan);
				c->chan = NULL;
				status = join(c, parent, c->fork_child);
				if (status >= 0)
					return status;
				if (!c->opt.quiet) {
					printf("cowlab-client: forked from client %d: joined as client "
					       "%d (pid %ld)\n", parent, c->assign.id, platform_pid());
					fflush(stdout);
				}
				held = false;
				break;
			}
			if (err != 0)
				return result_not_sent(c, err);
			/* After the last batch nothing a check rests on needs us,
			 * but where the image has a shared section: the course's
			 * shared counter lives only while an instance maps it, so
			 * the server keeps us until every client has counted, and
			 * then closes the connection. */
			if (msg.u.run.last && !image_has_shared_sections())
				return delivered(c);
			held = msg.u.run.last;
			break;
		case PROTO_DONE:
			return finished(c, &msg.u.done);
		case PROTO_ERROR:
			{
				char says[PROTO_TEXT_MAX + 80];

				snprintf(says, sizeof(says), "the server ended the run: %s (%s)",
					 msg.u.error.message, msg.u.error.code);
				text_print_wrapped(stderr, "cowlab-client:", says, 2);
			}
			return EXIT_LOST;
		default:
			send_error(c, "unexpected", "unexpected message type");
			fprintf(stderr, "cowlab-client: unexpected \"%s\" message\n",
				proto_type_name(msg.type));
			proto_msg_free(&msg);
			return EXIT_USAGE;
		}
	}
}

int main(int argc, char **argv)
{
	static struct client c; /* large buffer: not on the stack */
	int status;

	if (platform_utf8_argv(&argc, &argv) != 0) {
		fprintf(stderr, "cowlab-client: cannot read the command line\n");
		return EXIT_USAGE;
	}
	status = parse_args(argc, argv, &c.opt);
	proto_init();

	if (status >= 0)
		return status;
	if (c.opt.explore)
		return explore_command(c.opt.json);
	status = join(&c, 0, 0);
	if (status < 0) {
		if (!c.opt.quiet) {
			printf("cowlab-client: joined \"%s\" as client %d, pages %llu-%llu\n",
			       c.opt.name, c.assign.id, (unsigned long long)c.assign.first_page,
			       (unsigned long long)(c.assign.first_page + c.assign.page_count - 1));
			fflush(stdout);
		}
		status = serve(&c);
	}
	/* The process ends here: its views, the section and the connection
	 * go with it, all at once, which costs less than unmapping each view
	 * first (one flush of the address space instead of one a view). */
	return status;
}
