#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "compat.h"
#include "err.h"
#include "json.h"
#include "pattern.h"
#include "protocol.h"
#include "text.h"

/* The largest integer accepted in a number field: cJSON prints numbers
 * with 15 significant digits, so larger ones would not survive a round
 * trip (a double alone would carry up to 2^53 exactly). */
#define JSON_INT_MAX 999999999999999.0

static const char *const type_names[] = {
	[PROTO_HELLO] = "hello", [PROTO_ASSIGN] = "assign", [PROTO_RUN] = "run",
	[PROTO_RESULT] = "result", [PROTO_DONE] = "done", [PROTO_ERROR] = "error",
};
static const char *const view_names[] = {
	[PROTO_VIEW_RW] = "rw", [PROTO_VIEW_COW] = "cow", [PROTO_VIEW_RO] = "ro",
};
static const char *const op_names[] = {
	[PROTO_OP_MAP] = "map", [PROTO_OP_WRITE] = "write", [PROTO_OP_EXPECT] = "expect",
	[PROTO_OP_FIND] = "find", [PROTO_OP_FAULT_WRITE] = "fault_write",
	[PROTO_OP_EVIDENCE] = "evidence", [PROTO_OP_UNMAP] = "unmap",
	[PROTO_OP_PROTECT] = "protect", [PROTO_OP_DISCARD] = "discard",
	[PROTO_OP_FORK] = "fork",
};
static const char *const protect_names[] = {
	[PROTO_READONLY] = "readonly", [PROTO_READWRITE] = "readwrite",
	[PROTO_WRITECOPY] = "writecopy", [PROTO_NOACCESS] = "noaccess",
};

uint32_t proto_op_word(const struct proto_op *op, uint32_t seed, uint64_t page)
{
	return op->literal ? op->value : pattern_value(seed, page, op->offset) ^ op->xor_value;
}

const char *proto_type_name(enum proto_type t) { return type_names[t]; }
const char *proto_view_name(enum proto_view v) { return view_names[v]; }
const char *proto_op_name(enum proto_op_kind k) { return op_names[k]; }

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

bool proto_range_valid(const struct proto_range *r, uint64_t pages)
{
	if (r->count == 0 || r->step == 0 || r->first >= pages)
		return false;
	/* last = first + (count-1)*step must stay below pages, without overflow */
	if (r->count - 1 > (pages - 1 - r->first) / r->step)
		return false;
	return true;
}

uint64_t proto_range_page(const struct proto_range *r, uint64_t i)
{
	return r->first + i * r->step;
}

static bool range_contains(const struct proto_range *r, uint64_t page)
{
	if (page < r->first || (page - r->first) % r->step != 0)
		return false;
	return (page - r->first) / r->step < r->count;
}

/* A message's cJSON tree lives only while the message is parsed or built,
 * so its nodes come from a per-thread arena, reset when the tree is gone:
 * no malloc/free pair for each of a message's values and keys. Outside a
 * message, and when the arena is full, the hooks are plain malloc/free.
 * (Per-thread, private to this file: the one piece of module state here,
 * a cache that changes no result.) */
#define ARENA_SIZE (64 * 1024) /* a run or result needs some 15 KiB; below malloc's mmap threshold */

static _Thread_local struct {
	char *base;
	size_t used;
	int depth;
	size_t spilled;  /* allocations inside a message that did not fit */
} arena;

static void *arena_malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (arena.depth > 0 && arena.base != NULL && n <= ARENA_SIZE - arena.used) {
		void *p = arena.base + arena.used;

		arena.used += n;
		return p;
	}
	arena.spilled += arena.depth > 0;
	return malloc(n);
}

static bool in_arena(const void *p)
{
	return arena.base != NULL && (const char *)p >= arena.base &&
	       (const char *)p < arena.base + ARENA_SIZE;
}

static void arena_free(void *p)
{
	if (in_arena(p))
		return; /* the arena is reset as a whole */
	free(p);
}

static void arena_enter(void)
{
	if (arena.depth++ == 0) {
		arena.spilled = 0;
		if (arena.base == NULL)
			arena.base = malloc(ARENA_SIZE); /* lives as long as the thread */
	}
}

static void arena_leave(void)
{
	if (--arena.depth == 0)
		arena.used = 0;
}

/* Frees a tree of this message: nothing to do, node by node, when every
 * node is in the arena, which arena_leave resets as a whole. (Without
 * proto_init cJSON allocates with malloc: the root is then outside.) */
static void arena_delete(cJSON *root)
{
	if (arena.depth != 1 || arena.spilled > 0 || !in_arena(root))
		cJSON_Delete(root);
}

void proto_init(void)
{
	cJSON_Hooks hooks = { arena_malloc, arena_free };

	cJSON_InitHooks(&hooks);
}

/* A whole number in [0, max] (max at most 2^53): the range test comes
 * first, so that the conversion is defined, and NaN fails it. No libm:
 * one library less for every client to load. */
static bool whole_number(double d, double max)
{
	if (!(d >= 0 && d <= max))
		return false;
	return d == (double)(uint64_t)d;
}

/* ---- parsing helpers: each fails with a message naming the field ---- */

struct parser {
	char *why;
	size_t why_cap;
};

static int fail(struct parser *p, const char *fmt, ...) COWLAB_PRINTF(2, 3);

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why != NULL && p->why_cap > 0) {
		va_start(ap, fmt);
		vsnprintf(p->why, p->why_cap, fmt, ap);
		va_end(ap);
	}
	return COWLAB_E_PROTO;
}

static int get_uint(struct parser *p, const cJSON *obj, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (it == NULL)
		return fail(p, "missing field \"%s\"", key);
	if (!cJSON_IsNumber(it))
		return fail(p, "field \"%s\" is not a number", key);
	d = it->valuedouble;
	if (!whole_number(d, JSON_INT_MAX))
		return fail(p, "field \"%s\" is not a non-negative integer", key);
	if ((uint64_t)d < min || (uint64_t)d > max)
		return fail(p, "field \"%s\" is out of range [%llu, %llu]", key,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)d;
	return 0;
}

