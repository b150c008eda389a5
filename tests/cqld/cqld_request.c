/*
 * cqld_request - QUERY, PREPARE, EXECUTE and BATCH in cqld
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 *	void request_query(struct conn *c, int16_t stream, struct cql_rd *rd)
 *	void request_prepare(struct conn *c, int16_t stream, struct cql_rd *rd)
 *	void request_execute(struct conn *c, int16_t stream, struct cql_rd *rd)
 *	void request_batch(struct conn *c, int16_t stream, struct cql_rd *rd)
 *
 *	void prepared_clear(void)
 *
 * DESCRIPTION
 *	The requests that run statements: their bodies decoded (query
 *	parameters of v3 and v4, bound values by position or by name), the
 *	statement parsed (cql_lang.c), counted and perhaps failed on purpose
 *	(cqld_control.c), run (exec.c), and the RESULT or ERROR sent through
 *	conn_reply(). Requests on one connection are answered independently,
 *	each with its own stream id, so pipelining works.
 *
 *	PREPARE keeps the statement text under an id derived from keyspace
 *	and text (the same on every cqld of a cluster), at most
 *	CQLD_MAX_PREPARED of them, the oldest evicted first; EXECUTE and
 *	BATCH of an unknown id get Unprepared, as from a restarted
 *	Cassandra node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqld.h"
#include "exec.h"

#define CQLD_MAX_PREPARED	4096	/* cached prepared statements */
#define CQLD_LOG_QUERY_MAX	200	/* bytes of a statement in the log */
#define CQLD_UNPREPARED_HEX_MAX	64	/* bytes of an unknown id quoted */

/* prepared_id - 16-byte id of a query in a keyspace (two FNV-1a 64) */
static void prepared_id(const char *ks, const char *q, size_t len,
			uint8_t id[CQLD_ID_LEN])
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	size_t i, k, n = strlen(ks);

	for (k = 0; k < 2; k++) {
		for (i = 0; i < n; i++)
			h[k] = (h[k] ^ (uint8_t)ks[i]) * 0x100000001b3ULL;
		h[k] = (h[k] ^ 0xff) * 0x100000001b3ULL;
		for (i = 0; i < len; i++)
			h[k] = (h[k] ^ (uint8_t)q[i] ^ k) * 0x100000001b3ULL;
	}
	for (i = 0; i < 8; i++) {
		id[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		id[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
}

/* prepared_find - cached statement by id */
static struct prepared *prepared_find(const uint8_t *id, size_t len)
{
	struct prepared *p;

	if (len != CQLD_ID_LEN)
		return NULL;
	for (p = srv.prepared; p; p = p->next)
		if (memcmp(p->id, id, CQLD_ID_LEN) == 0)
			return p;
	return NULL;
}

/* prepared_add - cache a statement, evicting the oldest when full */
static void prepared_add(const uint8_t *id, const char *ks, const char *q,
			 size_t len)
{
	struct prepared *p, **pp;

	if (prepared_find(id, CQLD_ID_LEN))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->query = malloc(len + 1)) == NULL) {
		free(p);
		return;
	}
	memcpy(p->id, id, CQLD_ID_LEN);
	snprintf(p->keyspace, sizeof(p->keyspace), "%s", ks);
	memcpy(p->query, q, len);
	p->query[len] = 0;
	p->len = len;
	p->next = srv.prepared;
	srv.prepared = p;
	if (++srv.nprepared > CQLD_MAX_PREPARED) {
		for (pp = &srv.prepared; (*pp)->next; pp = &(*pp)->next)
			;
		free((*pp)->query);
		free(*pp);
		*pp = NULL;
		srv.nprepared--;
	}
}

/* prepared_clear - forget all prepared statements */
void prepared_clear(void)
{
	struct prepared *p, *next;

	for (p = srv.prepared; p; p = next) {
		next = p->next;
		free(p->query);
		free(p);
	}
	srv.prepared = NULL;
	srv.nprepared = 0;
}

