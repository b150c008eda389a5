/*
 * cql_proto - CQL native protocol v3/v4: pure encoders and decoders
 *
 * SYNOPSIS
 *	#include "cql/cql_proto.h"
 *
 * DESCRIPTION
 *	Everything in this module works on (buffer, length) and structs: no
 *	sockets, no clocks, no globals. Both the daemon's client and the test
 *	server cqld use it, so what one encodes the other decodes.
 *
 *	Reading is done through struct cql_rd, a cursor with a sticky error
 *	flag: every read past the end sets rd->err and returns a zero value, so
 *	a decoder reads a whole body and checks rd->err once. Strings and byte
 *	values returned by the reader point into the input buffer; they are
 *	not NUL-terminated.
 *
 *	Writing appends to a struct buf (see buf.h).
 *
 *	Reference: doc/native_protocol_v4.spec in apache/cassandra.
 */
#ifndef PAC_CQL_PROTO_H
#define PAC_CQL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CQL_HEADER_LEN		9		/* bytes, v3 and v4 */
#define CQL_MAX_BODY_LEN	(256u * 1024 * 1024)	/* spec limit, bytes */
#define CQL_VERSION_RESPONSE	0x80	/* direction bit in the version byte */
#define CQL_MAX_STREAMS		32768	/* stream ids 0..32767 (v3+) */

/* Header flags */
#define CQL_FLAG_COMPRESSION	0x01
#define CQL_FLAG_TRACING	0x02
#define CQL_FLAG_CUSTOM_PAYLOAD	0x04
#define CQL_FLAG_WARNING	0x08

enum cql_opcode {
	CQL_OP_ERROR = 0x00,
	CQL_OP_STARTUP = 0x01,
	CQL_OP_READY = 0x02,
	CQL_OP_AUTHENTICATE = 0x03,
	CQL_OP_OPTIONS = 0x05,
	CQL_OP_SUPPORTED = 0x06,
	CQL_OP_QUERY = 0x07,
	CQL_OP_RESULT = 0x08,
	CQL_OP_PREPARE = 0x09,
	CQL_OP_EXECUTE = 0x0A,
	CQL_OP_REGISTER = 0x0B,
	CQL_OP_EVENT = 0x0C,
	CQL_OP_BATCH = 0x0D,
	CQL_OP_AUTH_CHALLENGE = 0x0E,
	CQL_OP_AUTH_RESPONSE = 0x0F,
	CQL_OP_AUTH_SUCCESS = 0x10,
};

enum cql_result_kind {
	CQL_RESULT_VOID = 0x0001,
	CQL_RESULT_ROWS = 0x0002,
	CQL_RESULT_SET_KEYSPACE = 0x0003,
	CQL_RESULT_PREPARED = 0x0004,
	CQL_RESULT_SCHEMA_CHANGE = 0x0005,
};

/* Rows metadata flags */
#define CQL_META_GLOBAL_TABLES_SPEC	0x0001
#define CQL_META_HAS_MORE_PAGES		0x0002
#define CQL_META_NO_METADATA		0x0004

/* QUERY / EXECUTE parameter flags (one byte in v3/v4) */
#define CQL_QF_VALUES			0x01
#define CQL_QF_SKIP_METADATA		0x02
#define CQL_QF_PAGE_SIZE		0x04
#define CQL_QF_PAGING_STATE		0x08
#define CQL_QF_SERIAL_CONSISTENCY	0x10
#define CQL_QF_DEFAULT_TIMESTAMP	0x20
#define CQL_QF_NAMES_FOR_VALUES		0x40

enum cql_type_id {
	CQL_TYPE_CUSTOM = 0x0000,
	CQL_TYPE_ASCII = 0x0001,
	CQL_TYPE_BIGINT = 0x0002,
	CQL_TYPE_BLOB = 0x0003,
	CQL_TYPE_BOOLEAN = 0x0004,
	CQL_TYPE_COUNTER = 0x0005,
	CQL_TYPE_DECIMAL = 0x0006,
	CQL_TYPE_DOUBLE = 0x0007,
	CQL_TYPE_FLOAT = 0x0008,
	CQL_TYPE_INT = 0x0009,
	CQL_TYPE_TIMESTAMP = 0x000B,
	CQL_TYPE_UUID = 0x000C,
	CQL_TYPE_VARCHAR = 0x000D,
	CQL_TYPE_VARINT = 0x000E,
	CQL_TYPE_TIMEUUID = 0x000F,
	CQL_TYPE_INET = 0x0010,
	CQL_TYPE_DATE = 0x0011,
	CQL_TYPE_TIME = 0x0012,
	CQL_TYPE_SMALLINT = 0x0013,
	CQL_TYPE_TINYINT = 0x0014,
	CQL_TYPE_LIST = 0x0020,
	CQL_TYPE_MAP = 0x0021,
	CQL_TYPE_SET = 0x0022,
	CQL_TYPE_UDT = 0x0030,
	CQL_TYPE_TUPLE = 0x0031,
};

