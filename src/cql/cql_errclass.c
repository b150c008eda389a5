/*
 * cql_errclass - what a failed CQL read means to its caller (see
 * cql_errclass.h)
 */
#include <stdio.h>

#include "cql_errclass.h"

static const char *const label_names[CQL_LABEL_COUNT] = {
	[CQL_LABEL_TIMEOUT] = "timeout",
	[CQL_LABEL_CONNECTION_LOST] = "connection_lost",
	[CQL_LABEL_NOT_CONNECTED] = "not_connected",
	[CQL_LABEL_BUSY] = "busy",
	[CQL_LABEL_PROTOCOL] = "protocol",
	[CQL_LABEL_NOT_PREPARED] = "not_prepared",
	[CQL_LABEL_UNAVAILABLE] = "unavailable",
	[CQL_LABEL_OVERLOADED] = "overloaded",
	[CQL_LABEL_READ_TIMEOUT] = "read_timeout",
	[CQL_LABEL_READ_FAILURE] = "read_failure",
	[CQL_LABEL_IS_BOOTSTRAPPING] = "is_bootstrapping",
	[CQL_LABEL_SERVER_ERROR] = "server_error",
	[CQL_LABEL_INVALID] = "invalid",
	[CQL_LABEL_UNAUTHORIZED] = "unauthorized",
	[CQL_LABEL_OTHER] = "other",
	[CQL_LABEL_SCHEMA_DISAGREEMENT] = "schema_disagreement",
	[CQL_LABEL_TOO_LARGE] = "too_large",
};

/* cql_errclass_label_name - text of label i */
const char *cql_errclass_label_name(int i)
{
	return i >= 0 && i < CQL_LABEL_COUNT ? label_names[i] : NULL;
}

/* server_label - the label of an ERROR frame's code */
static enum cql_errlabel server_label(int32_t code)
{
	switch (code) {
	case CQL_ERR_UNAVAILABLE: return CQL_LABEL_UNAVAILABLE;
	case CQL_ERR_OVERLOADED: return CQL_LABEL_OVERLOADED;
	case CQL_ERR_READ_TIMEOUT: return CQL_LABEL_READ_TIMEOUT;
	case CQL_ERR_READ_FAILURE: return CQL_LABEL_READ_FAILURE;
	case CQL_ERR_IS_BOOTSTRAPPING: return CQL_LABEL_IS_BOOTSTRAPPING;
	case CQL_ERR_SERVER: return CQL_LABEL_SERVER_ERROR;
	case CQL_ERR_INVALID:
	case CQL_ERR_SYNTAX:
	case CQL_ERR_CONFIG: return CQL_LABEL_INVALID;
	case CQL_ERR_UNAUTHORIZED:
	case CQL_ERR_BAD_CREDENTIALS: return CQL_LABEL_UNAUTHORIZED;
	default: return CQL_LABEL_OTHER;
	}
}

/* cql_errclass_throttled - ReadTimeout, WriteTimeout or Overloaded */
int cql_errclass_throttled(enum cql_status st, const struct cql_error *err)
{
	if (st != CQL_STATUS_SERVER_ERROR || err == NULL)
		return 0;
	return err->code == CQL_ERR_READ_TIMEOUT || err->code == CQL_ERR_WRITE_TIMEOUT ||
	       err->code == CQL_ERR_OVERLOADED;
}

/* status_label - the label of a request status other than SERVER_ERROR */
static enum cql_errlabel status_label(enum cql_status st)
{
	switch (st) {
	case CQL_STATUS_TIMEOUT: return CQL_LABEL_TIMEOUT;
	case CQL_STATUS_CONN_LOST: return CQL_LABEL_CONNECTION_LOST;
	case CQL_STATUS_NOT_CONNECTED: return CQL_LABEL_NOT_CONNECTED;
	case CQL_STATUS_BUSY: return CQL_LABEL_BUSY;
	case CQL_STATUS_PROTOCOL: return CQL_LABEL_PROTOCOL;
	case CQL_STATUS_NOT_PREPARED: return CQL_LABEL_NOT_PREPARED;
	case CQL_STATUS_NODE_REFUSED: return CQL_LABEL_SCHEMA_DISAGREEMENT;
	case CQL_STATUS_TOO_LARGE: return CQL_LABEL_TOO_LARGE;
	default: return CQL_LABEL_OTHER;
	}
}

/* cql_errclass_classify - class, label and reason of a failed read */
void cql_errclass_classify(enum cql_status st, const struct cql_error *err,
			   struct cql_failure *f)
{
	f->reason[0] = 0;
	if (st == CQL_STATUS_OK) {
		f->cls = CQL_ERRCLASS_OK;
		f->label = CQL_LABEL_OTHER;
		return;
	}
	if (st == CQL_STATUS_SERVER_ERROR && err != NULL) {
		f->label = server_label(err->code);
		if (err->code == CQL_ERR_SYNTAX || err->code == CQL_ERR_INVALID ||
		    err->code == CQL_ERR_CONFIG) {
			f->cls = CQL_ERRCLASS_CONFIG;
			snprintf(f->reason, sizeof(f->reason), "%s: %.*s",
				 cql_error_name(err->code), CQL_ERRCLASS_SERVER_MSG,
				 err->message);
		} else {
			f->cls = CQL_ERRCLASS_RETRY;
			snprintf(f->reason, sizeof(f->reason), "cassandra: %s",
				 cql_error_name(err->code));
		}
		return;
	}
	f->label = st == CQL_STATUS_SERVER_ERROR ? CQL_LABEL_OTHER : status_label(st);
	if (st == CQL_STATUS_NOT_PREPARED) {
		/* It will not prepare until the map or the schema changes. */
		f->cls = CQL_ERRCLASS_CONFIG;
		snprintf(f->reason, sizeof(f->reason), "query refused by the server%s%.*s",
			 err ? ": " : "", CQL_ERRCLASS_SERVER_MSG, err ? err->message : "");
		return;
	}
	f->cls = CQL_ERRCLASS_RETRY;
	snprintf(f->reason, sizeof(f->reason), "cassandra: %s", cql_status_name(st));
}
