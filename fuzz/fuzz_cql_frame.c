/*
 * fuzz_cql_frame - libFuzzer target for the CQL frame header and every
 * response body decoder
 *
 * The input is what a server sends on one connection: frames one after
 * another, read as cql_conn.c reads them (header, then the tracing id,
 * warnings and custom payload the flags announce, then the body by
 * opcode). ERROR bodies go through cql_error_decode (and a decoded error
 * re-encodes to a body that decodes to the same code); RESULT bodies by
 * kind: Rows read to the last cell (text, integers, booleans, collection
 * elements), Prepared in the frame's protocol version, whose result
 * metadata then serves as the hint for later Rows without metadata, as
 * the session does with skip_metadata. Every Rows body is also a page of
 * one result (cql_pages.c), as the session follows the paging state:
 * after the last page the whole result must hold exactly the rows of its
 * pages, and is read as the engine reads it (result_rows.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql/cql_pages.h"
#include "cql/cql_proto.h"
#include "result_rows.h"

#define FUZZ_MAX_BODY	(1u << 20)	/* bytes, as a connection would allow */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cql_rows_meta hint;
static int have_hint;
static struct cql_pages pages;
static int32_t page_rows;	/* rows of the pages added so far */

/* read_rows - every row and cell of a Rows result */
static void read_rows(struct cql_rd *rd, const struct cql_rows_meta *h)
{
	static struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows r;
	struct cql_cell el;
	struct buf out;
	int32_t i;
	size_t pos;
	int rc, erc;

	if (cql_decode_rows(rd, h, &r) != 0)
		return;
	if (r.meta.ncols < 0 || r.meta.ncols > CQL_MAX_COLUMNS)
		abort();
	buf_init(&out);
	while ((rc = cql_rows_next(&r, cells)) == 1) {
		for (i = 0; i < r.meta.ncols; i++) {
			(void)cql_cell_to_text(&cells[i], &out);
			if (cells[i].kind != CQL_CELL_COLLECTION)
				continue;
			pos = 0;
			while ((erc = cql_collection_next(&cells[i], &pos, &el)) == 1) {
				if (pos > cells[i].len)
					abort();
				(void)cql_cell_to_text(&el, &out);
			}
		}
		buf_reset(&out);
	}
	if (rc == 0 && r.next != r.nrows)
		abort();
	buf_free(&out);
}

/* read_page - a Rows body as the next page of one result */
static void read_page(struct cql_rd *rd)
{
	struct cql_rd peek = *rd;
	struct cql_rows page, all;
	enum cql_pages_status st;
	const uint8_t *ps;
	size_t len;

	if (cql_decode_rows(&peek, have_hint ? &hint : NULL, &page) != 0)
		page.nrows = 0;
	st = cql_pages_add(&pages, rd, have_hint ? &hint : NULL);
	if (st == CQL_PAGES_MORE || st == CQL_PAGES_DONE)
		page_rows += page.nrows;
	if (pages.rows.len > CQL_PAGES_MAX_BYTES || pages.npages > CQL_PAGES_MAX)
		abort();
	ps = cql_pages_state(&pages, &len);
	if (st == CQL_PAGES_MORE && (ps == NULL || len == 0))
		abort();
	if (st == CQL_PAGES_MORE)
		return;
	if (st == CQL_PAGES_DONE) {
		struct buf out;

		cql_pages_rows(&pages, &all);
		if (all.nrows != page_rows)
			abort();
		/* What the engine makes of it: the reply data of a map. */
		buf_init(&out);
		(void)result_rows_format(&all, "%s", &out);
		if (all.next > all.nrows)
			abort();
		buf_free(&out);
	}
	/* Done or refused: the next Rows body starts another result. */
	cql_pages_free(&pages);
	cql_pages_init(&pages);
	page_rows = 0;
}

/* read_error - decode, and check that what we encode we decode the same */
static void read_error(const uint8_t *body, size_t len)
{
	struct cql_error e, back;
	struct buf b;

	if (cql_error_decode(body, len, &e) != 0)
		return;
	if (memchr(e.message, 0, sizeof(e.message)) == NULL ||
	    memchr(e.write_type, 0, sizeof(e.write_type)) == NULL ||
	    memchr(e.keyspace, 0, sizeof(e.keyspace)) == NULL ||
	    e.unprepared_id_len > sizeof(e.unprepared_id))
		abort();
	(void)cql_error_name(e.code);
	(void)cql_error_retryable(e.code);
	buf_init(&b);
	cql_error_encode(&b, &e);
	if (b.oom || cql_error_decode(b.data, b.len, &back) != 0 || back.code != e.code ||
	    strcmp(back.message, e.message) != 0 || back.alive != e.alive ||
	    back.required != e.required ||
	    back.unprepared_id_len != e.unprepared_id_len)
		abort();
	buf_free(&b);
}

