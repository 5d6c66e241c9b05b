/* The facts a client's process reports of itself in its hello, judged by
 * the platform's rule: image_section_shared, the course's exercise
 * (docs/course.md). No prediction about the section: a fact about the
 * client's own executable, which the built-in run and a scenario's check
 * declared with "facts": "image" judge alike. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "image.h"
#include "json.h"
#include "report.h"
#include "server.h"
#include "text.h"

static cJSON *nums(const char *k1, double v1)
{
	cJSON *o = cJSON_CreateObject();

	json_attach(o, k1, cJSON_CreateNumber(v1));
	return o;
}

static struct report_check *add(struct report_client *rc, const char *name, bool held,
				cJSON *expected, cJSON *observed, cJSON *evidence,
				const char *fmt, ...) COWLAB_PRINTF(7, 8);

static struct report_check *add(struct report_client *rc, const char *name, bool held,
				cJSON *expected, cJSON *observed, cJSON *evidence,
				const char *fmt, ...)
{
	struct report_check *c = report_add_check(rc->checks, REPORT_CHECKS_MAX, &rc->nchecks,
						  name, held, expected, observed, evidence);
	va_list ap;

	if (c != NULL) {
		/* the values and the section come from the client alone */
		snprintf(c->basis, sizeof(c->basis), "client");
		va_start(ap, fmt);
		report_check_vdetail(c, fmt, ap);
		va_end(ap);
	}
	return c;
}


static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* For each complete client, how many complete clients (itself included)
 * counted the same value of the shared counter. Only complete clients:
 * each was running from its own increment until after the last one's
 * (no client leaves before every client has joined), so the counter's
 * pages stayed mapped throughout, and one shared counter can never give
 * two of them the same value, whatever other runs count in between.
 * Returns the number of complete clients compared. */
int facts_image_twins(struct server *s, bool (*complete)(const struct client_state *c))
{
	uint64_t *v = malloc(((size_t)s->nclients + 1) * sizeof(*v));
	size_t n = 0;

	for (int i = 0; i < s->nclients; i++)
		if (complete(&s->clients[i]) && s->clients[i].has_image && v != NULL)
			v[n++] = s->clients[i].image.shared_count;
	if (v != NULL)
		qsort(v, n, sizeof(*v), cmp_u64);
	for (int i = 0; i < s->nclients; i++) {
		struct client_state *c = &s->clients[i];
		uint64_t want = c->image.shared_count;
		size_t lo = 0, hi = n;

		if (!complete(c) || !c->has_image)
			continue;
		if (v == NULL) {
			c->image_twins = 2; /* cannot tell: not proven */
			continue;
		}
		while (lo < hi) { /* the first >= want */
			size_t mid = lo + (hi - lo) / 2;

			if (v[mid] < want)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (c->image_twins = 0; lo < n && v[lo] == want; lo++)
			c->image_twins++;
	}
	free(v);
	return (int)n;
}

static cJSON *hex32(uint32_t v)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%08X", (unsigned)v);
	return cJSON_CreateString(text);
}

/* ELF: no shared-section flag, so nothing to share; only the private
 * counter can be checked, and a wrong one fails the check. */
static void check_image_elf(struct report_client *rc, const struct client_state *c,
			    const char *name)
{
	const struct image_facts *f = &c->image;
	bool held = f->format == IMAGE_FORMAT_ELF && f->private_count == 1;
	struct report_check *chk;
	cJSON *ev = cJSON_CreateObject();

	json_attach(ev, "format", cJSON_CreateString(image_format_name(f->format)));
	json_attach(ev, "shared", cJSON_CreateNumber((double)f->shared_count));
	json_attach(ev, "data_mapping", f->data_mapping[0] ? cJSON_CreateString(f->data_mapping)
						   : cJSON_CreateNull());
	json_attach(ev, "explanation", cJSON_CreateString(
		"ELF has no shared-section flag: .data, both counters' section, is a "
		"private (copy-on-write) file mapping of the executable, rw-p in "
		"/proc/self/maps, so every process counts its own"));
	chk = add(rc, name, held, nums("private", 1),
		  nums("private", (double)f->private_count), ev,
		  "the private .data counter was %llu in a %s image",
		  (unsigned long long)f->private_count, image_format_name(f->format));
	if (chk != NULL && held) {
		chk->applicable = false;
		report_check_detail(chk, "not applicable: ELF has no shared-section flag; .data "
				    "is a private copy-on-write file mapping (rw-p), and the "
				    "private counter was 1");
	}
}

