/* --html FILE: the run as one self-contained HTML page (docs/report.md,
 * "The HTML report"): the steps as a timeline, each with what the OS said
 * of every page it was asked about (a cell a page, for each view of each
 * participant that asked), the section's page map, the checks, the cost of
 * a copy as an inline SVG histogram, and the verdict. No network, no
 * script or font from elsewhere: one file to open offline. */
#ifndef COWLAB_HTML_H
#define COWLAB_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

struct html;

/* Creates the file now (so that a path that cannot be written stops the
 * run before it starts). Returns 0 or a negative cowlab_err, why in words. */
int html_open(struct html **out, const char *path, char *why, size_t cap);
/* A step of the timeline: its sentence, and what the run said of it in
 * words (the transcript's lines, or its counts). */
void html_step(struct html *h, int step, const char *name, const char *say, const char *text);
/* What the OS said of some pages of one view of one participant in a step
 * (`seen`, a letter a page: P private copy, s the section's page, . not
 * present, ? not known), with the model's prediction (`pred`: P or -), the
 * status (0 as predicted, 1 differs, 2 not proven, 3 not applicable), why
 * in words when not as predicted, and each source's count. */
void html_row(struct html *h, int step, int who, const char *view, const uint64_t *pages,
	      size_t n, const char *seen, const char *pred, int status, const char *why,
	      const char *sources);
/* Writes the page with the run's report (its page map, checks, cost of a
 * copy, verdict) and closes the file; frees h. Returns 0 or a negative
 * cowlab_err. */
int html_close(struct html *h, const struct report *r, const char *title, uint32_t before,
	       uint32_t each);
/* Frees h without writing (a run that did not start). */
void html_discard(struct html *h);

#endif
