/* libFuzzer target over the scenario reader (server/scenario.c): a file is
 * untrusted input. Whatever the bytes, scenario_parse must not crash or
 * leak, must say why when it refuses, and what it accepts must keep the
 * reader's promises (pages inside the section, ids inside the clients,
 * counts within their caps). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void keeps_promises(const struct scenario *s)
{
	uint64_t clients = s->clients == 64 ? UINT64_MAX : ((uint64_t)1 << s->clients) - 1;

	/* a section given as a number of pages has at most SCENARIO_PAGES_MAX;
	 * one laid out by client ("each") up to SCENARIO_SECTION_PAGES_MAX */
	uint32_t pages_max = s->each > 0 ? SCENARIO_SECTION_PAGES_MAX : SCENARIO_PAGES_MAX;

	if (s->nsteps < 1 || s->nsteps > SCENARIO_STEPS_MAX || s->clients < 1 ||
	    s->clients > SCENARIO_CLIENTS_MAX || s->pages < 1 || s->pages > pages_max)
		abort();
	size_t total = 0;

	if (s->each > 0 && s->pages != s->before + (uint64_t)s->each * (uint64_t)s->clients +
					  s->after)
		abort();
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct scenario_step *st = &s->steps[i];

		if ((total += st->nactions) > SCENARIO_ACTIONS_TOTAL)
			abort();

		if (st->nactions < 1 || st->nactions > SCENARIO_ACTIONS_MAX || st->say == NULL)
			abort();
		for (size_t k = 0; k < st->nactions; k++) {
			const struct scenario_action *a = &st->actions[k];
			uint64_t prev_end = 0;

			if ((a->who.clients & ~clients) != 0 || (!a->who.server && !a->who.clients))
				abort();
			/* a fork: one client, a child born here, one of the last ids,
			 * and nobody acts as the child before the next step */
			if (a->op == SCENARIO_FORK &&
			    (a->who.server || (a->who.clients & (a->who.clients - 1)) != 0 ||
			     a->child < 1 || a->child > s->clients || a->child > SCENARIO_CLIENTS_MAX ||
			     s->born_in[a->child] != (int)i || a->child <= s->clients - s->forks))
				abort();
			for (int c = 1; c <= s->clients && c <= SCENARIO_CLIENTS_MAX; c++)
				if (s->born_in[c] >= (int)i && c <= 64 && (a->who.clients >> (c - 1) & 1))
					abort();
			for (size_t r = 0; r < a->pages.nruns; r++) {
				if (a->pages.runs[r].count == 0 || a->pages.runs[r].first < prev_end ||
				    (uint64_t)a->pages.runs[r].first + a->pages.runs[r].count > s->pages)
					abort();
				prev_end = (uint64_t)a->pages.runs[r].first + a->pages.runs[r].count;
			}
			if (a->offset % 4 != 0 || a->offset > (s->page_size ? s->page_size : 4096) - 4 ||
			    (s->page_size & (s->page_size - 1)) != 0)
				abort();
			/* pages relative to a client: inside the section for each */
			for (int c = 1; a->rel.kind != SCENARIO_ABSOLUTE && c <= s->clients; c++) {
				struct scenario_pages pg;
				uint64_t end = 0, sum = 0;

				if (s->each == 0 || a->pages.nruns != 0)
					abort();
				scenario_pages_of(s, a, c, &pg);
				for (size_t r = 0; r < pg.nruns; r++) {
					if (pg.runs[r].count == 0 || pg.runs[r].first < end ||
					    (uint64_t)pg.runs[r].first + pg.runs[r].count > s->pages)
						abort();
					end = (uint64_t)pg.runs[r].first + pg.runs[r].count;
					sum += pg.runs[r].count;
				}
				if (sum != pg.total)
					abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario s;
	char why[256];
	int err = scenario_parse((const char *)data, size, 4096, &s, why, sizeof(why));
	bool any = err == 0 && s.names_client[0] == '\0';

	if (err == 0)
		keeps_promises(&s);
	else if (why[0] == '\0' && !err_is(err, COWLAB_E_NOMEM))
		abort(); /* a refusal that says nothing */
	scenario_free(&s);
	/* one that names no client runs with any number: some other number,
	 * its pages relative to each client laid out again */
	if (any) {
		err = scenario_parse_for((const char *)data, size, 4096, (int)(size % 64) + 1, &s,
					 why, sizeof(why));
		if (err == 0)
			keeps_promises(&s);
		else if (why[0] == '\0' && !err_is(err, COWLAB_E_NOMEM))
			abort();
		scenario_free(&s);
	}
	return 0;
}
