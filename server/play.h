/* Running a scenario (docs/scenarios.md) with the reference model
 * (model.h) as its judge: steps in order for whatever can see what (each
 * client at its own pace, docs/scenarios.md "Pacing"), every action of every
 * participant predicted before it is sent, every observation compared
 * with its prediction, the author's own predictions shown beside both.
 * The server is a participant too: it does its actions itself, with the
 * client's own code (client/ops.c). Output as the steps end: a transcript
 * for people, TAP, or the whole run in the report's JSON. */
#ifndef COWLAB_PLAY_H
#define COWLAB_PLAY_H

#include <stdio.h>

#include "scenario.h"

struct server;

/* A transcript for people, the run in the report's JSON, TAP; or only the
 * report (its checks, page map and clients: the built-in run's form,
 * printed by the caller, cowlab-server --spawn N without --scenario). */
enum play_output { PLAY_HUMAN, PLAY_JSON, PLAY_TAP, PLAY_REPORT };

/* After the section is made and listened on: the models, the section's
 * pattern, the first lines of the output. Takes the scenario over. 0, or a
 * negative cowlab_err with the report's setup_error said. */
int play_begin(struct server *s, struct scenario *sc, enum play_output out);
/* After the event loop: runs what is left (the server's own steps when no
 * client is left), fills the report's checks and prints the end of the
 * transcript or the TAP points of the checks. */
void play_end(struct server *s);
void play_free(struct server *s);

/* The TAP lines of a run that could not start. */
void play_tap_bail(FILE *out, const char *why);

extern const struct plan play_plan;

#endif
