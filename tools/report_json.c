/*
 * A small, strict JSON parser for trace lines (RFC 8259: one value, no
 * trailing commas, no comments), and a writer whose output is safe inside
 * an HTML <script> element. Values live in an arena that is reset between
 * lines, so a 100,000-line trace costs one arena's worth of memory.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum { JCHUNK = 64 * 1024, JMAX_DEPTH = 64 };

typedef struct jchunk {
	struct jchunk *next;
	size_t used, cap;
	unsigned char mem[];
} jchunk;

struct jarena {
	jchunk *head;
};

jarena *jarena_new(void)
{
	return calloc(1, sizeof(jarena));
}

void jarena_reset(jarena *a)
{
	/* keep the first chunk, free the rest */
	while (a->head && a->head->next) {
		jchunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	if (a->head)
		a->head->used = 0;
}

void jarena_free(jarena *a)
{
	if (!a)
		return;
	while (a->head) {
		jchunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	free(a);
}

static void *jalloc(jarena *a, size_t n)
{
	jchunk *c = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > JCHUNK ? n : JCHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	return c->mem + c->used - n;
}

typedef struct jparser {
	jarena *a;
	const char *p, *start, *end;
	char *err;
	size_t cap;
	int depth;
} jparser;

static bool fail(jparser *ps, const char *what)
{
	if (ps->err && !ps->err[0]) {
		if (ps->p >= ps->end)
			snprintf(ps->err, ps->cap, "unexpected end of input at column %zu "
				 "(truncated?)", (size_t)(ps->p - ps->start) + 1);
		else
			snprintf(ps->err, ps->cap, "%s at column %zu", what,
				 (size_t)(ps->p - ps->start) + 1);
	}
	return false;
}

static void skip_ws(jparser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
				   *ps->p == '\n'))
		ps->p++;
}

static bool parse_value(jparser *ps, jval *v);

static bool literal(jparser *ps, const char *word, uint8_t type, jval *v)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) {
		if ((size_t)(ps->end - ps->p) < n && !memcmp(ps->p, word, (size_t)(ps->end - ps->p)))
			ps->p = ps->end;
		return fail(ps, "not a JSON value");
	}
	ps->p += n;
	v->type = type;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(jparser *ps, unsigned *out)
{
	unsigned u = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h;

		if (ps->p >= ps->end)
			return fail(ps, "");
		h = hexval(*ps->p);
		if (h < 0)
			return fail(ps, "bad \\u escape");
		u = u * 16 + (unsigned)h;
		ps->p++;
	}
	*out = u;
	return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ps->p is at the opening quote. */
static bool parse_string(jparser *ps, jval *v)
{
	const char *q = ++ps->p;
	size_t n = 0;
	char *out;

	/* the decoded string is never longer than the source */
	while (q < ps->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	out = jalloc(ps->a, (size_t)(q - ps->p) + 1);
	if (!out)
		return fail(ps, "out of memory");
	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;

		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c != '\\') {
			out[n++] = (char)c;
			ps->p++;
			continue;
		}
		if (++ps->p >= ps->end)
			return fail(ps, "");
		c = (unsigned char)*ps->p++;
		switch (c) {
		case '"': case '\\': case '/': out[n++] = (char)c; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (!hex4(ps, &cp))
				return false;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
					return fail(ps, "lone surrogate in \\u escape");
				ps->p += 2;
				if (!hex4(ps, &lo))
					return false;
				if (lo < 0xdc00 || lo >= 0xe000)
					return fail(ps, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return fail(ps, "lone surrogate in \\u escape");
			}
			n += put_utf8(out + n, cp);
			break;
		}
		default:
			ps->p--;
			return fail(ps, "bad escape in a string");
		}
	}
	if (ps->p >= ps->end)
		return fail(ps, "");
	ps->p++;
	out[n] = '\0';
	v->type = J_STR;
	v->str = out;
	v->len = n;
	return true;
}

