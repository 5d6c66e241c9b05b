/* --html FILE (html.h). The page is written once the run is judged, from
 * what the run kept as it went: a row for every observation of pages (the
 * OS's evidence, a letter a page), each step's words, and the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowlab-config.h"
#include "err.h"
#include "html.h"
#include "json.h"
#include "platform.h"
#include "text.h"

#define ROW_PAGES_MAX 256 /* cells in one row; the rest said in words */
#define MAP_ROW 64

struct html_row {
	int step, who, status;
	char view[8];
	char *pages, *seen, *pred, *why, *sources; /* pages: "1,2,3" */
	size_t n, more;
};

struct html_step {
	int step;
	char *name, *say, *text;
};

struct html {
	FILE *f;
	struct html_row *rows;
	size_t nrows, rcap;
	struct html_step *steps;
	size_t nsteps, scap;
	bool nomem;
};

static char *dup(const char *s)
{
	char *d = malloc(strlen(s != NULL ? s : "") + 1);

	if (d != NULL)
		strcpy(d, s != NULL ? s : "");
	return d;
}

int html_open(struct html **out, const char *path, char *why, size_t cap)
{
	struct html *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return COWLAB_E_NOMEM;
	h->f = platform_fopen(path, "wb");
	if (h->f == NULL) {
		int err = err_from_os();

		snprintf(why, cap, "cannot write %s: %s", path, cowlab_strerror(err));
		free(h);
		return err;
	}
	*out = h;
	return COWLAB_OK;
}

void html_discard(struct html *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nrows; i++) {
		free(h->rows[i].pages);
		free(h->rows[i].seen);
		free(h->rows[i].pred);
		free(h->rows[i].why);
		free(h->rows[i].sources);
	}
	for (size_t i = 0; i < h->nsteps; i++) {
		free(h->steps[i].name);
		free(h->steps[i].say);
		free(h->steps[i].text);
	}
	free(h->rows);
	free(h->steps);
	if (h->f != NULL)
		fclose(h->f);
	free(h);
}

void html_step(struct html *h, int step, const char *name, const char *say, const char *text)
{
	struct html_step *st;

	if (h == NULL)
		return;
	if (h->nsteps == h->scap) {
		size_t cap = h->scap ? h->scap * 2 : 8;
		struct html_step *n = realloc(h->steps, cap * sizeof(*n));

		if (n == NULL) {
			h->nomem = true;
			return;
		}
		h->steps = n;
		h->scap = cap;
	}
	st = &h->steps[h->nsteps++];
	st->step = step;
	st->name = dup(name);
	st->say = dup(say);
	st->text = dup(text);
}

void html_row(struct html *h, int step, int who, const char *view, const uint64_t *pages,
	      size_t n, const char *seen, const char *pred, int status, const char *why,
	      const char *sources)
{
	struct html_row *r;
	size_t shown = n < ROW_PAGES_MAX ? n : ROW_PAGES_MAX, len = 0;

	if (h == NULL)
		return;
	if (h->nrows == h->rcap) {
		size_t cap = h->rcap ? h->rcap * 2 : 64;
		struct html_row *nr = realloc(h->rows, cap * sizeof(*nr));

		if (nr == NULL) {
			h->nomem = true;
			return;
		}
		h->rows = nr;
		h->rcap = cap;
	}
	r = &h->rows[h->nrows];
	memset(r, 0, sizeof(*r));
	r->step = step;
	r->who = who;
	r->status = status;
	snprintf(r->view, sizeof(r->view), "%s", view);
	r->n = shown;
	r->more = n - shown;
	r->pages = malloc(shown * 22 + 1);
	r->seen = malloc(shown + 1);
	r->pred = malloc(shown + 1);
	r->why = dup(why);
	r->sources = dup(sources);
	if (r->pages == NULL || r->seen == NULL || r->pred == NULL || r->why == NULL ||
	    r->sources == NULL) {
		h->nrows++; /* freed with the others */
		h->nomem = true;
		return;
	}
	/* runs of pages: "1-16,21" */
	r->pages[0] = '\0';
	for (size_t i = 0; i < shown;) {
		size_t j = i;

		while (j + 1 < shown && pages[j + 1] == pages[j] + 1)
			j++;
		if (j > i)
			len += (size_t)snprintf(r->pages + len, 44, "%s%llu-%llu", i ? "," : "",
						(unsigned long long)pages[i],
						(unsigned long long)pages[j]);
		else
			len += (size_t)snprintf(r->pages + len, 22, "%s%llu", i ? "," : "",
						(unsigned long long)pages[i]);
		i = j + 1;
	}
	memcpy(r->seen, seen, shown);
	r->seen[shown] = '\0';
	memcpy(r->pred, pred, shown);
	r->pred[shown] = '\0';
	h->nrows++;
}

