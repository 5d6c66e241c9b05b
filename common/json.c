#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "text.h"

void json_escape(const char *s, void (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = { '\\', 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		emit(ctx, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		emit(ctx, esc, n);
	}
	emit(ctx, run, (size_t)(s - run));
}

int json_number(char *buf, double d)
{
	double test = 0;
	int n;

	if (isnan(d) || isinf(d))
		return snprintf(buf, JSON_NUMBER_MAX, "null");
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
		/* digits by hand: snprintf's cost is most of a report's numbers */
		long long v = (long long)d;
		size_t len = 0;

		if (v < 0)
			buf[len++] = '-';
		len += text_u64(buf + len, v < 0 ? (uint64_t)-v : (uint64_t)v);
		buf[len] = '\0';
		return (int)len;
	}
	/* cJSON's own way, its decimal point included */
	n = snprintf(buf, JSON_NUMBER_MAX, "%1.15g", d);
	if (sscanf(buf, "%lg", &test) != 1 ||
	    !(fabs(test - d) <= (fabs(test) > fabs(d) ? fabs(test) : fabs(d)) * DBL_EPSILON))
		n = snprintf(buf, JSON_NUMBER_MAX, "%1.17g", d);
	const char *point = localeconv()->decimal_point;
	for (int i = 0; i < n && point != NULL && point[0] != '\0'; i++)
		if (buf[i] == point[0])
			buf[i] = '.';
	return n;
}

void json_out_init(struct json_out *o, FILE *file)
{
	o->file = file;
	o->len = 0;
}

void json_out_flush(struct json_out *o)
{
	if (o->len > 0)
		fwrite(o->buf, 1, o->len, o->file);
	o->len = 0;
}

void json_out_raw(struct json_out *o, const char *p, size_t n)
{
	if (n > sizeof(o->buf) - o->len) {
		json_out_flush(o);
		if (n > sizeof(o->buf)) {
			fwrite(p, 1, n, o->file);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void emit(void *ctx, const char *p, size_t n)
{
	json_out_raw(ctx, p, n);
}

static void emit_char(struct json_out *o, char c)
{
	if (o->len == sizeof(o->buf))
		json_out_flush(o);
	o->buf[o->len++] = c;
}

void json_out_string(struct json_out *o, const char *s)
{
	emit_char(o, '"');
	if (s != NULL)
		json_escape(s, emit, o);
	emit_char(o, '"');
}

void json_out_number(struct json_out *o, double d)
{
	char num[JSON_NUMBER_MAX];

	json_out_raw(o, num, (size_t)json_number(num, d));
}

void json_out_key(struct json_out *o, const char *key, bool first)
{
	if (!first)
		emit_char(o, ',');
	json_out_string(o, key);
	emit_char(o, ':');
}

void json_out_value(struct json_out *o, const cJSON *v)
{
	if (v == NULL) {
		json_out_raw(o, "null", 4);
		return;
	}
	switch (v->type & 0xFF) {
	case cJSON_False:
		json_out_raw(o, "false", 5);
		break;
	case cJSON_True:
		json_out_raw(o, "true", 4);
		break;
	case cJSON_Number:
		json_out_number(o, v->valuedouble);
		break;
	case cJSON_String:
		json_out_string(o, v->valuestring);
		break;
	case cJSON_Raw:
		if (v->valuestring != NULL)
			json_out_raw(o, v->valuestring, strlen(v->valuestring));
		break;
	case cJSON_Array:
	case cJSON_Object:
		emit_char(o, (v->type & 0xFF) == cJSON_Array ? '[' : '{');
		for (const cJSON *c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				emit_char(o, ',');
			if ((v->type & 0xFF) == cJSON_Object) {
				json_out_string(o, c->string);
				emit_char(o, ':');
			}
			json_out_value(o, c);
		}
		emit_char(o, (v->type & 0xFF) == cJSON_Array ? ']' : '}');
		break;
	default: /* cJSON_NULL */
		json_out_raw(o, "null", 4);
		break;
	}
}

void json_write(FILE *out, const cJSON *v)
{
	struct json_out o;

	json_out_init(&o, out);
	json_out_value(&o, v);
	json_out_flush(&o);
}

/* ---- json_check: RFC 8259, strictly ---- */

struct jcheck {
	const unsigned char *p, *start, *end;
	int depth, depth_max;
	char *why;
	size_t cap;
};

static bool jc_fail(struct jcheck *j, const char *what)
{
	if (j->why != NULL && j->cap > 0)
		snprintf(j->why, j->cap, "not valid JSON (at byte %td): %s",
			 (const char *)j->p - (const char *)j->start, what);
	return false;
}

static void jc_ws(struct jcheck *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jc_value(struct jcheck *j);

static int jc_hex4(struct jcheck *j)
{
	int v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = j->p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	j->p += 4;
	return v;
}

/* One UTF-8 character of two to four bytes at j->p: well-formed, not
 * overlong, no surrogate, nothing over U+10FFFF. */
static bool jc_utf8(struct jcheck *j)
{
	const unsigned char *s = j->p;
	unsigned n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	uint32_t cp;

	if (s[0] < 0xC2 || s[0] > 0xF4 || (size_t)(j->end - s) < n)
		return false;
	cp = s[0] & (0x7F >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	j->p += n;
	return true;
}

static bool jc_string(struct jcheck *j)
{
	if (j->p >= j->end || *j->p != '"')
		return jc_fail(j, "a string expected");
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		int u;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return jc_fail(j, "a control character in a string (escape it)");
		if (c >= 0x80) {
			if (!jc_utf8(j))
				return jc_fail(j, "a string that is not well-formed UTF-8");
			continue;
		}
		j->p++;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			break;
		c = *j->p++;
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
			continue;
		if (c != 'u' || (u = jc_hex4(j)) < 0)
			return jc_fail(j, "an invalid escape in a string");
		if (u == 0)
			return jc_fail(j, "a string escapes U+0000");
		if (u >= 0xDC00 && u <= 0xDFFF)
			return jc_fail(j, "an unpaired surrogate escape in a string");
		if (u >= 0xD800 && u <= 0xDBFF) {
			int lo;

			if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
				return jc_fail(j, "an unpaired surrogate escape in a string");
			j->p += 2;
			if ((lo = jc_hex4(j)) < 0xDC00 || lo > 0xDFFF)
				return jc_fail(j, "an unpaired surrogate escape in a string");
		}
	}
	return jc_fail(j, "a string without its closing quote");
}

static bool jc_digits(struct jcheck *j)
{
	const unsigned char *from = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > from;
}

static bool jc_number(struct jcheck *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0') {
		j->p++;
		if (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			return jc_fail(j, "a number with a leading zero");
	} else if (!jc_digits(j)) {
		return jc_fail(j, "a number without digits");
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jc_digits(j))
			return jc_fail(j, "a number without digits after its point");
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jc_digits(j))
			return jc_fail(j, "a number without digits in its exponent");
	}
	return true;
}

static bool jc_word(struct jcheck *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return jc_fail(j, "not a JSON value");
	j->p += n;
	return true;
}

/* An object or an array, its opening bracket at j->p. */
static bool jc_container(struct jcheck *j)
{
	bool object = *j->p == '{';
	unsigned char close = object ? '}' : ']';

	if (++j->depth > j->depth_max)
		return jc_fail(j, "nested too deep");
	j->p++;
	jc_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			if (!jc_string(j))
				return false;
			jc_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return jc_fail(j, "a colon expected after a key");
			j->p++;
			jc_ws(j);
		}
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jc_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return jc_fail(j, object ? "a comma or } expected" : "a comma or ] expected");
	}
}

static bool jc_value(struct jcheck *j)
{
	if (j->p >= j->end)
		return jc_fail(j, "a value expected");
	switch (*j->p) {
	case '{':
	case '[':
		return jc_container(j);
	case '"':
		return jc_string(j);
	case 't':
		return jc_word(j, "true");
	case 'f':
		return jc_word(j, "false");
	case 'n':
		return jc_word(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jc_number(j);
		return jc_fail(j, "not a JSON value");
	}
}

bool json_check(const char *text, size_t len, int depth_max, char *why, size_t cap)
{
	struct jcheck j = { (const unsigned char *)text, (const unsigned char *)text,
			    (const unsigned char *)text + len, 0, depth_max, why, cap };

	jc_ws(&j);
	if (!jc_value(&j))
		return false;
	jc_ws(&j);
	if (j.p != j.end)
		return jc_fail(&j, "more after the JSON value");
	return true;
}
