/*
 * lookup_engine - the one place that decides OK, NOTFOUND, TEMP or PERM
 *
 * DESCRIPTION
 *	See lookup_engine.h. Backend trouble is logged at most once per
 *	LOOKUP_LOG_INTERVAL_MS with the full detail; the reply carries a
 *	short reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql/cql_session.h"
#include "log.h"
#include "lookup_engine.h"
#include "lookup_key.h"
#include "map_registry.h"
#include "result_format.h"

#define LOOKUP_LOG_INTERVAL_MS	10000	/* repeated backend trouble */
#define LOOKUP_REASON_MAX	400	/* bytes of a TEMP/PERM reason */

struct lookup_engine {
	struct map_registry *reg;
	struct cql_session *cql;
	struct lookup_stats stats;
	struct log_limit temp_log;
	struct log_limit perm_log;
};

struct lookup {
	struct lookup_engine *e;
	lookup_reply_fn cb;		/* NULL once cancelled */
	void *arg;
	struct map_def *map;
	size_t key_len;
	char key[];			/* folded */
};

/* lookup_engine_new - an engine over a registry and a session */
struct lookup_engine *lookup_engine_new(struct map_registry *reg,
					struct cql_session *cql)
{
	struct lookup_engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->reg = reg;
	e->cql = cql;
	return e;
}

/* lookup_engine_free - release the engine (lookups must be done) */
void lookup_engine_free(struct lookup_engine *e)
{
	free(e);
}

/* lookup_engine_stats - counters for status and metrics */
const struct lookup_stats *lookup_engine_stats(const struct lookup_engine *e)
{
	return &e->stats;
}

/* reply - count and deliver one answer */
static void reply(struct lookup_engine *e, lookup_reply_fn cb, void *arg,
		  enum socketmap_status st, const char *data, size_t len)
{
	e->stats.by_status[st]++;
	cb(arg, st, data, len);
}

/* reply_str - reply with a C string */
static void reply_str(struct lookup_engine *e, lookup_reply_fn cb, void *arg,
		      enum socketmap_status st, const char *data)
{
	reply(e, cb, arg, st, data, strlen(data));
}

/* value_append - format one value and join it to the reply */
static int value_append(const char *fmt, const char *v, size_t n,
			struct buf *out, int found)
{
	size_t mark = out->len;

	if (n == 0)
		return found;		/* an empty value is no value */
	if (found)
		buf_append(out, ", ", 2);
	if (result_format_apply(fmt, v, n, out) == 0) {
		out->len = mark;	/* discarded by %d */
		return found;
	}
	return 1;
}

/* lookup_format_rows - see lookup_engine.h */
int lookup_format_rows(struct cql_rows *rows, const char *fmt, struct buf *out)
{
	struct cql_cell cells[CQL_MAX_COLUMNS], el;
	struct buf tmp;
	int32_t i, active = -1;
	int found = 0, rc;
	size_t pos;

	if (rows->meta.ncols < 1)
		return -1;
	for (i = 1; i < rows->meta.ncols; i++)
		if (strcmp(rows->meta.cols[i].name, "active") == 0)
			active = i;
	buf_init(&tmp);
	while ((rc = cql_rows_next(rows, cells)) == 1) {
		if (active >= 0 && (cells[active].kind != CQL_CELL_BOOL ||
				    cells[active].i == 0))
			continue;	/* false, null, or not a boolean */
		switch (cells[0].kind) {
		case CQL_CELL_NULL:
			break;
		case CQL_CELL_COLLECTION:
			pos = 0;
			while ((rc = cql_collection_next(&cells[0], &pos, &el)) == 1) {
				buf_reset(&tmp);
				if (cql_cell_to_text(&el, &tmp) == 0)
					found = value_append(fmt, (char *)tmp.data,
							     tmp.len, out, found);
			}
			if (rc < 0)
				goto bad;
			break;
		default:
			buf_reset(&tmp);
			if (cql_cell_to_text(&cells[0], &tmp) != 0)
				goto bad;
			found = value_append(fmt, (char *)tmp.data, tmp.len, out,
					     found);
			break;
		}
	}
	if (rc < 0)
		goto bad;
	buf_free(&tmp);
	return out->oom ? -1 : found;
bad:
	buf_free(&tmp);
	return -1;
}

/* temp_reason - short reason for a backend problem, or NULL if PERM */
static const char *backend_reason(const struct cql_result *r, int *perm)
{
	*perm = 0;
	switch (r->status) {
	case CQL_STATUS_SERVER_ERROR:
		switch (r->err->code) {
		case CQL_ERR_SYNTAX:
		case CQL_ERR_INVALID:
		case CQL_ERR_CONFIG:
			*perm = 1;
			break;
		default:
			break;
		}
		return cql_error_name(r->err->code);
	case CQL_STATUS_NOT_PREPARED:
		*perm = 1;
		return "query refused by the server";
	default:
		return cql_status_name(r->status);
	}
}