/* ---- writing ---- */

static void esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A JSON string's content (json_escape), inside a <script
 * type="application/json">: every "/" written "\/" too, so that a peer's
 * words holding "</script>" cannot end the element early. */
static void jemit(void *ctx, const char *p, size_t n)
{
	FILE *f = ctx;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '/')
			fputc('\\', f);
		fputc(p[i], f);
	}
}

static void jesc(FILE *f, const char *s)
{
	json_escape(s != NULL ? s : "", jemit, f);
}

static const char style[] =
	"body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;max-width:1100px;color:#111}"
	"h1{font-size:1.4em}h2{font-size:1.2em;margin-top:1.6em}h3{font-size:1.05em}"
	".verdict{font-weight:bold;font-size:1.2em;padding:.3em .6em;display:inline-block}"
	".held{background:#d9f2d9}.broken{background:#f7d4d4}.unproven{background:#f7ecd0}"
	".grid{font:15px/1.35 ui-monospace,monospace;letter-spacing:2px}"
	".row{white-space:nowrap;margin:1px 0}"
	".row b{display:inline-block;min-width:11em;font-weight:normal;color:#444}"
	".grid i{font-style:normal;cursor:pointer}.grid .row{contain:content}"
	"article.step{content-visibility:auto;contain-intrinsic-size:auto 600px}"
	".row span{letter-spacing:2px}#map .row b{min-width:4.5em}"
	"i.c{background:#3a3;color:#fff}i.t{background:#eee}i.w{background:#36c;color:#fff}"
	"i.f{background:#db3}i.v{background:#2aa;color:#fff}i.x{background:#c00;color:#fff;"
	"font-weight:bold}i.q{background:#a3a;color:#fff}i.s{background:#ddd}i.n{background:#fff;"
	"color:#999}.differs{outline:2px solid #c00}.unproven-row{outline:2px dashed #a3a}"
	"pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:12px}"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
	"text-align:left;vertical-align:top;font-size:13px}"
	"#detail{position:sticky;bottom:0;background:#fffbe6;border:1px solid #cb8;"
	"padding:.5em;margin-top:1em;white-space:pre-wrap;font-size:13px}"
	".legend i{cursor:default;font-style:normal;padding:0 3px}";

