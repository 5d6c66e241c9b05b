/* The reference model (model.h; the rules in words: docs/model.md). One
 * open-addressing table holds everything that differs from a section just
 * filled and views just mapped: the words written into the section, each
 * view's private copies (the section's page as it was when copied, and
 * what was written since), and per-page protections. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "pattern.h"

const struct model_rules model_rules_linux = {
	.name = "Linux",
	.no_writecopy_on_shared = "Linux cannot make a page of a MAP_SHARED mapping copy-on-write: "
				  "mprotect has no such protection",
	.no_discard = NULL,
	.no_write_on_ro = NULL,
};

/* Windows' rules, which Wine keeps */
#define WINDOWS_NO_DISCARD "Windows has no call that drops a mapped view's private copies " \
			   "short of unmapping it (DiscardVirtualMemory is for private memory)"
#define WINDOWS_NO_FORK "Win32 has no fork (what comes closest, a section handle inherited " \
			"through CreateProcess, is how every client maps the section already)"
#define WINDOWS_NO_WRITE_ON_RO "a FILE_MAP_READ view cannot be made writable: VirtualProtect " \
			       "refuses more access than the view was mapped with"

const struct model_rules model_rules_windows = {
	.name = "Windows",
	.no_writecopy_on_shared = NULL,
	.no_discard = WINDOWS_NO_DISCARD,
	.no_write_on_ro = WINDOWS_NO_WRITE_ON_RO,
	.no_fork = WINDOWS_NO_FORK,
};

const struct model_rules model_rules_wine = {
	.name = "Wine",
	.no_writecopy_on_shared = NULL,
	.no_discard = WINDOWS_NO_DISCARD,
	.no_write_on_ro = WINDOWS_NO_WRITE_ON_RO,
	.no_fork = WINDOWS_NO_FORK,
	.writecopy_writes_through = "Wine 8.0 writes a PAGE_WRITECOPY page of a FILE_MAP_WRITE "
				    "view through to the section; Windows copies it",
};

struct word {
	uint32_t offset, value;
};

/* One page of one space: the section's (space 0) or a view's. */
struct rec {
	uint64_t key;            /* space << 40 | page, plus 1: 0 is an empty slot */
	bool copied;             /* a view's private copy exists */
	uint8_t prot;            /* a view's protection, MODEL_DEFAULT when as mapped */
	uint32_t group;          /* a copy shared with fork relatives: its group in
				    `sharers`, else 0 */
	uint32_t n, cap;
	struct word *w;          /* the words that differ from the pattern */
};

struct model {
	uint64_t pages;
	uint32_t page_size, seed;
	int clients;
	const struct model_rules *rules;
	bool *mapped;            /* (clients + 1) * MODEL_VIEWS */
	struct rec *table;
	size_t mask, used;       /* slots - 1; records in use */
	uint64_t words;          /* words held, for model_bytes */
	/* after a fork, one physical copy is several participants' until
	 * they write: sharers[g] of them hold group g's (0 unused) */
	uint32_t *sharers;
	size_t ngroups, gcap;
};

static const enum model_protect view_default[MODEL_VIEWS] = {
	[MODEL_RW] = MODEL_READWRITE, [MODEL_COW] = MODEL_WRITECOPY, [MODEL_RO] = MODEL_READONLY,
};

uint32_t model_stamp(int who)
{
	return 0x51A70000u + (uint32_t)who + 1u;
}

static uint64_t space_of(int who, enum model_view v)
{
	return 1 + (uint64_t)who * MODEL_VIEWS + (uint64_t)v;
}

static uint64_t key_of(uint64_t space, uint64_t page)
{
	return (space << 40 | page) + 1;
}

static size_t slot_of(const struct model *m, uint64_t key)
{
	size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull >> 17) & m->mask;

	while (m->table[h].key != 0 && m->table[h].key != key)
		h = (h + 1) & m->mask;
	return h;
}

static struct rec *find(const struct model *m, uint64_t space, uint64_t page)
{
	size_t h = slot_of(m, key_of(space, page));

	return m->table[h].key != 0 ? &m->table[h] : NULL;
}

static int grow(struct model *m)
{
	size_t old = m->mask + 1;
	struct rec *t = m->table;

	m->table = calloc(old * 2, sizeof(*m->table));
	if (m->table == NULL) {
		m->table = t;
		return COWLAB_E_NOMEM;
	}
	m->mask = old * 2 - 1;
	for (size_t i = 0; i < old; i++)
		if (t[i].key != 0)
			m->table[slot_of(m, t[i].key)] = t[i];
	free(t);
	return COWLAB_OK;
}

