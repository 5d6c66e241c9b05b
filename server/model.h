/* The reference model of copy-on-write (docs/model.md): the section's
 * words, each participant's views, their private copies and per-page
 * protections, and the rules that say what every action must observe.
 * It predicts; the judge compares. Sparse: it holds the words written and
 * the pages touched, never the section itself, so a section of millions of
 * pages costs what was written.
 *
 * Participants are numbered: 0 the server, 1..clients the clients. Where
 * the platforms differ the rules are data (struct model_rules), not code
 * paths. */
#ifndef COWLAB_MODEL_H
#define COWLAB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

enum model_view { MODEL_RW, MODEL_COW, MODEL_RO, MODEL_VIEWS };
enum model_protect { MODEL_READONLY, MODEL_READWRITE, MODEL_WRITECOPY, MODEL_NOACCESS,
		     MODEL_DEFAULT /* the view's own, as mapped */ };

/* How a platform's memory manager differs, each with its reason for the
 * report when an action cannot be done there. */
struct model_rules {
	const char *name;                 /* "Linux", "Windows" */
	/* protect(writecopy) on a rw view makes its pages copy-on-write
	 * (Windows' VirtualProtect(PAGE_WRITECOPY) on a FILE_MAP_WRITE view);
	 * NULL when it can, else why not */
	const char *no_writecopy_on_shared;
	/* discard on a cow view drops its private copies (Linux
	 * MADV_DONTNEED); NULL when it can, else why not */
	const char *no_discard;
	/* protect(readwrite) on a ro view (Linux: mprotect on a view of a file
	 * opened read/write; Windows refuses: FILE_MAP_READ); NULL when it
	 * can, else why not */
	const char *no_write_on_ro;
	/* A named deviation: a write to a page of a shared view protected
	 * write-copy goes through to the section instead of copying it (Wine
	 * 8.0); NULL where it copies, else the deviation in words */
	const char *writecopy_writes_through;
	/* fork: a participant's process forks, its child inheriting its
	 * views and private copies (Linux); NULL when it can, else why not */
	const char *no_fork;
};
/* Wine: Windows' rules with Wine's named deviations. */
extern const struct model_rules model_rules_linux, model_rules_windows, model_rules_wine;

/* What an action must do. */
enum model_outcome {
	MODEL_OK,             /* done; a read gives `word` */
	MODEL_FAULTS,         /* an access fault, nothing changed */
	MODEL_REFUSED,        /* the call fails (a view not mapped, mapped twice) */
	MODEL_NOT_APPLICABLE, /* this platform cannot do it: `why` */
};

struct model_prediction {
	enum model_outcome outcome;
	uint32_t word;        /* a read: the word it returns */
	const char *why;      /* refused, not applicable: in words */
};

struct model;

/* A model of a section of `pages` pages filled with the pattern of `seed`,
 * for the server and `clients` clients, under `rules`. Returns 0 or a
 * negative cowlab_err. */
int model_create(struct model **out, uint64_t pages, uint32_t page_size, uint32_t seed,
		 int clients, const struct model_rules *rules);
void model_destroy(struct model *m);
/* A copy of a model that goes its own way (--step tries a step on one).
 * Returns 0 or a negative cowlab_err. */
int model_clone(const struct model *m, struct model **out);

/* The stamp constant of a participant: its stamp is the pattern xor this,
 * distinct for every participant and never 0. */
uint32_t model_stamp(int who);

/* Each predicts what the action must do and applies it to the model. */
struct model_prediction model_map(struct model *m, int who, enum model_view v);
struct model_prediction model_unmap(struct model *m, int who, enum model_view v);
/* Whether a prediction is MODEL_REFUSED because the model itself ran out
 * of memory (a fault of the machine, not a rule of the platform). */
bool model_out_of_memory(struct model_prediction p);
struct model_prediction model_write(struct model *m, int who, enum model_view v, uint64_t page,
				    uint32_t offset, uint32_t word);
struct model_prediction model_read(struct model *m, int who, enum model_view v, uint64_t page,
				   uint32_t offset);
struct model_prediction model_protect(struct model *m, int who, enum model_view v,
				      uint64_t page, enum model_protect p);
struct model_prediction model_discard(struct model *m, int who, enum model_view v,
				      uint64_t page);

/* `parent` forks and its child becomes participant `child`: the child
 * has the parent's views, protections and private copies, and each of
 * those copies is one page the two share until either writes it (a second
 * layer of copy-on-write: the writer then copies again, for itself alone;
 * the last sharer left writes its page in place). Pages the parent has
 * not copied track the section in both. Refused when the child has a
 * view already; not applicable where there is no fork. */
struct model_prediction model_fork(struct model *m, int parent, int child);

/* How many participants share the private copy `who` holds of a page of
 * a view: 1 when it is its own alone, more after a fork until they write,
 * 0 when it holds no copy. */
int model_copy_sharers(const struct model *m, int who, enum model_view v, uint64_t page);

/* The clients (bit j - 1: client j, of the first 64; only clients fork)
 * that share the copy `who` holds of a page, who aside: 0 when it is its
 * own alone or no copy. */
uint64_t model_copy_relatives(const struct model *m, int who, enum model_view v, uint64_t page);

/* A participant's copies in a whole view: its own alone, and those still
 * shared with fork relatives; a copy shared with a participant in
 * `unknown` (bit j - 1: client j, whose process may be gone, and its
 * share with it) is counted in neither. Costs what the model holds. */
void model_view_copies(const struct model *m, int who, enum model_view v, uint64_t unknown,
		       uint64_t *own, uint64_t *shared);

/* What a write would do, without doing it (--step shows it before the
 * step): the same rules as model_write. */
enum model_write_effect {
	MODEL_WOULD_BE_REFUSED, /* the view is not mapped */
	MODEL_WOULD_FAULT,      /* read-only or no access */
	MODEL_WOULD_COPY,       /* a private copy made now (of the section's page,
				   or of a copy still shared with a fork relative) */
	MODEL_WOULD_WRITE_COPY, /* into the participant's copy, made before */
	MODEL_WOULD_WRITE_SECTION, /* through to the section */
};
enum model_write_effect model_write_would(const struct model *m, int who, enum model_view v,
					  uint64_t page);

/* The evidence a page must give: whether it is a private copy of the
 * participant's view. Any other page may be present (`s`) or not (`.`):
 * presence is not predictable (a read maps neighbours too). */
bool model_is_copy(const struct model *m, int who, enum model_view v, uint64_t page);

/* What the model holds, in bytes: grows with what was written. */
uint64_t model_bytes(const struct model *m);

#endif
