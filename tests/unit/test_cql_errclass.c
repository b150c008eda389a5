/*
 * test_cql_errclass - every CQL failure gets its class, label and reason
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cql/cql_errclass.h"

/* server - classify an ERROR frame with code and message */
static void server(int32_t code, const char *msg, struct cql_failure *f)
{
	static struct cql_error err;

	memset(&err, 0, sizeof(err));
	err.code = code;
	strcpy(err.message, msg);
	cql_errclass_classify(CQL_STATUS_SERVER_ERROR, &err, f);
}

static void test_ok_is_an_answer(void **state)
{
	struct cql_failure f;

	(void)state;
	cql_errclass_classify(CQL_STATUS_OK, NULL, &f);
	assert_int_equal(f.cls, CQL_ERRCLASS_OK);
	assert_string_equal(f.reason, "");
}

static void test_statuses_retry(void **state)
{
	static const struct { enum cql_status st; const char *label, *reason; } t[] = {
		{ CQL_STATUS_TIMEOUT, "timeout", "cassandra: request timeout" },
		{ CQL_STATUS_CONN_LOST, "connection_lost", "cassandra: connection lost" },
		{ CQL_STATUS_NOT_CONNECTED, "not_connected", "cassandra: not connected" },
		{ CQL_STATUS_BUSY, "busy", "cassandra: too many requests in flight" },
		{ CQL_STATUS_PROTOCOL, "protocol", "cassandra: protocol error" },
		{ CQL_STATUS_NODE_REFUSED, "schema_disagreement",
		  "cassandra: statement refused by a node that disagrees on the schema" },
		{ CQL_STATUS_TOO_LARGE, "too_large", "cassandra: result over the paging bound" },
	};
	struct cql_failure f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cql_errclass_classify(t[i].st, NULL, &f);
		assert_int_equal(f.cls, CQL_ERRCLASS_RETRY);
		assert_string_equal(cql_errclass_label_name((int)f.label), t[i].label);
		assert_string_equal(f.reason, t[i].reason);
	}
}

static void test_server_errors(void **state)
{
	static const struct { int32_t code; enum cql_errclass cls; const char *label; } t[] = {
		{ CQL_ERR_UNAVAILABLE, CQL_ERRCLASS_RETRY, "unavailable" },
		{ CQL_ERR_OVERLOADED, CQL_ERRCLASS_RETRY, "overloaded" },
		{ CQL_ERR_READ_TIMEOUT, CQL_ERRCLASS_RETRY, "read_timeout" },
		{ CQL_ERR_READ_FAILURE, CQL_ERRCLASS_RETRY, "read_failure" },
		{ CQL_ERR_IS_BOOTSTRAPPING, CQL_ERRCLASS_RETRY, "is_bootstrapping" },
		{ CQL_ERR_SERVER, CQL_ERRCLASS_RETRY, "server_error" },
		{ CQL_ERR_UNAUTHORIZED, CQL_ERRCLASS_RETRY, "unauthorized" },
		{ CQL_ERR_BAD_CREDENTIALS, CQL_ERRCLASS_RETRY, "unauthorized" },
		{ CQL_ERR_TRUNCATE, CQL_ERRCLASS_RETRY, "other" },
		{ CQL_ERR_SYNTAX, CQL_ERRCLASS_CONFIG, "invalid" },
		{ CQL_ERR_INVALID, CQL_ERRCLASS_CONFIG, "invalid" },
		{ CQL_ERR_CONFIG, CQL_ERRCLASS_CONFIG, "invalid" },
	};
	struct cql_failure f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		server(t[i].code, "unconfigured table nope", &f);
		assert_int_equal(f.cls, t[i].cls);
		assert_string_equal(cql_errclass_label_name((int)f.label), t[i].label);
		if (t[i].cls == CQL_ERRCLASS_RETRY)
			assert_int_equal(strncmp(f.reason, "cassandra: ", 11), 0);
		else
			assert_non_null(strstr(f.reason, ": unconfigured table nope"));
	}
	server(CQL_ERR_OVERLOADED, "x", &f);
	assert_string_equal(f.reason, "cassandra: overloaded");
}

static void test_not_prepared_is_config(void **state)
{
	struct cql_error err;
	struct cql_failure f;

	(void)state;
	memset(&err, 0, sizeof(err));
	err.code = CQL_ERR_INVALID;
	strcpy(err.message, "Undefined column name x");
	cql_errclass_classify(CQL_STATUS_NOT_PREPARED, &err, &f);
	assert_int_equal(f.cls, CQL_ERRCLASS_CONFIG);
	assert_string_equal(cql_errclass_label_name((int)f.label), "not_prepared");
	assert_string_equal(f.reason, "query refused by the server: Undefined column name x");
	cql_errclass_classify(CQL_STATUS_NOT_PREPARED, NULL, &f);
	assert_string_equal(f.reason, "query refused by the server");
}

static void test_long_message_bounded(void **state)
{
	struct cql_error err;
	struct cql_failure f;

	(void)state;
	memset(&err, 0, sizeof(err));
	err.code = CQL_ERR_SYNTAX;
	memset(err.message, 'm', sizeof(err.message) - 1);
	cql_errclass_classify(CQL_STATUS_SERVER_ERROR, &err, &f);
	assert_true(strlen(f.reason) < CQL_ERRCLASS_REASON_MAX);
	assert_int_equal(strspn(strchr(f.reason, ':') + 2, "m"), CQL_ERRCLASS_SERVER_MSG);
	/* A SERVER_ERROR without its error body still classifies. */
	cql_errclass_classify(CQL_STATUS_SERVER_ERROR, NULL, &f);
	assert_int_equal(f.cls, CQL_ERRCLASS_RETRY);
}

static void test_labels_unique_and_bounded(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < CQL_LABEL_COUNT; i++) {
		assert_non_null(cql_errclass_label_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(cql_errclass_label_name(i),
						cql_errclass_label_name(j));
	}
	assert_null(cql_errclass_label_name(CQL_LABEL_COUNT));
	assert_null(cql_errclass_label_name(-1));
}

static void test_throttled_errors(void **state)
{
	static const int32_t yes[] = { CQL_ERR_READ_TIMEOUT, CQL_ERR_WRITE_TIMEOUT,
				       CQL_ERR_OVERLOADED };
	static const int32_t no[] = { CQL_ERR_UNAVAILABLE, CQL_ERR_SERVER, CQL_ERR_INVALID,
				      CQL_ERR_READ_FAILURE, CQL_ERR_UNPREPARED };
	struct cql_error err;
	size_t i;

	(void)state;
	memset(&err, 0, sizeof(err));
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		err.code = yes[i];
		assert_true(cql_errclass_throttled(CQL_STATUS_SERVER_ERROR, &err));
		assert_false(cql_errclass_throttled(CQL_STATUS_TIMEOUT, &err));
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		err.code = no[i];
		assert_false(cql_errclass_throttled(CQL_STATUS_SERVER_ERROR, &err));
	}
	assert_false(cql_errclass_throttled(CQL_STATUS_SERVER_ERROR, NULL));
	assert_false(cql_errclass_throttled(CQL_STATUS_OK, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_is_an_answer),
		cmocka_unit_test(test_statuses_retry),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_not_prepared_is_config),
		cmocka_unit_test(test_long_message_bounded),
		cmocka_unit_test(test_labels_unique_and_bounded),
		cmocka_unit_test(test_throttled_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