/* The record of a page of a space, made when missing; NULL out of memory. */
static struct rec *get(struct model *m, uint64_t space, uint64_t page)
{
	uint64_t key = key_of(space, page);
	size_t h;

	if (2 * (m->used + 1) > m->mask + 1 && grow(m) != 0)
		return NULL;
	h = slot_of(m, key);
	if (m->table[h].key == 0) {
		memset(&m->table[h], 0, sizeof(m->table[h]));
		m->table[h].key = key;
		m->table[h].prot = MODEL_DEFAULT;
		m->used++;
	}
	return &m->table[h];
}

/* A copy no longer one of its group's: written (it copies again), let go
 * or dropped. */
static void leave_group(struct model *m, struct rec *r)
{
	if (r->group != 0) {
		m->sharers[r->group]--;
		r->group = 0;
	}
}

/* Removes a record, moving those after it in its run back into place. */
static void drop(struct model *m, struct rec *r)
{
	size_t h = (size_t)(r - m->table);

	leave_group(m, r);
	m->words -= r->n;
	free(r->w);
	memset(r, 0, sizeof(*r));
	m->used--;
	for (size_t k = (h + 1) & m->mask; m->table[k].key != 0; k = (k + 1) & m->mask) {
		struct rec moved = m->table[k];

		/* the slot let go whole: its words go with the record */
		memset(&m->table[k], 0, sizeof(m->table[k]));
		m->table[slot_of(m, moved.key)] = moved;
	}
}

static bool word_at(const struct rec *r, uint32_t offset, uint32_t *value)
{
	for (uint32_t i = 0; r != NULL && i < r->n; i++) {
		if (r->w[i].offset == offset) {
			*value = r->w[i].value;
			return true;
		}
	}
	return false;
}

static int set_word(struct model *m, struct rec *r, uint32_t offset, uint32_t value)
{
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->w[i].offset == offset) {
			r->w[i].value = value;
			return COWLAB_OK;
		}
	}
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 2;
		struct word *w = realloc(r->w, cap * sizeof(*w));

		if (w == NULL)
			return COWLAB_E_NOMEM;
		r->w = w;
		r->cap = cap;
	}
	r->w[r->n++] = (struct word){ offset, value };
	m->words++;
	return COWLAB_OK;
}

int model_create(struct model **out, uint64_t pages, uint32_t page_size, uint32_t seed,
		 int clients, const struct model_rules *rules)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return COWLAB_E_NOMEM;
	m->pages = pages;
	m->page_size = page_size;
	m->seed = seed;
	m->clients = clients;
	m->rules = rules;
	m->mask = 63;
	m->mapped = calloc((size_t)(clients + 1) * MODEL_VIEWS, sizeof(*m->mapped));
	m->table = calloc(m->mask + 1, sizeof(*m->table));
	if (m->mapped == NULL || m->table == NULL) {
		model_destroy(m);
		return COWLAB_E_NOMEM;
	}
	*out = m;
	return COWLAB_OK;
}

void model_destroy(struct model *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; m->table != NULL && i <= m->mask; i++)
		free(m->table[i].w);
	free(m->table);
	free(m->mapped);
	free(m->sharers);
	free(m);
}

int model_clone(const struct model *m, struct model **out)
{
	struct model *c = calloc(1, sizeof(*c));
	size_t nmapped = (size_t)(m->clients + 1) * MODEL_VIEWS;

	if (c == NULL)
		return COWLAB_E_NOMEM;
	*c = *m;
	c->mapped = malloc(nmapped * sizeof(*c->mapped));
	c->table = calloc(m->mask + 1, sizeof(*c->table));
	if (c->mapped == NULL || c->table == NULL) {
		free(c->mapped);
		free(c->table);
		free(c);
		return COWLAB_E_NOMEM;
	}
	memcpy(c->mapped, m->mapped, nmapped * sizeof(*c->mapped));
	c->sharers = NULL;
	if (m->gcap > 0) {
		c->sharers = malloc(m->gcap * sizeof(*c->sharers));
		if (c->sharers == NULL) {
			free(c->mapped);
			free(c->table);
			free(c);
			return COWLAB_E_NOMEM;
		}
		memcpy(c->sharers, m->sharers, m->gcap * sizeof(*c->sharers));
	}
	for (size_t i = 0; i <= m->mask; i++) {
		c->table[i] = m->table[i];
		c->table[i].w = NULL;
		c->table[i].cap = 0;
		if (m->table[i].n == 0)
			continue;
		c->table[i].w = malloc(m->table[i].n * sizeof(*c->table[i].w));
		if (c->table[i].w == NULL) {
			c->table[i].n = 0;
			model_destroy(c);
			return COWLAB_E_NOMEM;
		}
		memcpy(c->table[i].w, m->table[i].w, m->table[i].n * sizeof(*c->table[i].w));
		c->table[i].cap = m->table[i].n;
	}
	*out = c;
	return COWLAB_OK;
}