/* answer_failure - TEMP or PERM for a failed query, logged once per burst */
static void answer_failure(struct lookup_engine *e, struct lookup *lk,
			   const struct cql_result *r)
{
	char reason[LOOKUP_REASON_MAX];
	int perm;
	const char *why = backend_reason(r, &perm);

	if (perm) {
		snprintf(reason, sizeof(reason), "map %s: %s%s%.120s", lk->map->name,
			 why, r->err ? ": " : "", r->err ? r->err->message : "");
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s: PERM %s", lk->map->name, reason);
		reply_str(e, lk->cb, lk->arg, SOCKETMAP_PERM, reason);
		return;
	}
	snprintf(reason, sizeof(reason), "cassandra: %s", why);
	msg_limited(&e->temp_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
		    "lookup %s: TEMP %s%s%s (%s)", lk->map->name, reason,
		    r->err ? ": " : "", r->err ? r->err->message : "",
		    cql_session_state(e->cql));
	reply_str(e, lk->cb, lk->arg, SOCKETMAP_TEMP, reason);
}

/* query_done - the database answered (or failed to) */
static void query_done(const struct cql_result *r, void *arg)
{
	struct lookup *lk = arg;
	struct lookup_engine *e = lk->e;
	struct cql_rows rows;
	struct buf out;
	int found;

	if (lk->cb == NULL) {		/* client gone */
		free(lk);
		return;
	}
	if (r->status != CQL_STATUS_OK) {
		answer_failure(e, lk, r);
		free(lk);
		return;
	}
	if (!r->has_rows) {
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s: the query returned no rows result", lk->map->name);
		reply_str(e, lk->cb, lk->arg, SOCKETMAP_PERM, "query is not a SELECT");
		free(lk);
		return;
	}
	rows = r->rows;
	buf_init(&out);
	found = lookup_format_rows(&rows, lk->map->result_format, &out);
	if (found < 0) {
		msg_limited(&e->temp_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "lookup %s: cannot decode the answer from %s", lk->map->name,
			    r->host);
		reply_str(e, lk->cb, lk->arg, SOCKETMAP_TEMP, "cassandra: undecodable answer");
	} else if (found == 0) {
		msg_debug("lookup %s %s: NOTFOUND", lk->map->name, lk->key);
		reply_str(e, lk->cb, lk->arg, SOCKETMAP_NOTFOUND, "");
	} else if (out.len + sizeof("OK ") > SOCKETMAP_REPLY_MAX) {
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "lookup %s %s: reply of %zu bytes is over the %d-byte limit",
			    lk->map->name, lk->key, out.len, SOCKETMAP_REPLY_MAX);
		reply_str(e, lk->cb, lk->arg, SOCKETMAP_PERM, "reply too long");
	} else {
		msg_debug("lookup %s %s: OK %s", lk->map->name, lk->key, (char *)out.data);
		reply(e, lk->cb, lk->arg, SOCKETMAP_OK, (char *)out.data, out.len);
	}
	buf_free(&out);
	free(lk);
}

/* lookup_start - answer one request */
struct lookup *lookup_start(struct lookup_engine *e, const char *req,
			    size_t len, lookup_reply_fn cb, void *arg)
{
	struct socketmap_request r;
	struct map_def *map;
	struct lookup *lk;
	struct cql_value val;
	struct cql_result res;
	const char *why;
	enum cql_status st;
	char reason[LOOKUP_REASON_MAX];

	e->stats.requests++;
	if (socketmap_parse_request(req, len, &r, &why) != 0) {
		reply_str(e, cb, arg, SOCKETMAP_PERM, why);
		return NULL;
	}
	if ((map = map_registry_find(e->reg, r.name, r.name_len)) == NULL) {
		snprintf(reason, sizeof(reason), "unknown map name '%.*s'",
			 (int)r.name_len, r.name);
		msg_limited(&e->perm_log, LOOKUP_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "lookup: %s", reason);
		reply_str(e, cb, arg, SOCKETMAP_PERM, reason);
		return NULL;
	}
	if (!lookup_key_valid(r.key, r.key_len, &why)) {
		msg_debug("lookup %s: NOTFOUND without a query: %s", map->name, why);
		reply_str(e, cb, arg, SOCKETMAP_NOTFOUND, "");
		return NULL;
	}
	if ((lk = malloc(sizeof(*lk) + r.key_len + 1)) == NULL) {
		reply_str(e, cb, arg, SOCKETMAP_TEMP, "out of memory");
		return NULL;
	}
	lk->e = e;
	lk->cb = cb;
	lk->arg = arg;
	lk->map = map;
	lk->key_len = r.key_len;
	lookup_key_fold(r.key, r.key_len, lk->key);
	val.p = lk->key;
	val.len = (int32_t)lk->key_len;
	if (cql_session_execute(e->cql, map->stmt, &val, 1, query_done, lk, &st) == 0)
		return lk;
	memset(&res, 0, sizeof(res));
	res.status = st;
	if (st == CQL_STATUS_NOT_PREPARED)
		(void)cql_stmt_state(map->stmt, &res.err);
	answer_failure(e, lk, &res);
	free(lk);
	return NULL;
}

/* lookup_cancel - forget the client; the query's answer is dropped */
void lookup_cancel(struct lookup *lk)
{
	lk->cb = NULL;
}
