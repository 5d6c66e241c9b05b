#include <float.h>
#include <locale.h>
#include <math.h>
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
