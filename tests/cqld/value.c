/*
 * value - CQL values of cqld: literals to bytes, checks, comparison
 *
 * DESCRIPTION
 *	See value.h. Collections are one level deep (elements of simple
 *	types), which is all cql_lang accepts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql/cql_proto.h"
#include "value.h"

#define VALUE_MAX_ELEMS		65535	/* elements of a bound collection */

/* value_is_collection - list, set or map */
int value_is_collection(uint16_t id)
{
	return id == CQL_TYPE_LIST || id == CQL_TYPE_SET || id == CQL_TYPE_MAP;
}

/* value_int_from_bytes - big-endian signed integer of 1..8 bytes */
int64_t value_int_from_bytes(const uint8_t *p, size_t n)
{
	uint64_t v;
	size_t i;

	if (n == 0)
		return 0;
	v = (p[0] & 0x80) ? ~(uint64_t)0 : 0;
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* put_be - append the low n bytes of v, big-endian */
static void put_be(struct buf *out, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[n - 1 - i] = (uint8_t)(v >> (8 * i));
	buf_append(out, b, n);
}

/* utf8_valid - well-formed UTF-8 (no overlongs, no surrogates) */
static int utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			need = 1; cp = c & 0x1F; min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2; cp = c & 0x0F; min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (need > n - i - 1)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* fixed_len - byte length of a fixed-size type, 0 when variable */
static size_t fixed_len(uint16_t id)
{
	switch (id) {
	case CQL_TYPE_BOOLEAN:
	case CQL_TYPE_TINYINT: return 1;
	case CQL_TYPE_SMALLINT: return 2;
	case CQL_TYPE_INT:
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DATE: return 4;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
	case CQL_TYPE_DOUBLE:
	case CQL_TYPE_TIMESTAMP:
	case CQL_TYPE_TIME: return 8;
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID: return 16;
	default: return 0;
	}
}

/* fixed_int - a big-endian integer of fixed_len() bytes (not varint) */
static int fixed_int(uint16_t id)
{
	return id == CQL_TYPE_TINYINT || id == CQL_TYPE_SMALLINT ||
	       id == CQL_TYPE_INT || id == CQL_TYPE_BIGINT ||
	       id == CQL_TYPE_COUNTER || id == CQL_TYPE_TIMESTAMP ||
	       id == CQL_TYPE_TIME;
}

/* simple_check - a bound value of a simple type is well formed */
static int simple_check(uint16_t id, const uint8_t *p, size_t len,
			const char *col, char *err, size_t errlen)
{
	size_t want = fixed_len(id);

	if (want && len != want && len != 0) {
		snprintf(err, errlen, "Expected %zu or 0 byte value for %s "
			 "(%s) but got %zu bytes", want, cql_type_name(id),
			 col, len);
		return -1;
	}
	switch (id) {
	case CQL_TYPE_VARCHAR:
		if (!utf8_valid(p, len)) {
			snprintf(err, errlen, "String didn't validate.");
			return -1;
		}
		break;
	case CQL_TYPE_ASCII: {
		size_t i;

		for (i = 0; i < len; i++)
			if (p[i] & 0x80) {
				snprintf(err, errlen, "Invalid byte for ascii: "
					 "%d", (int)p[i]);
				return -1;
			}
		break;
	}
	case CQL_TYPE_INET:
		if (len != 4 && len != 16 && len != 0) {
			snprintf(err, errlen, "Expected 4 or 16 byte inetaddress "
				 "for %s but got %zu bytes", col, len);
			return -1;
		}
		break;
	case CQL_TYPE_TIMEUUID:
		if (len == 16 && (p[6] >> 4) != 1) {
			snprintf(err, errlen, "Invalid version for TimeUUID "
				 "type.");
			return -1;
		}
		break;
	case CQL_TYPE_DECIMAL:
		if (len != 0 && len < 4) {
			snprintf(err, errlen, "Invalid decimal for %s", col);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* value_compare - order two values of simple type id */
int value_compare(uint16_t id, const uint8_t *a, size_t alen,
		  const uint8_t *b, size_t blen)
{
	size_t n;
	int c;

	if (alen == 0 || blen == 0)	/* empty sorts first */
		return (alen != 0) - (blen != 0);
	if ((fixed_int(id) || id == CQL_TYPE_VARINT) && alen <= 8 &&
	    blen <= 8) {
		int64_t x = value_int_from_bytes(a, alen);
		int64_t y = value_int_from_bytes(b, blen);

		return (x > y) - (x < y);
	}
	switch (id) {
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DOUBLE:
		if (alen == blen && (alen == 4 || alen == 8)) {
			double x, y;

			if (alen == 4) {
				uint32_t u = (uint32_t)value_int_from_bytes(a, 4);
				uint32_t v = (uint32_t)value_int_from_bytes(b, 4);
				float f, g;

				memcpy(&f, &u, 4);
				memcpy(&g, &v, 4);
				x = f;
				y = g;
			} else {
				uint64_t u = (uint64_t)value_int_from_bytes(a, 8);
				uint64_t v = (uint64_t)value_int_from_bytes(b, 8);

				memcpy(&x, &u, 8);
				memcpy(&y, &v, 8);
			}
			return (x > y) - (x < y);
		}
		break;
	default:
		break;
	}
	n = alen < blen ? alen : blen;
	if ((c = memcmp(a, b, n)) != 0)
		return c < 0 ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

/* value_type_name - CQL text of a type */
const char *value_type_name(const struct cl_type *ty, char *out, size_t size)
{
	const char *base = cql_type_name(ty->id);

	if (ty->id == CQL_TYPE_LIST || ty->id == CQL_TYPE_SET)
		snprintf(out, size, "%s%s<%s>%s", ty->frozen ? "frozen<" : "",
			 base, cql_type_name(ty->elem[0]),
			 ty->frozen ? ">" : "");
	else if (ty->id == CQL_TYPE_MAP)
		snprintf(out, size, "%smap<%s, %s>%s",
			 ty->frozen ? "frozen<" : "", cql_type_name(ty->elem[0]),
			 cql_type_name(ty->elem[1]), ty->frozen ? ">" : "");
	else
		snprintf(out, size, "%s", base);
	return out;
}

/* value_uuid_parse - 36-char UUID text to 16 bytes */
int value_uuid_parse(const char *s, uint8_t out[16])
{
	size_t i, n = 0;
	int hi = -1;

	for (i = 0; s[i] && n < 16; i++) {
		int v;

		if (s[i] == '-')
			continue;
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v = s[i] - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == 16 && s[i] == 0 ? 0 : -1;
}

/* bad_literal - the Cassandra message for a literal of the wrong kind */
static int bad_literal(const struct cl_type *ty, const struct cl_term *t,
		       const char *col, char *err, size_t errlen)
{
	char tn[64];

	snprintf(err, errlen, "Invalid %s constant (%s) for \"%s\" of type %s",
		 cl_term_kind_name(t->kind), t->str ? t->str : "...", col,
		 value_type_name(ty, tn, sizeof(tn)));
	return -1;
}

/* int_range - bounds of the integer types, by byte width */
static int int_range(const struct cl_term *t, size_t width, const char *tn,
		     char *err, size_t errlen)
{
	int64_t lo, hi;

	if (!t->ival_ok) {
		snprintf(err, errlen, "Unable to make %s from '%s'", tn, t->str);
		return -1;
	}
	if (width >= 8)
		return 0;
	hi = ((int64_t)1 << (8 * width - 1)) - 1;
	lo = -hi - 1;
	if (t->ival < lo || t->ival > hi) {
		snprintf(err, errlen, "Unable to make %s from '%s'", tn, t->str);
		return -1;
	}
	return 0;
}

/* simple_from_term - encode a literal of a simple type */
static int simple_from_term(uint16_t id, const struct cl_type *ty,
			    const struct cl_term *t, const char *col,
			    struct buf *out, char *err, size_t errlen)
{
	uint8_t u[16];
	size_t i;

	if (fixed_int(id)) {
		if (t->kind != CL_TERM_INT)
			return bad_literal(ty, t, col, err, errlen);
		if (int_range(t, fixed_len(id), cql_type_name(id), err,
			      errlen) < 0)
			return -1;
		put_be(out, (uint64_t)t->ival, fixed_len(id));
		return 0;
	}
	switch (id) {
	case CQL_TYPE_VARCHAR:
	case CQL_TYPE_ASCII:
		if (t->kind != CL_TERM_STRING)
			return bad_literal(ty, t, col, err, errlen);
		if (simple_check(id, (const uint8_t *)t->str, t->len, col,
				 err, errlen) < 0)
			return -1;
		buf_append(out, t->str, t->len);
		return 0;
	case CQL_TYPE_BOOLEAN:
		if (t->kind != CL_TERM_BOOL)
			return bad_literal(ty, t, col, err, errlen);
		buf_append_byte(out, t->ival ? 1 : 0);
		return 0;
	case CQL_TYPE_VARINT: {
		size_t n = 8;

		if (t->kind != CL_TERM_INT)
			return bad_literal(ty, t, col, err, errlen);
		if (!t->ival_ok) {
			snprintf(err, errlen, "cqld: varint literal %s is too "
				 "large", t->str);
			return -1;
		}
		/* shortest two's complement form */
		while (n > 1) {
			int64_t top = t->ival >> (8 * (n - 1) - 1);

			if (top != 0 && top != -1)
				break;
			n--;
		}
		put_be(out, (uint64_t)t->ival, n);
		return 0;
	}
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DOUBLE: {
		double d;

		if (t->kind != CL_TERM_FLOAT && t->kind != CL_TERM_INT)
			return bad_literal(ty, t, col, err, errlen);
		if (strcasecmp(t->str, "nan") == 0)
			d = NAN;
		else if (strcasecmp(t->str, "infinity") == 0)
			d = INFINITY;
		else
			d = strtod(t->str, NULL);
		if (id == CQL_TYPE_FLOAT) {
			float f = (float)d;
			uint32_t v;

			memcpy(&v, &f, 4);
			put_be(out, v, 4);
		} else {
			uint64_t v;

			memcpy(&v, &d, 8);
			put_be(out, v, 8);
		}
		return 0;
	}
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID:
		if (t->kind != CL_TERM_UUID)
			return bad_literal(ty, t, col, err, errlen);
		if (value_uuid_parse(t->str, u) < 0)
			return bad_literal(ty, t, col, err, errlen);
		if (simple_check(id, u, 16, col, err, errlen) < 0)
			return -1;
		buf_append(out, u, 16);
		return 0;
	case CQL_TYPE_INET:
		if (t->kind != CL_TERM_STRING)
			return bad_literal(ty, t, col, err, errlen);
		if (inet_pton(AF_INET, t->str, u) == 1) {
			buf_append(out, u, 4);
		} else if (inet_pton(AF_INET6, t->str, u) == 1) {
			buf_append(out, u, 16);
		} else {
			snprintf(err, errlen, "Unable to make inet address "
				 "from '%s'", t->str);
			return -1;
		}
		return 0;
	case CQL_TYPE_BLOB:
		if (t->kind != CL_TERM_HEX)
			return bad_literal(ty, t, col, err, errlen);
		if ((t->len - 2) % 2 != 0) {
			snprintf(err, errlen, "Invalid HEX constant (%s) for "
				 "\"%s\" of type blob", t->str, col);
			return -1;
		}
		for (i = 2; i + 1 < t->len; i += 2) {
			char h[3] = { t->str[i], t->str[i + 1], 0 };

			buf_append_byte(out, (uint8_t)strtoul(h, NULL, 16));
		}
		return 0;
	case CQL_TYPE_DATE:
		if (t->kind != CL_TERM_INT)
			return bad_literal(ty, t, col, err, errlen);
		if (t->ival < 0 || t->ival > UINT32_MAX || !t->ival_ok) {
			snprintf(err, errlen, "Unable to make date from '%s'",
				 t->str);
			return -1;
		}
		put_be(out, (uint64_t)t->ival, 4);
		return 0;
	default:
		snprintf(err, errlen, "cqld: literals of type %s are not "
			 "supported (column %s)", cql_type_name(id), col);
		return -1;
	}
}

/* elem_cmp_id - element type id for the qsort callbacks */
static uint16_t elem_cmp_id;

struct elem {
	const uint8_t *p;
	size_t len;
	const uint8_t *vp;	/* map value */
	size_t vlen;
};

/* elem_cmp - qsort order of collection elements (keys for maps) */
static int elem_cmp(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;

	return value_compare(elem_cmp_id, x->p, x->len, y->p, y->len);
}

/*
 * emit_collection - write n elements in canonical form: sets sorted and
 * without duplicates, maps sorted by key (last value wins), lists as is.
 */
static void emit_collection(const struct cl_type *ty, struct elem *el,
			    size_t n, struct buf *out)
{
	size_t i, k = 0, cnt_off;

	if (ty->id != CQL_TYPE_LIST && n > 1) {
		/* stable for maps: a later duplicate key must win */
		for (i = 1; i < n; i++) {
			struct elem e = el[i];
			size_t j = i;

			elem_cmp_id = ty->elem[0];
			while (j > 0 && elem_cmp(&el[j - 1], &e) > 0) {
				el[j] = el[j - 1];
				j--;
			}
			el[j] = e;
		}
	}
	cnt_off = out->len;
	cql_wr_int(out, 0);
	for (i = 0; i < n; i++) {
		if (ty->id != CQL_TYPE_LIST && i + 1 < n &&
		    value_compare(ty->elem[0], el[i].p, el[i].len,
				  el[i + 1].p, el[i + 1].len) == 0)
			continue;	/* keep the last of equal keys */
		cql_wr_bytes(out, el[i].p, (int32_t)el[i].len);
		if (ty->id == CQL_TYPE_MAP)
			cql_wr_bytes(out, el[i].vp, (int32_t)el[i].vlen);
		k++;
	}
	if (!out->oom) {
		out->data[cnt_off] = (uint8_t)(k >> 24);
		out->data[cnt_off + 1] = (uint8_t)(k >> 16);
		out->data[cnt_off + 2] = (uint8_t)(k >> 8);
		out->data[cnt_off + 3] = (uint8_t)k;
	}
}

/* value_from_term - encode a literal for a column of type ty */
int value_from_term(const struct cl_type *ty, const struct cl_term *t,
		    const char *col, struct buf *out, int *is_null,
		    char *err, size_t errlen)
{
	struct buf tmp;
	struct elem *el = NULL;
	size_t i, n, step;
	size_t *offs = NULL;
	int rc = -1;

	buf_reset(out);
	*is_null = 0;
	if (t->kind == CL_TERM_NULL) {
		*is_null = 1;
		return 0;
	}
	if (t->kind == CL_TERM_BIND) {
		snprintf(err, errlen, "internal: unbound marker");
		return -1;
	}
	if (!value_is_collection(ty->id)) {
		if (simple_from_term(ty->id, ty, t, col, out, err, errlen) < 0)
			return -1;
		return out->oom ? (snprintf(err, errlen, "out of memory"), -1) : 0;
	}
	if (ty->id == CQL_TYPE_LIST && t->kind != CL_TERM_LIST)
		return bad_literal(ty, t, col, err, errlen);
	if (ty->id == CQL_TYPE_SET && t->kind != CL_TERM_SET)
		return bad_literal(ty, t, col, err, errlen);
	if (ty->id == CQL_TYPE_MAP && t->kind != CL_TERM_MAP &&
	    !(t->kind == CL_TERM_SET && t->nelems == 0))
		return bad_literal(ty, t, col, err, errlen);
	step = ty->id == CQL_TYPE_MAP ? 2 : 1;
	n = t->nelems / step;
	if (n == 0) {
		*is_null = 1;	/* empty collections are null in CQL */
		return 0;
	}
	/* encode every element into tmp, then order them */
	buf_init(&tmp);
	el = calloc(n, sizeof(*el));
	offs = calloc(n * step + 1, sizeof(*offs));
	if (el == NULL || offs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n * step; i++) {
		struct buf one;
		int null;
		const struct cl_type sub = { .id = ty->elem[i % step] };

		if (t->elems[i].kind == CL_TERM_NULL) {
			snprintf(err, errlen, "null is not supported inside "
				 "collections");
			goto out;
		}
		buf_init(&one);
		if (value_from_term(&sub, &t->elems[i], col, &one, &null, err,
				    errlen) < 0) {
			buf_free(&one);
			goto out;
		}
		offs[i] = tmp.len;
		buf_append(&tmp, one.data, one.len);
		buf_free(&one);
	}
	offs[n * step] = tmp.len;
	if (tmp.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		el[i].p = tmp.data + offs[i * step];
		el[i].len = offs[i * step + 1] - offs[i * step];
		if (step == 2) {
			el[i].vp = tmp.data + offs[i * 2 + 1];
			el[i].vlen = offs[i * 2 + 2] - offs[i * 2 + 1];
		}
	}
	emit_collection(ty, el, n, out);
	if (out->oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(el);
	free(offs);
	buf_free(&tmp);
	return rc;
}

/* value_check - check a bound value and write its canonical form */
int value_check(const struct cl_type *ty, const uint8_t *p, size_t len,
		const char *col, struct buf *out, int *is_null,
		char *err, size_t errlen)
{
	struct cql_rd rd;
	struct elem *el;
	int32_t n, i, k, step;

	buf_reset(out);
	*is_null = 0;
	if (!value_is_collection(ty->id)) {
		if (simple_check(ty->id, p, len, col, err, errlen) < 0)
			return -1;
		buf_append(out, p, len);
		return out->oom ? (snprintf(err, errlen, "out of memory"), -1) : 0;
	}
	cql_rd_init(&rd, p, len);
	n = cql_rd_int(&rd);
	if (rd.err || n < 0 || n > VALUE_MAX_ELEMS) {
		snprintf(err, errlen, "Not enough bytes to read a %s",
			 cql_type_name(ty->id));
		return -1;
	}
	if (n == 0) {
		*is_null = 1;
		return 0;
	}
	if ((el = calloc((size_t)n, sizeof(*el))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	step = ty->id == CQL_TYPE_MAP ? 2 : 1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < step; k++) {
			const uint8_t *ep;
			int32_t elen;

			elen = cql_rd_int(&rd);
			if (rd.err || elen < 0) {
				snprintf(err, errlen, rd.err ? "Not enough "
					 "bytes to read a %s" : "null is not "
					 "supported inside collections",
					 cql_type_name(ty->id));
				free(el);
				return -1;
			}
			if ((ep = cql_rd_raw(&rd, (size_t)elen)) == NULL) {
				snprintf(err, errlen, "Not enough bytes to "
					 "read a %s", cql_type_name(ty->id));
				free(el);
				return -1;
			}
			if (simple_check(ty->elem[k], ep, (size_t)elen, col,
					 err, errlen) < 0) {
				free(el);
				return -1;
			}
			if (k == 0) {
				el[i].p = ep;
				el[i].len = (size_t)elen;
			} else {
				el[i].vp = ep;
				el[i].vlen = (size_t)elen;
			}
		}
	}
	if (cql_rd_left(&rd) != 0) {
		snprintf(err, errlen, "Unexpected extraneous bytes after %s "
			 "value", cql_type_name(ty->id));
		free(el);
		return -1;
	}
	emit_collection(ty, el, (size_t)n, out);
	free(el);
	if (out->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