static int get_u32(struct parser *p, const cJSON *obj, const char *key,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = get_uint(p, obj, key, min, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

static int get_string(struct parser *p, const cJSON *obj, const char *key,
		      char *buf, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (it == NULL)
		return fail(p, "missing field \"%s\"", key);
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return fail(p, "field \"%s\" is not a string", key);
	if (strlen(it->valuestring) >= cap)
		return fail(p, "field \"%s\" is longer than %zu bytes", key, cap - 1);
	/* cJSON passes raw bytes through: a text that is not UTF-8 would
	 * make the report that prints it invalid JSON */
	if (!text_utf8_valid(it->valuestring))
		return fail(p, "field \"%s\" is not valid UTF-8", key);
	memcpy(buf, it->valuestring, strlen(it->valuestring) + 1);
	return 0;
}

static int get_bool(struct parser *p, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (it == NULL)
		return fail(p, "missing field \"%s\"", key);
	if (!cJSON_IsBool(it))
		return fail(p, "field \"%s\" is not a boolean", key);
	*out = cJSON_IsTrue(it);
	return 0;
}

/* A boolean that may be left out: then `absent`. */
static int get_optional_bool(struct parser *p, const cJSON *obj, const char *key, bool absent,
			     bool *out)
{
	*out = absent;
	if (cJSON_GetObjectItemCaseSensitive(obj, key) == NULL)
		return 0;
	return get_bool(p, obj, key, out);
}

/* No control characters: C0, DEL, and C1 (U+0080-U+009F, UTF-8 C2 80-9F),
 * which terminals may take as escape sequences when a text is printed. */
static bool text_is_clean(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return false;
		if (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return false;
	}
	return true;
}

static int get_enum(struct parser *p, const cJSON *obj, const char *key,
		    const char *const *names, int n, int *out)
{
	char buf[32];
	int r = get_string(p, obj, key, buf, sizeof(buf));

	if (r != 0)
		return r;
	*out = lookup(buf, names, n);
	if (*out < 0 && !text_is_clean(buf))
		return fail(p, "field \"%s\" has an unknown value with control characters", key);
	if (*out < 0)
		return fail(p, "field \"%s\" has an unknown value \"%s\"", key, buf);
	return 0;
}

/* ---- messages ---- */

/* A clean text field that may be null (then ""). */
static int get_text_or_null(struct parser *p, const cJSON *obj, const char *key,
			    char *buf, size_t cap, bool *was_null)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	int r;

	*was_null = cJSON_IsNull(it);
	buf[0] = '\0';
	if (*was_null)
		return 0;
	if ((r = get_string(p, obj, key, buf, cap)) != 0)
		return r;
	if (!text_is_clean(buf))
		return fail(p, "field \"%s\" has control characters", key);
	return 0;
}

static int parse_image_section(struct parser *p, const cJSON *sec, struct image_facts *f)
{
	bool null;
	int r;

	if (!cJSON_IsObject(sec))
		return fail(p, "field \"section\" is neither an object nor null");
	if ((r = get_text_or_null(p, sec, "name", f->section_name, sizeof(f->section_name),
				  &null)) != 0)
		return r;
	if (null || f->section_name[0] == '\0')
		return fail(p, "field \"name\" of the section is empty");
	if ((r = get_u32(p, sec, "characteristics", 0, UINT32_MAX, &f->characteristics)) != 0)
		return r;
	if ((r = get_text_or_null(p, sec, "protect", f->protect, sizeof(f->protect), &null)) != 0)
		return r;
	f->section_found = true;
	return 0;
}

/* The hello's "image": null, or the client's image facts. A PE image has
 * a section and no maps line; an ELF image the other way round. */
static int parse_image(struct parser *p, const cJSON *root, struct proto_hello *h)
{
	static const char *const formats[] = { "elf", "pe" };
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(root, "image"), *sec;
	struct image_facts *f = &h->image;
	int format, r;
	bool null;

	memset(f, 0, sizeof(*f));
	if (img == NULL)
		return fail(p, "missing field \"image\"");
	if (cJSON_IsNull(img))
		return 0;
	if (!cJSON_IsObject(img))
		return fail(p, "field \"image\" is neither an object nor null");
	if ((r = get_enum(p, img, "format", formats, IMAGE_FORMAT_COUNT, &format)) != 0)
		return r;
	f->format = (enum image_format)format;
	if ((r = get_uint(p, img, "private", 1, (uint64_t)JSON_INT_MAX, &f->private_count)) != 0 ||
	    (r = get_uint(p, img, "shared", 1, (uint64_t)JSON_INT_MAX, &f->shared_count)) != 0)
		return r;
	sec = cJSON_GetObjectItemCaseSensitive(img, "section");
	if (sec == NULL)
		return fail(p, "missing field \"section\"");
	if (!cJSON_IsNull(sec) && f->format != IMAGE_FORMAT_PE)
		return fail(p, "field \"section\" of an ELF image is not null");
	if (!cJSON_IsNull(sec) && (r = parse_image_section(p, sec, f)) != 0)
		return r;
	if (cJSON_GetObjectItemCaseSensitive(img, "data_mapping") == NULL)
		return fail(p, "missing field \"data_mapping\"");
	if ((r = get_text_or_null(p, img, "data_mapping", f->data_mapping,
				  sizeof(f->data_mapping), &null)) != 0)
		return r;
	if (!null && f->format != IMAGE_FORMAT_ELF)
		return fail(p, "field \"data_mapping\" of a PE image is not null");
	h->has_image = true;
	return 0;
}

static int parse_hello(struct parser *p, const cJSON *root, struct proto_hello *h)
{
	uint64_t pid;
	bool verdict;
	int r;

	if ((r = get_uint(p, root, "pid", 1, INT32_MAX, &pid)) != 0)
		return r;
	h->pid = (long)pid;
	if ((r = get_string(p, root, "version", h->version, sizeof(h->version))) != 0)
		return r;
	if (!text_is_clean(h->version))
		return fail(p, "field \"version\" has control characters");
	if ((r = get_optional_bool(p, root, "verdict", true, &verdict)) != 0)
		return r;
	h->no_verdict = !verdict;
	if (cJSON_GetObjectItemCaseSensitive(root, "fork") != NULL) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "fork");
		uint64_t parent, child;

		if (!cJSON_IsObject(f))
			return fail(p, "field \"fork\" is not an object");
		if ((r = get_uint(p, f, "parent", 1, INT32_MAX, &parent)) != 0 ||
		    (r = get_uint(p, f, "child", 1, INT32_MAX, &child)) != 0)
			return r;
		if (parent == child)
			return fail(p, "a fork's child is not its parent");
		h->fork_parent = (int)parent;
		h->fork_child = (int)child;
	}
	return parse_image(p, root, h);
}

static bool section_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '\\'))
			return false;
	}
	return true;
}