uint64_t model_bytes(const struct model *m)
{
	return sizeof(*m) + (m->mask + 1) * sizeof(struct rec) + m->words * sizeof(struct word) +
	       (uint64_t)(m->clients + 1) * MODEL_VIEWS + m->gcap * sizeof(*m->sharers);
}

static bool *mapped(struct model *m, int who, enum model_view v)
{
	return &m->mapped[(size_t)who * MODEL_VIEWS + v];
}

static struct model_prediction result(enum model_outcome o, const char *why)
{
	struct model_prediction p = { o, 0, why };

	return p;
}

static const struct model_prediction out_of_memory = { MODEL_REFUSED, 0, "the model ran out of "
							"memory" };

bool model_out_of_memory(struct model_prediction p)
{
	return p.outcome == MODEL_REFUSED && p.why == out_of_memory.why;
}

static enum model_protect protection(const struct model *m, int who, enum model_view v,
				     uint64_t page)
{
	const struct rec *r = find(m, space_of(who, v), page);

	return r != NULL && r->prot != MODEL_DEFAULT ? (enum model_protect)r->prot :
						       view_default[v];
}

/* The word the section holds at a place. */
static uint32_t section_word(const struct model *m, uint64_t page, uint32_t offset)
{
	uint32_t value;

	if (word_at(find(m, 0, page), offset, &value))
		return value;
	return pattern_value(m->seed, page, offset);
}

struct model_prediction model_map(struct model *m, int who, enum model_view v)
{
	if (*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is mapped already");
	*mapped(m, who, v) = true;
	return result(MODEL_OK, NULL);
}

/* Unmapping a view takes its copies and protections with it: mapped again,
 * it tracks the section. */
struct model_prediction model_unmap(struct model *m, int who, enum model_view v)
{
	uint64_t space = space_of(who, v);

	if (!*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is not mapped");
	*mapped(m, who, v) = false;
	/* again until a pass drops nothing: a drop moves records of its run */
	for (bool dropped = true; dropped;) {
		dropped = false;
		for (size_t i = 0; i <= m->mask; i++) {
			if (m->table[i].key != 0 && (m->table[i].key - 1) >> 40 == space) {
				drop(m, &m->table[i]);
				dropped = true;
			}
		}
	}
	return result(MODEL_OK, NULL);
}

/* The first write to a page of a copy-on-write view copies the section's
 * page as it is then; the write lands in the copy. */
static struct rec *copy_of(struct model *m, int who, enum model_view v, uint64_t page)
{
	struct rec *c = get(m, space_of(who, v), page);
	const struct rec *s;

