/*
 * cql_errclass - what a failed CQL read means to its caller (pure)
 *
 * SYNOPSIS
 *	#include "cql/cql_errclass.h"
 *
 * DESCRIPTION
 *	The CQL layer's failures are many (a request status, and for an
 *	ERROR frame one of two dozen server codes); its caller needs three
 *	things: a class, as Postfix's table drivers hand theirs
 *	(DICT_ERR_RETRY, DICT_ERR_CONFIG), a short reason for the reply, and
 *	a metrics label. cql_errclass_classify() is the one place that maps
 *	the first onto the second, so no caller switches on CQL codes.
 *
 *	  CQL_ERRCLASS_OK      the database answered: what it said, even "no
 *	                       row", is an answer (the only class after which
 *	                       a NOTFOUND is safe)
 *	  CQL_ERRCLASS_RETRY   the backend could not answer now (timeouts,
 *	                       lost or missing connections, Unavailable,
 *	                       Overloaded, a result over the paging bound,
 *	                       an answer that could not be decoded, ...)
 *	  CQL_ERRCLASS_CONFIG  the query is wrong for this schema: the server
 *	                       refused it (Syntax, Invalid, Config), or it
 *	                       never prepared
 *
 *	The reason of a RETRY failure reads "cassandra: <what>"; the reason
 *	of a CONFIG failure names the server's error and message, and the
 *	caller puts the map's name in front of it.
 *
 *	No I/O, no state: unit-tested in tests/unit/test_cql_errclass.c.
 */
#ifndef PAC_CQL_ERRCLASS_H
#define PAC_CQL_ERRCLASS_H

#include <stddef.h>

#include "cql_conn.h"
#include "cql_proto.h"

#define CQL_ERRCLASS_REASON_MAX	300	/* bytes of a reason, with its NUL */
#define CQL_ERRCLASS_SERVER_MSG	200	/* bytes of a server message in a reason */

enum cql_errclass {
	CQL_ERRCLASS_OK = 0,
	CQL_ERRCLASS_RETRY,
	CQL_ERRCLASS_CONFIG,
};

/* Metrics labels of failed reads (cql_errors_total{kind=...}). */
enum cql_errlabel {
	CQL_LABEL_TIMEOUT,
	CQL_LABEL_CONNECTION_LOST,
	CQL_LABEL_NOT_CONNECTED,
	CQL_LABEL_BUSY,
	CQL_LABEL_PROTOCOL,
	CQL_LABEL_NOT_PREPARED,
	CQL_LABEL_UNAVAILABLE,
	CQL_LABEL_OVERLOADED,
	CQL_LABEL_READ_TIMEOUT,
	CQL_LABEL_READ_FAILURE,
	CQL_LABEL_IS_BOOTSTRAPPING,
	CQL_LABEL_SERVER_ERROR,
	CQL_LABEL_INVALID,
	CQL_LABEL_UNAUTHORIZED,
	CQL_LABEL_OTHER,
	CQL_LABEL_SCHEMA_DISAGREEMENT,
	CQL_LABEL_TOO_LARGE,
	CQL_LABEL_COUNT,
};

struct cql_failure {
	enum cql_errclass cls;
	enum cql_errlabel label;
	char reason[CQL_ERRCLASS_REASON_MAX];	/* short, for the reply */
};

/*
 * cql_errclass_classify - class, label and reason of a read that ended
 * with status st (err: the server's ERROR for SERVER_ERROR, the prepare
 * error for NOT_PREPARED, else NULL)
 */
void cql_errclass_classify(enum cql_status st, const struct cql_error *err,
			   struct cql_failure *f);

/*
 * cql_errclass_throttled - the server refused the read for load: Amazon
 * Keyspaces answers a request over a connection's rate or a table's or
 * partition's capacity with ReadTimeout or WriteTimeout (it has no codes
 * of its own: "Troubleshooting capacity management errors", and the
 * Knowledge Center's "How do I troubleshoot ReadTimeout and WriteTimeout
 * exceptions in Amazon Keyspaces?"), Cassandra with Overloaded. Such a
 * read is retried after a backoff, not at once.
 */
int cql_errclass_throttled(enum cql_status st, const struct cql_error *err);

/* cql_errclass_label_name - text of label i, NULL past the last */
const char *cql_errclass_label_name(int i);

#endif