static int parse_assign(struct parser *p, const cJSON *root, struct proto_assign *a)
{
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, "section");
	const cJSON *pages = cJSON_GetObjectItemCaseSensitive(root, "pages");
	uint64_t v, total;
	int r;

	if ((r = get_uint(p, root, "id", 1, INT32_MAX, &v)) != 0)
		return r;
	a->id = (int)v;
	if ((r = get_uint(p, root, "timeout_ms", 1, PROTO_WAIT_MAX_MS, &v)) != 0)
		return r;
	a->timeout_ms = (int)v;
	if (!cJSON_IsObject(sec))
		return fail(p, "field \"section\" is not an object");
	if (!cJSON_IsObject(pages))
		return fail(p, "field \"pages\" is not an object");
	if ((r = get_string(p, sec, "name", a->section_name, sizeof(a->section_name))) != 0)
		return r;
	if (!section_name_ok(a->section_name))
		return fail(p, "field \"name\" has characters outside [A-Za-z0-9._-\\]");
	if ((r = get_u32(p, sec, "page_size", 512, 1u << 30, &a->page_size)) != 0)
		return r;
	if ((a->page_size & (a->page_size - 1)) != 0)
		return fail(p, "field \"page_size\" is not a power of two");
	if ((r = get_uint(p, sec, "size", a->page_size, (uint64_t)1 << 46, &a->section_size)) != 0)
		return r;
	if (a->section_size % a->page_size != 0)
		return fail(p, "field \"size\" is not a multiple of page_size");
	if ((r = get_u32(p, sec, "seed", 0, UINT32_MAX, &a->seed)) != 0)
		return r;
	total = a->section_size / a->page_size;
	if ((r = get_uint(p, pages, "first", 0, total - 1, &a->first_page)) != 0)
		return r;
	if ((r = get_uint(p, pages, "count", 1, total - a->first_page, &a->page_count)) != 0)
		return r;
	return 0;
}

static int parse_range(struct parser *p, const cJSON *o, const struct proto_limits *lim,
		       struct proto_range *r)
{
	int e;

	if ((e = get_uint(p, o, "first", 0, lim->pages - 1, &r->first)) != 0 ||
	    (e = get_uint(p, o, "count", 1, lim->pages, &r->count)) != 0 ||
	    (e = get_uint(p, o, "step", 1, lim->pages, &r->step)) != 0)
		return e;
	if (!proto_range_valid(r, lim->pages))
		return fail(p, "page range runs past the section's %llu pages",
			    (unsigned long long)lim->pages);
	return 0;
}

static int parse_op(struct parser *p, const cJSON *o, const struct proto_limits *lim,
		    struct proto_op *op)
{
	int kind, view, e;

	memset(op, 0, sizeof(*op));
	if (!cJSON_IsObject(o))
		return fail(p, "an operation is not an object");
	if ((e = get_enum(p, o, "op", op_names, PROTO_OP_KIND_COUNT, &kind)) != 0)
		return e;
	op->kind = (enum proto_op_kind)kind;
	if (op->kind == PROTO_OP_FORK) {
		/* the process, not a view */
		uint64_t child;

		if (cJSON_GetObjectItemCaseSensitive(o, "view") != NULL)
			return fail(p, "a fork takes no view");
		if ((e = get_uint(p, o, "child", 1, INT32_MAX, &child)) != 0)
			return e;
		op->child = (int)child;
		return 0;
	}
	if ((e = get_enum(p, o, "view", view_names, PROTO_VIEW_COUNT, &view)) != 0)
		return e;
	op->view = (enum proto_view)view;
	if (op->kind == PROTO_OP_MAP) {
		if ((e = get_bool(p, o, "as_shared", &op->as_shared)) != 0)
			return e;
		if (op->as_shared && op->view != PROTO_VIEW_COW)
			return fail(p, "only the cow view can be mapped as shared");
		return 0;
	}
	if (op->kind == PROTO_OP_UNMAP)
		return 0;
	if ((e = parse_range(p, o, lim, &op->range)) != 0)
		return e;
	if (op->kind == PROTO_OP_DISCARD)
		return 0;
	if (op->kind == PROTO_OP_PROTECT) {
		int prot;

		if ((e = get_enum(p, o, "protect", protect_names, PROTO_PROTECT_COUNT, &prot)) != 0)
			return e;
		op->protect = (enum proto_protect)prot;
		return 0;
	}
	if (op->kind == PROTO_OP_EVIDENCE) {
		if (op->range.step != 1 || op->range.count > PROTO_EVIDENCE_MAX)
			return fail(p, "evidence takes step 1 and at most %d pages",
				    PROTO_EVIDENCE_MAX);
		return 0;
	}
	if ((e = get_u32(p, o, "offset", 0, lim->page_size - 4, &op->offset)) != 0)
		return e;
	if (op->offset % 4 != 0)
		return fail(p, "field \"offset\" is not a multiple of 4");
	/* the word: the pattern xor a stamp, or one literal word for every page */
	op->literal = cJSON_GetObjectItemCaseSensitive(o, "value") != NULL;
	if (op->literal && cJSON_GetObjectItemCaseSensitive(o, "xor") != NULL)
		return fail(p, "an operation takes \"xor\" or \"value\", not both");
	if (op->literal)
		return get_u32(p, o, "value", 0, UINT32_MAX, &op->value);
	return get_u32(p, o, "xor", 0, UINT32_MAX, &op->xor_value);
}

static int parse_run(struct parser *p, const cJSON *root, const struct proto_limits *lim,
		     struct proto_run *run)
{
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "ops");
	const cJSON *o;
	int e;

	if (lim == NULL || lim->pages == 0)
		return fail(p, "\"run\" before the section was assigned");
	if ((e = get_uint(p, root, "seq", 0, (uint64_t)JSON_INT_MAX, &run->seq)) != 0 ||
	    (e = get_optional_bool(p, root, "last", false, &run->last)) != 0)
		return e;
	if (!cJSON_IsArray(ops))
		return fail(p, "field \"ops\" is not an array");
	if (cJSON_GetArraySize(ops) < 1 || cJSON_GetArraySize(ops) > PROTO_OPS_MAX)
		return fail(p, "field \"ops\" must hold 1 to %d operations", PROTO_OPS_MAX);
	run->nops = 0;
	cJSON_ArrayForEach(o, ops) {
		if ((e = parse_op(p, o, lim, &run->ops[run->nops])) != 0)
			return e;
		run->nops++;
	}
	return 0;
}

uint32_t proto_time_bucket(uint64_t ns)
{
	uint32_t l = 0, b;

	if (ns < 4)
		return (uint32_t)ns;
	while (l < 63 && (ns >> (l + 1)) != 0)
		l++; /* floor(log2(ns)), 2 or more */
	b = 4 * (l - 1) + (uint32_t)((ns >> (l - 2)) & 3);
	return b < PROTO_TIME_BUCKETS ? b : PROTO_TIME_BUCKETS - 1;
}

uint64_t proto_time_lo_ns(uint32_t bucket)
{
	if (bucket < 4)
		return bucket;
	return (uint64_t)(4 + bucket % 4) << (bucket / 4 - 1);
}