enum cql_error_code {
	CQL_ERR_SERVER = 0x0000,
	CQL_ERR_PROTOCOL = 0x000A,
	CQL_ERR_BAD_CREDENTIALS = 0x0100,
	CQL_ERR_UNAVAILABLE = 0x1000,
	CQL_ERR_OVERLOADED = 0x1001,
	CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
	CQL_ERR_TRUNCATE = 0x1003,
	CQL_ERR_WRITE_TIMEOUT = 0x1100,
	CQL_ERR_READ_TIMEOUT = 0x1200,
	CQL_ERR_READ_FAILURE = 0x1300,
	CQL_ERR_FUNCTION_FAILURE = 0x1400,
	CQL_ERR_WRITE_FAILURE = 0x1500,
	CQL_ERR_SYNTAX = 0x2000,
	CQL_ERR_UNAUTHORIZED = 0x2100,
	CQL_ERR_INVALID = 0x2200,
	CQL_ERR_CONFIG = 0x2300,
	CQL_ERR_ALREADY_EXISTS = 0x2400,
	CQL_ERR_UNPREPARED = 0x2500,
};

enum cql_consistency {
	CQL_CONSISTENCY_ANY = 0x0000,
	CQL_CONSISTENCY_ONE = 0x0001,
	CQL_CONSISTENCY_TWO = 0x0002,
	CQL_CONSISTENCY_THREE = 0x0003,
	CQL_CONSISTENCY_QUORUM = 0x0004,
	CQL_CONSISTENCY_ALL = 0x0005,
	CQL_CONSISTENCY_LOCAL_QUORUM = 0x0006,
	CQL_CONSISTENCY_EACH_QUORUM = 0x0007,
	CQL_CONSISTENCY_SERIAL = 0x0008,
	CQL_CONSISTENCY_LOCAL_SERIAL = 0x0009,
	CQL_CONSISTENCY_LOCAL_ONE = 0x000A,
};

/* ---- primitives: reading ---------------------------------------- */

struct cql_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;		/* sticky: a read went past the end or was bad */
};

void cql_rd_init(struct cql_rd *rd, const void *p, size_t len);
size_t cql_rd_left(const struct cql_rd *rd);
uint8_t cql_rd_byte(struct cql_rd *rd);
uint16_t cql_rd_short(struct cql_rd *rd);
int32_t cql_rd_int(struct cql_rd *rd);
int64_t cql_rd_long(struct cql_rd *rd);
const uint8_t *cql_rd_raw(struct cql_rd *rd, size_t n);
/* [string]: <short n><n bytes> */
const char *cql_rd_string(struct cql_rd *rd, size_t *n);
/* [long string]: <int n><n bytes>, n >= 0 */
const char *cql_rd_long_string(struct cql_rd *rd, size_t *n);
/* [bytes]: <int n><n bytes>; n < 0 is null: returns NULL with *n = -1 */
const uint8_t *cql_rd_bytes(struct cql_rd *rd, int32_t *n);
/* [short bytes]: <short n><n bytes> */
const uint8_t *cql_rd_short_bytes(struct cql_rd *rd, size_t *n);
/* [string list] and [string map]: skipped, or counted */
void cql_rd_skip_string_list(struct cql_rd *rd);
void cql_rd_skip_string_map(struct cql_rd *rd);
void cql_rd_skip_string_multimap(struct cql_rd *rd);

/* ---- primitives: writing ---------------------------------------- */

void cql_wr_byte(struct buf *b, uint8_t v);
void cql_wr_short(struct buf *b, uint16_t v);
void cql_wr_int(struct buf *b, int32_t v);
void cql_wr_long(struct buf *b, int64_t v);
void cql_wr_string(struct buf *b, const char *s, size_t n);
void cql_wr_cstring(struct buf *b, const char *s);
void cql_wr_long_string(struct buf *b, const char *s, size_t n);
/* n < 0 writes null */
void cql_wr_bytes(struct buf *b, const void *p, int32_t n);
void cql_wr_short_bytes(struct buf *b, const void *p, size_t n);
/* string map from parallel arrays of C strings */
void cql_wr_string_map(struct buf *b, const char *const *keys,
		       const char *const *vals, size_t n);
void cql_wr_string_list(struct buf *b, const char *const *items, size_t n);

/* ---- frame header ------------------------------------------------ */

struct cql_header {
	uint8_t version;	/* protocol version without the direction bit */
	uint8_t response;	/* direction bit was set */
	uint8_t flags;
	int16_t stream;
	uint8_t opcode;
	uint32_t length;	/* body length */
};

