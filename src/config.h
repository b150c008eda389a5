/*
 * config - the daemon's settings, from the environment
 *
 * SYNOPSIS
 *	#include "config.h"
 *
 *	int config_from_env(struct config *c, char *err, size_t errlen);
 *
 *	int config_parse(struct config *c, config_get_fn *get, void *ctx,
 *			 char *err, size_t errlen);
 *
 *	size_t config_var_count(void);
 *	const char *config_var_name(size_t i);
 *	const char *config_var_default(size_t i);
 *
 * DESCRIPTION
 *	Every setting is one row of a table (name, default, field, bounds,
 *	parser), read in the table's order, as Postfix reads main.cf with
 *	its CONFIG_INT_TABLE and friends. config_from_env() reads the
 *	environment (systemd's EnvironmentFile); config_parse() reads
 *	whatever get() answers, for tests. An unset or empty variable takes
 *	its default (RECIPIENT_DELIMITER alone tells empty from unset: empty
 *	disables extensions).
 *
 *	The names are a contract with operators: the README's and the man
 *	page's variable tables list exactly the table's names (a unit test
 *	holds the three together), and config_var_name() enumerates them.
 * DIAGNOSTICS
 *	A bad value fails with a message that names the variable, the value
 *	(never a password) and what is allowed; the daemon exits 2.
 */
#ifndef PAC_CONFIG_H
#define PAC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws_base.h"
#include "cql/cql_groups.h"
#include "cql/cql_session.h"
#include "listen_spec.h"
#include "map_registry.h"

#define CONFIG_DEFAULT_PORT		9999
#define CONFIG_DEFAULT_KEYSPACE		NULL	/* required */
#define CONFIG_ERR_MAX			512	/* bytes in an error message */
#define CONFIG_GROUP_MAX		63	/* bytes in LISTEN_GROUP */
#define CONFIG_METRICS_LISTEN_MAX	127	/* bytes in METRICS_LISTEN */
#define CONFIG_METRICS_INET		"inet:"	/* METRICS_LISTEN is one inet LISTEN item */
#define CONFIG_SECRET_MAX		1023	/* bytes in a user name, password or its path */

struct config {
	struct listen_spec listen;	/* LISTEN, else inet:127.0.0.1:PORT */
	int port;			/* PORT: 9999 (0: any, for tests) */
	int allow_remote;		/* LISTEN_ALLOW_REMOTE=yes */
	int listen_mode;		/* LISTEN_MODE: 0660, unix sockets */
	char listen_group[CONFIG_GROUP_MAX + 1];		/* LISTEN_GROUP: unix sockets */
	char metrics_listen[CONFIG_METRICS_LISTEN_MAX + 1];	/* METRICS_LISTEN: off, or ADDR:PORT */
	int metrics_allow_remote;	/* METRICS_ALLOW_REMOTE=yes */
	char keyspace[MAP_KEYSPACE_MAX + 1];	/* KEYSPACE_NAME */
	struct cql_session_config cql;	/* CASSANDRA_*, CONSISTENCY */
	struct cql_group_spec failover[CQL_MAX_STANDBY];	/* CASSANDRA_FAILOVER_HOSTS, */
	size_t nfailover;		/* or AWS_FAILOVER_REGIONS: standby groups */
	int failback_holddown_ms;	/* CASSANDRA_FAILBACK_HOLDDOWN_MS: 60000 */
	int idle_timeout_ms;		/* CLIENT_IDLE_TIMEOUT (s): 60 */
	unsigned max_clients;		/* MAX_CLIENTS: 1000 */
	int auth_password;		/* CASSANDRA_AUTH=password */
	int auth_sigv4;			/* CASSANDRA_AUTH=sigv4 (default with a region) */
	char aws_region[AWS_REGION_MAX + 1];		/* AWS_REGION, else AWS_DEFAULT_REGION */
	int keyspaces_endpoint;		/* host derived from the region */
	char username[CONFIG_SECRET_MAX + 1];		/* CASSANDRA_USERNAME */
	char password[CONFIG_SECRET_MAX + 1];		/* CASSANDRA_PASSWORD[_FILE]: never logged */
	char password_file[CONFIG_SECRET_MAX + 1];	/* CASSANDRA_PASSWORD_FILE: read if auth is password */
	struct map_defaults maps;	/* RECIPIENT_DELIMITER, CACHE_*_TTL */
	size_t cache_max_entries;	/* CACHE_MAX_ENTRIES: 100000; CACHE=off: 0 */
	int64_t changes_poll_ms;	/* CHANGES_POLL_SECONDS: 10; 0: off */
	int log_level;			/* LOG_LEVEL: info */
	int log_syslog;			/* LOG_TARGET=syslog */
};

/* config_get_fn - the value of the variable name, or NULL when it is unset */
typedef const char *config_get_fn(void *ctx, const char *name);

/* config_from_env - fill c from the environment; -1 with err on error */
int config_from_env(struct config *c, char *err, size_t errlen);

/* config_parse - fill c from get(ctx, name); -1 with err on error */
int config_parse(struct config *c, config_get_fn *get, void *ctx,
		 char *err, size_t errlen);

/* config_var_count - how many variables the table reads */
size_t config_var_count(void);

/* config_var_name - the name of variable i (0 <= i < config_var_count()) */
const char *config_var_name(size_t i);

/* config_var_default - its default as text; NULL: required, or computed */
const char *config_var_default(size_t i);

#endif
