/*
 * cql_proto - CQL native protocol v3/v4: pure encoders and decoders
 *
 * DESCRIPTION
 *	See cql_proto.h. All integers on the wire are big-endian. Every
 *	length read from the wire is checked against what is left in the
 *	buffer before it is used. This file holds the reader and writer,
 *	the frame header, names, types and the requests; the response
 *	bodies (ERROR, RESULT) are decoded in cql_response.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cql_proto.h"

/* ---- reading ----------------------------------------------------- */

/* cql_rd_init - start reading len bytes at p */
void cql_rd_init(struct cql_rd *rd, const void *p, size_t len)
{
	rd->p = p;
	rd->len = len;
	rd->off = 0;
	rd->err = 0;
}

/* cql_rd_left - bytes not yet read */
size_t cql_rd_left(const struct cql_rd *rd)
{
	return rd->err ? 0 : rd->len - rd->off;
}

/* cql_rd_raw - take n bytes; NULL (and err) if fewer are left */
const uint8_t *cql_rd_raw(struct cql_rd *rd, size_t n)
{
	const uint8_t *p;

	if (rd->err || n > rd->len - rd->off) {
		rd->err = 1;
		return NULL;
	}
	p = rd->p + rd->off;
	rd->off += n;
	return p;
}

/* cql_rd_byte - one byte */
uint8_t cql_rd_byte(struct cql_rd *rd)
{
	const uint8_t *p = cql_rd_raw(rd, 1);

	return p ? p[0] : 0;
}

