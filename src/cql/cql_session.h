/*
 * cql_session - the CQL client the rest of the daemon talks to
 *
 * SYNOPSIS
 *	#include "cql/cql_session.h"
 *
 * DESCRIPTION
 *	A session owns a pool of connections to every node of the cluster:
 *	the configured hosts (every address of each name, re-resolved now and
 *	then) and, unless discovery is off, the nodes system.peers lists. It
 *	keeps them up (a node that fails is retried with exponential backoff
 *	and jitter and gets no traffic meanwhile), falls back from protocol
 *	v4 to v3 when a server asks, and prepares every registered statement
 *	on each new connection before using it. A read goes to the least
 *	loaded usable connection (local datacenter first); a read that times
 *	out, loses its connection or gets a retryable error (Overloaded,
 *	Unavailable, ...) is retried once on another node, within the lookup
 *	deadline; a throttled one (ReadTimeout, WriteTimeout, Overloaded: how
 *	Amazon Keyspaces and Cassandra refuse load) is retried after a
 *	backoff with full jitter as often as the deadline allows, and busy
 *	nodes get more connections, up to connections_per_host_max. A read asks for pages of CQL_PAGE_SIZE_ROWS and
 *	follows the paging state to the last page (cql_pages.h), so a Rows
 *	answer is always the whole result; one over the paging bound is
 *	CQL_STATUS_TOO_LARGE. The answer comes back as a struct cql_result
 *	whose status keeps the error typed.
 *
 *	Until a connection first serves, a read that finds none waits for
 *	it (cql_startq.h), within its deadline, unless every node has failed
 *	its first attempt; after that, no usable connection fails at once.
 *
 *	It knows nothing of Postfix. Names are resolved with evdns, never with
 *	a blocking resolver call on the loop.
 */
#ifndef PAC_CQL_SESSION_H
#define PAC_CQL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "cql_conn.h"
#include "cql_proto.h"
#include "cql_session_types.h"
#include "cql_tls.h"

struct event_base;
struct evdns_base;
struct cql_session;
struct cql_stmt;

/*
 * cql_parse_hosts - "h1[:port],[v6addr]:port,..." into cfg->hosts
 * (cql_hosts_parse). Returns 0, or -1 with a message in err.
 */
int cql_parse_hosts(const char *list, uint16_t default_port,
		    struct cql_session_config *cfg, char *err, size_t errlen);

struct cql_session *cql_session_new(struct event_base *base,
				    struct evdns_base *dns,
				    const struct cql_session_config *cfg);
void cql_session_start(struct cql_session *s);
/* cql_session_stop_waiting - stopping: reads waiting for the first connection fail now */
void cql_session_stop_waiting(struct cql_session *s);
/* cql_session_retry_now - end every node's backoff (credentials changed) */
void cql_session_retry_now(struct cql_session *s);
void cql_session_free(struct cql_session *s);

/*
 * cql_session_add - register a statement (or find the one with the same
 * text); it is prepared on every connection. Statements live as long as
 * the session.
 */
struct cql_stmt *cql_session_add(struct cql_session *s, const char *cql);
/*
 * cql_session_add_aux - register a statement the daemon can do without
 * (cql_stmts_add_aux): never retired, and a node refusing it (a table
 * missing there) still serves the others
 */
struct cql_stmt *cql_session_add_aux(struct cql_session *s, const char *cql);
/*
 * cql_session_keep_only - statements not in keep[] are retired: no longer
 * prepared on new connections, nor retried when the server refused them
 * (after a reload replaced or rejected them). They stay valid, and
 * cql_session_add of the same text brings one back.
 */
void cql_session_keep_only(struct cql_session *s, struct cql_stmt *const *keep, size_t n);
enum cql_stmt_state cql_stmt_state(const struct cql_stmt *st,
				   const struct cql_error **err);
/*
 * cql_stmt_result_meta - the columns (names and types) of the rows the
 * statement returns, from its PREPARED result; NULL until prepared
 */
const struct cql_rows_meta *cql_stmt_result_meta(const struct cql_stmt *st);

/*
 * cql_session_execute - run a prepared statement with bound values. 0: cb
 * will be called exactly once, later. -1: nothing sent, *why says why, cb
 * is not called.
 */
int cql_session_execute(struct cql_session *s, struct cql_stmt *st,
			const struct cql_value *vals, size_t nvals,
			cql_result_fn cb, void *arg, enum cql_status *why);
/*
 * cql_session_execute_until - the same, answering TIMEOUT at deadline_ms
 * (clock_now_ms) instead of the lookup timeout from now (deadline_ms 0):
 * a read tried again elsewhere keeps its first deadline
 */
int cql_session_execute_until(struct cql_session *s, struct cql_stmt *st,
			      const struct cql_value *vals, size_t nvals, int64_t deadline_ms,
			      cql_result_fn cb, void *arg, enum cql_status *why);

/*
 * cql_session_execute_page - one page of a read, for a caller that walks a
 * result too large to hold (a table scan): state is the previous answer's
 * res->next_state (NULL: the first page); the answer holds that page's
 * rows only (maybe none: Keyspaces sends empty pages), and next_state
 * NULL after the last page. Retries and the deadline are execute's.
 */
int cql_session_execute_page(struct cql_session *s, struct cql_stmt *st,
			     const struct cql_value *vals, size_t nvals,
			     const uint8_t *state, size_t state_len,
			     cql_result_fn cb, void *arg, enum cql_status *why);

/*
 * cql_session_query - run a statement once without preparing it (QUERY):
 * schema changes and one-off reads; the answer holds the first page
 */
int cql_session_query(struct cql_session *s, const char *cql,
		      cql_result_fn cb, void *arg, enum cql_status *why);

int cql_session_is_ready(const struct cql_session *s);
/* cql_session_hosts_up - nodes with a usable connection, and known nodes */
void cql_session_hosts_up(const struct cql_session *s, size_t *up, size_t *known);
/* cql_session_host_info - label and state of node i; -1 past the last */
int cql_session_host_info(const struct cql_session *s, size_t i, const char **label,
			  int *up, int *conns);
unsigned cql_session_failures(const struct cql_session *s);
/* cql_session_throttled - throttled answers so far, and retries after them */
void cql_session_throttled(const struct cql_session *s, unsigned long long *answers,
			   unsigned long long *retries);
/* cql_session_startup_waits - reads that waited for the first connection, then were sent */
unsigned long long cql_session_startup_waits(const struct cql_session *s);
/* cql_session_all_failed - every known node failed, none is up */
int cql_session_all_failed(const struct cql_session *s);
/* cql_session_state - one line describing the backend, for status/logs */
const char *cql_session_state(const struct cql_session *s);

#endif
