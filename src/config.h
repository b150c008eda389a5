/*
 * config - the daemon's settings, from the environment
 *
 * SYNOPSIS
 *	#include "config.h"
 *
 * DESCRIPTION
 *	Every setting has a default; config_from_env() reads the
 *	environment (systemd's EnvironmentFile) and names the variable in any
 *	error. The full list, with defaults, is in the README and the man
 *	page; the names are a contract with operators.
 */
#ifndef PAC_CONFIG_H
#define PAC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cql/cql_session.h"
#include "listen_spec.h"
#include "map_registry.h"

#define CONFIG_DEFAULT_PORT		9999
#define CONFIG_DEFAULT_KEYSPACE		NULL	/* required */
#define CONFIG_ERR_MAX			512

struct config {
	struct listen_spec listen;	/* LISTEN, else inet:127.0.0.1:PORT */
	int port;			/* PORT: 9999 (0: any, for tests) */
	int allow_remote;		/* LISTEN_ALLOW_REMOTE=yes */
	int listen_mode;		/* LISTEN_MODE: 0660, unix sockets */
	char listen_group[64];		/* LISTEN_GROUP: unix sockets */
	char metrics_listen[128];	/* METRICS_LISTEN: off */
	char keyspace[MAP_KEYSPACE_MAX + 1];	/* KEYSPACE_NAME */
	struct cql_session_config cql;	/* CASSANDRA_*, CONSISTENCY */
	int idle_timeout_ms;		/* CLIENT_IDLE_TIMEOUT (s): 60 */
	unsigned max_clients;		/* MAX_CLIENTS: 1000 */
	int auth_password;		/* CASSANDRA_AUTH=password */
	int auth_sigv4;			/* CASSANDRA_AUTH=sigv4 (default with a region) */
	char aws_region[33];		/* AWS_REGION, else AWS_DEFAULT_REGION */
	int keyspaces_endpoint;		/* host derived from the region */
	char username[1024];		/* CASSANDRA_USERNAME */
	char password[1024];		/* CASSANDRA_PASSWORD[_FILE]: never logged */
	struct map_defaults maps;	/* RECIPIENT_DELIMITER, CACHE_*_TTL */
	size_t cache_max_entries;	/* CACHE_MAX_ENTRIES: 100000; CACHE=off: 0 */
	int log_level;			/* LOG_LEVEL: info */
	int log_syslog;			/* LOG_TARGET=syslog */
};

/* config_from_env - fill c from the environment; -1 with err on error */
int config_from_env(struct config *c, char *err, size_t errlen);

#endif