/* read_result - a RESULT body by kind */
static void read_result(const uint8_t *body, size_t len, uint8_t version)
{
	static struct cql_prepared pr;
	struct cql_rd rd;
	int32_t kind;
	size_t n;

	cql_rd_init(&rd, body, len);
	kind = cql_rd_int(&rd);
	switch (kind) {
	case CQL_RESULT_ROWS: {
		struct cql_rd again = rd, paged = rd;

		read_page(&paged);
		read_rows(&rd, NULL);
		if (have_hint)
			read_rows(&again, &hint);
		break;
	}
	case CQL_RESULT_PREPARED:
		if (cql_decode_prepared(&rd, version, &pr) == 0) {
			if (pr.nbind < 0 || pr.nbind > CQL_MAX_COLUMNS || pr.id == NULL)
				abort();
			hint = pr.result;
			have_hint = 1;
		}
		break;
	case CQL_RESULT_SET_KEYSPACE:
		(void)cql_rd_string(&rd, &n);
		break;
	case CQL_RESULT_SCHEMA_CHANGE:
		(void)cql_rd_string(&rd, &n);
		(void)cql_rd_string(&rd, &n);
		(void)cql_rd_string(&rd, &n);
		break;
	default:
		break;
	}
}

/* read_body - the opcodes a client receives */
static void read_body(const struct cql_header *h, const uint8_t *body, size_t len)
{
	struct cql_rd rd;
	int32_t bn;
	size_t n;

	cql_rd_init(&rd, body, len);
	switch (h->opcode) {
	case CQL_OP_ERROR:
		read_error(body, len);
		break;
	case CQL_OP_RESULT:
		read_result(body, len, h->version);
		break;
	case CQL_OP_SUPPORTED:
		cql_rd_skip_string_multimap(&rd);
		break;
	case CQL_OP_AUTHENTICATE:
		(void)cql_rd_string(&rd, &n);
		break;
	case CQL_OP_AUTH_CHALLENGE:
	case CQL_OP_AUTH_SUCCESS:
		(void)cql_rd_bytes(&rd, &bn);
		break;
	case CQL_OP_EVENT:
		(void)cql_rd_string(&rd, &n);
		cql_rd_skip_string_list(&rd);
		cql_rd_skip_string_map(&rd);
		break;
	default:
		(void)cql_opcode_name(h->opcode);
		break;
	}
	if (cql_rd_left(&rd) > len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cql_header h;
	const char *why;
	size_t off = 0;

	have_hint = 0;
	cql_pages_init(&pages);
	page_rows = 0;
	while (off < size) {
		enum cql_decode_status st;
		const uint8_t *body;
		struct cql_rd rd;
		size_t skip = 0, n;
		int32_t bl;

		st = cql_header_decode(data + off, size - off, FUZZ_MAX_BODY, &h, &why);
		if (st == CQL_DECODE_NEED_MORE)
			break;
		if (st == CQL_DECODE_ERROR) {
			if (why == NULL)
				abort();
			break;
		}
		if (h.version < 3 || h.version > 5 || h.length > FUZZ_MAX_BODY)
			abort();
		if (size - off - CQL_HEADER_LEN < h.length)
			break;
		body = data + off + CQL_HEADER_LEN;
		cql_rd_init(&rd, body, h.length);
		if (h.flags & CQL_FLAG_TRACING)
			(void)cql_rd_raw(&rd, 16);
		if (h.flags & CQL_FLAG_WARNING)
			cql_rd_skip_string_list(&rd);
		if (h.flags & CQL_FLAG_CUSTOM_PAYLOAD) {
			uint16_t i, np = cql_rd_short(&rd);

			for (i = 0; i < np && !rd.err; i++) {
				(void)cql_rd_string(&rd, &n);
				(void)cql_rd_bytes(&rd, &bl);
			}
		}
		if (!rd.err) {
			skip = rd.off;
			if (skip > h.length)
				abort();
			read_body(&h, body + skip, h.length - skip);
		}
		off += CQL_HEADER_LEN + h.length;
	}
	cql_pages_free(&pages);
	return 0;
}
