/*
 * tool - what the admin program's subcommands share
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	postfix-aws-cassandra-admin reads the daemon's settings (config.h:
 *	KEYSPACE_NAME, CASSANDRA_*, AWS_REGION and the credential chain),
 *	opens one CQL session at LOCAL_QUORUM (Amazon Keyspaces accepts
 *	writes only at LOCAL_QUORUM: "Supported Apache Cassandra read and
 *	write consistency levels", Amazon Keyspaces developer guide; reads
 *	at the same level see the tool's own writes) and runs one
 *	subcommand on it. The event loop is the daemon's; the tool drives it
 *	until each step is answered (tool_wait).
 *
 *	A map is one of the seed schema's six tables: its key column, and
 *	either an `active` boolean (domains, relay_domains, users) or a text
 *	value column (virtual_aliases, transport_maps, access_maps).
 *
 *	After a subcommand wrote rows of a table, tool_bump_change() writes
 *	<keyspace>.pac_changes (table_name, serial): the daemons poll that
 *	table and drop their cached answers of the tables that changed.
 */
#ifndef PAC_TOOL_H
#define PAC_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "cql/cql_session.h"

#define TOOL_NAME		"postfix-aws-cassandra-admin"
#define TOOL_EXIT_OK		0
#define TOOL_EXIT_FAIL		1	/* a runtime failure, or get: no such row */
#define TOOL_EXIT_USAGE		2	/* usage or configuration */
#define TOOL_CONNECT_WAIT_MS	30000	/* for the first usable connection */
#define TOOL_STMT_MAX		512	/* bytes of one generated statement */
#define TOOL_CHANGES_TABLE	"pac_changes"

enum tool_map_kind {
	TOOL_MAP_ACTIVE,	/* key and an `active` boolean */
	TOOL_MAP_VALUE,		/* key and a text value */
};

struct tool_map {
	const char *name;	/* socketmap name and table name */
	const char *key;	/* key column */
	const char *column;	/* "active", or the value column */
	enum tool_map_kind kind;
	const char *format;	/* the daemon's result_format (users: the mailbox path) */
};

struct cred_chain;
struct cql_auth;
struct event;

struct tool {
	struct config cfg;
	struct event_base *base;
	struct evdns_base *dns;
	struct cql_session *cql;
	struct cql_auth *auth;
	struct cred_chain *creds;
	void *tls_ctx;			/* SSL_CTX */
	struct event *ticker;		/* wakes the loop (tool_wait) */
	int verbose;
};

/* tool_map_find - the map called name, NULL if none */
const struct tool_map *tool_map_find(const char *name);
/* tool_map_names - "domains, users, ..." for messages */
const char *tool_map_names(void);
/* tool_map_at - map i of the seed schema, NULL past the last */
const struct tool_map *tool_map_at(size_t i);

/* tool_open - settings from the environment, then connect; an exit code */
int tool_open(struct tool *t, int connect);
void tool_close(struct tool *t);

/*
 * tool_wait - run the loop until cond(arg) holds, or timeout_ms passes (0:
 * no limit); 0 when done
 */
int tool_wait(struct tool *t, int (*cond)(void *arg), void *arg, int timeout_ms);

/* tool_prepare - register cql and wait until it is prepared; NULL with a message */
struct cql_stmt *tool_prepare(struct tool *t, const char *cql);

/*
 * A statement's outcome, synchronously: status, and for a failure a
 * class and reason (cql_errclass). rows holds the first page's cells
 * as text: rows.data is ncols NUL-terminated strings per row, a NULL
 * cell as the empty string with null[] set.
 */
struct tool_answer {
	int done;
	int ok;
	int retry;			/* a failure worth retrying (throttled, timeout) */
	char reason[300];
	size_t nrows;
	struct buf cells;		/* "c0\0c1\0" per row */
};

