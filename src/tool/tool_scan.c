/*
 * tool_scan - read a whole map table, one page at a time
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	`export` and `import` read every row of a table. A table of a
 *	hundred thousand rows is larger than the daemon's bound on one
 *	result, so the scan asks for one page at a time
 *	(cql_session_execute_page) and hands the rows on before asking for
 *	the next. A page may be empty and still not the last (Amazon
 *	Keyspaces, "Paginating results"); only a page without a paging state
 *	ends the scan. A throttled or timed-out page is asked for again,
 *	with the same paging state, after an exponential backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool/tool.h"

struct page {
	struct tool_answer a;
	struct buf state;		/* the next page's paging state */
	int more;
	const struct tool_map *m;
	int (*fn)(void *arg, const char *key, const char *value);
	void *arg;
	int stopped;
};

/* page_cb - copy the rows out (NULL values kept NULL) and the next state */
static void page_cb(const struct cql_result *res, void *arg)
{
	struct page *pg = arg;
	struct cql_cell cells[CQL_MAX_COLUMNS];
	struct cql_rows rows;
	struct buf key, val;

	tool_result_to_answer(res, &pg->a);
	if (!pg->a.ok)
		return;
	pg->more = res->next_state != NULL;
	buf_reset(&pg->state);
	if (pg->more)
		buf_append(&pg->state, res->next_state, res->next_state_len);
	if (!res->has_rows)
		return;
	buf_init(&key);
	buf_init(&val);
	rows = res->rows;
	while (!pg->stopped && rows.meta.ncols >= 2 && cql_rows_next(&rows, cells) == 1) {
		buf_reset(&key);
		buf_reset(&val);
		tool_cell_text(&cells[0], &key);
		tool_cell_text(&cells[1], &val);
		buf_append_byte(&key, 0);
		buf_append_byte(&val, 0);
		if (pg->fn(pg->arg, (const char *)key.data,
			   cells[1].kind == CQL_CELL_NULL ? NULL : (const char *)val.data) != 0)
			pg->stopped = 1;
	}
	buf_free(&key);
	buf_free(&val);
}

/* page_done - tool_wait's condition */
static int page_done(void *arg)
{
	return ((struct page *)arg)->a.done;
}

/* tool_scan - every row of m */
int tool_scan(struct tool *t, const struct tool_map *m,
	      int (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	char cql[TOOL_STMT_MAX];
	struct cql_stmt *st;
	struct page pg;
	struct buf state;
	enum cql_status why;
	int attempt = 0, rc = -1, first = 1;

	snprintf(cql, sizeof(cql), "SELECT %s, %s FROM %s.%s", m->key, m->column,
		 t->cfg.keyspace, m->name);
	if ((st = tool_prepare(t, cql)) == NULL)
		return -1;
	memset(&pg, 0, sizeof(pg));
	buf_init(&pg.state);
	buf_init(&state);
	pg.m = m;
	pg.fn = fn;
	pg.arg = arg;
	for (;;) {
		struct cql_result res;

		tool_answer_free(&pg.a);
		buf_init(&pg.a.cells);
		if (cql_session_execute_page(t->cql, st, NULL, 0, first ? NULL : state.data,
					     state.len, page_cb, &pg, &why) != 0) {
			memset(&res, 0, sizeof(res));
			res.status = why;
			tool_result_to_answer(&res, &pg.a);
		}
		tool_wait(t, page_done, &pg, 0);
		if (pg.stopped)
			break;
		if (!pg.a.ok) {
			if (pg.a.retry && ++attempt < TOOL_MAX_ATTEMPTS) {
				tool_sleep(t, tool_backoff_ms(attempt));
				continue;
			}
			fprintf(stderr, "%s: reading %s.%s failed: %s\n", TOOL_NAME,
				t->cfg.keyspace, m->name, pg.a.reason);
			break;
		}
		attempt = 0;
		first = 0;
		if (!pg.more) {
			rc = 0;
			break;
		}
		buf_reset(&state);
		buf_append(&state, pg.state.data, pg.state.len);
	}
	tool_answer_free(&pg.a);
	buf_free(&pg.state);
	buf_free(&state);
	return rc;
}