/* "times", "again": [[bucket, count], ...], buckets rising */
static int parse_hist(struct parser *p, const cJSON *o, const char *key, struct proto_time *out,
		      size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *t;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > PROTO_TIME_BUCKETS)
		return fail(p, "field \"%s\" is not an array of at most %d buckets", key,
			    PROTO_TIME_BUCKETS);
	cJSON_ArrayForEach(t, arr) {
		const cJSON *b = cJSON_GetArrayItem(t, 0), *c = cJSON_GetArrayItem(t, 1);
		struct proto_time *pt = &out[*n];

		if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) != 2 || !cJSON_IsNumber(b) ||
		    !cJSON_IsNumber(c) || !whole_number(b->valuedouble, PROTO_TIME_BUCKETS - 1) ||
		    !whole_number(c->valuedouble, JSON_INT_MAX) || c->valuedouble < 1)
			return fail(p, "a time of \"%s\" is not [bucket, count] in range", key);
		pt->bucket = (uint32_t)b->valuedouble;
		pt->count = c->valuedouble > UINT32_MAX ? UINT32_MAX : (uint32_t)c->valuedouble;
		if (*n > 0 && pt->bucket <= out[*n - 1].bucket)
			return fail(p, "the buckets of \"%s\" are out of order", key);
		(*n)++;
	}
	return 0;
}

static int parse_times(struct parser *p, const cJSON *o, struct proto_op_result *r)
{
	int e;

	if (cJSON_GetObjectItemCaseSensitive(o, "faults") != NULL) {
		if ((e = get_uint(p, o, "faults", 0, (uint64_t)JSON_INT_MAX, &r->faults)) != 0)
			return e;
		r->has_faults = true;
	}
	if ((e = parse_hist(p, o, "times", r->times, &r->ntimes)) != 0)
		return e;
	return parse_hist(p, o, "again", r->again, &r->nagain);
}

static int parse_samples(struct parser *p, const cJSON *o, struct proto_op_result *r)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "samples");
	const cJSON *s;

	if (!cJSON_IsArray(arr))
		return fail(p, "field \"samples\" is not an array");
	if (cJSON_GetArraySize(arr) > PROTO_SAMPLES_MAX)
		return fail(p, "more than %d samples", PROTO_SAMPLES_MAX);
	cJSON_ArrayForEach(s, arr) {
		struct proto_sample *sm = &r->samples[r->nsamples];
		const cJSON *pg = cJSON_GetArrayItem(s, 0), *val = cJSON_GetArrayItem(s, 1);

		if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) != 2 ||
		    !cJSON_IsNumber(pg) || !cJSON_IsNumber(val))
			return fail(p, "a sample is not [page, value]");
		if (!whole_number(pg->valuedouble, JSON_INT_MAX) ||
		    !whole_number(val->valuedouble, UINT32_MAX))
			return fail(p, "a sample's page or value is out of range");
		sm->page = (uint64_t)pg->valuedouble;
		sm->value = (uint32_t)val->valuedouble;
		r->nsamples++;
	}
	return 0;
}

static int parse_evidence(struct parser *p, const cJSON *o, struct evidence_report *ev)
{
	const cJSON *pages = cJSON_GetObjectItemCaseSensitive(o, "pages");
	const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(o, "sources");
	const cJSON *s;
	uint64_t v;
	int e;

	if (!cJSON_IsString(pages) || pages->valuestring == NULL)
		return fail(p, "field \"pages\" is not a string");
	ev->count = strlen(pages->valuestring);
	if (ev->count > PROTO_EVIDENCE_MAX)
		return fail(p, "field \"pages\" is too long");
	if (strspn(pages->valuestring, "PRs.?") != ev->count)
		return fail(p, "field \"pages\" has characters other than P R s . ?");
	if ((e = get_uint(p, o, "private", 0, ev->count, &ev->private_pages)) != 0)
		return e;
	if ((e = get_string(p, o, "deviation", ev->deviation, sizeof(ev->deviation))) != 0)
		return e;
	if (!text_is_clean(ev->deviation))
		return fail(p, "field \"deviation\" has control characters");
	/* optional: the whole view's dirty pages, as smaps counts them */
	ev->private_dirty = ev->shared_dirty = -1;
	if (cJSON_GetObjectItemCaseSensitive(o, "dirty") != NULL) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dirty");
		uint64_t pd, sd;

		if (!cJSON_IsObject(d))
			return fail(p, "field \"dirty\" is not an object");
		if ((e = get_uint(p, d, "private", 0, (uint64_t)JSON_INT_MAX, &pd)) != 0 ||
		    (e = get_uint(p, d, "shared", 0, (uint64_t)JSON_INT_MAX, &sd)) != 0)
			return e;
		ev->private_dirty = (int64_t)pd;
		ev->shared_dirty = (int64_t)sd;
	}
	if (!cJSON_IsArray(srcs) || cJSON_GetArraySize(srcs) > EVIDENCE_SOURCES_MAX)
		return fail(p, "field \"sources\" is not an array of at most %d",
			    EVIDENCE_SOURCES_MAX);
	cJSON_ArrayForEach(s, srcs) {
		struct evidence_source *src = &ev->sources[ev->nsources];

		if (!cJSON_IsObject(s))
			return fail(p, "a source is not an object");
		if ((e = get_string(p, s, "name", src->name, sizeof(src->name))) != 0 ||
		    (e = get_bool(p, s, "supported", &src->supported)) != 0 ||
		    (e = get_uint(p, s, "private", 0, (uint64_t)JSON_INT_MAX, &v)) != 0 ||
		    (e = get_string(p, s, "note", src->note, sizeof(src->note))) != 0)
			return e;
		if (!text_is_clean(src->name) || !text_is_clean(src->note))
			return fail(p, "a source's text has control characters");
		src->private_pages = v;
		ev->nsources++;
	}
	ev->pages = malloc(ev->count + 1);
	if (ev->pages == NULL)
		return COWLAB_E_NOMEM;
	memcpy(ev->pages, pages->valuestring, ev->count + 1);
	return 0;
}

static int parse_fault(struct parser *p, const cJSON *o, struct proto_op_result *r)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fault");
	int e;

	if (cJSON_IsNull(f))
		return 0;
	if (!cJSON_IsObject(f))
		return fail(p, "field \"fault\" is neither null nor an object");
	r->fault.faulted = true;
	if ((e = get_string(p, f, "code", r->fault.code, sizeof(r->fault.code))) != 0 ||
	    (e = get_uint(p, f, "target_offset", 0, (uint64_t)JSON_INT_MAX, &r->fault_target)) != 0)
		return e;
	/* null: the address the OS reported is not in the view at all */
	r->fault_outside = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f, "fault_offset"));
	if (!r->fault_outside &&
	    (e = get_uint(p, f, "fault_offset", 0, (uint64_t)JSON_INT_MAX, &r->fault_offset)) != 0)
		return e;
	if (!text_is_clean(r->fault.code))
		return fail(p, "field \"code\" has control characters");
	return 0;
}