/* cql_rd_short - [short] */
uint16_t cql_rd_short(struct cql_rd *rd)
{
	const uint8_t *p = cql_rd_raw(rd, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

/* cql_rd_int - [int] */
int32_t cql_rd_int(struct cql_rd *rd)
{
	const uint8_t *p = cql_rd_raw(rd, 4);

	if (p == NULL)
		return 0;
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			 (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* cql_rd_long - [long] */
int64_t cql_rd_long(struct cql_rd *rd)
{
	const uint8_t *p = cql_rd_raw(rd, 8);
	uint64_t v = 0;
	int i;

	if (p == NULL)
		return 0;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* cql_rd_string - [string] */
const char *cql_rd_string(struct cql_rd *rd, size_t *n)
{
	*n = cql_rd_short(rd);
	const char *s = (const char *)cql_rd_raw(rd, *n);

	if (s == NULL)
		*n = 0;
	return s;
}

/* cql_rd_long_string - [long string] */
const char *cql_rd_long_string(struct cql_rd *rd, size_t *n)
{
	int32_t len = cql_rd_int(rd);
	const char *s;

	if (len < 0) {
		rd->err = 1;
		*n = 0;
		return NULL;
	}
	*n = (size_t)len;
	if ((s = (const char *)cql_rd_raw(rd, *n)) == NULL)
		*n = 0;
	return s;
}

/* cql_rd_bytes - [bytes]; null gives NULL with *n < 0 */
const uint8_t *cql_rd_bytes(struct cql_rd *rd, int32_t *n)
{
	const uint8_t *p;

	*n = cql_rd_int(rd);
	if (*n < -1)
		rd->err = 1;	/* "unset" (-2) and below never come from a server */
	if (rd->err || *n < 0) {
		*n = -1;
		return NULL;
	}
	if ((p = cql_rd_raw(rd, (size_t)*n)) == NULL)
		*n = -1;
	return p;
}

/* cql_rd_short_bytes - [short bytes] */
const uint8_t *cql_rd_short_bytes(struct cql_rd *rd, size_t *n)
{
	const uint8_t *p;

	*n = cql_rd_short(rd);
	if ((p = cql_rd_raw(rd, *n)) == NULL)
		*n = 0;
	return p;
}

/* cql_rd_skip_string_list - skip a [string list] */
void cql_rd_skip_string_list(struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	size_t len;

	for (i = 0; i < n && !rd->err; i++)
		(void)cql_rd_string(rd, &len);
}

/* cql_rd_skip_string_map - skip a [string map] */
void cql_rd_skip_string_map(struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	size_t len;

	for (i = 0; i < n && !rd->err; i++) {
		(void)cql_rd_string(rd, &len);
		(void)cql_rd_string(rd, &len);
	}
}

/* cql_rd_skip_string_multimap - skip a [string multimap] */
void cql_rd_skip_string_multimap(struct cql_rd *rd)
{
	uint16_t i, n = cql_rd_short(rd);
	size_t len;

	for (i = 0; i < n && !rd->err; i++) {
		(void)cql_rd_string(rd, &len);
		cql_rd_skip_string_list(rd);
	}
}

/* ---- writing ----------------------------------------------------- */

/* cql_wr_byte - one byte */
void cql_wr_byte(struct buf *b, uint8_t v)
{
	buf_append_byte(b, v);
}

/* cql_wr_short - [short] */
void cql_wr_short(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	buf_append(b, p, 2);
}

/* cql_wr_int - [int] */
void cql_wr_int(struct buf *b, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t p[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16),
			 (uint8_t)(u >> 8), (uint8_t)u };

	buf_append(b, p, 4);
}

/* cql_wr_long - [long] */
void cql_wr_long(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t p[8];
	int i;

	for (i = 7; i >= 0; i--, u >>= 8)
		p[i] = (uint8_t)u;
	buf_append(b, p, 8);
}

/* cql_wr_string - [string]; n is clamped to the 65535 the format allows */
void cql_wr_string(struct buf *b, const char *s, size_t n)
{
	if (n > 0xFFFF)
		n = 0xFFFF;
	cql_wr_short(b, (uint16_t)n);
	buf_append(b, s, n);
}

/* cql_wr_cstring - [string] from a C string */
void cql_wr_cstring(struct buf *b, const char *s)
{
	cql_wr_string(b, s, strlen(s));
}

/* cql_wr_long_string - [long string] */
void cql_wr_long_string(struct buf *b, const char *s, size_t n)
{
	if (n > INT32_MAX) {
		b->oom = 1;
		return;
	}
	cql_wr_int(b, (int32_t)n);
	buf_append(b, s, n);
}

/* cql_wr_bytes - [bytes]; n < 0 writes null */
void cql_wr_bytes(struct buf *b, const void *p, int32_t n)
{
	if (n < 0) {
		cql_wr_int(b, -1);
		return;
	}
	cql_wr_int(b, n);
	buf_append(b, p, (size_t)n);
}

/* cql_wr_short_bytes - [short bytes] */
void cql_wr_short_bytes(struct buf *b, const void *p, size_t n)
{
	if (n > 0xFFFF) {
		b->oom = 1;
		return;
	}
	cql_wr_short(b, (uint16_t)n);
	buf_append(b, p, n);
}

/* cql_wr_string_map - [string map] */
void cql_wr_string_map(struct buf *b, const char *const *keys,
		       const char *const *vals, size_t n)
{
	size_t i;

	cql_wr_short(b, (uint16_t)n);
	for (i = 0; i < n; i++) {
		cql_wr_cstring(b, keys[i]);
		cql_wr_cstring(b, vals[i]);
	}
}

/* cql_wr_string_list - [string list] */
void cql_wr_string_list(struct buf *b, const char *const *items, size_t n)
{
	size_t i;

	cql_wr_short(b, (uint16_t)n);
	for (i = 0; i < n; i++)
		cql_wr_cstring(b, items[i]);
}

/* ---- frame header ------------------------------------------------ */

/* cql_header_decode - see cql_proto.h */
enum cql_decode_status cql_header_decode(const uint8_t *p, size_t len,
					 uint32_t max_body,
					 struct cql_header *h,
					 const char **why)
{
	*why = NULL;
	if (len < CQL_HEADER_LEN)
		return CQL_DECODE_NEED_MORE;
	h->response = (p[0] & CQL_VERSION_RESPONSE) != 0;
	h->version = p[0] & 0x7F;
	h->flags = p[1];
	h->stream = (int16_t)(uint16_t)(p[2] << 8 | p[3]);
	h->opcode = p[4];
	h->length = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 |
		    (uint32_t)p[7] << 8 | (uint32_t)p[8];
	/* Versions 1 and 2 have an 8-byte header: not this layout. */
	if (h->version < 3 || h->version > 5) {
		*why = "bad protocol version byte";
		return CQL_DECODE_ERROR;
	}
	if (h->length > max_body || h->length > CQL_MAX_BODY_LEN) {
		*why = "frame body too large";
		return CQL_DECODE_ERROR;
	}
	return CQL_DECODE_COMPLETE;
}

/* cql_frame_begin - append a header with a zero length; return its offset */
size_t cql_frame_begin(struct buf *b, uint8_t version, int response,
		       uint8_t flags, int16_t stream, uint8_t opcode)
{
	size_t off = b->len;

	cql_wr_byte(b, (uint8_t)(version | (response ? CQL_VERSION_RESPONSE : 0)));
	cql_wr_byte(b, flags);
	cql_wr_short(b, (uint16_t)stream);
	cql_wr_byte(b, opcode);
	cql_wr_int(b, 0);
	return off;
}

/* cql_frame_end - patch the body length of the frame at off */
void cql_frame_end(struct buf *b, size_t off)
{
	uint32_t n;

	if (b->oom || b->len < off + CQL_HEADER_LEN)
		return;
	n = (uint32_t)(b->len - off - CQL_HEADER_LEN);
	b->data[off + 5] = (uint8_t)(n >> 24);
	b->data[off + 6] = (uint8_t)(n >> 16);
	b->data[off + 7] = (uint8_t)(n >> 8);
	b->data[off + 8] = (uint8_t)n;
}

/* ---- names ------------------------------------------------------- */

/* cql_opcode_name - printable opcode */
const char *cql_opcode_name(int op)
{
	static const char *names[] = {
		"ERROR", "STARTUP", "READY", "AUTHENTICATE", "opcode 4",
		"OPTIONS", "SUPPORTED", "QUERY", "RESULT", "PREPARE",
		"EXECUTE", "REGISTER", "EVENT", "BATCH", "AUTH_CHALLENGE",
		"AUTH_RESPONSE", "AUTH_SUCCESS",
	};

	if (op >= 0 && (size_t)op < sizeof(names) / sizeof(names[0]))
		return names[op];
	return "unknown opcode";
}

static const struct {
	int code;
	const char *name;
} cql_error_names[] = {
	{CQL_ERR_SERVER, "server error"},
	{CQL_ERR_PROTOCOL, "protocol error"},
	{CQL_ERR_BAD_CREDENTIALS, "bad credentials"},
	{CQL_ERR_UNAVAILABLE, "unavailable"},
	{CQL_ERR_OVERLOADED, "overloaded"},
	{CQL_ERR_IS_BOOTSTRAPPING, "is bootstrapping"},
	{CQL_ERR_TRUNCATE, "truncate error"},
	{CQL_ERR_WRITE_TIMEOUT, "write timeout"},
	{CQL_ERR_READ_TIMEOUT, "read timeout"},
	{CQL_ERR_READ_FAILURE, "read failure"},
	{CQL_ERR_FUNCTION_FAILURE, "function failure"},
	{CQL_ERR_WRITE_FAILURE, "write failure"},
	{CQL_ERR_SYNTAX, "syntax error"},
	{CQL_ERR_UNAUTHORIZED, "unauthorized"},
	{CQL_ERR_INVALID, "invalid query"},
	{CQL_ERR_CONFIG, "configuration error"},
	{CQL_ERR_ALREADY_EXISTS, "already exists"},
	{CQL_ERR_UNPREPARED, "unprepared"},
};

/* cql_error_name - printable error code */
const char *cql_error_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(cql_error_names) / sizeof(cql_error_names[0]); i++)
		if (cql_error_names[i].code == code)
			return cql_error_names[i].name;
	return "unknown error";
}

static const char *cql_consistency_names[] = {
	"ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM",
	"EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};

#define CQL_NCONSISTENCY \
	(int)(sizeof(cql_consistency_names) / sizeof(cql_consistency_names[0]))

/* cql_consistency_name - printable consistency level */
const char *cql_consistency_name(int c)
{
	return c >= 0 && c < CQL_NCONSISTENCY ? cql_consistency_names[c] : "UNKNOWN";
}

/* cql_consistency_parse - consistency name to value, -1 if unknown */
int cql_consistency_parse(const char *name)
{
	int i;

	for (i = 0; i < CQL_NCONSISTENCY; i++)
		if (strcasecmp(name, cql_consistency_names[i]) == 0)
			return i;
	return -1;
}

/* ---- types ------------------------------------------------------- */

/* cql_type_simple - a type that is not a collection, UDT or tuple */
static int cql_type_simple(uint16_t id)
{
	return id < CQL_TYPE_LIST;
}

/* cql_rd_type_depth - read an [option] type, bounded recursion */
static void cql_rd_type_depth(struct cql_rd *rd, struct cql_type *t, int depth)
{
	struct cql_type sub;
	uint16_t i, n;
	size_t len;

	memset(t, 0, sizeof(*t));
	if (depth > CQL_TYPE_MAX_DEPTH) {
		rd->err = 1;
		return;
	}
	t->id = cql_rd_short(rd);
	switch (t->id) {
	case CQL_TYPE_CUSTOM:
		(void)cql_rd_string(rd, &len);
		break;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
		cql_rd_type_depth(rd, &sub, depth + 1);
		t->elem[0] = sub.id;
		t->nested = !cql_type_simple(sub.id);
		break;
	case CQL_TYPE_MAP:
		cql_rd_type_depth(rd, &sub, depth + 1);
		t->elem[0] = sub.id;
		t->nested = !cql_type_simple(sub.id);
		cql_rd_type_depth(rd, &sub, depth + 1);
		t->elem[1] = sub.id;
		t->nested |= !cql_type_simple(sub.id);
		break;
	case CQL_TYPE_UDT:
		(void)cql_rd_string(rd, &len);	/* keyspace */
		(void)cql_rd_string(rd, &len);	/* type name */
		n = cql_rd_short(rd);
		for (i = 0; i < n && !rd->err; i++) {
			(void)cql_rd_string(rd, &len);
			cql_rd_type_depth(rd, &sub, depth + 1);
		}
		t->nested = 1;
		break;
	case CQL_TYPE_TUPLE:
		n = cql_rd_short(rd);
		for (i = 0; i < n && !rd->err; i++)
			cql_rd_type_depth(rd, &sub, depth + 1);
		t->nested = 1;
		break;
	default:
		if (!cql_type_simple(t->id))
			rd->err = 1;	/* unknown composite: cannot skip it */
		break;
	}
}

/* cql_rd_type - read an [option] type description */
void cql_rd_type(struct cql_rd *rd, struct cql_type *t)
{
	cql_rd_type_depth(rd, t, 0);
}

/* cql_wr_type - write a simple or simple-collection type */
void cql_wr_type(struct buf *b, const struct cql_type *t)
{
	cql_wr_short(b, t->id);
	if (t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET) {
		cql_wr_short(b, t->elem[0]);
	} else if (t->id == CQL_TYPE_MAP) {
		cql_wr_short(b, t->elem[0]);
		cql_wr_short(b, t->elem[1]);
	}
}

/* cql_type_name - printable CQL type name */
const char *cql_type_name(uint16_t id)
{
	switch (id) {
	case CQL_TYPE_CUSTOM: return "custom";
	case CQL_TYPE_ASCII: return "ascii";
	case CQL_TYPE_BIGINT: return "bigint";
	case CQL_TYPE_BLOB: return "blob";
	case CQL_TYPE_BOOLEAN: return "boolean";
	case CQL_TYPE_COUNTER: return "counter";
	case CQL_TYPE_DECIMAL: return "decimal";
	case CQL_TYPE_DOUBLE: return "double";
	case CQL_TYPE_FLOAT: return "float";
	case CQL_TYPE_INT: return "int";
	case CQL_TYPE_TIMESTAMP: return "timestamp";
	case CQL_TYPE_UUID: return "uuid";
	case CQL_TYPE_VARCHAR: return "text";
	case CQL_TYPE_VARINT: return "varint";
	case CQL_TYPE_TIMEUUID: return "timeuuid";
	case CQL_TYPE_INET: return "inet";
	case CQL_TYPE_DATE: return "date";
	case CQL_TYPE_TIME: return "time";
	case CQL_TYPE_SMALLINT: return "smallint";
	case CQL_TYPE_TINYINT: return "tinyint";
	case CQL_TYPE_LIST: return "list";
	case CQL_TYPE_MAP: return "map";
	case CQL_TYPE_SET: return "set";
	case CQL_TYPE_UDT: return "udt";
	case CQL_TYPE_TUPLE: return "tuple";
	default: return "unknown";
	}
}

/* ---- requests ---------------------------------------------------- */

/* cql_encode_startup - STARTUP {CQL_VERSION: 3.0.0} */
void cql_encode_startup(struct buf *b, uint8_t version, int16_t stream)
{
	static const char *const k[] = { "CQL_VERSION" };
	static const char *const v[] = { "3.0.0" };
	size_t off = cql_frame_begin(b, version, 0, 0, stream, CQL_OP_STARTUP);

	cql_wr_string_map(b, k, v, 1);
	cql_frame_end(b, off);
}

/* cql_encode_options - OPTIONS (also the heartbeat) */
void cql_encode_options(struct buf *b, uint8_t version, int16_t stream)
{
	size_t off = cql_frame_begin(b, version, 0, 0, stream, CQL_OP_OPTIONS);

	cql_frame_end(b, off);
}

/* cql_encode_prepare - PREPARE <long string> */
void cql_encode_prepare(struct buf *b, uint8_t version, int16_t stream,
			const char *cql, size_t len)
{
	size_t off = cql_frame_begin(b, version, 0, 0, stream, CQL_OP_PREPARE);

	cql_wr_long_string(b, cql, len);
	cql_frame_end(b, off);
}

/* encode_params - <consistency><flags>[values] for QUERY and EXECUTE */
static void encode_params(struct buf *b, uint16_t consistency,
			  const struct cql_value *vals, size_t nvals,
			  int skip_metadata, const struct cql_paging *pg)
{
	uint8_t flags = 0;
	size_t i;
	int paged = pg && pg->page_size > 0;

	if (nvals)
		flags |= CQL_QF_VALUES;
	if (skip_metadata)
		flags |= CQL_QF_SKIP_METADATA;
	if (paged)
		flags |= CQL_QF_PAGE_SIZE;
	if (paged && pg->state)
		flags |= CQL_QF_PAGING_STATE;
	cql_wr_short(b, consistency);
	cql_wr_byte(b, flags);
	if (nvals) {
		cql_wr_short(b, (uint16_t)nvals);
		for (i = 0; i < nvals; i++)
			cql_wr_bytes(b, vals[i].p, vals[i].len);
	}
	if (paged)
		cql_wr_int(b, pg->page_size);
	if (paged && pg->state)
		cql_wr_bytes(b, pg->state, (int32_t)pg->state_len);
}

/* cql_encode_query - QUERY with positional values */
void cql_encode_query(struct buf *b, uint8_t version, int16_t stream,
		      const char *cql, size_t len, uint16_t consistency,
		      const struct cql_value *vals, size_t nvals)
{
	size_t off = cql_frame_begin(b, version, 0, 0, stream, CQL_OP_QUERY);

	cql_wr_long_string(b, cql, len);
	encode_params(b, consistency, vals, nvals, 0, NULL);
	cql_frame_end(b, off);
}

/* cql_encode_execute - EXECUTE a prepared id with positional values */
void cql_encode_execute(struct buf *b, uint8_t version, int16_t stream,
			const uint8_t *id, size_t idlen, uint16_t consistency,
			const struct cql_value *vals, size_t nvals,
			int skip_metadata, const struct cql_paging *paging)
{
	size_t off = cql_frame_begin(b, version, 0, 0, stream, CQL_OP_EXECUTE);

	cql_wr_short_bytes(b, id, idlen);
	encode_params(b, consistency, vals, nvals, skip_metadata, paging);
	cql_frame_end(b, off);
}

/* cql_encode_auth_response - AUTH_RESPONSE <bytes> */
void cql_encode_auth_response(struct buf *b, uint8_t version, int16_t stream,
			      const void *token, int32_t len)
{
	size_t off = cql_frame_begin(b, version, 0, 0, stream,
				     CQL_OP_AUTH_RESPONSE);

	cql_wr_bytes(b, token, len);
	cql_frame_end(b, off);
}

/* cql_values_size - bytes of the values' contents (nulls take none) */
size_t cql_values_size(const struct cql_value *vals, size_t n)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++)
		if (vals[i].len > 0)
			total += (size_t)vals[i].len;
	return total;
}

/* cql_values_copy - values pointing into store, which holds their contents */
void cql_values_copy(struct cql_value *dst, const struct cql_value *vals, size_t n,
		     uint8_t *store)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dst[i].len = vals[i].len;
		dst[i].p = store;
		if (vals[i].len > 0) {
			memcpy(store, vals[i].p, (size_t)vals[i].len);
			store += vals[i].len;
		}
	}
}