static const char script[] =
	"(function(){var d=document.getElementById('detail');"
	"var cks=JSON.parse(document.getElementById('checks-data').textContent);"
	"var m=document.getElementById('map');"
	"var names={C:'a private copy of its owner\\'s copy-on-write view',t:'untouched: "
	"its owner\\'s copy-on-write view tracks the section',W:'written through its owner\\'s "
	"read/write view',F:'its owner\\'s write through the read-only view faulted',S:'the "
	"server\\'s own page',"
	"'!':'an observation of it differed from the model','?':'not proven: an observation "
	"of it was not made','.':'nobody\\'s',P:'a private copy of its own (the OS)',R:'a private copy still "
	"shared with a fork relative (the OS)',s:'the section\\'s page, mapped (the OS)'};"
	"function say(t){d.textContent=t;}"
	"var cl={C:'c',P:'c',R:'c',t:'t',W:'w',F:'f',S:'v','!':'x','?':'q',s:'s'};"
	"function one(r){var sp=r.querySelector('span');if(sp.childNodes.length)return;"
	"var s=r.dataset.seen,h='';for(var i=0;i<s.length;i++)h+='<i class='+(cl[s[i]]||'n')"
	"+'>'+s[i]+'</i>';sp.innerHTML=h;}"
	"window.cowlabCells=function(a){if(a.dataset&&a.dataset.seen!==undefined)one(a);"
	"else a.querySelectorAll('.row[data-seen]').forEach(one);};"
	"var io=new IntersectionObserver(function(es){es.forEach(function(e){"
	"if(e.isIntersecting){one(e.target);io.unobserve(e.target);}});},"
	"{rootMargin:'400px'});"
	"document.querySelectorAll('.row[data-seen]').forEach(function(r){io.observe(r);});"
	"document.addEventListener('click',function(e){var c=e.target;"
	"var r=c.parentNode;if(r&&r.tagName==='SPAN')r=r.parentNode;"
	"if(c.tagName!=='I'||!r||!r.classList.contains('row'))return;"
	"var k=Array.prototype.indexOf.call(r.querySelectorAll('i'),c),"
	"l=c.textContent,t;"
	"if(r.dataset.first!==undefined){var pg=+r.dataset.first+k,"
	"b=+m.dataset.before,e2=+m.dataset.each,o=e2>0&&pg>=b&&pg<b+e2*(+m.dataset.clients)?"
	"Math.floor((pg-b)/e2)+1:0;"
	"t='page '+pg+': '+l+' = '+(names[l]||l)+(o?'\\nits owner: client '+o:'');"
	"var cs=cks[o?String(o):'server']||[];"
	"for(var i=0;i<cs.length;i++)t+='\\n  '+cs[i][0]+' '+cs[i][1]+': '+cs[i][2];say(t);return;}"
	"var ps=[];r.dataset.pages.split(',').forEach(function(x){var a=x.split('-'),"
	"lo=+a[0],hi=a.length>1?+a[1]:lo;for(var q=lo;q<=hi;q++)ps.push(q);});"
	"var p=r.dataset.pred.charAt(k);"
	"t='step '+r.dataset.step+', '+r.dataset.who+', '+r.dataset.view+' view, page '+ps[k]+"
	"'\\nthe OS says: '+l+' = '+(names[l]||l)+"
	"'\\nthe model predicts: '+(p==='P'?'P = a private copy of its own':p==='R'?"
	"'R = a private copy shared with a fork relative':p==='c'?'a private copy (P or R)':"
	"'not a private copy')+"
	"(r.dataset.src?'\\nits sources: '+r.dataset.src:'')+"
	"'\\n'+['as the model predicts','DIFFERS from the model: ','NOT PROVEN: ',"
	"'not applicable: '][+r.dataset.st]+(r.dataset.why||'');say(t);});})();";

static double num_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The cost of a copy: a bar a bucket of the histogram, copies, the same
 * pages again, and other writes side by side, on a scale of counts. */
static void svg_cost(FILE *f, const cJSON *cc)
{
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(cc, "histogram"), *b;
	int n = cJSON_GetArraySize(hist), i = 0;
	double top = 1;
	static const char *const keys[] = { "copies", "copied_page_again", "other_writes" };
	static const char *const colors[] = { "#3a3", "#36c", "#999" };

	if (n == 0) {
		fputs("<p>No write was timed.</p>\n", f);
		return;
	}
	cJSON_ArrayForEach(b, hist)
		for (int k = 0; k < 3; k++)
			if (num_of(b, keys[k]) > top)
				top = num_of(b, keys[k]);
	int w = 36, width = n * w + 60, height = 220;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"histogram of write times\">\n",
		width, height, width, height);
	fprintf(f, "<line x1=\"50\" y1=\"170\" x2=\"%d\" y2=\"170\" stroke=\"#333\"/>\n",
		width - 5);
	fprintf(f, "<text x=\"4\" y=\"20\" font-size=\"11\">%.0f</text><text x=\"4\" y=\"170\" "
		"font-size=\"11\">0</text>\n", top);
	cJSON_ArrayForEach(b, hist) {
		int x = 55 + i * w;

		for (int k = 0; k < 3; k++) {
			double v = num_of(b, keys[k]);
			int hgt = (int)(150.0 * v / top + 0.5);

			if (v > 0)
				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"9\" height=\"%d\" "
					"fill=\"%s\"><title>%s: %.0f</title></rect>\n", x + k * 10,
					170 - hgt, hgt, colors[k], keys[k], v);
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"9\" transform=\"rotate(60 %d %d)\">"
			"%.3g</text>\n", x, 182, x, 182, num_of(b, "from_us"));
		i++;
	}
	fputs("</svg>\n<p class=\"legend\"><i class=c>&nbsp;</i> writes that copy "
	      "<i class=w>&nbsp;</i> the same pages written again "
	      "<i class=s>&nbsp;</i> writes that copy nothing; buckets in microseconds "
	      "(quarter octaves)</p>\n", f);
}

static void check_rows(FILE *f, const char *who, const struct report_check *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		esc(f, who);
		fputs("</td><td>", f);
		esc(f, c[i].name);
		fprintf(f, "</td><td class=\"%s\">%s</td><td>",
			report_check_status(&c[i]) == CHECK_HELD ? "held" :
			report_check_status(&c[i]) == CHECK_FAILED ? "broken" : "unproven",
			report_check_status_name(report_check_status(&c[i])));
		esc(f, c[i].detail);
		fputs("</td></tr>\n", f);
	}
}