/* Decoded QUERY/EXECUTE parameters with their storage */
struct params {
	struct ex_params ex;
	struct ex_value *values;
	struct ex_name *names;
	uint8_t flags;
};

/* params_free - release decoded parameters */
static void params_free(struct params *p)
{
	free(p->values);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* log_statement - the start of a statement's text, with --verbose */
static void log_statement(const char *what, const char *q, size_t len)
{
	logmsg("%s %.*s", what, (int)(len > CQLD_LOG_QUERY_MAX ?
				     CQLD_LOG_QUERY_MAX : len), q);
}

/*
 * unprepared - Unprepared for an id PREPARE never gave (or evicted); fmt
 * has one %s, the id in hex
 */
static void unprepared(struct cql_error *err, const uint8_t *id,
		       size_t idlen, const char *fmt)
{
	char hex[2 * CQLD_UNPREPARED_HEX_MAX + 1] = "";
	size_t i;

	memset(err, 0, sizeof(*err));
	err->code = CQL_ERR_UNPREPARED;
	for (i = 0; i < idlen && i < CQLD_UNPREPARED_HEX_MAX; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	snprintf(err->message, sizeof(err->message), fmt, hex);
	if (idlen <= sizeof(err->unprepared_id)) {
		memcpy(err->unprepared_id, id, idlen);
		err->unprepared_id_len = idlen;
	}
}

/*
 * read_values - n [value]s, with names (NULL: none) each preceded by its
 * [string] name. -1 on a length below -1; -2 ("not set", v4) only when
 * unset_ok.
 */
static int read_values(struct cql_rd *rd, uint16_t n, struct ex_value *v,
		       struct ex_name *names, int unset_ok)
{
	uint16_t i;

	for (i = 0; i < n && !rd->err; i++) {
		if (names)
			names[i].p = cql_rd_string(rd, &names[i].len);
		v[i].len = cql_rd_int(rd);
		if (v[i].len >= 0)
			v[i].p = cql_rd_raw(rd, (size_t)v[i].len);
		else if (v[i].len < EX_UNSET ||
			 (v[i].len == EX_UNSET && !unset_ok))
			return -1;
	}
	return 0;
}

/*
 * read_params - <consistency><flags>[values][page size][paging state]
 * [serial consistency][timestamp] (v3/v4). -1 with *why when malformed.
 */
static int read_params(struct cql_rd *rd, uint8_t version, struct params *p,
		       const char **why)
{
	uint16_t n;

	memset(p, 0, sizeof(*p));
	p->ex.version = version;
	p->ex.consistency = cql_rd_short(rd);
	p->flags = cql_rd_byte(rd);
	if (p->flags & CQL_QF_VALUES) {
		n = cql_rd_short(rd);
		if (n > 0) {
			p->values = calloc(n, sizeof(*p->values));
			if (p->flags & CQL_QF_NAMES_FOR_VALUES)
				p->names = calloc(n, sizeof(*p->names));
			if (p->values == NULL ||
			    ((p->flags & CQL_QF_NAMES_FOR_VALUES) &&
			     p->names == NULL)) {
				*why = "out of memory";
				return -1;
			}
		}
		if (read_values(rd, n, p->values, p->names, version >= 4) < 0) {
			*why = "Invalid value length";
			return -1;
		}
		p->ex.values = p->values;
		p->ex.names = p->names;
		p->ex.nvalues = n;
	}
	if (p->flags & CQL_QF_PAGE_SIZE)
		p->ex.page_size = cql_rd_int(rd);
	if (p->flags & CQL_QF_PAGING_STATE) {
		int32_t plen;

		p->ex.paging_state = cql_rd_bytes(rd, &plen);
		p->ex.paging_state_len = plen > 0 ? (size_t)plen : 0;
	}
	if (p->flags & CQL_QF_SERIAL_CONSISTENCY)
		(void)cql_rd_short(rd);
	if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
		(void)cql_rd_long(rd);
	p->ex.skip_metadata = (p->flags & CQL_QF_SKIP_METADATA) != 0;
	p->ex.page_budget = srv.page_budget;
	p->ex.empty_pages = srv.empty_pages;
	p->ex.budget_rows = srv.keyspaces != NULL;	/* "data read" */
	if (rd->err) {
		*why = "Invalid query parameters: not enough bytes";
		return -1;
	}
	return 0;
}

/*
 * request_params - the parameters that follow the query of a QUERY or the
 * id of an EXECUTE (what: which); -1 when either is malformed, after
 * sending the Protocol error
 */
static int request_params(struct conn *c, int16_t stream, struct cql_rd *rd,
			  struct params *p, const char *what)
{
	const char *why = NULL;

	memset(p, 0, sizeof(*p));
	if (rd->err || read_params(rd, c->version, p, &why) < 0) {
		params_free(p);
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
			   why ? "%s" : "Invalid %s message", why ? why : what);
		return -1;
	}
	return 0;
}

/*
 * run_statement - parse and run one CQL text for a connection. keyspace
 * is the keyspace to resolve names in (updated by USE); id the prepared
 * id (EXECUTE) or NULL; rated: the connection whose --rate-limit it
 * counts against (NULL: a BATCH statement, the BATCH was counted).
 * Appends a RESULT body to out, or fills err.
 */
static int run_statement(const char *q, size_t qlen, char *keyspace,
			 const uint8_t *id, const struct ex_params *pp,
			 struct conn *rated, struct buf *out, struct cql_error *err)
{
	struct cl_stmt *st;
	struct cl_error perr;
	struct ex_params sys;
	char ks[CL_NAME_MAX], table[CL_NAME_MAX];
	int rc;

	if ((st = malloc(sizeof(*st))) == NULL) {
		ex_set_error(err, CQL_ERR_SERVER, "out of memory");
		return -1;
	}
	if (cl_parse(q, qlen, st, &perr) < 0) {
		ex_set_error(err, perr.code, "%s", perr.msg);
		free(st);
		return -1;
	}
	srv.holdable = 0;
	if (rated && throttle_conn(rated, st->kind == CL_SELECT, pp ? pp->consistency : 0,
				   err)) {
		cl_stmt_free(st);
		free(st);
		return -1;
	}
	if (ex_target(keyspace, st, ks, table) == 0 && table[0]) {
		if (ks_request(st, ks, table, pp ? pp->consistency : 0,
			       err) < 0) {
			cl_stmt_free(st);
			free(st);
			return -1;
		}
		count_request(ks, table);
		srv.holdable = !ex_is_system_keyspace(ks);
		if (pp && !srv.holdable) {
			/* "paging" cuts user data: drivers read system tables whole */
			sys = *pp;
			sys.page_budget = 0;
			sys.empty_pages = 0;
			pp = &sys;
		}
		if (st->kind != CL_CREATE_TABLE && st->kind != CL_DROP_TABLE &&
		    (fail_inject(ks, table, pp ? pp->consistency : 0, id, err) ||
		     throttle_table(ks, table, st->kind == CL_SELECT,
				    pp ? pp->consistency : 0, err))) {
			cl_stmt_free(st);
			free(st);
			return -1;
		}
	}
	rc = ex_execute(&srv.store, keyspace, st, pp, out, err);
	cl_stmt_free(st);
	free(st);
	return rc;
}

/*
 * run_request - the rest of a QUERY (q: its text) or EXECUTE (id: the
 * prepared id) after the query or id: the parameters, then the statement
 * run and answered. A prepared statement's names resolve in the keyspace
 * it was prepared in; a USE changes the connection's keyspace.
 */
static void run_request(struct conn *c, int16_t stream, struct cql_rd *rd,
			const char *q, size_t qlen, const uint8_t *id,
			size_t idlen, int execute)
{
	struct prepared *pr = NULL;
	struct params p;
	struct cql_error err;
	struct buf body;
	char ks[CL_NAME_MAX];
	int rc;

	if (request_params(c, stream, rd, &p, execute ? "EXECUTE" :
			   "QUERY") < 0)
		return;
	if (execute && (pr = prepared_find(id, idlen)) == NULL) {
		unprepared(&err, id, idlen, CQLD_UNPREPARED_MSG);
		conn_reply(c, stream, -1, NULL, &err);
		params_free(&p);
		return;
	}
	if (pr) {
		q = pr->query;
		qlen = pr->len;
	}
	log_statement(execute ? "EXECUTE" : "QUERY", q, qlen);
	snprintf(ks, sizeof(ks), "%s", pr && pr->keyspace[0] ? pr->keyspace :
		 c->keyspace);
	buf_init(&body);
	srv.running = c;
	rc = run_statement(q, qlen, ks, pr ? pr->id : NULL, &p.ex, c, &body, &err);
	srv.running = NULL;
	if (rc == 0 && body.len >= 4 && body.data[3] == CQL_RESULT_SET_KEYSPACE)
		snprintf(c->keyspace, sizeof(c->keyspace), "%s", ks);
	conn_reply(c, stream, rc, &body, &err);
	buf_free(&body);
	params_free(&p);
}

/* request_query - QUERY <long string><params> */
void request_query(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	const char *q;
	size_t qlen;

	q = cql_rd_long_string(rd, &qlen);
	run_request(c, stream, rd, q, qlen, NULL, 0, 0);
}

/* request_prepare - PREPARE <long string> */
void request_prepare(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct cl_stmt *st;
	struct cl_error perr;
	struct cql_error err;
	struct buf body;
	uint8_t id[CQLD_ID_LEN];
	const char *q;
	size_t qlen;
	int rc = -1;

	q = cql_rd_long_string(rd, &qlen);
	if (rd->err) {
		conn_error(c, stream, CONN_KEEP, CQL_ERR_PROTOCOL,
			   "Invalid PREPARE message");
		return;
	}
	log_statement("PREPARE", q, qlen);
	buf_init(&body);
	if ((st = malloc(sizeof(*st))) == NULL) {
		ex_set_error(&err, CQL_ERR_SERVER, "out of memory");
	} else if (cl_parse(q, qlen, st, &perr) < 0) {
		ex_set_error(&err, perr.code, "%s", perr.msg);
	} else {
		prepared_id(c->keyspace, q, qlen, id);
		rc = ex_prepare(&srv.store, c->keyspace, st, id, sizeof(id),
				c->version, &body, &err);
		if (rc == 0)
			prepared_add(id, c->keyspace, q, qlen);
		cl_stmt_free(st);
	}
	free(st);
	conn_reply(c, stream, rc, &body, &err);
	buf_free(&body);
}

/* request_execute - EXECUTE <short bytes id><params> */
void request_execute(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	const uint8_t *id;
	size_t idlen;

	id = cql_rd_short_bytes(rd, &idlen);
	run_request(c, stream, rd, NULL, 0, id, idlen, 1);
}

/* One statement of a BATCH, decoded */
struct batch_item {
	const char *q;
	size_t qlen;
	const char *ks;			/* prepared in, or NULL */
	const uint8_t *id;		/* prepared id, or NULL */
	struct ex_params ex;
	struct ex_value *values;
};

/*
 * batch_item - <kind><string or id><n><value>... of one BATCH statement.
 * -1 with err for an unknown prepared id; rd->err when malformed.
 */
static int batch_item(struct cql_rd *rd, uint8_t version,
		      struct batch_item *it, struct cql_error *err)
{
	uint8_t kind = cql_rd_byte(rd);
	struct prepared *pr;
	size_t idlen;
	uint16_t nv;

	if (kind == 0) {
		it->q = cql_rd_long_string(rd, &it->qlen);
	} else if (kind == 1) {
		it->id = cql_rd_short_bytes(rd, &idlen);
		if (rd->err)
			return 0;
		if ((pr = prepared_find(it->id, idlen)) == NULL) {
			unprepared(err, it->id, idlen, "Prepared query with "
				   "ID %s not found");
			return -1;
		}
		it->q = pr->query;
		it->qlen = pr->len;
		it->ks = pr->keyspace;
		it->id = pr->id;
	} else {
		rd->err = 1;
		return 0;
	}
	nv = cql_rd_short(rd);
	if (nv > 0 && (it->values = calloc(nv, sizeof(*it->values))) == NULL) {
		rd->err = 1;
		return 0;
	}
	if (read_values(rd, nv, it->values, NULL, 1) < 0)
		rd->err = 1;
	it->ex.values = it->values;
	it->ex.nvalues = nv;
	it->ex.version = version;
	return 0;
}

/* batch_check - a BATCH statement parses and is an INSERT, UPDATE, DELETE */
static int batch_check(const struct batch_item *it, struct cql_error *err)
{
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error perr;
	int rc = 0;

	if (st == NULL || cl_parse(it->q, it->qlen, st, &perr) < 0) {
		ex_set_error(err, st ? perr.code : CQL_ERR_SERVER, "%s",
			     st ? perr.msg : "out of memory");
		rc = -1;
	} else {
		if (st->kind != CL_INSERT && st->kind != CL_UPDATE &&
		    st->kind != CL_DELETE) {
			ex_set_error(err, CQL_ERR_INVALID, "Invalid statement "
				     "in batch: only UPDATE, INSERT and DELETE "
				     "statements are allowed.");
			rc = -1;
		}
		cl_stmt_free(st);
	}
	free(st);
	return rc;
}

/*
 * request_batch - BATCH: every statement is checked (parsed, prepared ids
 * known) and then run in order; the first error stops it, so a failing
 * batch may be partly applied (Cassandra's would not be).
 */
void request_batch(struct conn *c, int16_t stream, struct cql_rd *rd)
{
	struct batch_item *items = NULL;
	struct cql_error err;
	struct buf body;
	uint16_t n, i, cons;
	uint8_t flags;
	int rc = 0;

	(void)cql_rd_byte(rd);		/* logged, unlogged, counter */
	n = cql_rd_short(rd);
	if (n > 0 && (items = calloc(n, sizeof(*items))) == NULL) {
		conn_error(c, stream, CONN_KEEP, CQL_ERR_SERVER,
			   "out of memory");
		return;
	}
	for (i = 0; i < n && !rd->err && rc == 0; i++)
		rc = batch_item(rd, c->version, &items[i], &err);
	cons = cql_rd_short(rd);
	flags = cql_rd_byte(rd);
	if (flags & CQL_QF_SERIAL_CONSISTENCY)
		(void)cql_rd_short(rd);
	if (flags & CQL_QF_DEFAULT_TIMESTAMP)
		(void)cql_rd_long(rd);
	buf_init(&body);
	if (rc == 0 && (rd->err || (flags & CQL_QF_NAMES_FOR_VALUES))) {
		ex_set_error(&err, CQL_ERR_PROTOCOL, "%s", rd->err ?
			     "Invalid BATCH message" : "Names for values are "
			     "not supported in BATCH");
		rc = -1;
	}
	/* check every statement kind before running any */
	for (i = 0; rc == 0 && i < n; i++)
		rc = batch_check(&items[i], &err);
	if (rc == 0 && throttle_conn(c, 0, cons, &err))
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		char ks[CL_NAME_MAX];

		items[i].ex.consistency = cons;
		snprintf(ks, sizeof(ks), "%s", items[i].ks && items[i].ks[0] ?
			 items[i].ks : c->keyspace);
		buf_reset(&body);
		rc = run_statement(items[i].q, items[i].qlen, ks, items[i].id,
				   &items[i].ex, NULL, &body, &err);
	}
	buf_reset(&body);
	if (rc == 0)
		cql_wr_int(&body, CQL_RESULT_VOID);
	logmsg("BATCH of %u", (unsigned)n);
	conn_reply(c, stream, rc, &body, &err);
	buf_free(&body);
	for (i = 0; i < n; i++)
		free(items[i].values);
	free(items);
}
