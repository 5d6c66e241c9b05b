#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

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
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d)))
		return snprintf(buf, JSON_NUMBER_MAX, "%lld", (long long)d);
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

/* json_write's output, gathered into a buffer and handed to stdio a few
 * KiB at a time rather than a byte at a time (each stdio call takes the
 * stream's lock): the 1000-client report is 3.4 MB of small pieces. */
struct out {
	FILE *file;
	size_t len;
	char buf[8192];
};

static void flush(struct out *o)
{
	if (o->len > 0)
		fwrite(o->buf, 1, o->len, o->file);
	o->len = 0;
}

static void emit(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;

	if (n > sizeof(o->buf) - o->len) {
		flush(o);
		if (n > sizeof(o->buf)) {
			fwrite(p, 1, n, o->file);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void emit_char(struct out *o, char c)
{
	if (o->len == sizeof(o->buf))
		flush(o);
	o->buf[o->len++] = c;
}

static void write_string(struct out *o, const char *s)
{
	emit_char(o, '"');
	if (s != NULL)
		json_escape(s, emit, o);
	emit_char(o, '"');
}

static void write_value(struct out *o, const cJSON *v)
{
	char num[JSON_NUMBER_MAX];

	switch (v->type & 0xFF) {
	case cJSON_False:
		emit(o, "false", 5);
		break;
	case cJSON_True:
		emit(o, "true", 4);
		break;
	case cJSON_Number:
		emit(o, num, (size_t)json_number(num, v->valuedouble));
		break;
	case cJSON_String:
		write_string(o, v->valuestring);
		break;
	case cJSON_Raw:
		if (v->valuestring != NULL)
			emit(o, v->valuestring, strlen(v->valuestring));
		break;
	case cJSON_Array:
	case cJSON_Object:
		emit_char(o, (v->type & 0xFF) == cJSON_Array ? '[' : '{');
		for (const cJSON *c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				emit_char(o, ',');
			if ((v->type & 0xFF) == cJSON_Object) {
				write_string(o, c->string);
				emit_char(o, ':');
			}
			write_value(o, c);
		}
		emit_char(o, (v->type & 0xFF) == cJSON_Array ? ']' : '}');
		break;
	default: /* cJSON_NULL */
		emit(o, "null", 4);
		break;
	}
}

void json_write(FILE *out, const cJSON *v)
{
	struct out o;

	o.file = out;
	o.len = 0;
	write_value(&o, v);
	flush(&o);
}