static void checks_json(FILE *f, const char *key, const struct report_check *c, size_t n,
			bool *first, bool held_bare)
{
	fprintf(f, "%s\"%s\":[", *first ? "" : ",", key);
	*first = false;
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s[\"", i ? "," : "");
		jesc(f, c[i].name);
		fprintf(f, "\",\"%s\",\"", report_check_status_name(report_check_status(&c[i])));
		/* (past 64 clients a check that held is said by its name alone) */
		if (!held_bare || report_check_status(&c[i]) != CHECK_HELD)
			jesc(f, c[i].detail);
		fputs("\"]", f);
	}
	fputc(']', f);
}

int html_close(struct html *h, const struct report *r, const char *title, uint32_t before,
	       uint32_t each)
{
	FILE *f;
	enum report_exit ex = report_exit_status(r);
	size_t map_n = r->page_map != NULL ? strlen(r->page_map) : 0;
	bool first = true;
	int err;

	if (h == NULL)
		return COWLAB_OK;
	f = h->f;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>cowlab: ", f);
	esc(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>cowlab %s: ", style,
		COWLAB_VERSION);
	esc(f, title);
	fprintf(f, "</h1>\n<p class=\"verdict %s\" id=\"verdict\">verdict: %s (exit %d)</p>\n",
		ex == REPORT_EXIT_HELD ? "held" : ex == REPORT_EXIT_FAILED ? "broken" : "unproven",
		ex == REPORT_EXIT_HELD ? "isolation HELD" : ex == REPORT_EXIT_FAILED ?
		"BROKEN" : ex == REPORT_EXIT_USAGE ? "setup error" : "NOT PROVEN", (int)ex);
	fprintf(f, "<p>%s %s (%s)", r->platform.os, r->platform.version, r->platform.arch);
	if (r->platform.wine_version[0] != '\0')
		fprintf(f, ", under Wine %s", r->platform.wine_version);
	fprintf(f, "; a section of %llu pages of %llu bytes; %d client%s expected, %zu "
		"admitted.</p>\n",
		(unsigned long long)(r->page_size ? r->section_size / r->page_size : 0),
		(unsigned long long)r->page_size,
		r->expected_clients, text_s((uint64_t)r->expected_clients), r->nclients);
	if (h->nomem)
		fputs("<p><b>The server ran out of memory keeping the rows of this page: some are "
		      "missing.</b></p>\n", f);

	/* the page map, a cell a page */
	fprintf(f, "<section>\n<h2>Page map</h2>\n<p class=\"legend\">%s</p>\n",
		"<i class=v>S</i> the server's <i class=c>C</i> a private copy "
		"<i class=t>t</i> tracking <i class=w>W</i> written through rw "
		"<i class=f>F</i> ro write faulted <i class=x>!</i> differs from "
		"the model <i class=q>?</i> not proven <i class=n>.</i> nobody's. "
		"Click a page.");
	fprintf(f, "<div class=\"grid\" id=\"map\" data-before=\"%u\" data-each=\"%u\" "
		"data-clients=\"%d\">\n", before, each, r->expected_clients);
	for (size_t row = 0; row * MAP_ROW < map_n; row++) {
		size_t len = map_n - row * MAP_ROW < MAP_ROW ? map_n - row * MAP_ROW : MAP_ROW;

		fprintf(f, "<div class=\"row\" data-first=\"%zu\" data-seen=\"", row * MAP_ROW);
		for (size_t k = 0; k < len; k++) /* the report's letters: none to escape */
			fputc(strchr("<>&\"", r->page_map[row * MAP_ROW + k]) ? '?' :
			      r->page_map[row * MAP_ROW + k], f);
		fprintf(f, "\"><b>%zu</b><span></span></div>\n", row * MAP_ROW);
	}
	fputs("</div>\n", f);
	if (map_n == 0)
		fputs("<p>This run's section is not laid out by client: each step below says "
		      "what the OS said of the pages it was asked about.</p>\n", f);
	fputs("</section>\n", f);

	/* the steps, a panel each */
	fputs("<section id=\"timeline\">\n<h2>Steps</h2>\n", f);
	for (size_t i = 0; i < h->nsteps; i++) {
		const struct html_step *st = &h->steps[i];

		fprintf(f, "<article class=\"step\" id=\"step-%d\">\n<h3>Step %d", st->step,
			st->step);
		if (st->name != NULL && st->name[0] != '\0') {
			fputs(" (", f);
			esc(f, st->name);
			fputc(')', f);
		}
		fputs("</h3>\n<p>", f);
		esc(f, st->say);
		fputs("</p>\n", f);
		if (st->text != NULL && st->text[0] != '\0') {
			fputs("<pre>", f);
			esc(f, st->text);
			fputs("</pre>\n", f);
		}
		fputs("<div class=\"grid\">\n", f);
		for (size_t k = 0; k < h->nrows; k++) {
			const struct html_row *row = &h->rows[k];
			char who[24];

			if (row->step != st->step || row->seen == NULL)
				continue;
			if (row->who == 0)
				snprintf(who, sizeof(who), "the server");
			else
				snprintf(who, sizeof(who), "client %d", row->who);
			fprintf(f, "<div class=\"row%s\" data-step=\"%d\" data-who=\"%s\" "
				"data-view=\"%s\" data-pages=\"%s\" data-pred=\"", row->status == 1 ?
				" differs" : row->status == 2 ? " unproven-row" : "", row->step, who,
				row->view, row->pages);
			esc(f, row->pred);
			fprintf(f, "\" data-st=\"%d\" data-why=\"", row->status);
			esc(f, row->why);
			fputs("\" data-src=\"", f);
			esc(f, row->sources);
			/* its cells made when the panel comes into view (the page's
			 * script): a page of 1000 clients opens without them */
			fputs("\" data-seen=\"", f);
			esc(f, row->seen);
			fprintf(f, "\"><b>%s %s</b><span></span>", who, row->view);
			if (row->more > 0)
				fprintf(f, " and %zu more pages", row->more);
			fputs("</div>\n", f);
		}
		fputs("</div>\n</article>\n", f);
	}
	fputs("</section>\n", f);

	/* the checks */
	fputs("<section>\n<h2>Checks</h2>\n<table>\n<tr><th>whose</th><th>check</th>"
	      "<th>status</th><th>detail</th></tr>\n", f);
	check_rows(f, "the server", r->server_checks, r->nserver_checks);
	for (size_t i = 0; i < r->nclients; i++) {
		char who[24];
		bool all_held = true;

		for (size_t k = 0; k < r->clients[i].nchecks; k++)
			all_held &= report_check_status(&r->clients[i].checks[k]) == CHECK_HELD ||
				    report_check_status(&r->clients[i].checks[k]) ==
				    CHECK_NOT_APPLICABLE;
		/* past 64 clients, those whose checks all held in one line */
		if (r->nclients > 64 && all_held && r->clients[i].status == CLIENT_COMPLETE)
			continue;
		snprintf(who, sizeof(who), "client %d", r->clients[i].id);
		check_rows(f, who, r->clients[i].checks, r->clients[i].nchecks);
		if (r->clients[i].status != CLIENT_COMPLETE) {
			fprintf(f, "<tr><td>%s</td><td colspan=\"3\" class=\"unproven\">lost: ", who);
			esc(f, r->clients[i].reason);
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);
	if (r->nclients > 64)
		fputs("<p>Clients whose checks all held are left out of the table when there are "
		      "more than 64; click a page of the map for its owner's.</p>\n", f);
	fputs("</section>\n<section>\n<h2>The cost of a copy</h2>\n", f);
	svg_cost(f, r->copy_cost);
	fputs("</section>\n<div id=\"detail\" role=\"status\">Click a page for what the OS "
	      "said of it, what the model predicted and the checks about it.</div>\n", f);
	/* each client's checks, for the clicks */
	fputs("<script type=\"application/json\" id=\"checks-data\">{", f);
	checks_json(f, "server", r->server_checks, r->nserver_checks, &first, false);
	for (size_t i = 0; i < r->nclients; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", r->clients[i].id);
		checks_json(f, key, r->clients[i].checks, r->clients[i].nchecks, &first,
			    r->nclients > 64);
	}
	fprintf(f, "}</script>\n<script>%s</script>\n</body>\n</html>\n", script);
	err = ferror(f) || fflush(f) != 0 ? COWLAB_E_IO : COWLAB_OK;
	if (fclose(f) != 0)
		err = COWLAB_E_IO;
	h->f = NULL;
	html_discard(h);
	return err;
}
