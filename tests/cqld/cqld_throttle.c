/*
 * cqld_throttle - Amazon Keyspaces' throttling, as a client sees it
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 *	int throttle_conn(struct conn *c, int read, uint16_t cons,
 *		struct cql_error *err)
 *
 *	int throttle_table(const char *ks, const char *table, int read,
 *		uint16_t cons, struct cql_error *err)
 *
 *	int throttle_command(const char *name, const char *arg, struct buf *rep)
 *
 * DESCRIPTION
 *	Keyspaces serves at most 3000 CQL requests per second on one TCP
 *	connection (developer guide, "Quotas for Amazon Keyspaces" and "How
 *	to configure connections"; CloudWatch counts the excess as
 *	PerConnectionRequestRateExceeded), and throttles a table or a
 *	partition that exceeds its capacity (ReadThrottleEvents,
 *	StoragePartitionThroughputCapacityExceeded; "Troubleshooting capacity
 *	management errors"). It has no error codes of its own for these:
 *	"Amazon Keyspaces uses that same set of error codes [as Apache
 *	Cassandra] to maintain compatibility", and AWS's Knowledge Center
 *	article "How do I troubleshoot ReadTimeout and WriteTimeout
 *	exceptions in Amazon Keyspaces?" names those three metrics as the
 *	causes of the timeouts. So a throttled read gets ReadTimeout (0x1200)
 *	and a throttled write WriteTimeout (0x1100, write type SIMPLE), with
 *	Cassandra's message "Operation timed out - received only 0
 *	responses.", the request's consistency, 0 received and the number
 *	that level requires (LOCAL_QUORUM: 2 of Keyspaces' 3 copies; else 1);
 *	AWS's retry helpers (AmazonKeyspacesRetryPolicy, and its exponential
 *	variant) retry exactly these.
 *
 *	throttle_conn() applies --rate-limit N: each connection has a token
 *	bucket of N tokens refilled at N per second (a second's burst, then
 *	N per second); a QUERY, EXECUTE or BATCH without a token is refused.
 *	throttle_table() refuses every read of a table while the control
 *	command "throttle ks.table SECONDS" holds (0: lift it).
 *	"throttled" tells how many requests each kind refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cqld.h"
#include "exec.h"

#define THROTTLE_TABLES_MAX	64	/* tables throttled at once */
#define THROTTLE_SECONDS_MAX	3600	/* longest table throttle, s */
#define THROTTLE_MSG		"Operation timed out - received only 0 responses."
#define THROTTLE_QUORUM_COPIES	2	/* LOCAL_QUORUM of Keyspaces' 3 copies */

struct throttled_table {
	char name[2 * CL_NAME_MAX];	/* ks.table */
	int64_t until_ms;
};

static struct throttled_table tables[THROTTLE_TABLES_MAX];
static size_t ntables;
static unsigned long refused_conn, refused_table;

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* throttle_error - the timeout Keyspaces answers a throttled request with */
static void throttle_error(int read, uint16_t cons, struct cql_error *err)
{
	memset(err, 0, sizeof(*err));
	err->code = read ? CQL_ERR_READ_TIMEOUT : CQL_ERR_WRITE_TIMEOUT;
	snprintf(err->message, sizeof(err->message), "%s", THROTTLE_MSG);
	err->consistency = cons;
	err->required = cons == CQL_CONSISTENCY_LOCAL_QUORUM ? THROTTLE_QUORUM_COPIES : 1;
	err->alive = 0;
	err->data_present = 0;
	if (!read)
		snprintf(err->write_type, sizeof(err->write_type), "SIMPLE");
}

/* throttle_conn - take a token of c's bucket, or fill err and return 1 */
int throttle_conn(struct conn *c, int read, uint16_t cons, struct cql_error *err)
{
	int64_t now = now_ms();
	double per_ms = srv.rate_limit / 1000.0;

	if (srv.rate_limit <= 0)
		return 0;
	if (c->bucket_ms == 0) {
		c->tokens = srv.rate_limit;
	} else if (now > c->bucket_ms) {
		c->tokens += (double)(now - c->bucket_ms) * per_ms;
		if (c->tokens > srv.rate_limit)
			c->tokens = srv.rate_limit;
	}
	c->bucket_ms = now;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return 0;
	}
	refused_conn++;
	throttle_error(read, cons, err);
	return 1;
}

/* table_find - the throttle entry of ks.table, NULL if none */
static struct throttled_table *table_find(const char *name)
{
	size_t i;

	for (i = 0; i < ntables; i++)
		if (strcasecmp(tables[i].name, name) == 0)
			return &tables[i];
	return NULL;
}

/* throttle_table - a read of a throttled table: fill err and return 1 */
int throttle_table(const char *ks, const char *table, int read, uint16_t cons,
		   struct cql_error *err)
{
	char name[2 * CL_NAME_MAX];
	struct throttled_table *t;

	if (!read || ntables == 0)
		return 0;
	snprintf(name, sizeof(name), "%s.%s", ks, table);
	if ((t = table_find(name)) == NULL || t->until_ms <= now_ms())
		return 0;
	refused_table++;
	throttle_error(read, cons, err);
	return 1;
}

/*
 * throttle_command - "throttle ks.table SECONDS" (0 lifts it) and
 * "throttled"; the reply line in rep. -1: a usage error.
 */
int throttle_command(const char *name, const char *arg, struct buf *rep)
{
	char table[2 * CL_NAME_MAX], *end;
	struct throttled_table *t;
	double secs;
	int n = 0;

	if (strcmp(name, "throttled") == 0) {
		buf_printf(rep, "ok throttled connection=%lu table=%lu", refused_conn,
			   refused_table);
		return 0;
	}
	n = (int)strcspn(arg, " ");
	if (n == 0 || (size_t)n >= sizeof(table) || arg[n] != ' ')
		return -1;
	memcpy(table, arg, (size_t)n);
	table[n] = 0;
	if (!strchr(table, '.'))
		return -1;
	while (arg[n] == ' ')
		n++;
	secs = strtod(arg + n, &end);
	if (end == arg + n || *end || secs < 0 || secs > THROTTLE_SECONDS_MAX)
		return -1;
	if ((t = table_find(table)) == NULL) {
		if (ntables == THROTTLE_TABLES_MAX) {
			buf_printf(rep, "error at most %d tables", THROTTLE_TABLES_MAX);
			return 0;
		}
		t = &tables[ntables++];
		snprintf(t->name, sizeof(t->name), "%s", table);
	}
	t->until_ms = now_ms() + (int64_t)(secs * 1000);
	buf_printf(rep, "ok throttle %s %g", table, secs);
	return 0;
}