static int parse_op_result(struct parser *p, const cJSON *o, struct proto_op_result *r)
{
	int kind, e;

	if (!cJSON_IsObject(o))
		return fail(p, "a result is not an object");
	if ((e = get_enum(p, o, "op", op_names, PROTO_OP_KIND_COUNT, &kind)) != 0 ||
	    (e = get_bool(p, o, "ok", &r->ok)) != 0)
		return e;
	r->kind = (enum proto_op_kind)kind;
	if (!r->ok) {
		if ((e = get_string(p, o, "error", r->error, sizeof(r->error))) != 0)
			return e;
		return text_is_clean(r->error) ? 0 : fail(p, "field \"error\" has control characters");
	}
	switch (r->kind) {
	case PROTO_OP_MAP:
		/* where it is, for people to look (--step): optional */
		if (cJSON_GetObjectItemCaseSensitive(o, "address") != NULL)
			return get_uint(p, o, "address", 1, (uint64_t)JSON_INT_MAX, &r->address);
		return 0;
	case PROTO_OP_WRITE:
		return parse_times(p, o, r);
	case PROTO_OP_FORK:
		return get_uint(p, o, "pid", 1, INT32_MAX, &r->pid);
	case PROTO_OP_UNMAP:
	case PROTO_OP_PROTECT:
	case PROTO_OP_DISCARD:
	case PROTO_OP_KIND_COUNT:
		return 0;
	case PROTO_OP_EXPECT:
	case PROTO_OP_FAULT_WRITE:
		if ((e = get_uint(p, o, "mismatched", 0, (uint64_t)JSON_INT_MAX, &r->mismatched)) != 0)
			return e;
		/* fall through */
	case PROTO_OP_FIND:
		if ((e = get_uint(p, o, "matched", 0, (uint64_t)JSON_INT_MAX, &r->matched)) != 0)
			return e;
		if (r->kind == PROTO_OP_FAULT_WRITE)
			return parse_fault(p, o, r);
		return parse_samples(p, o, r);
	case PROTO_OP_EVIDENCE:
		return parse_evidence(p, o, &r->evidence);
	}
	return 0;
}

static int parse_result(struct parser *p, const cJSON *root, struct proto_result *res)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "results");
	const cJSON *o;
	int n, e;

	if ((e = get_uint(p, root, "seq", 0, (uint64_t)JSON_INT_MAX, &res->seq)) != 0)
		return e;
	if (!cJSON_IsArray(arr))
		return fail(p, "field \"results\" is not an array");
	n = cJSON_GetArraySize(arr);
	if (n < 1 || n > PROTO_OPS_MAX)
		return fail(p, "field \"results\" must hold 1 to %d results", PROTO_OPS_MAX);
	res->results = calloc((size_t)n, sizeof(*res->results));
	if (res->results == NULL)
		return COWLAB_E_NOMEM;
	cJSON_ArrayForEach(o, arr) {
		/* count first, so that proto_msg_free frees a half-parsed result */
		res->nresults++;
		if ((e = parse_op_result(p, o, &res->results[res->nresults - 1])) != 0)
			return e;
	}
	return 0;
}

static int parse_done(struct parser *p, const cJSON *root, struct proto_done *d)
{
	uint64_t held, total, status;
	int e;

	if ((e = get_bool(p, root, "held", &d->held)) != 0 ||
	    (e = get_uint(p, root, "checks_held", 0, 1000, &held)) != 0 ||
	    (e = get_uint(p, root, "checks_total", 0, 1000, &total)) != 0 ||
	    (e = get_string(p, root, "message", d->message, sizeof(d->message))) != 0 ||
	    (e = get_uint(p, root, "run_exit_status", 0, 3, &status)) != 0)
		return e;
	if (status == 2)
		return fail(p, "field \"run_exit_status\" is 2, which a judged run never is");
	d->run_exit_status = (int)status;
	if (held > total)
		return fail(p, "checks_held is greater than checks_total");
	d->checks_held = (int)held;
	d->checks_total = (int)total;
	return text_is_clean(d->message) ? 0 : fail(p, "field \"message\" has control characters");
}

static int parse_error(struct parser *p, const cJSON *root, struct proto_error *er)
{
	int e;

	if ((e = get_string(p, root, "code", er->code, sizeof(er->code))) != 0 ||
	    (e = get_string(p, root, "message", er->message, sizeof(er->message))) != 0)
		return e;
	if (!text_is_clean(er->code) || !text_is_clean(er->message))
		return fail(p, "an error text has control characters");
	return 0;
}

static int parse_body(struct parser *p, const cJSON *root, const struct proto_limits *lim,
		      struct proto_msg *msg)
{
	uint64_t v;
	int type, e;

	if (!cJSON_IsObject(root))
		return fail(p, "the message is not a JSON object");
	if ((e = get_enum(p, root, "type", type_names, PROTO_ERROR + 1, &type)) != 0)
		return e;
	if ((e = get_uint(p, root, "v", 0, (uint64_t)JSON_INT_MAX, &v)) != 0)
		return e;
	if (v != PROTO_VERSION)
		return fail(p, "protocol version %llu, this program speaks %d",
			    (unsigned long long)v, PROTO_VERSION);
	msg->type = (enum proto_type)type;
	switch (msg->type) {
	case PROTO_HELLO: return parse_hello(p, root, &msg->u.hello);
	case PROTO_ASSIGN: return parse_assign(p, root, &msg->u.assign);
	case PROTO_RUN: return parse_run(p, root, lim, &msg->u.run);
	case PROTO_RESULT: return parse_result(p, root, &msg->u.result);
	case PROTO_DONE: return parse_done(p, root, &msg->u.done);
	case PROTO_ERROR: return parse_error(p, root, &msg->u.error);
	}
	return fail(p, "unknown message type");
}

/* cJSON decodes the escape \u0000 to a NUL that silently cuts its string
 * short; outside strings a backslash is not valid JSON anyway. */
static bool has_nul_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++; /* the escaped character, which may be a backslash */
	}
	return false;
}

int proto_parse(const void *data, size_t len, const struct proto_limits *limits,
		struct proto_msg *msg, char *why, size_t why_cap)
{
	struct parser p = { why, why_cap };
	const char *end = NULL;
	cJSON *root;
	int e;

