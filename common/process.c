/* The background starter of process.h: the platform parts are
 * process_start and a thread. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "platform.h"
#include "process.h"

struct process_starter {
	struct platform_thread *thread;
	struct process **procs;
	int count;
	char **argv;              /* copies, in one allocation with their strings */
	char *path;
	atomic_int started;
	atomic_bool ended, stop;
	atomic_int err;
};

static void starter_main(void *arg)
{
	struct process_starter *st = arg;

	process_starter_thread_init();

	for (int i = 0, reaped = 0; i < st->count && !atomic_load(&st->stop); i++) {
		int err = process_start_files(&st->procs[i], st->path, (const char *const *)st->argv,
					      NULL, NULL, true);
		int code;

		if (err != 0) {
			atomic_store(&st->err, err);
			break;
		}
		atomic_store(&st->started, i + 1);
		/* The earliest that have ended are reaped as it goes, a few a
		 * start, oldest first: in a long run they leave while others
		 * start, and their reaping is not left for the end. */
		for (int k = 0; k < 4 && reaped < i && process_wait(st->procs[reaped], 0, &code) == 0;
		     k++)
			reaped++;
	}
	atomic_store(&st->ended, true);
}

int process_starter_begin(struct process_starter **out, const char *path,
			  const char *const argv[], struct process **procs, int count)
{
	struct process_starter *st = calloc(1, sizeof(*st));
	size_t n = 0, bytes = strlen(path) + 1;
	char *text;
	int err;

	if (st == NULL)
		return COWLAB_E_NOMEM;
	while (argv[n] != NULL)
		bytes += strlen(argv[n++]) + 1;
	st->argv = malloc((n + 1) * sizeof(char *) + bytes);
	if (st->argv == NULL) {
		free(st);
		return COWLAB_E_NOMEM;
	}
	text = (char *)(st->argv + n + 1);
	st->path = strcpy(text, path);
	text += strlen(path) + 1;
	for (size_t i = 0; i < n; i++) {
		st->argv[i] = strcpy(text, argv[i]);
		text += strlen(argv[i]) + 1;
	}
	st->argv[n] = NULL;
	st->procs = procs;
	st->count = count;
	atomic_init(&st->started, 0);
	atomic_init(&st->ended, count <= 0);
	atomic_init(&st->stop, false);
	atomic_init(&st->err, 0);
	if (count > 0 && (err = platform_thread_start(&st->thread, starter_main, st)) != 0) {
		free(st->argv);
		free(st);
		return err;
	}
	*out = st;
	return COWLAB_OK;
}

int process_starter_progress(struct process_starter *st, bool *ended, int *err)
{
	/* `ended` first: once it is true, `started` is final */
	*ended = atomic_load(&st->ended);
	*err = atomic_load(&st->err);
	return atomic_load(&st->started);
}

int process_starter_end(struct process_starter *st)
{
	int n;

	if (st == NULL)
		return 0;
	atomic_store(&st->stop, true);
	platform_thread_join(st->thread);
	n = atomic_load(&st->started);
	free(st->argv);
	free(st);
	return n;
}