	if (c == NULL || c->copied)
		return c;
	/* `get` may have moved the table: look the section up after it */
	s = find(m, 0, page);
	for (uint32_t i = 0; s != NULL && i < s->n; i++)
		if (set_word(m, c, s->w[i].offset, s->w[i].value) != 0)
			return NULL;
	c->copied = true;
	return c;
}

struct model_prediction model_write(struct model *m, int who, enum model_view v, uint64_t page,
				    uint32_t offset, uint32_t word)
{
	enum model_protect p;
	struct rec *r;

	if (!*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is not mapped");
	p = protection(m, who, v, page);
	if (p == MODEL_READONLY || p == MODEL_NOACCESS)
		return result(MODEL_FAULTS, NULL);
	/* a page copied already takes the write, whatever its protection;
	 * else a cow view copies, and so does a rw view made write-copy
	 * (Windows); anything else writes through to the section */
	r = find(m, space_of(who, v), page);
	/* a copy shared with fork relatives: the writer copies it again, for
	 * itself alone; the last of them writes it in place */
	if (r != NULL && r->copied)
		leave_group(m, r);
	if (r == NULL || !r->copied)
		r = v == MODEL_COW || (p == MODEL_WRITECOPY &&
					 m->rules->writecopy_writes_through == NULL) ?
			    copy_of(m, who, v, page) : get(m, 0, page);
	if (r == NULL || set_word(m, r, offset, word) != 0)
		return out_of_memory;
	return result(MODEL_OK, NULL);
}

enum model_write_effect model_write_would(const struct model *m, int who, enum model_view v,
					  uint64_t page)
{
	enum model_protect p;
	const struct rec *r;

	if (!m->mapped[(size_t)who * MODEL_VIEWS + v])
		return MODEL_WOULD_BE_REFUSED;
	p = protection(m, who, v, page);
	if (p == MODEL_READONLY || p == MODEL_NOACCESS)
		return MODEL_WOULD_FAULT;
	r = find(m, space_of(who, v), page);
	if (r != NULL && r->copied)
		return r->group != 0 && m->sharers[r->group] > 1 ? MODEL_WOULD_COPY :
								    MODEL_WOULD_WRITE_COPY;
	return v == MODEL_COW || (p == MODEL_WRITECOPY && m->rules->writecopy_writes_through == NULL) ?
		       MODEL_WOULD_COPY : MODEL_WOULD_WRITE_SECTION;
}

struct model_prediction model_read(struct model *m, int who, enum model_view v, uint64_t page,
				   uint32_t offset)
{
	const struct rec *c;
	struct model_prediction out = result(MODEL_OK, NULL);

	if (!*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is not mapped");
	if (protection(m, who, v, page) == MODEL_NOACCESS)
		return result(MODEL_FAULTS, NULL);
	c = find(m, space_of(who, v), page);
	/* a read never copies: the copy if there is one, else the section */
	if (c != NULL && c->copied) {
		if (!word_at(c, offset, &out.word))
			out.word = pattern_value(m->seed, page, offset);
	} else {
		out.word = section_word(m, page, offset);
	}
	return out;
}

struct model_prediction model_protect(struct model *m, int who, enum model_view v,
				      uint64_t page, enum model_protect p)
{
	struct rec *r;

	if (!*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is not mapped");
	if (p == MODEL_WRITECOPY && v != MODEL_COW && m->rules->no_writecopy_on_shared)
		return result(MODEL_NOT_APPLICABLE, m->rules->no_writecopy_on_shared);
	if (v == MODEL_RO && (p == MODEL_READWRITE || p == MODEL_WRITECOPY) &&
	    m->rules->no_write_on_ro)
		return result(MODEL_NOT_APPLICABLE, m->rules->no_write_on_ro);
	/* a copied page keeps its copy, whatever its protection becomes */
	r = p == view_default[v] ? find(m, space_of(who, v), page) :
				   get(m, space_of(who, v), page);
	if (r == NULL && p != view_default[v])
		return out_of_memory;
	if (r != NULL) {
		r->prot = p == view_default[v] ? MODEL_DEFAULT : (uint8_t)p;
		if (!r->copied && r->n == 0 && r->prot == MODEL_DEFAULT)
			drop(m, r);
	}
	return result(MODEL_OK, NULL);
}

/* Discarding a copy-on-write range drops its private copies (Linux
 * MADV_DONTNEED): the pages track the section again. A shared view's
 * pages are the section's: nothing changes. */
struct model_prediction model_discard(struct model *m, int who, enum model_view v,
				      uint64_t page)
{
	struct rec *r;

	if (!*mapped(m, who, v))
		return result(MODEL_REFUSED, "the view is not mapped");
	if (m->rules->no_discard)
		return result(MODEL_NOT_APPLICABLE, m->rules->no_discard);
	r = find(m, space_of(who, v), page);
	if (r != NULL && r->copied) {
		leave_group(m, r);
		m->words -= r->n;
		r->n = 0;
		r->copied = false;
		if (r->prot == MODEL_DEFAULT)
			drop(m, r);
	}
	return result(MODEL_OK, NULL);
}

bool model_is_copy(const struct model *m, int who, enum model_view v, uint64_t page)
{
	const struct rec *r = find(m, space_of(who, v), page);

	return r != NULL && r->copied;
}

int model_copy_sharers(const struct model *m, int who, enum model_view v, uint64_t page)
{
	const struct rec *r = find(m, space_of(who, v), page);

	if (r == NULL || !r->copied)
		return 0;
	return r->group != 0 && m->sharers[r->group] > 1 ? (int)m->sharers[r->group] : 1;
}

/* A new group of sharers, or 0 out of memory. */
static uint32_t new_group(struct model *m)
{
	if (m->ngroups + 1 >= m->gcap) {
		size_t cap = m->gcap ? m->gcap * 2 : 64;
		uint32_t *g = realloc(m->sharers, cap * sizeof(*g));

		if (g == NULL)
			return 0;
		memset(g + m->gcap, 0, (cap - m->gcap) * sizeof(*g));
		m->sharers = g;
		m->gcap = cap;
	}
	if (m->ngroups == 0)
		m->ngroups = 1; /* 0 is no group */
	return (uint32_t)m->ngroups++;
}

struct model_prediction model_fork(struct model *m, int parent, int child)
{
	struct rec *of = NULL;
	size_t n = 0;
	int e = COWLAB_OK;

	if (m->rules->no_fork != NULL)
		return result(MODEL_NOT_APPLICABLE, m->rules->no_fork);
	for (int v = 0; v < MODEL_VIEWS; v++)
		if (*mapped(m, child, (enum model_view)v))
			return result(MODEL_REFUSED, "the child has a view of its own already");
	/* the parent's records first (adding the child's may move the table) */
	for (size_t i = 0; i <= m->mask; i++) {
		uint64_t space = m->table[i].key != 0 ? (m->table[i].key - 1) >> 40 : 0;

		n += space >= space_of(parent, 0) && space < space_of(parent, MODEL_VIEWS);
	}
	if (n > 0 && (of = malloc(n * sizeof(*of))) == NULL)
		return out_of_memory;
	n = 0;
	for (size_t i = 0; i <= m->mask; i++) {
		struct rec *r = &m->table[i];
		uint64_t space = r->key != 0 ? (r->key - 1) >> 40 : 0;

		if (space < space_of(parent, 0) || space >= space_of(parent, MODEL_VIEWS))
			continue;
		/* a copy is now the parent's and the child's */
		if (r->copied && r->group == 0 && (r->group = new_group(m)) != 0)
			m->sharers[r->group] = 1;
		if (r->copied && r->group == 0) {
			e = COWLAB_E_NOMEM;
			break;
		}
		of[n++] = *r;
	}
	for (size_t i = 0; e == 0 && i < n; i++) {
		uint64_t space = (of[i].key - 1) >> 40, page = (of[i].key - 1) & ((1ull << 40) - 1);
		struct rec *c = get(m, space - space_of(parent, 0) + space_of(child, 0), page);

		if (c == NULL) {
			e = COWLAB_E_NOMEM;
			break;
		}
		c->copied = of[i].copied;
		c->prot = of[i].prot;
		for (uint32_t w = 0; e == 0 && w < of[i].n; w++)
			e = set_word(m, c, of[i].w[w].offset, of[i].w[w].value);
		if (e == 0 && of[i].group != 0) {
			c->group = of[i].group;
			m->sharers[c->group]++;
		}
	}
	free(of);
	if (e != 0)
		return out_of_memory;
	for (int v = 0; v < MODEL_VIEWS; v++)
		*mapped(m, child, (enum model_view)v) = *mapped(m, parent, (enum model_view)v);
	return result(MODEL_OK, NULL);
}

uint64_t model_copy_relatives(const struct model *m, int who, enum model_view v, uint64_t page)
{
	const struct rec *r = find(m, space_of(who, v), page);
	uint64_t mask = 0;

	if (r == NULL || !r->copied || r->group == 0 || m->sharers[r->group] < 2)
		return 0;
	/* clients 1 to 64 (the server forks nobody, and only forks share) */
	for (int j = 1; j <= m->clients && j <= 64; j++) {
		const struct rec *o = j == who ? NULL : find(m, space_of(j, v), page);

		if (o != NULL && o->copied && o->group == r->group)
			mask |= (uint64_t)1 << (j - 1);
	}
	return mask;
}

void model_view_copies(const struct model *m, int who, enum model_view v, uint64_t unknown,
		       uint64_t *own, uint64_t *shared)
{
	uint64_t space = space_of(who, v);

	*own = *shared = 0;
	for (size_t i = 0; i <= m->mask; i++) {
		const struct rec *r = &m->table[i];
		uint64_t page = (r->key - 1) & ((1ull << 40) - 1);

		if (r->key == 0 || (r->key - 1) >> 40 != space || !r->copied)
			continue;
		if (r->group != 0 && m->sharers[r->group] > 1) {
			if ((model_copy_relatives(m, who, v, page) & unknown) == 0)
				(*shared)++;
		} else {
			(*own)++;
		}
	}
}