enum cql_decode_status {
	CQL_DECODE_NEED_MORE = 0,
	CQL_DECODE_COMPLETE = 1,
	CQL_DECODE_ERROR = -1,
};

/*
 * cql_header_decode - decode a frame header from the first len bytes.
 * COMPLETE when 9 bytes were there and the header is sane (version 3..5,
 * body not over max_body); NEED_MORE when fewer than 9 bytes; ERROR
 * otherwise, with a static reason in *why.
 */
enum cql_decode_status cql_header_decode(const uint8_t *p, size_t len,
					 uint32_t max_body,
					 struct cql_header *h,
					 const char **why);

/* cql_frame_begin - append a header with length 0; returns its offset */
size_t cql_frame_begin(struct buf *b, uint8_t version, int response,
		       uint8_t flags, int16_t stream, uint8_t opcode);
/* cql_frame_end - patch the body length of the frame started at off */
void cql_frame_end(struct buf *b, size_t off);

/* ---- names ------------------------------------------------------ */

const char *cql_opcode_name(int op);
const char *cql_error_name(int code);
const char *cql_consistency_name(int c);
/* cql_consistency_parse - name (any case) to value; -1 when unknown */
int cql_consistency_parse(const char *name);

/* ---- types ------------------------------------------------------ */

#define CQL_TYPE_MAX_DEPTH	8	/* nesting of collections/tuples/UDTs */

/*
 * A column type. Collections of simple types carry their element types
 * (elem[0] for list/set, elem[0]/elem[1] for map key/value); deeper or
 * user-defined types are parsed (so metadata decodes) but have
 * nested = 1 and are not interpreted.
 */
struct cql_type {
	uint16_t id;
	uint16_t elem[2];
	uint8_t nested;		/* collection of non-simple types, UDT, tuple */
};

/* cql_rd_type - read an [option] type description */
void cql_rd_type(struct cql_rd *rd, struct cql_type *t);
/* cql_wr_type - write a simple or simple-collection type */
void cql_wr_type(struct buf *b, const struct cql_type *t);
const char *cql_type_name(uint16_t id);

/* ---- error bodies ------------------------------------------------ */

#define CQL_ERROR_MSG_MAX	512	/* bytes kept of a server message */
#define CQL_WRITE_TYPE_MAX	32	/* bytes kept of a write type (SIMPLE, BATCH, ...) */
#define CQL_SCHEMA_NAME_MAX	64	/* bytes kept of a keyspace or table name */
#define CQL_PREPARED_ID_MAX	64	/* bytes in a prepared id */
#define CQL_FUNCTION_NAME_MAX	128	/* bytes kept of a function name */

struct cql_error {
	int32_t code;
	char message[CQL_ERROR_MSG_MAX];
	/* Unavailable, ReadTimeout, WriteTimeout, ReadFailure, WriteFailure */
	uint16_t consistency;
	int32_t required;	/* required / blockfor */
	int32_t alive;		/* alive / received */
	int32_t failures;	/* ReadFailure, WriteFailure */
	uint8_t data_present;	/* ReadTimeout, ReadFailure */
	char write_type[CQL_WRITE_TYPE_MAX];	/* WriteTimeout, WriteFailure */
	/* AlreadyExists */
	char keyspace[CQL_SCHEMA_NAME_MAX];
	char table[CQL_SCHEMA_NAME_MAX];
	/* Unprepared */
	uint8_t unprepared_id[CQL_PREPARED_ID_MAX];
	size_t unprepared_id_len;
	/* FunctionFailure */
	char function[CQL_FUNCTION_NAME_MAX];
};

/* cql_error_decode - decode an ERROR body; 0 on success, -1 if malformed */
int cql_error_decode(const uint8_t *body, size_t len, struct cql_error *e);
/* cql_error_encode - append an ERROR body (server side) */
void cql_error_encode(struct buf *b, const struct cql_error *e);
/* cql_error_retryable - a read may be retried (on another host) */
int cql_error_retryable(int32_t code);

/* ---- requests (client side) -------------------------------------- */

/* A bound value: text or null. */
struct cql_value {
	const void *p;
	int32_t len;		/* < 0: null */
};

/* cql_values_size - bytes the values' contents take */
size_t cql_values_size(const struct cql_value *vals, size_t n);
/*
 * cql_values_copy - vals into dst, their contents into store
 * (cql_values_size bytes), so a request can be sent again later
 */
void cql_values_copy(struct cql_value *dst, const struct cql_value *vals, size_t n,
		     uint8_t *store);

/* cql_encode_startup - STARTUP with CQL_VERSION 3.0.0 */
void cql_encode_startup(struct buf *b, uint8_t version, int16_t stream);
void cql_encode_options(struct buf *b, uint8_t version, int16_t stream);
void cql_encode_prepare(struct buf *b, uint8_t version, int16_t stream,
			const char *cql, size_t len);