static void check_image_pe(struct server *s, struct report_client *rc,
			   const struct client_state *c, int compared, const char *name)
{
	const struct image_facts *f = &c->image;
	const char *wine = s->report.platform.wine_version;
	bool unique = c->image_twins == 1, section_ok = f->format == IMAGE_FORMAT_PE &&
		      f->section_found && f->characteristics == IMAGE_SHARED_CHARACTERISTICS;
	/* Wine failing to share (if it ever does): said, not counted */
	bool wine_unshared = wine[0] != '\0' && !unique && section_ok && f->private_count == 1;
	char words[96] = "", deviation[REPORT_TEXT_MAX] = "";
	struct report_check *chk;
	cJSON *exp, *obs, *ev;

	if (f->section_found)
		image_characteristics_text(f->characteristics, words, sizeof(words));
	exp = cJSON_CreateObject();
	json_attach(exp, "private", cJSON_CreateNumber(1));
	json_attach(exp, "shared_unique", cJSON_CreateBool(true));
	json_attach(exp, "characteristics", hex32(IMAGE_SHARED_CHARACTERISTICS));
	obs = cJSON_CreateObject();
	json_attach(obs, "private", cJSON_CreateNumber((double)f->private_count));
	json_attach(obs, "shared_unique", cJSON_CreateBool(unique));
	json_attach(obs, "characteristics", f->section_found ? hex32(f->characteristics)
						     : cJSON_CreateNull());
	ev = cJSON_CreateObject();
	json_attach(ev, "format", cJSON_CreateString(image_format_name(f->format)));
	json_attach(ev, "section", f->section_found ? cJSON_CreateString(f->section_name)
					    : cJSON_CreateNull());
	json_attach(ev, "characteristics_text", cJSON_CreateString(words));
	json_attach(ev, "shared", cJSON_CreateNumber((double)f->shared_count));
	json_attach(ev, "clients_compared", cJSON_CreateNumber(compared));
	json_attach(ev, "protect", cJSON_CreateString(f->protect));
	/* Wine deviates from Windows in what it says, or (if it ever stops
	 * sharing the section) in what it does: said, not counted. */
	if (wine_unshared)
		snprintf(deviation, sizeof(deviation), "Wine %s does not share the image "
			 "section \"%s\" between instances: %llu clients counted %llu", wine,
			 f->section_name, (unsigned long long)c->image_twins,
			 (unsigned long long)f->shared_count);
	else if (wine[0] != '\0' && strcmp(f->protect, "PAGE_WRITECOPY") == 0)
		snprintf(deviation, sizeof(deviation), "Wine %s's VirtualQuery says "
			 "PAGE_WRITECOPY for the shared section's page (PAGE_READWRITE expected on "
			 "Windows, not verified there); "
			 "the counter is shared nonetheless", wine);
	json_attach(ev, "platform_deviation", deviation[0] ? cJSON_CreateString(deviation)
						   : cJSON_CreateNull());
	chk = add(rc, name, section_ok && unique &&
		  f->private_count == 1, exp, obs, ev,
		  "the shared counter counted %llu here, %s among %d client%s%s; the private "
		  "counter %llu; section \"%s\" is 0x%08X (%s)",
		  (unsigned long long)f->shared_count, unique ? "unique" : "NOT unique", compared,
		  text_s((uint64_t)compared), compared == 1 ? " (one client: sharing not shown)" : "",
		  (unsigned long long)f->private_count,
		  f->section_found ? f->section_name : "(none holds the counter)",
		  (unsigned)f->characteristics, words);
	if (chk != NULL && !chk->held && wine_unshared) {
		chk->applicable = false;
		report_check_detail(chk, "not applicable: %s", deviation);
	}
}

void facts_image_check(struct server *s, struct report_client *rc, const struct client_state *c,
		       int compared, const char *name)
{
	if (!c->has_image) {
		struct report_check *chk = add(rc, name, false, NULL,
					       NULL, NULL, "%s", "");

		/* a client that is not cowlab-client has no counters compiled
		 * into its image: nothing to judge, and nothing failed */
		if (chk != NULL) {
			chk->applicable = false;
			report_check_detail(chk, "not applicable: the client reported no image "
					    "facts (its hello's image is null)");
		}
		return;
	}
	if (image_has_shared_sections())
		check_image_pe(s, rc, c, compared, name);
	else
		check_image_elf(rc, c, name);
}