void tool_answer_free(struct tool_answer *a);
/* tool_answer_cell - cell col of row r (two columns at most are read) */
const char *tool_answer_cell(const struct tool_answer *a, size_t r, int col);
/* tool_result_to_answer - fill a from a result: the CQL callback's half */
void tool_result_to_answer(const struct cql_result *res, struct tool_answer *a);

/* tool_run - execute st (or the query text when st is NULL) and wait; 0 if ok */
int tool_run(struct tool *t, struct cql_stmt *st, const char *query,
	     const struct cql_value *vals, size_t nvals, struct tool_answer *a);

/*
 * tool_run_retrying - tool_run, again after a backoff while the failure is
 * retryable (throttled, timed out), up to TOOL_MAX_ATTEMPTS tries: for
 * idempotent statements only
 */
int tool_run_retrying(struct tool *t, struct cql_stmt *st, const char *query,
		      const struct cql_value *vals, size_t nvals, struct tool_answer *a);

/* tool_cell_text - a row's cell as text (booleans "true"/"false", NULL "") */
void tool_cell_text(const struct cql_cell *c, struct buf *out);

/* tool_bump_change - a new serial for table in pac_changes; 0, or -1 (warned) */
int tool_bump_change(struct tool *t, const char *table);

/* tool_now_us - microseconds since the epoch */
int64_t tool_now_us(void);

#endif

/* ---- backoff, scanning, writing, progress (tool_write.c, tool_scan.c) ---- */

#define TOOL_MAX_ATTEMPTS	12	/* tries of one request before it counts as failed */
#define TOOL_BACKOFF_MIN_MS	50	/* first retry delay */
#define TOOL_BACKOFF_MAX_MS	5000	/* retry delay cap */
#define TOOL_WINDOW_DEFAULT	64	/* writes in flight */
#define TOOL_WINDOW_MAX		1024

/* tool_backoff_ms - delay before try attempt+1: exponential, "equal jitter" */
int tool_backoff_ms(int attempt);
/* tool_sleep - run the loop for ms */
void tool_sleep(struct tool *t, int ms);

/*
 * tool_scan - every row of map m, page by page (throttled pages retried
 * with backoff): fn(arg, key, value) per row, value the cell's text
 * ("true"/"false" for active maps, NULL for a null cell). 0, or -1 with
 * a message printed; fn returning non-zero stops the scan with -1.
 */
int tool_scan(struct tool *t, const struct tool_map *m,
	      int (*fn)(void *arg, const char *key, const char *value), void *arg);

struct tool_writer;

/* tool_writer_new - up to window writes in flight, each retried with backoff */
struct tool_writer *tool_writer_new(struct tool *t, int window,
				    void (*progress)(void *arg, size_t done), void *arg);
/*
 * tool_writer_add - queue st with its values (the bytes they point to must
 * stay until tool_writer_finish: a retry sends them again); waits while
 * the window is full. 0, or -1 when out of memory (counted as failed).
 */
int tool_writer_add(struct tool_writer *w, struct cql_stmt *st,
		    const struct cql_value *vals, size_t nvals);
/*
 * tool_writer_finish - wait for every write; counts of those that
 * succeeded, failed (after TOOL_MAX_ATTEMPTS or refused) and retries
 */
void tool_writer_finish(struct tool_writer *w, size_t *ok, size_t *failed, size_t *retries,
			char *first_error, size_t errlen);
void tool_writer_free(struct tool_writer *w);

struct tool_progress {
	int tty;		/* draw a bar: stderr is a terminal */
	size_t total;
	size_t done;
	int64_t start_ms;
	int64_t drawn_ms;
	const char *what;
};

void tool_progress_start(struct tool_progress *p, const char *what, size_t total);
void tool_progress_update(struct tool_progress *p, size_t done);
void tool_progress_end(struct tool_progress *p);
/* tool_progress_rate - rows per second so far */
double tool_progress_rate(const struct tool_progress *p, size_t n);
double tool_progress_seconds(const struct tool_progress *p);