void cql_encode_query(struct buf *b, uint8_t version, int16_t stream,
		      const char *cql, size_t len, uint16_t consistency,
		      const struct cql_value *vals, size_t nvals);
/*
 * Paging of an EXECUTE (native_protocol_v4.spec section 8): page_size > 0
 * asks for pages of at most that many rows; state, from the previous
 * page's metadata, asks for the page after it (NULL: the first page).
 */
struct cql_paging {
	int32_t page_size;
	const uint8_t *state;
	size_t state_len;
};

/* cql_encode_execute - paging NULL (or page_size <= 0): no paging flags */
void cql_encode_execute(struct buf *b, uint8_t version, int16_t stream,
			const uint8_t *id, size_t idlen, uint16_t consistency,
			const struct cql_value *vals, size_t nvals,
			int skip_metadata, const struct cql_paging *paging);
void cql_encode_auth_response(struct buf *b, uint8_t version, int16_t stream,
			      const void *token, int32_t len);

/* ---- results (client side) --------------------------------------- */

#define CQL_MAX_COLUMNS		64	/* columns we decode in one result */
#define CQL_NAME_MAX		64	/* bytes kept of a column name */

struct cql_column {
	char name[CQL_NAME_MAX];
	struct cql_type type;
};

struct cql_rows_meta {
	int32_t flags;
	int32_t ncols;
	struct cql_column cols[CQL_MAX_COLUMNS];
	const uint8_t *paging_state;	/* points into the body, or NULL */
	size_t paging_state_len;
};

/* cql_rd_rows_meta - read a rows/prepared-result metadata block */
void cql_rd_rows_meta(struct cql_rd *rd, struct cql_rows_meta *m);

struct cql_prepared {
	const uint8_t *id;	/* points into the body */
	size_t idlen;
	int32_t nbind;		/* bind markers */
	struct cql_type bind_types[CQL_MAX_COLUMNS];
	struct cql_rows_meta result;	/* metadata of the rows it returns */
};

/*
 * cql_decode_prepared - decode a Prepared result body after the kind int.
 * version selects v3 (no partition key indexes) or v4 layout.
 */
int cql_decode_prepared(struct cql_rd *rd, uint8_t version,
			struct cql_prepared *p);

/*
 * A decoded cell, converted to text where that makes sense:
 * text/ascii/varchar as is, int/bigint/smallint/tinyint/counter in decimal,
 * boolean as "true"/"false". Collections of those are handled by the
 * caller through cql_collection_next().
 */
enum cql_cell_kind {
	CQL_CELL_NULL,
	CQL_CELL_TEXT,		/* p/len point into the body */
	CQL_CELL_BOOL,
	CQL_CELL_INT,		/* any integer type */
	CQL_CELL_COLLECTION,	/* list or set of text: iterate */
	CQL_CELL_UNSUPPORTED,
};

struct cql_cell {
	enum cql_cell_kind kind;
	const uint8_t *p;
	size_t len;
	int64_t i;		/* BOOL (0/1) and INT */
	uint16_t elem_type;	/* COLLECTION */
	int32_t count;		/* COLLECTION elements */
};

/*
 * cql_cell_decode - interpret a [bytes] value of type t; -1 if malformed
 * (a list or set whose elements are not exactly its element count)
 */
int cql_cell_decode(const struct cql_type *t, const uint8_t *p, int32_t len,
		    struct cql_cell *c);

/*
 * cql_collection_next - next element of a COLLECTION cell, decoded as a
 * cell of the element type; *pos starts at 0. Returns 1 with an element,
 * 0 at the end, -1 if malformed.
 */
int cql_collection_next(const struct cql_cell *coll, size_t *pos,
			struct cql_cell *elem);

/* cql_cell_to_text - append a cell's text form; -1 if it has none */
int cql_cell_to_text(const struct cql_cell *c, struct buf *out);

/* A Rows result being read row by row. */
struct cql_rows {
	struct cql_rows_meta meta;
	int32_t nrows;
	int32_t next;		/* rows read so far */
	struct cql_rd rd;	/* positioned at the next row */
};

/*
 * cql_decode_rows - start reading a Rows result body after the kind int.
 * If the result has no metadata (skip_metadata), meta_hint supplies it.
 */
int cql_decode_rows(struct cql_rd *rd, const struct cql_rows_meta *meta_hint,
		    struct cql_rows *r);

/*
 * cql_rows_next - decode the next row into cells[0..meta.ncols).
 * Returns 1 with a row, 0 after the last one, -1 if malformed.
 */
int cql_rows_next(struct cql_rows *r, struct cql_cell *cells);

#endif
