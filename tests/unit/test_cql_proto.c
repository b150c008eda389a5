/*
 * test_cql_proto - the CQL frame codec, against bytes of the DataStax
 * Python driver (driver_frames.h, made by gen_driver_frames.py), every v4
 * error body, and truncated or garbage input
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cql/cql_proto.h"
#include "driver_frames.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* assert_bytes - buffer equals the driver's bytes */
static void assert_bytes(const struct buf *b, const uint8_t *want, size_t n)
{
	assert_false(b->oom);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, want, n);
}

/* body_of - check a driver response frame's header, return its body */
static const uint8_t *body_of(const uint8_t *frame, size_t len,
			      uint8_t opcode, size_t *blen)
{
	struct cql_header h;
	const char *why;

	assert_int_equal(cql_header_decode(frame, len, CQL_MAX_BODY_LEN, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_true(h.response);
	assert_int_equal(h.opcode, opcode);
	assert_int_equal(h.length, len - CQL_HEADER_LEN);
	*blen = h.length;
	return frame + CQL_HEADER_LEN;
}

/* ---- frame header ---------------------------------------------------- */

static void test_header_roundtrip(void **state)
{
	struct buf b;
	struct cql_header h;
	const char *why;
	size_t off;

	(void)state;
	buf_init(&b);
	buf_append_str(&b, "xy");		/* a frame need not start at 0 */
	off = cql_frame_begin(&b, 4, 1, CQL_FLAG_WARNING, -1, CQL_OP_EVENT);
	assert_int_equal(off, 2);
	buf_append(&b, "hello", 5);
	cql_frame_end(&b, off);
	assert_int_equal(b.len, 2 + CQL_HEADER_LEN + 5);
	assert_int_equal(cql_header_decode(b.data + off, b.len - off, 1000, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_null(why);
	assert_int_equal(h.version, 4);
	assert_true(h.response);
	assert_int_equal(h.flags, CQL_FLAG_WARNING);
	assert_int_equal(h.stream, -1);
	assert_int_equal(h.opcode, CQL_OP_EVENT);
	assert_int_equal(h.length, 5);
	buf_free(&b);

	/* A request of v3 with the highest stream id. */
	buf_init(&b);
	off = cql_frame_begin(&b, 3, 0, 0, 32767, CQL_OP_QUERY);
	cql_frame_end(&b, off);
	assert_int_equal(cql_header_decode(b.data, b.len, 0, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_int_equal(h.version, 3);
	assert_false(h.response);
	assert_int_equal(h.stream, 32767);
	assert_int_equal(h.length, 0);
	buf_free(&b);
}

static void test_header_need_more_and_errors(void **state)
{
	uint8_t hdr[CQL_HEADER_LEN] = { 0x84, 0, 0, 1, CQL_OP_RESULT, 0, 0, 0x10, 0 };
	struct cql_header h;
	const char *why;
	size_t i;

	(void)state;
	/* Every prefix of a header asks for more. */
	for (i = 0; i < CQL_HEADER_LEN; i++)
		assert_int_equal(cql_header_decode(hdr, i, 1u << 20, &h, &why),
				 CQL_DECODE_NEED_MORE);
	assert_int_equal(cql_header_decode(hdr, sizeof(hdr), 1u << 20, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_int_equal(h.length, 0x1000);
	/* The body limit of the caller, exactly. */
	assert_int_equal(cql_header_decode(hdr, sizeof(hdr), 0x1000, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_int_equal(cql_header_decode(hdr, sizeof(hdr), 0xFFF, &h, &why),
			 CQL_DECODE_ERROR);
	assert_non_null(why);
	/* Over the spec's 256 MB, whatever the caller allows. */
	memcpy(hdr + 5, "\x10\x00\x00\x01", 4);
	assert_int_equal(cql_header_decode(hdr, sizeof(hdr), UINT32_MAX, &h, &why),
			 CQL_DECODE_ERROR);
	memcpy(hdr + 5, "\xff\xff\xff\xff", 4);
	assert_int_equal(cql_header_decode(hdr, sizeof(hdr), UINT32_MAX, &h, &why),
			 CQL_DECODE_ERROR);
	memcpy(hdr + 5, "\0\0\0\0", 4);
	/* Versions 1 and 2 (8-byte headers), 6 and up: refused; 3..5 taken. */
	for (i = 0; i < 0x80; i++) {
		hdr[0] = (uint8_t)(0x80 | i);
		assert_int_equal(cql_header_decode(hdr, sizeof(hdr), 0, &h, &why),
				 i >= 3 && i <= 5 ? CQL_DECODE_COMPLETE : CQL_DECODE_ERROR);
	}
}

/* ---- requests: byte for byte what the driver sends -------------------- */

static void test_requests_match_the_driver(void **state)
{
	static const char ks[] = "\0cassandra\0secret";
	struct cql_value one = { "example.com", 11 };
	struct cql_value two[2] = { { "a", 1 }, { NULL, -1 } };
	struct cql_value k = { "k", 1 };
	struct buf b;

	(void)state;
	buf_init(&b);
	cql_encode_startup(&b, 4, 0);
	assert_bytes(&b, drv_req_startup, sizeof(drv_req_startup));
	buf_reset(&b);
	cql_encode_startup(&b, 3, 0);
	assert_bytes(&b, drv_req_startup_v3, sizeof(drv_req_startup_v3));
	buf_reset(&b);
	cql_encode_options(&b, 4, 5);
	assert_bytes(&b, drv_req_options, sizeof(drv_req_options));
	buf_reset(&b);
	cql_encode_query(&b, 4, 1, DRV_QUERY_CQL, strlen(DRV_QUERY_CQL),
			 CQL_CONSISTENCY_LOCAL_ONE, NULL, 0);
	assert_bytes(&b, drv_req_query, sizeof(drv_req_query));
	buf_reset(&b);
	cql_encode_query(&b, 3, 1, DRV_QUERY_CQL, strlen(DRV_QUERY_CQL),
			 CQL_CONSISTENCY_ONE, NULL, 0);
	assert_bytes(&b, drv_req_query_v3, sizeof(drv_req_query_v3));
	buf_reset(&b);
	cql_encode_prepare(&b, 4, 2, DRV_PREP_CQL, strlen(DRV_PREP_CQL));
	assert_bytes(&b, drv_req_prepare, sizeof(drv_req_prepare));
	buf_reset(&b);
	cql_encode_execute(&b, 4, 3, drv_prep_id, sizeof(drv_prep_id),
			   CQL_CONSISTENCY_LOCAL_ONE, &one, 1, 0, NULL);
	assert_bytes(&b, drv_req_execute, sizeof(drv_req_execute));
	buf_reset(&b);
	cql_encode_execute(&b, 4, 300, drv_prep_id, sizeof(drv_prep_id),
			   CQL_CONSISTENCY_LOCAL_QUORUM, two, 2, 0, NULL);
	assert_bytes(&b, drv_req_execute_null, sizeof(drv_req_execute_null));
	buf_reset(&b);
	cql_encode_execute(&b, 4, 32767, drv_prep_id, sizeof(drv_prep_id),
			   CQL_CONSISTENCY_LOCAL_ONE, &k, 1, 0, NULL);
	assert_bytes(&b, drv_req_execute_maxstream, sizeof(drv_req_execute_maxstream));
	/* skip_metadata sets that flag bit and changes nothing else. */
	buf_reset(&b);
	cql_encode_execute(&b, 4, 32767, drv_prep_id, sizeof(drv_prep_id),
			   CQL_CONSISTENCY_LOCAL_ONE, &k, 1, 1, NULL);
	assert_int_equal(b.len, sizeof(drv_req_execute_maxstream));
	assert_memory_equal(b.data, drv_req_execute_maxstream, 29);
	assert_int_equal(b.data[29], CQL_QF_VALUES | CQL_QF_SKIP_METADATA);
	assert_memory_equal(b.data + 30, drv_req_execute_maxstream + 30, b.len - 30);
	/*
	 * Paging appends <page size> and then [bytes] paging state after the
	 * values, with their flag bits (native_protocol_v4.spec 4.1.4).
	 */
	{
		static const uint8_t tail[] = {
			0, 0, 0x13, 0x88, 0, 0, 0, 2, 's', 't',
		};
		struct cql_paging pg = { 5000, NULL, 0 };

		buf_reset(&b);
		cql_encode_execute(&b, 4, 32767, drv_prep_id, sizeof(drv_prep_id),
				   CQL_CONSISTENCY_LOCAL_ONE, &k, 1, 0, &pg);
		assert_int_equal(b.len, sizeof(drv_req_execute_maxstream) + 4);
		assert_int_equal(b.data[29], CQL_QF_VALUES | CQL_QF_PAGE_SIZE);
		assert_memory_equal(b.data + b.len - 4, tail, 4);
		pg.state = (const uint8_t *)"st";
		pg.state_len = 2;
		buf_reset(&b);
		cql_encode_execute(&b, 4, 32767, drv_prep_id, sizeof(drv_prep_id),
				   CQL_CONSISTENCY_LOCAL_ONE, &k, 1, 0, &pg);
		assert_int_equal(b.len, sizeof(drv_req_execute_maxstream) + sizeof(tail));
		assert_int_equal(b.data[29], CQL_QF_VALUES | CQL_QF_PAGE_SIZE |
					     CQL_QF_PAGING_STATE);
		assert_memory_equal(b.data + 30, drv_req_execute_maxstream + 30,
				    sizeof(drv_req_execute_maxstream) - 30);
		assert_memory_equal(b.data + b.len - sizeof(tail), tail, sizeof(tail));
	}
	buf_reset(&b);
	cql_encode_auth_response(&b, 4, 0, ks, (int32_t)sizeof(ks) - 1);
	assert_bytes(&b, drv_req_auth, sizeof(drv_req_auth));
	buf_free(&b);
}

/* The driver's requests read back with our reader (what cqld does). */
static void test_driver_requests_decode(void **state)
{
	struct cql_header h;
	struct cql_rd rd;
	const char *why, *s;
	const uint8_t *id, *v;
	size_t n;
	int32_t vn;

	(void)state;
	assert_int_equal(cql_header_decode(drv_req_execute, sizeof(drv_req_execute),
					   CQL_MAX_BODY_LEN, &h, &why), CQL_DECODE_COMPLETE);
	assert_false(h.response);
	assert_int_equal(h.opcode, CQL_OP_EXECUTE);
	assert_int_equal(h.stream, 3);
	cql_rd_init(&rd, drv_req_execute + CQL_HEADER_LEN, h.length);
	id = cql_rd_short_bytes(&rd, &n);
	assert_int_equal(n, sizeof(drv_prep_id));
	assert_memory_equal(id, drv_prep_id, n);
	assert_int_equal(cql_rd_short(&rd), CQL_CONSISTENCY_LOCAL_ONE);
	assert_int_equal(cql_rd_byte(&rd), CQL_QF_VALUES);
	assert_int_equal(cql_rd_short(&rd), 1);
	v = cql_rd_bytes(&rd, &vn);
	assert_int_equal(vn, 11);
	assert_memory_equal(v, "example.com", 11);
	assert_int_equal(cql_rd_left(&rd), 0);
	assert_false(rd.err);

	assert_int_equal(cql_header_decode(drv_req_execute_null, sizeof(drv_req_execute_null),
					   CQL_MAX_BODY_LEN, &h, &why), CQL_DECODE_COMPLETE);
	assert_int_equal(h.stream, 300);
	cql_rd_init(&rd, drv_req_execute_null + CQL_HEADER_LEN, h.length);
	(void)cql_rd_short_bytes(&rd, &n);
	(void)cql_rd_short(&rd);
	(void)cql_rd_byte(&rd);
	assert_int_equal(cql_rd_short(&rd), 2);
	(void)cql_rd_bytes(&rd, &vn);
	assert_null(cql_rd_bytes(&rd, &vn));
	assert_int_equal(vn, -1);
	assert_false(rd.err);

	assert_int_equal(cql_header_decode(drv_req_startup, sizeof(drv_req_startup),
					   CQL_MAX_BODY_LEN, &h, &why), CQL_DECODE_COMPLETE);
	cql_rd_init(&rd, drv_req_startup + CQL_HEADER_LEN, h.length);
	assert_int_equal(cql_rd_short(&rd), 1);
	s = cql_rd_string(&rd, &n);
	assert_int_equal(n, 11);
	assert_memory_equal(s, "CQL_VERSION", 11);
	s = cql_rd_string(&rd, &n);
	assert_memory_equal(s, "3.0.0", n);
	assert_int_equal(cql_rd_left(&rd), 0);

	assert_int_equal(cql_header_decode(drv_req_prepare, sizeof(drv_req_prepare),
					   CQL_MAX_BODY_LEN, &h, &why), CQL_DECODE_COMPLETE);
	cql_rd_init(&rd, drv_req_prepare + CQL_HEADER_LEN, h.length);
	s = cql_rd_long_string(&rd, &n);
	assert_int_equal(n, strlen(DRV_PREP_CQL));
	assert_memory_equal(s, DRV_PREP_CQL, n);
	assert_int_equal(cql_rd_left(&rd), 0);
}

/* ---- errors -------------------------------------------------------- */

/* Every v4 error code, as the driver reads it, read the same by us. */
static void test_driver_errors(void **state)
{
	size_t i, blen;
	struct cql_error e;
	struct buf b;
	const uint8_t *body;
	int seen_codes = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(drv_errors); i++) {
		const struct drv_error *d = &drv_errors[i];

		body = body_of(d->frame, d->len, CQL_OP_ERROR, &blen);
		assert_int_equal(cql_error_decode(body, blen, &e), 0);
		assert_int_equal(e.code, d->code);
		assert_string_equal(e.message, d->message);
		assert_string_not_equal(cql_error_name(e.code), "unknown error");
		assert_int_equal(e.consistency, d->consistency);
		assert_int_equal(e.required, d->required);
		assert_int_equal(e.alive, d->alive);
		assert_int_equal(e.failures, d->failures);
		assert_int_equal(e.data_present != 0, d->data_present);
		assert_string_equal(e.write_type, d->write_type ? d->write_type : "");
		assert_string_equal(e.keyspace, d->keyspace ? d->keyspace : "");
		assert_string_equal(e.table, d->table ? d->table : "");
		assert_string_equal(e.function, d->function ? d->function : "");
		assert_int_equal(e.unprepared_id_len, d->unprepared_id_len);
		if (d->unprepared_id_len)
			assert_memory_equal(e.unprepared_id, d->unprepared_id,
					    d->unprepared_id_len);
		/* Our encoder (cqld's) writes the same body back, except the
		 * argument types of a FunctionFailure, which we do not keep. */
		if (e.code != CQL_ERR_FUNCTION_FAILURE) {
			buf_init(&b);
			cql_error_encode(&b, &e);
			assert_bytes(&b, body, blen);
			buf_free(&b);
		}
		seen_codes++;
	}
	assert_true(seen_codes >= 18);
}

/* build_error - body of an error with a message and raw extra bytes */
static void build_error(struct buf *b, int32_t code, const char *msg,
			const void *extra, size_t n)
{
	buf_reset(b);
	cql_wr_int(b, code);
	cql_wr_cstring(b, msg);
	buf_append(b, extra, n);
}

static void test_error_fields_by_hand(void **state)
{
	struct cql_error e, back;
	struct buf b;
	size_t i;
	char longmsg[2000];

	(void)state;
	buf_init(&b);
	/* Unavailable: <cl><required><alive> */
	build_error(&b, CQL_ERR_UNAVAILABLE, "u",
		    "\x00\x06" "\x00\x00\x00\x03" "\x00\x00\x00\x01", 10);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(e.consistency, CQL_CONSISTENCY_LOCAL_QUORUM);
	assert_int_equal(e.required, 3);
	assert_int_equal(e.alive, 1);
	assert_true(cql_error_retryable(e.code));
	/* WriteTimeout: <cl><received><blockfor><writeType> */
	build_error(&b, CQL_ERR_WRITE_TIMEOUT, "w",
		    "\x00\x04" "\x00\x00\x00\x01" "\x00\x00\x00\x02" "\x00\x07" "COUNTER", 19);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(e.alive, 1);
	assert_int_equal(e.required, 2);
	assert_string_equal(e.write_type, "COUNTER");
	assert_false(cql_error_retryable(e.code));	/* writes are not retried */
	/* ReadTimeout: data_present is any non-zero byte. */
	build_error(&b, CQL_ERR_READ_TIMEOUT, "r",
		    "\x00\x01" "\x00\x00\x00\x00" "\x00\x00\x00\x01" "\x7f", 11);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_true(e.data_present);
	/* ReadFailure, v4: <cl><received><blockfor><numfailures><data_present>.
	 * (v5 replaces numfailures by a reason map; we speak v3/v4 only.) */
	build_error(&b, CQL_ERR_READ_FAILURE, "rf",
		    "\x00\x05" "\x00\x00\x00\x02" "\x00\x00\x00\x03" "\x00\x00\x00\x01" "\x00", 15);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(e.consistency, CQL_CONSISTENCY_ALL);
	assert_int_equal(e.alive, 2);
	assert_int_equal(e.required, 3);
	assert_int_equal(e.failures, 1);
	assert_false(e.data_present);
	/* A write type longer than we keep is cut, not overrun. */
	memset(longmsg, 'W', 300);
	buf_reset(&b);
	cql_wr_int(&b, CQL_ERR_WRITE_FAILURE);
	cql_wr_cstring(&b, "wf");
	cql_wr_short(&b, 1);
	cql_wr_int(&b, 0);
	cql_wr_int(&b, 1);
	cql_wr_int(&b, 1);
	cql_wr_string(&b, longmsg, 300);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(strlen(e.write_type), sizeof(e.write_type) - 1);
	/* A server message longer than we keep is cut at CQL_ERROR_MSG_MAX - 1. */
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = 0;
	build_error(&b, CQL_ERR_INVALID, longmsg, NULL, 0);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(strlen(e.message), CQL_ERROR_MSG_MAX - 1);
	/* An unknown code keeps code and message, no extra fields read. */
	build_error(&b, 0x7777, "future", "trailing", 8);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(e.code, 0x7777);
	assert_string_equal(e.message, "future");
	assert_string_equal(cql_error_name(0x7777), "unknown error");
	/* Unprepared with an id longer than we can hold: malformed for us. */
	buf_reset(&b);
	cql_wr_int(&b, CQL_ERR_UNPREPARED);
	cql_wr_cstring(&b, "u");
	cql_wr_short_bytes(&b, longmsg, 65);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), -1);
	buf_reset(&b);
	cql_wr_int(&b, CQL_ERR_UNPREPARED);
	cql_wr_cstring(&b, "u");
	cql_wr_short_bytes(&b, longmsg, 64);
	assert_int_equal(cql_error_decode(b.data, b.len, &e), 0);
	assert_int_equal(e.unprepared_id_len, 64);
	/* Encode / decode round trip of every code with extra fields. */
	{
		static const int32_t codes[] = {
			CQL_ERR_UNAVAILABLE, CQL_ERR_WRITE_TIMEOUT, CQL_ERR_READ_TIMEOUT,
			CQL_ERR_READ_FAILURE, CQL_ERR_WRITE_FAILURE,
			CQL_ERR_FUNCTION_FAILURE, CQL_ERR_ALREADY_EXISTS, CQL_ERR_UNPREPARED,
		};

		for (i = 0; i < ARRAY_LEN(codes); i++) {
			memset(&e, 0, sizeof(e));
			e.code = codes[i];
			strcpy(e.message, "m");
			e.consistency = 6;
			e.required = 3;
			e.alive = 2;
			e.failures = 1;
			e.data_present = 1;
			strcpy(e.write_type, "SIMPLE");
			strcpy(e.keyspace, "ks");
			strcpy(e.table, "tb");
			strcpy(e.function, "fn");
			memcpy(e.unprepared_id, "\x01\x02\x03", 3);
			e.unprepared_id_len = 3;
			buf_reset(&b);
			cql_error_encode(&b, &e);
			assert_int_equal(cql_error_decode(b.data, b.len, &back), 0);
			assert_int_equal(back.code, e.code);
			assert_string_equal(back.message, "m");
			if (codes[i] == CQL_ERR_ALREADY_EXISTS)
				assert_string_equal(back.table, "tb");
			if (codes[i] == CQL_ERR_FUNCTION_FAILURE)
				assert_string_equal(back.function, "fn");
			if (codes[i] == CQL_ERR_UNPREPARED)
				assert_int_equal(back.unprepared_id_len, 3);
			if (codes[i] == CQL_ERR_WRITE_FAILURE) {
				assert_int_equal(back.failures, 1);
				assert_string_equal(back.write_type, "SIMPLE");
			}
		}
	}
	buf_free(&b);
}

static void test_error_retry_classes(void **state)
{
	(void)state;
	assert_true(cql_error_retryable(CQL_ERR_SERVER));
	assert_true(cql_error_retryable(CQL_ERR_OVERLOADED));
	assert_true(cql_error_retryable(CQL_ERR_IS_BOOTSTRAPPING));
	assert_true(cql_error_retryable(CQL_ERR_READ_TIMEOUT));
	assert_true(cql_error_retryable(CQL_ERR_READ_FAILURE));
	assert_true(cql_error_retryable(CQL_ERR_UNAVAILABLE));
	assert_false(cql_error_retryable(CQL_ERR_SYNTAX));
	assert_false(cql_error_retryable(CQL_ERR_INVALID));
	assert_false(cql_error_retryable(CQL_ERR_UNAUTHORIZED));
	assert_false(cql_error_retryable(CQL_ERR_CONFIG));
	assert_false(cql_error_retryable(CQL_ERR_BAD_CREDENTIALS));
	assert_false(cql_error_retryable(CQL_ERR_PROTOCOL));
	assert_false(cql_error_retryable(CQL_ERR_UNPREPARED));
}

/* Every strict prefix of every driver error body is refused. */
static void test_errors_truncated(void **state)
{
	struct cql_error e;
	size_t i, n, blen;
	const uint8_t *body;

	(void)state;
	for (i = 0; i < ARRAY_LEN(drv_errors); i++) {
		body = body_of(drv_errors[i].frame, drv_errors[i].len, CQL_OP_ERROR, &blen);
		for (n = 0; n < blen; n++)
			assert_int_equal(cql_error_decode(body, n, &e), -1);
	}
}

/* ---- results ------------------------------------------------------- */

/* cell_text - a decoded cell in the form drv_cells uses */
static void cell_text(const struct cql_cell *c, struct buf *out, int *is_null)
{
	struct cql_cell el;
	size_t pos = 0;
	int rc, first = 1;

	*is_null = c->kind == CQL_CELL_NULL;
	if (*is_null)
		return;
	if (c->kind == CQL_CELL_COLLECTION) {
		while ((rc = cql_collection_next(c, &pos, &el)) == 1) {
			if (!first)
				buf_append_byte(out, '|');
			first = 0;
			assert_int_equal(cql_cell_to_text(&el, out), 0);
		}
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(cql_cell_to_text(c, out), 0);
}

/* check_rows - a driver Rows frame decodes to the driver's cells */
static void check_rows(const uint8_t *frame, size_t len,
		       const struct cql_rows_meta *hint, struct cql_rows_meta *keep)
{
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows r;
	struct cql_rd rd;
	struct buf t;
	const uint8_t *body;
	size_t blen;
	int i, row = 0, is_null;

	body = body_of(frame, len, CQL_OP_RESULT, &blen);
	cql_rd_init(&rd, body, blen);
	assert_int_equal(cql_rd_int(&rd), CQL_RESULT_ROWS);
	assert_int_equal(cql_decode_rows(&rd, hint, &r), 0);
	assert_int_equal(r.meta.ncols, DRV_NCOLS);
	assert_int_equal(r.nrows, DRV_NROWS);
	for (i = 0; i < DRV_NCOLS; i++) {
		assert_string_equal(r.meta.cols[i].name, drv_col_names[i]);
		assert_int_equal(r.meta.cols[i].type.id, drv_col_types[i][0]);
		assert_int_equal(r.meta.cols[i].type.elem[0], drv_col_types[i][1]);
	}
	if (keep)
		*keep = r.meta;
	buf_init(&t);
	while (cql_rows_next(&r, cells) == 1) {
		for (i = 0; i < DRV_NCOLS; i++) {
			buf_reset(&t);
			cell_text(&cells[i], &t, &is_null);
			if (drv_cells[row][i] == NULL) {
				assert_true(is_null);
			} else {
				assert_false(is_null);
				buf_append_byte(&t, 0);
				assert_string_equal((char *)t.data, drv_cells[row][i]);
			}
		}
		row++;
	}
	assert_int_equal(row, DRV_NROWS);
	assert_int_equal(cql_rows_next(&r, cells), 0);
	assert_int_equal(cql_rd_left(&r.rd), 0);
	buf_free(&t);
}

static void test_driver_rows(void **state)
{
	static struct cql_rows_meta meta;
	struct cql_rows r;
	struct cql_rd rd;
	const uint8_t *body;
	size_t blen;

	(void)state;
	check_rows(drv_res_rows, sizeof(drv_res_rows), NULL, &meta);
	check_rows(drv_res_rows_paged, sizeof(drv_res_rows_paged), NULL, NULL);
	/* No metadata in the answer (skip_metadata): the prepared one is used. */
	check_rows(drv_res_rows_nometa, sizeof(drv_res_rows_nometa), &meta, NULL);

	body = body_of(drv_res_rows_paged, sizeof(drv_res_rows_paged), CQL_OP_RESULT, &blen);
	cql_rd_init(&rd, body, blen);
	(void)cql_rd_int(&rd);
	assert_int_equal(cql_decode_rows(&rd, NULL, &r), 0);
	assert_true(r.meta.flags & CQL_META_HAS_MORE_PAGES);
	assert_int_equal(r.meta.paging_state_len, sizeof(DRV_PAGING_STATE) - 1);
	assert_memory_equal(r.meta.paging_state, DRV_PAGING_STATE, r.meta.paging_state_len);
}

static void test_driver_prepared(void **state)
{
	static struct cql_prepared pr;
	const uint8_t *frames[2] = { drv_res_prepared_v4, drv_res_prepared_v3 };
	size_t lens[2] = { sizeof(drv_res_prepared_v4), sizeof(drv_res_prepared_v3) };
	uint8_t versions[2] = { 4, 3 };
	struct cql_rd rd;
	const uint8_t *body;
	size_t blen, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		body = body_of(frames[i], lens[i], CQL_OP_RESULT, &blen);
		cql_rd_init(&rd, body, blen);
		assert_int_equal(cql_rd_int(&rd), CQL_RESULT_PREPARED);
		assert_int_equal(cql_decode_prepared(&rd, versions[i], &pr), 0);
		assert_int_equal(pr.idlen, sizeof(drv_prep_id));
		assert_memory_equal(pr.id, drv_prep_id, pr.idlen);
		assert_int_equal(pr.nbind, 1);
		assert_int_equal(pr.bind_types[0].id, CQL_TYPE_VARCHAR);
		assert_int_equal(pr.result.ncols, 2);
		assert_string_equal(pr.result.cols[0].name, "domain");
		assert_string_equal(pr.result.cols[1].name, "active");
		assert_int_equal(pr.result.cols[1].type.id, CQL_TYPE_BOOLEAN);
		assert_int_equal(cql_rd_left(&rd), 0);
	}
	/* Read with the other version's layout, a v4 body is misread: the
	 * version matters (the pk count is taken for the bind count's data). */
	body = body_of(drv_res_prepared_v3, sizeof(drv_res_prepared_v3), CQL_OP_RESULT, &blen);
	cql_rd_init(&rd, body + 4, blen - 4);
	assert_int_equal(cql_decode_prepared(&rd, 4, &pr), -1);
}

static void test_driver_other_results(void **state)
{
	struct cql_header h;
	struct cql_rd rd;
	const uint8_t *body;
	const char *why, *s;
	size_t blen, n;

	(void)state;
	body = body_of(drv_res_void, sizeof(drv_res_void), CQL_OP_RESULT, &blen);
	cql_rd_init(&rd, body, blen);
	assert_int_equal(cql_rd_int(&rd), CQL_RESULT_VOID);
	assert_int_equal(cql_rd_left(&rd), 0);
	body = body_of(drv_res_set_keyspace, sizeof(drv_res_set_keyspace), CQL_OP_RESULT, &blen);
	cql_rd_init(&rd, body, blen);
	assert_int_equal(cql_rd_int(&rd), CQL_RESULT_SET_KEYSPACE);
	s = cql_rd_string(&rd, &n);
	assert_int_equal(n, 7);
	assert_memory_equal(s, "mailion", 7);
	assert_int_equal(cql_header_decode(drv_ready, sizeof(drv_ready), 0, &h, &why),
			 CQL_DECODE_COMPLETE);
	assert_int_equal(h.opcode, CQL_OP_READY);
	assert_int_equal(h.length, 0);
	assert_int_equal(h.stream, 0);
}

/* decodes_fully - a RESULT body decodes (rows, all of them, or prepared) */
static int decodes_fully(const uint8_t *body, size_t len, const struct cql_rows_meta *hint)
{
	static struct cql_prepared pr;
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows r;
	struct cql_rd rd;
	int32_t kind;
	int rc;

	cql_rd_init(&rd, body, len);
	kind = cql_rd_int(&rd);
	if (rd.err)
		return -1;
	if (kind == CQL_RESULT_PREPARED)
		return cql_decode_prepared(&rd, 4, &pr);
	if (cql_decode_rows(&rd, hint, &r) != 0)
		return -1;
	while ((rc = cql_rows_next(&r, cells)) == 1)
		;
	return rc;
}

/* Every strict prefix of every Rows and Prepared body is refused. */
static void test_results_truncated(void **state)
{
	static struct cql_rows_meta meta;
	const uint8_t *frames[] = { drv_res_rows, drv_res_rows_paged,
				    drv_res_rows_nometa, drv_res_prepared_v4 };
	size_t lens[] = { sizeof(drv_res_rows), sizeof(drv_res_rows_paged),
			  sizeof(drv_res_rows_nometa), sizeof(drv_res_prepared_v4) };
	const uint8_t *body;
	size_t i, n, blen;

	(void)state;
	check_rows(drv_res_rows, sizeof(drv_res_rows), NULL, &meta);
	for (i = 0; i < ARRAY_LEN(frames); i++) {
		body = body_of(frames[i], lens[i], CQL_OP_RESULT, &blen);
		assert_int_equal(decodes_fully(body, blen, &meta), 0);
		for (n = 0; n < blen; n++)
			assert_int_equal(decodes_fully(body, n, &meta), -1);
	}
}

/* rows_with_type - a one-column Rows body of type bytes t, one cell */
static void rows_with_type(struct buf *b, const void *t, size_t tn,
			   const void *cell, int32_t cn)
{
	buf_reset(b);
	cql_wr_int(b, CQL_RESULT_ROWS);
	cql_wr_int(b, CQL_META_GLOBAL_TABLES_SPEC);
	cql_wr_int(b, 1);
	cql_wr_cstring(b, "ks");
	cql_wr_cstring(b, "t");
	cql_wr_cstring(b, "c");
	buf_append(b, t, tn);
	cql_wr_int(b, 1);
	cql_wr_bytes(b, cell, cn);
}

static void test_results_garbage(void **state)
{
	struct cql_cell c, el;
	struct cql_type ty;
	struct buf b;
	size_t pos;
	int i;

	(void)state;
	buf_init(&b);
	/* An unknown composite type cannot be skipped: refused. */
	rows_with_type(&b, "\x00\x50", 2, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* Unknown simple type ids below 0x20 pass, their cells unsupported. */
	rows_with_type(&b, "\x00\x1f", 2, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	/* Custom, tuple, UDT and map metadata parse. */
	rows_with_type(&b, "\x00\x00\x00\x03org", 7, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	rows_with_type(&b, "\x00\x31\x00\x02\x00\x0d\x00\x09", 8, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	rows_with_type(&b, "\x00\x30\x00\x02ks\x00\x01u\x00\x01\x00\x01" "f\x00\x0d", 17, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	rows_with_type(&b, "\x00\x21\x00\x0d\x00\x09", 6, "x", 1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	/* Nesting past CQL_TYPE_MAX_DEPTH is refused, up to it accepted. */
	{
		uint8_t deep[64];
		int depth;

		for (depth = CQL_TYPE_MAX_DEPTH; depth <= CQL_TYPE_MAX_DEPTH + 1; depth++) {
			for (i = 0; i < depth; i++) {
				deep[2 * i] = 0;
				deep[2 * i + 1] = 0x20;
			}
			deep[2 * depth] = 0;
			deep[2 * depth + 1] = 0x0d;
			rows_with_type(&b, deep, 2 * (size_t)depth + 2, NULL, -1);
			assert_int_equal(decodes_fully(b.data, b.len, NULL),
					 depth <= CQL_TYPE_MAX_DEPTH ? 0 : -1);
		}
	}
	/* Boolean of two bytes, int of three: malformed cells. */
	rows_with_type(&b, "\x00\x04", 2, "\x01\x01", 2);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	rows_with_type(&b, "\x00\x09", 2, "\x01\x01\x01", 3);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* A bytes length of -2 ("unset") never comes from a server. */
	rows_with_type(&b, "\x00\x0d", 2, NULL, -1);
	b.data[b.len - 1] = 0xfe;
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* Column count over the limit, negative; negative row count. */
	buf_reset(&b);
	cql_wr_int(&b, CQL_RESULT_ROWS);
	cql_wr_int(&b, CQL_META_NO_METADATA);
	cql_wr_int(&b, CQL_MAX_COLUMNS + 1);
	cql_wr_int(&b, 0);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	b.data[11] = CQL_MAX_COLUMNS;
	assert_int_equal(decodes_fully(b.data, b.len, NULL), 0);
	memcpy(b.data + 8, "\xff\xff\xff\xff", 4);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	memcpy(b.data + 8, "\0\0\0\0", 4);
	memcpy(b.data + 12, "\xff\xff\xff\xff", 4);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* A row count promising more rows than the body holds. */
	memcpy(b.data + 8, "\0\0\0\x01", 4);
	memcpy(b.data + 12, "\x7f\xff\xff\xff", 4);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* Strings whose length runs past the end. */
	buf_reset(&b);
	cql_wr_int(&b, CQL_RESULT_ROWS);
	cql_wr_int(&b, CQL_META_GLOBAL_TABLES_SPEC);
	cql_wr_int(&b, 1);
	cql_wr_short(&b, 0xffff);
	buf_append_str(&b, "ks");
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	/* Prepared with a negative or huge bind count. */
	buf_reset(&b);
	cql_wr_int(&b, CQL_RESULT_PREPARED);
	cql_wr_short_bytes(&b, "id", 2);
	cql_wr_int(&b, 0);
	cql_wr_int(&b, -1);
	assert_int_equal(decodes_fully(b.data, b.len, NULL), -1);
	buf_free(&b);

	/* Collections: a count larger than the elements, a truncated element. */
	ty.id = CQL_TYPE_SET;
	ty.elem[0] = CQL_TYPE_VARCHAR;
	ty.elem[1] = 0;
	ty.nested = 0;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\0\0\0\x01\0\0\0\x05" "ab", 10, &c), -1);
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\0\0\0", 3, &c), -1);
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\xff\0\0\0", 4, &c), -1);
	/* A nested collection is not interpreted. */
	ty.nested = 1;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\0\0\0\0", 4, &c), 0);
	assert_int_equal(c.kind, CQL_CELL_UNSUPPORTED);
	assert_int_equal(cql_collection_next(&c, &pos, &el), -1);
	/* Empty integer and boolean values read as null. */
	ty.id = CQL_TYPE_BIGINT;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"", 0, &c), 0);
	assert_int_equal(c.kind, CQL_CELL_NULL);
	ty.id = CQL_TYPE_BOOLEAN;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"", 0, &c), 0);
	assert_int_equal(c.kind, CQL_CELL_NULL);
	/* Sign extension of every integer width. */
	ty.id = CQL_TYPE_TINYINT;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\x80", 1, &c), 0);
	assert_int_equal(c.i, -128);
	ty.id = CQL_TYPE_SMALLINT;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\xff\xfe", 2, &c), 0);
	assert_int_equal(c.i, -2);
	ty.id = CQL_TYPE_COUNTER;
	assert_int_equal(cql_cell_decode(&ty, (const uint8_t *)"\x80\0\0\0\0\0\0\0", 8, &c), 0);
	assert_true(c.i == INT64_MIN);
}

/* collect - the elements of a decoded collection, joined by '|'; rc of the end */
static int collect(const struct cql_cell *c, struct buf *out)
{
	struct cql_cell el;
	size_t pos = 0;
	int rc;

	while ((rc = cql_collection_next(c, &pos, &el)) == 1) {
		if (out->len)
			buf_append_byte(out, '|');
		if (cql_cell_to_text(&el, out) != 0)
			return -1;
	}
	return rc;
}

/*
 * Regression (issue 11 item 12): the element count of a list or set was
 * ignored, so a collection cut short read as a shorter list (a partial
 * OK). The elements must be exactly the count: fewer, or bytes left over
 * after the last one, is a malformed value.
 */
static void test_collection_count_must_match(void **state)
{
	/* set<text> {"a", "bc"} */
	static const uint8_t whole[] = {
		0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c',
	};
	/* announces 3 elements, holds 2 */
	static const uint8_t short3[] = {
		0, 0, 0, 3, 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c',
	};
	/* announces 1 element, holds 2 */
	static const uint8_t long1[] = {
		0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c',
	};
	/* announces 2 elements, then 1 byte of a third */
	static const uint8_t trailing[] = {
		0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c', 0,
	};
	/* announces 0 elements: an empty set */
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	struct cql_type ty = { .id = CQL_TYPE_SET, .elem = { CQL_TYPE_VARCHAR, 0 } };
	struct cql_cell c;
	struct buf out;
	size_t n;

	(void)state;
	buf_init(&out);
	assert_int_equal(cql_cell_decode(&ty, whole, sizeof(whole), &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(collect(&c, &out), 0);
	buf_append_byte(&out, 0);
	assert_string_equal((char *)out.data, "a|bc");
	assert_int_equal(cql_cell_decode(&ty, short3, sizeof(short3), &c), -1);
	assert_int_equal(cql_cell_decode(&ty, long1, sizeof(long1), &c), -1);
	assert_int_equal(cql_cell_decode(&ty, trailing, sizeof(trailing), &c), -1);
	/* Every cut of the whole value is malformed, none a shorter set. */
	for (n = 0; n < sizeof(whole); n++)
		assert_int_equal(cql_cell_decode(&ty, whole, (int32_t)n, &c), -1);
	ty.id = CQL_TYPE_LIST;
	assert_int_equal(cql_cell_decode(&ty, short3, sizeof(short3), &c), -1);
	assert_int_equal(cql_cell_decode(&ty, empty, sizeof(empty), &c), 0);
	buf_reset(&out);
	assert_int_equal(collect(&c, &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/*
 * Regression (fuzz_cql_frame): a Rows result of 0 columns and 2^31 - 1
 * rows is 16 bytes on the wire, and reading it row by row held the event
 * loop for seconds. A row count the body cannot hold is refused at once.
 */
static void test_rows_count_must_fit_the_body(void **state)
{
	static const uint8_t zero_cols[] = {
		0, 0, 0, 2,		/* Rows */
		0, 0, 0, 4,		/* flags: no metadata */
		0, 0, 0, 0,		/* 0 columns */
		0x7f, 0xff, 0xff, 0xff,	/* rows */
	};
	struct cql_rows r;
	struct cql_rd rd;
	struct buf b;

	(void)state;
	cql_rd_init(&rd, zero_cols + 4, sizeof(zero_cols) - 4);
	assert_int_equal(cql_decode_rows(&rd, NULL, &r), -1);
	/* No rows of no columns is a fine (empty) result. */
	buf_init(&b);
	buf_append(&b, zero_cols + 4, 8);
	cql_wr_int(&b, 0);
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_decode_rows(&rd, NULL, &r), 0);
	assert_int_equal(r.nrows, 0);
	/* Two columns, 3 rows: needs at least 24 bytes of cells. */
	buf_reset(&b);
	cql_wr_int(&b, CQL_META_NO_METADATA);
	cql_wr_int(&b, 2);
	cql_wr_int(&b, 3);
	buf_append(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
		       "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 23);
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_decode_rows(&rd, NULL, &r), -1);
	buf_append_byte(&b, 0xff);		/* six null cells: exactly enough */
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_decode_rows(&rd, NULL, &r), 0);
	assert_int_equal(r.nrows, 3);
	buf_free(&b);
}

static void test_primitives(void **state)
{
	struct cql_rd rd;
	struct buf b;
	size_t n;
	int32_t bn;

	(void)state;
	buf_init(&b);
	cql_wr_long(&b, -2);
	cql_wr_int(&b, INT32_MIN);
	cql_wr_long_string(&b, "abc", 3);
	cql_wr_bytes(&b, NULL, -1);
	cql_wr_string(&b, "xy", 2);
	cql_rd_init(&rd, b.data, b.len);
	assert_true(cql_rd_long(&rd) == -2);
	assert_int_equal(cql_rd_int(&rd), INT32_MIN);
	assert_memory_equal(cql_rd_long_string(&rd, &n), "abc", 3);
	assert_null(cql_rd_bytes(&rd, &bn));
	assert_int_equal(bn, -1);
	assert_false(rd.err);
	assert_int_equal(cql_rd_left(&rd), 4);
	/* Past the end: zero values, sticky error, nothing left. */
	assert_int_equal(cql_rd_long(&rd), 0);
	assert_true(rd.err);
	assert_int_equal(cql_rd_left(&rd), 0);
	assert_null(cql_rd_string(&rd, &n));
	assert_int_equal(n, 0);
	/* A negative [long string] length is an error, not a huge size. */
	buf_reset(&b);
	cql_wr_int(&b, -5);
	cql_rd_init(&rd, b.data, b.len);
	assert_null(cql_rd_long_string(&rd, &n));
	assert_true(rd.err);
	/* [short bytes] over 65535 cannot be written: the buffer says so. */
	buf_reset(&b);
	cql_wr_short_bytes(&b, "", 70000);
	assert_true(b.oom);
	buf_free(&b);

	assert_int_equal(cql_consistency_parse("local_one"), CQL_CONSISTENCY_LOCAL_ONE);
	assert_int_equal(cql_consistency_parse("QUORUM"), CQL_CONSISTENCY_QUORUM);
	assert_int_equal(cql_consistency_parse("LOCAL"), -1);
	assert_string_equal(cql_consistency_name(CQL_CONSISTENCY_EACH_QUORUM), "EACH_QUORUM");
	assert_string_equal(cql_consistency_name(99), "UNKNOWN");
	assert_string_equal(cql_opcode_name(CQL_OP_AUTH_SUCCESS), "AUTH_SUCCESS");
	assert_string_equal(cql_opcode_name(0x11), "unknown opcode");
	assert_string_equal(cql_opcode_name(-1), "unknown opcode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_header_need_more_and_errors),
		cmocka_unit_test(test_requests_match_the_driver),
		cmocka_unit_test(test_driver_requests_decode),
		cmocka_unit_test(test_driver_errors),
		cmocka_unit_test(test_error_fields_by_hand),
		cmocka_unit_test(test_error_retry_classes),
		cmocka_unit_test(test_errors_truncated),
		cmocka_unit_test(test_driver_rows),
		cmocka_unit_test(test_driver_prepared),
		cmocka_unit_test(test_driver_other_results),
		cmocka_unit_test(test_results_truncated),
		cmocka_unit_test(test_results_garbage),
		cmocka_unit_test(test_rows_count_must_fit_the_body),
		cmocka_unit_test(test_collection_count_must_match),
		cmocka_unit_test(test_primitives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