static bool parse_number(jparser *ps, jval *v)
{
	const char *s = ps->p, *q = ps->p;
	char buf[64], *end;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end)
		return ps->p = q, fail(ps, "");
	if (*q == '0') {
		q++;
	} else if (*q >= '1' && *q <= '9') {
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		ps->p = q;
		return fail(ps, "not a JSON value");
	}
	if (q < ps->end && *q == '.') {
		q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return ps->p = q, fail(ps, "bad number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return ps->p = q, fail(ps, "bad number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((size_t)(q - s) >= sizeof(buf))
		return fail(ps, "number too long");
	memcpy(buf, s, (size_t)(q - s));
	buf[q - s] = '\0';
	errno = 0;
	v->num = strtod(buf, &end);
	if (!isfinite(v->num))
		return fail(ps, "number out of range");
	v->type = J_NUM;
	v->str = NULL;
	ps->p = q;
	return true;
}

/* Members are gathered in a growing scratch array, then copied into the
 * arena in one piece. */
static bool parse_list(jparser *ps, jval *v, bool object)
{
	jval stack_kids[32], *kids = stack_kids, *heap = NULL;
	size_t n = 0, cap = 32;
	bool ok = false;
	char close = object ? '}' : ']';

	if (++ps->depth > JMAX_DEPTH)
		return fail(ps, "nested too deeply");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		goto done;
	}
	for (;;) {
		if (n + 2 > cap) {
			jval *nk = malloc(2 * cap * sizeof(*nk));

			if (!nk) {
				fail(ps, "out of memory");
				goto out;
			}
			memcpy(nk, kids, n * sizeof(*nk));
			free(heap);
			kids = heap = nk;
			cap *= 2;
		}
		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a string key");
				goto out;
			}
			if (!parse_string(ps, &kids[n++]))
				goto out;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				fail(ps, "expected ':'");
				goto out;
			}
			ps->p++;
			skip_ws(ps);
		}
		if (!parse_value(ps, &kids[n++]))
			goto out;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
		goto out;
	}
done:
	v->type = object ? J_OBJ : J_ARR;
	v->len = object ? n / 2 : n;
	v->kids = NULL;
	if (n) {
		v->kids = jalloc(ps->a, n * sizeof(jval));
		if (!v->kids) {
			fail(ps, "out of memory");
			goto out;
		}
		memcpy(v->kids, kids, n * sizeof(jval));
	}
	ok = true;
out:
	free(heap);
	ps->depth--;
	return ok;
}

static bool parse_value(jparser *ps, jval *v)
{
	memset(v, 0, sizeof(*v));
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "");
	switch (*ps->p) {
	case '{': return parse_list(ps, v, true);
	case '[': return parse_list(ps, v, false);
	case '"': return parse_string(ps, v);
	case 't': return literal(ps, "true", J_TRUE, v);
	case 'f': return literal(ps, "false", J_FALSE, v);
	case 'n': return literal(ps, "null", J_NULL, v);
	default: return parse_number(ps, v);
	}
}

const jval *json_parse(jarena *a, const char *text, size_t len, char *err, size_t cap)
{
	jparser ps = { a, text, text, text + len, err, cap, 0 };
	jval *v = jalloc(a, sizeof(*v));

	if (err && cap)
		err[0] = '\0';
	if (!v) {
		fail(&ps, "out of memory");
		return NULL;
	}
	if (!parse_value(&ps, v))
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "text after the JSON value");
		return NULL;
	}
	return v;
}

const jval *json_get(const jval *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->len; i++)
		if (!strcmp(obj->kids[2 * i].str, key))
			return &obj->kids[2 * i + 1];
	return NULL;
}

void json_write_str(FILE *out, const char *s, size_t len)
{
	size_t i;

	fputc('"', out);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void json_write_num(FILE *out, double d)
{
	char buf[32];

	/* the shortest of %.15g and %.17g that reads back the same */
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, out);
}

void json_write(FILE *out, const jval *v)
{
	size_t i;

	switch (v->type) {
	case J_NULL: fputs("null", out); break;
	case J_FALSE: fputs("false", out); break;
	case J_TRUE: fputs("true", out); break;
	case J_NUM: json_write_num(out, v->num); break;
	case J_STR: json_write_str(out, v->str, v->len); break;
	case J_ARR:
		fputc('[', out);
		for (i = 0; i < v->len; i++) {
			if (i)
				fputc(',', out);
			json_write(out, &v->kids[i]);
		}
		fputc(']', out);
		break;
	case J_OBJ:
		fputc('{', out);
		for (i = 0; i < v->len; i++) {
			if (i)
				fputc(',', out);
			json_write(out, &v->kids[2 * i]);
			fputc(':', out);
			json_write(out, &v->kids[2 * i + 1]);
		}
		fputc('}', out);
		break;
	}
}