	memset(msg, 0, sizeof(*msg));
	if (why != NULL && why_cap > 0)
		why[0] = '\0';
	if (len > CHANNEL_MSG_MAX) {
		fail(&p, "message of %zu bytes is over the %d-byte cap", len, CHANNEL_MSG_MAX);
		return COWLAB_E_TOOBIG;
	}
	if (len == 0)
		return fail(&p, "empty message");
	if (memchr(data, '\0', len) != NULL)
		return fail(&p, "the message holds a NUL byte");
	if (has_nul_escape(data, len))
		return fail(&p, "the message escapes a NUL character (\\u0000)");
	arena_enter();
	root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
	if (root == NULL) {
		arena_leave();
		return fail(&p, "not valid JSON (at byte %td)",
			    end != NULL ? end - (const char *)data : (ptrdiff_t)0);
	}
	for (; end != NULL && end < (const char *)data + len; end++) {
		if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
			cJSON_Delete(root);
			arena_leave();
			return fail(&p, "trailing bytes after the JSON object");
		}
	}
	e = parse_body(&p, root, limits, msg);
	arena_delete(root);
	arena_leave();
	/* Then RFC 8259, strictly, the fields we do not read included: cJSON
	 * takes raw control characters, bytes that are not UTF-8, "01" and
	 * nesting 1000 deep (after the fields, whose own reasons say more) */
	if (e == 0 && !json_check(data, len, PROTO_DEPTH_MAX, why, why_cap))
		e = COWLAB_E_PROTO;
	if (e != 0)
		proto_msg_free(msg);
	return e;
}

void proto_op_result_free(struct proto_op_result *r)
{
	evidence_free(&r->evidence);
}

void proto_msg_free(struct proto_msg *msg)
{
	if (msg->type == PROTO_RESULT) {
		for (size_t i = 0; i < msg->u.result.nresults; i++)
			proto_op_result_free(&msg->u.result.results[i]);
		free(msg->u.result.results);
		msg->u.result.results = NULL;
		msg->u.result.nresults = 0;
	}
}

/* Samples: in range order, inside the range, no more than counted, and
 * each true to what the operation says it is. */
static int check_samples(struct parser *p, size_t i, const struct proto_op *op,
			 const struct proto_op_result *r, const struct proto_limits *lim)
{
	uint64_t counted = op->kind == PROTO_OP_FIND ? r->matched : r->mismatched;
	uint64_t due = counted < PROTO_SAMPLES_MAX ? counted : PROTO_SAMPLES_MAX;

	if (r->nsamples > counted)
		return fail(p, "result %zu lists more samples than it counts", i);
	/* The first matches (or mismatches), every one up to the cap: a count
	 * whose pages are not named cannot be charged to anybody. */
	if (r->nsamples < due)
		return fail(p, "result %zu counts %llu pages but lists %zu samples (it must "
			    "list the first %llu)", i, (unsigned long long)counted, r->nsamples,
			    (unsigned long long)due);
	for (size_t s = 0; s < r->nsamples; s++) {
		uint64_t page = r->samples[s].page;
		uint32_t want = proto_op_word(op, lim->seed, page);

		if (!range_contains(&op->range, page))
			return fail(p, "result %zu names page %llu outside its range", i,
				    (unsigned long long)page);
		if (s > 0 && page <= r->samples[s - 1].page)
			return fail(p, "result %zu lists its samples out of order", i);
		if ((op->kind == PROTO_OP_FIND) != (r->samples[s].value == want))
			return fail(p, "result %zu has a sample that contradicts its operation", i);
	}
	return 0;
}

static int check_op_result(struct parser *p, size_t i, const struct proto_op *op,
			   const struct proto_op_result *r, const struct proto_limits *lim)
{
	uint64_t span = lim->pages * lim->page_size;

	if (r->kind != op->kind)
		return fail(p, "result %zu is \"%s\", expected \"%s\"", i,
			    proto_op_name(r->kind), proto_op_name(op->kind));
	if (!r->ok)
		return 0;
	if (op->kind == PROTO_OP_WRITE) {
		uint64_t timed = 0, again = 0;

		for (size_t k = 0; k < r->ntimes; k++)
			timed += r->times[k].count;
		for (size_t k = 0; k < r->nagain; k++)
			again += r->again[k].count;
		if ((r->ntimes > 0 && timed != op->range.count) ||
		    (r->nagain > 0 && again != op->range.count))
			return fail(p, "result %zu times %llu writes and %llu again of %llu", i,
				    (unsigned long long)timed, (unsigned long long)again,
				    (unsigned long long)op->range.count);
	}
	switch (op->kind) {
	case PROTO_OP_EXPECT:
	case PROTO_OP_FAULT_WRITE:
		if (r->matched + r->mismatched != op->range.count)
			return fail(p, "result %zu counts %llu pages of %llu", i,
				    (unsigned long long)(r->matched + r->mismatched),
				    (unsigned long long)op->range.count);
		if (op->kind == PROTO_OP_EXPECT)
			return check_samples(p, i, op, r, lim);
		if (r->fault.faulted &&
		    (r->fault_target >= span || (!r->fault_outside && r->fault_offset >= span) ||
		     r->fault_target % lim->page_size != op->offset ||
		     !range_contains(&op->range, r->fault_target / lim->page_size)))
			return fail(p, "result %zu reports a fault outside its range", i);
		return 0;
	case PROTO_OP_FIND:
		if (r->matched > op->range.count)
			return fail(p, "result %zu finds more pages than it searched", i);
		return check_samples(p, i, op, r, lim);
	case PROTO_OP_EVIDENCE: {
		uint64_t own = 0;

		if (r->evidence.count != op->range.count)
			return fail(p, "evidence for %zu pages, asked for %llu", r->evidence.count,
				    (unsigned long long)op->range.count);
		for (size_t k = 0; r->evidence.pages != NULL && k < r->evidence.count; k++)
			own += r->evidence.pages[k] == EVIDENCE_PAGE_PRIVATE ||
			       r->evidence.pages[k] == EVIDENCE_PAGE_RELATIVE;
		if (own != r->evidence.private_pages)
			return fail(p, "evidence %zu counts %llu private pages but shows %llu", i,
				    (unsigned long long)r->evidence.private_pages,
				    (unsigned long long)own);
		return 0;
	}
	default:
		return 0;
	}
}

int proto_result_matches(const struct proto_result *res, const struct proto_run *run,
			 const struct proto_limits *limits, char *why, size_t why_cap)
{
	struct parser p = { why, why_cap };
	int e;

	if (res->seq != run->seq)
		return fail(&p, "result for batch %llu, expected batch %llu",
			    (unsigned long long)res->seq, (unsigned long long)run->seq);
	if (res->nresults != run->nops)
		return fail(&p, "%zu results for %zu operations", res->nresults, run->nops);
	for (size_t i = 0; i < run->nops; i++)
		if ((e = check_op_result(&p, i, &run->ops[i], &res->results[i], limits)) != 0)
			return e;
	return 0;
}

/* ---- builders ---- */

/* ---- builders: every message written straight into its text ----
 *
 * A batch and its results go back and forth for every client and step,
 * and hello and assign once a client: each is written as text directly,
 * in the order and form cJSON would print it (compact, integers as digits,
 * strings escaped as cJSON escapes them), without a tree to build, print
 * and free. That halves the protocol's own cost of a round trip
 * (docs/benchmarks.md, rtt). Parsing stays with cJSON, and
 * tests/test-protocol.c (which holds every builder to cJSON's print) and
 * the fuzzer parse everything built here. */

