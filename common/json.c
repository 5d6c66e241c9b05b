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

static void emit_file(void *ctx, const char *p, size_t n)
{
	fwrite(p, 1, n, ctx);
}

static void write_string(FILE *out, const char *s)
{
	fputc('"', out);
	if (s != NULL)
		json_escape(s, emit_file, out);
	fputc('"', out);
}

void json_write(FILE *out, const cJSON *v)
{
	char num[JSON_NUMBER_MAX];

	switch (v->type & 0xFF) {
	case cJSON_False:
		fputs("false", out);
		break;
	case cJSON_True:
		fputs("true", out);
		break;
	case cJSON_Number:
		fwrite(num, 1, (size_t)json_number(num, v->valuedouble), out);
		break;
	case cJSON_String:
		write_string(out, v->valuestring);
		break;
	case cJSON_Raw:
		fputs(v->valuestring != NULL ? v->valuestring : "", out);
		break;
	case cJSON_Array:
	case cJSON_Object:
		fputc((v->type & 0xFF) == cJSON_Array ? '[' : '{', out);
		for (const cJSON *c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				fputc(',', out);
			if ((v->type & 0xFF) == cJSON_Object) {
				write_string(out, c->string);
				fputc(':', out);
			}
			json_write(out, c);
		}
		fputc((v->type & 0xFF) == cJSON_Array ? ']' : '}', out);
		break;
	default: /* cJSON_NULL */
		fputs("null", out);
		break;
	}
}