/* The text starts small and doubles as it grows, up to the cap: most
 * messages are about a KiB, and a buffer of the cap for each would touch
 * a fresh heap page at its far end in every new client. */
#define TEXT_START 4096

static void put(struct proto_text *t, const char *s, size_t n)
{
	if (!t->ok || n > CHANNEL_MSG_MAX - t->len) {
		t->ok = false;
		return;
	}
	if (n > t->cap - t->len) {
		size_t cap = t->cap;
		char *grown;

		while (n > cap - t->len)
			cap = cap * 2 < CHANNEL_MSG_MAX ? cap * 2 : CHANNEL_MSG_MAX;
		if ((grown = realloc(t->buf, cap)) == NULL) {
			t->ok = false;
			return;
		}
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

/* A comma unless this is the first member or element. */
static void put_sep(struct proto_text *t)
{
	if (t->ok && t->len > 0 && t->buf[t->len - 1] != '{' && t->buf[t->len - 1] != '[')
		put(t, ",", 1);
}

static void put_key(struct proto_text *t, const char *key)
{
	put_sep(t);
	put(t, "\"", 1);
	put(t, key, strlen(key)); /* keys are literals: nothing to escape */
	put(t, "\":", 2);
}

static void put_u64(struct proto_text *t, const char *key, uint64_t v)
{
	char digits[TEXT_U64_MAX];
	size_t n = text_u64(digits, v);

	if (key != NULL)
		put_key(t, key);
	else
		put_sep(t);
	put(t, digits, n);
}

static void put_bool(struct proto_text *t, const char *key, bool v)
{
	put_key(t, key);
	put(t, v ? "true" : "false", v ? 4 : 5);
}

/* As cJSON escapes: quote, backslash, the short escapes, \u00XX for other
 * control characters; everything else (UTF-8 included) as it is. */
static void emit_text(void *t, const char *p, size_t n)
{
	put(t, p, n);
}

static void put_str(struct proto_text *t, const char *key, const char *s)
{
	if (s == NULL) {
		t->ok = false;
		return;
	}
	put_key(t, key);
	put(t, "\"", 1);
	json_escape(s, emit_text, t);
	put(t, "\"", 1);
}

static void put_open(struct proto_text *t, const char *key, char bracket)
{
	if (key != NULL)
		put_key(t, key);
	else
		put_sep(t);
	put(t, &bracket, 1);
}

static void put_close(struct proto_text *t, char bracket)
{
	put(t, &bracket, 1);
}

static bool text_begin(struct proto_text *t, enum proto_type type)
{
	t->buf = malloc(TEXT_START);
	t->cap = TEXT_START;
	t->len = 0;
	t->ok = t->buf != NULL;
	put(t, "{", 1);
	put_str(t, "type", type_names[type]);
	put_u64(t, "v", (uint64_t)PROTO_VERSION);
	return t->ok;
}

/* The text, NUL-terminated and at its length, or NULL when it could not
 * be written or is over the cap. */
static char *text_end(struct proto_text *t, size_t *len)
{
	char *shrunk;

	put_close(t, '}');
	if (!t->ok) {
		free(t->buf);
		return NULL;
	}
	shrunk = realloc(t->buf, t->len + 1); /* CHANNEL_MSG_MAX + 1 at most */
	if (shrunk == NULL) {
		free(t->buf);
		return NULL;
	}
	shrunk[t->len] = '\0';
	*len = t->len;
	return shrunk;
}

static void put_op(struct proto_text *t, const struct proto_op *op)
{
	put_open(t, NULL, '{');
	put_str(t, "op", op_names[op->kind]);
	if (op->kind == PROTO_OP_FORK) {
		put_u64(t, "child", (uint64_t)op->child);
		put_close(t, '}');
		return;
	}
	put_str(t, "view", view_names[op->view]);
	if (op->kind == PROTO_OP_MAP) {
		put_bool(t, "as_shared", op->as_shared);
	} else if (op->kind != PROTO_OP_UNMAP) {
		put_u64(t, "first", op->range.first);
		put_u64(t, "count", op->range.count);
		put_u64(t, "step", op->range.step);
		if (op->kind == PROTO_OP_PROTECT) {
			put_str(t, "protect", protect_names[op->protect]);
		} else if (op->kind != PROTO_OP_EVIDENCE && op->kind != PROTO_OP_DISCARD) {
			put_u64(t, "offset", (uint64_t)op->offset);
			if (op->literal)
				put_u64(t, "value", (uint64_t)op->value);
			else
				put_u64(t, "xor", (uint64_t)op->xor_value);
		}
	}
	put_close(t, '}');
}

char *proto_build_run(const struct proto_run *r, size_t *len)
{
	struct proto_text t;

	if (!text_begin(&t, PROTO_RUN))
		return text_end(&t, len);
	put_u64(&t, "seq", r->seq);
	if (r->last)
		put_bool(&t, "last", true);
	put_open(&t, "ops", '[');
	for (size_t i = 0; i < r->nops; i++)
		put_op(&t, &r->ops[i]);
	put_close(&t, ']');
	return text_end(&t, len);
}

static void put_null(struct proto_text *t, const char *key)
{
	put_key(t, key);
	put(t, "null", 4);
}

static void put_image(struct proto_text *t, const struct proto_hello *h)
{
	const struct image_facts *f = &h->image;

	if (!h->has_image) {
		put_null(t, "image");
		return;
	}
	put_open(t, "image", '{');
	put_str(t, "format", image_format_name(f->format));
	put_u64(t, "private", f->private_count);
	put_u64(t, "shared", f->shared_count);
	if (!f->section_found) {
		put_null(t, "section");
	} else {
		put_open(t, "section", '{');
		put_str(t, "name", f->section_name);
		put_u64(t, "characteristics", f->characteristics);
		put_str(t, "protect", f->protect);
		put_close(t, '}');
	}
	if (f->format == IMAGE_FORMAT_ELF && f->data_mapping[0] != '\0')
		put_str(t, "data_mapping", f->data_mapping);
	else
		put_null(t, "data_mapping");
	put_close(t, '}');
}

/* hello and assign are written as text too: once a client each, they were
 * a cJSON tree printed with its number formatting, the client's own first
 * message among them. */
char *proto_build_hello(const struct proto_hello *h, size_t *len)
{
	struct proto_text t;

	if (!text_begin(&t, PROTO_HELLO))
		return text_end(&t, len);
	put_u64(&t, "pid", (uint64_t)h->pid);
	put_str(&t, "version", h->version);
	put_bool(&t, "verdict", !h->no_verdict);
	if (h->fork_parent > 0) {
		put_open(&t, "fork", '{');
		put_u64(&t, "parent", (uint64_t)h->fork_parent);
		put_u64(&t, "child", (uint64_t)h->fork_child);
		put_close(&t, '}');
	}
	put_image(&t, h);
	return text_end(&t, len);
}

char *proto_build_assign(const struct proto_assign *a, size_t *len)
{
	struct proto_text t;

	if (!text_begin(&t, PROTO_ASSIGN))
		return text_end(&t, len);
	put_u64(&t, "id", (uint64_t)a->id);
	put_u64(&t, "timeout_ms", (uint64_t)a->timeout_ms);
	put_open(&t, "section", '{');
	put_str(&t, "name", a->section_name);
	put_u64(&t, "size", a->section_size);
	put_u64(&t, "page_size", (uint64_t)a->page_size);
	put_u64(&t, "seed", (uint64_t)a->seed);
	put_close(&t, '}');
	put_open(&t, "pages", '{');
	put_u64(&t, "first", a->first_page);
	put_u64(&t, "count", a->page_count);
	put_close(&t, '}');
	return text_end(&t, len);
}

static void put_hist(struct proto_text *t, const char *key, const struct proto_time *h, size_t n)
{
	if (n == 0)
		return;
	put_open(t, key, '[');
	for (size_t i = 0; i < n; i++) {
		put_open(t, NULL, '[');
		put_u64(t, NULL, h[i].bucket);
		put_u64(t, NULL, h[i].count);
		put_close(t, ']');
	}
	put_close(t, ']');
}

static void put_samples(struct proto_text *t, const struct proto_op_result *r)
{
	put_open(t, "samples", '[');
	for (size_t i = 0; i < r->nsamples; i++) {
		put_open(t, NULL, '[');
		put_u64(t, NULL, r->samples[i].page);
		put_u64(t, NULL, r->samples[i].value);
		put_close(t, ']');
	}
	put_close(t, ']');
}

static void put_evidence(struct proto_text *t, const struct evidence_report *ev)
{
	put_str(t, "pages", ev->pages != NULL ? ev->pages : "");
	put_u64(t, "private", ev->private_pages);
	put_str(t, "deviation", ev->deviation);
	if (ev->private_dirty >= 0 && ev->shared_dirty >= 0) {
		put_open(t, "dirty", '{');
		put_u64(t, "private", (uint64_t)ev->private_dirty);
		put_u64(t, "shared", (uint64_t)ev->shared_dirty);
		put_close(t, '}');
	}
	put_open(t, "sources", '[');
	for (size_t i = 0; i < ev->nsources; i++) {
		const struct evidence_source *s = &ev->sources[i];

		put_open(t, NULL, '{');
		put_str(t, "name", s->name);
		put_bool(t, "supported", s->supported);
		put_u64(t, "private", s->private_pages);
		put_str(t, "note", s->note);
		put_close(t, '}');
	}
	put_close(t, ']');
}

static void put_fault(struct proto_text *t, const struct proto_op_result *r)
{
	if (!r->fault.faulted) {
		put_key(t, "fault");
		put(t, "null", 4);
		return;
	}
	put_open(t, "fault", '{');
	put_str(t, "code", r->fault.code);
	put_u64(t, "target_offset", r->fault_target);
	if (r->fault_outside) {
		put_key(t, "fault_offset");
		put(t, "null", 4);
	} else {
		put_u64(t, "fault_offset", r->fault_offset);
	}
	put_close(t, '}');
}

static void put_op_result(struct proto_text *t, const struct proto_op_result *r)
{
	put_open(t, NULL, '{');
	put_str(t, "op", op_names[r->kind]);
	put_bool(t, "ok", r->ok);
	if (!r->ok) {
		put_str(t, "error", r->error);
	} else {
		switch (r->kind) {
		case PROTO_OP_EXPECT:
		case PROTO_OP_FAULT_WRITE:
			put_u64(t, "mismatched", r->mismatched);
			/* fall through */
		case PROTO_OP_FIND:
			put_u64(t, "matched", r->matched);
			if (r->kind == PROTO_OP_FAULT_WRITE)
				put_fault(t, r);
			else
				put_samples(t, r);
			break;
		case PROTO_OP_EVIDENCE:
			put_evidence(t, &r->evidence);
			break;
		case PROTO_OP_FORK:
			put_u64(t, "pid", r->pid);
			break;
		case PROTO_OP_MAP:
			if (r->address != 0 && r->address <= (uint64_t)JSON_INT_MAX)
				put_u64(t, "address", r->address);
			break;
		case PROTO_OP_WRITE:
			put_hist(t, "times", r->times, r->ntimes);
			put_hist(t, "again", r->again, r->nagain);
			if (r->has_faults)
				put_u64(t, "faults", r->faults);
			break;
		default:
			break;
		}
	}
	put_close(t, '}');
}

bool proto_result_begin(struct proto_text *t, uint64_t seq)
{
	if (!text_begin(t, PROTO_RESULT))
		return false;
	put_u64(t, "seq", seq);
	put_open(t, "results", '[');
	return t->ok;
}

void proto_result_add(struct proto_text *t, const struct proto_op_result *r)
{
	put_op_result(t, r);
}

char *proto_result_end(struct proto_text *t, size_t *len)
{
	put_close(t, ']');
	return text_end(t, len);
}

char *proto_build_result(uint64_t seq, const struct proto_op_result *results,
			 size_t n, size_t *len)
{
	struct proto_text t;

	proto_result_begin(&t, seq);
	for (size_t i = 0; i < n; i++)
		proto_result_add(&t, &results[i]);
	return proto_result_end(&t, len);
}

/* Copies at most cap-1 bytes of s, never cutting a UTF-8 character. */
static void clip_utf8(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		n = text_utf8_cut(s, cap - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

char *proto_build_done(const struct proto_done *d, size_t *len)
{
	char m[PROTO_TEXT_MAX];
	struct proto_text t;

	clip_utf8(m, sizeof(m), d->message);
	if (!text_begin(&t, PROTO_DONE))
		return text_end(&t, len);
	put_bool(&t, "held", d->held);
	put_u64(&t, "checks_held", (uint64_t)d->checks_held);
	put_u64(&t, "checks_total", (uint64_t)d->checks_total);
	put_str(&t, "message", m);
	put_u64(&t, "run_exit_status", (uint64_t)d->run_exit_status);
	return text_end(&t, len);
}

char *proto_build_error(const char *code, const char *message, size_t *len)
{
	char c[32], m[PROTO_TEXT_MAX];
	struct proto_text t;

	/* What the peer's parser accepts: long reasons are cut, not refused. */
	clip_utf8(c, sizeof(c), code);
	clip_utf8(m, sizeof(m), message);
	if (!text_begin(&t, PROTO_ERROR))
		return text_end(&t, len);
	put_str(&t, "code", c);
	put_str(&t, "message", m);
	return text_end(&t, len);
}
