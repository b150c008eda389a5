/*
 * config - the daemon's settings, from the environment (see config.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stddef.h>
#include <arpa/inet.h>

#include "config.h"
#include "log.h"

#define CONFIG_CONNECT_TIMEOUT_MS	5000
#define CONFIG_REQUEST_TIMEOUT_MS	1000
#define CONFIG_RECONNECT_MIN_MS		100
#define CONFIG_RECONNECT_MAX_MS		30000
#define CONFIG_IDLE_TIMEOUT_S		60	/* Postfix drops idle ones after 10 s */
#define CONFIG_MAX_CLIENTS		1000
#define CONFIG_CACHE_MAX_ENTRIES	100000
#define CONFIG_LOOKUP_TIMEOUT_MS	3000
#define CONFIG_HEARTBEAT_MS		30000
#define CONFIG_REFRESH_MS		60000
#define CONFIG_CONNECTIONS_PER_HOST	2

/* env_int - an integer variable within [lo, hi], or its default */
static int env_int(const char *name, long def, long lo, long hi, long *out,
		   char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == 0) {
		*out = def;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (*end != 0 || n < lo || n > hi) {
		snprintf(err, errlen, "%s='%s': expected a number from %ld to %ld",
			 name, v, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

/* env_bool - yes/no, on/off, true/false, 1/0 */
static int env_bool(const char *name, int def, int *out, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (v == NULL || *v == 0) {
		*out = def;
		return 0;
	}
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcasecmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "off") ||
	    !strcasecmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	snprintf(err, errlen, "%s='%s': expected yes or no", name, v);
	return -1;
}

/* config_from_env - read every setting */
int config_from_env(struct config *c, char *err, size_t errlen)
{
	const char *v, *region;
	long n;
	int tls = 0;
	char herr[256];

	memset(c, 0, sizeof(*c));

	if (env_bool("LISTEN_ALLOW_REMOTE", 0, &c->allow_remote, err, errlen))
		return -1;
	if (env_int("PORT", CONFIG_DEFAULT_PORT, 0, 65535, &n, err, errlen))
		return -1;
	c->port = (int)n;
	v = getenv("LISTEN");
	{
		char def[64], lerr[300];

		snprintf(def, sizeof(def), "inet:127.0.0.1:%d", c->port);
		if (listen_spec_parse(v && *v ? v : def, c->allow_remote, &c->listen,
				      lerr, sizeof(lerr)) != 0) {
			snprintf(err, errlen, "LISTEN=%s: %s", v && *v ? v : def, lerr);
			return -1;
		}
	}
	v = getenv("LISTEN_MODE");
	c->listen_mode = 0660;
	if (v && *v) {
		char *end;
		long m = strtol(v, &end, 8);

		if (*end != 0 || m < 0 || m > 0777) {
			snprintf(err, errlen, "LISTEN_MODE='%s': expected an octal mode such as 0660", v);
			return -1;
		}
		c->listen_mode = (int)m;
	}
	v = getenv("LISTEN_GROUP");
	if (v && *v) {
		if (strlen(v) >= sizeof(c->listen_group)) {
			snprintf(err, errlen, "LISTEN_GROUP='%s': too long", v);
			return -1;
		}
		snprintf(c->listen_group, sizeof(c->listen_group), "%s", v);
	}
	v = getenv("METRICS_LISTEN");
	if (v && *v && strcasecmp(v, "off") != 0) {
		if (strlen(v) >= sizeof(c->metrics_listen)) {
			snprintf(err, errlen, "METRICS_LISTEN='%s': too long", v);
			return -1;
		}
		snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", v);
	}

	v = getenv("KEYSPACE_NAME");
	if (v == NULL || *v == 0) {
		snprintf(err, errlen, "KEYSPACE_NAME is not set (the keyspace holding the mail tables, e.g. KEYSPACE_NAME=mailion)");
		return -1;
	}
	if (!map_keyspace_valid(v)) {
		snprintf(err, errlen, "KEYSPACE_NAME='%s': 1 to %d letters, digits or '_'",
			 v, MAP_KEYSPACE_MAX);
		return -1;
	}
	snprintf(c->keyspace, sizeof(c->keyspace), "%s", v);

	/* Backend: CASSANDRA_HOSTS, or Keyspaces in AWS_REGION. */
	region = getenv("AWS_REGION");
	if (region == NULL || *region == 0)
		region = getenv("AWS_DEFAULT_REGION");
	if (region && *region) {
		size_t i, rlen = strlen(region);

		for (i = 0; i < rlen; i++)
			if (!((region[i] >= 'a' && region[i] <= 'z') ||
			      (region[i] >= '0' && region[i] <= '9') || region[i] == '-'))
				break;
		if (i < rlen || rlen >= sizeof(c->aws_region)) {
			snprintf(err, errlen, "AWS_REGION='%s': expected a region name such as us-east-1",
				 region);
			return -1;
		}
		snprintf(c->aws_region, sizeof(c->aws_region), "%s", region);
	}
	v = getenv("CASSANDRA_TLS");
	tls = -1;			/* not said: decided by the port */
	if (v && *v && env_bool("CASSANDRA_TLS", 0, &tls, err, errlen))
		return -1;
	v = getenv("CASSANDRA_HOSTS");
	if (v && *v) {
		if (cql_parse_hosts(v, tls == 1 ? CQL_DEFAULT_TLS_PORT : CQL_DEFAULT_PORT, &c->cql,
				    herr, sizeof(herr))) {
			snprintf(err, errlen, "CASSANDRA_HOSTS='%s': %s", v, herr);
			return -1;
		}
	} else if (region && *region) {
		/* Amazon Keyspaces in that region: TLS on 9142 (chosen by the port below). */
		char ep[CQL_HOST_MAX];

		snprintf(ep, sizeof(ep), "cassandra.%s.amazonaws.com%s:%d", region,
			 strncmp(region, "cn-", 3) == 0 ? ".cn" : "", CQL_DEFAULT_TLS_PORT);
		if (cql_parse_hosts(ep, CQL_DEFAULT_TLS_PORT, &c->cql, herr, sizeof(herr))) {
			snprintf(err, errlen, "AWS_REGION='%s': %s", region, herr);
			return -1;
		}
		c->keyspaces_endpoint = 1;
	} else {
		(void)cql_parse_hosts("127.0.0.1", tls == 1 ? CQL_DEFAULT_TLS_PORT : CQL_DEFAULT_PORT,
				      &c->cql, herr, sizeof(herr));
	}
	if (tls == -1) {		/* 9142 is the TLS port (Keyspaces, DataStax) */
		size_t i;

		tls = 0;
		for (i = 0; i < c->cql.nhosts; i++)
			if (c->cql.hosts[i].port == CQL_DEFAULT_TLS_PORT)
				tls = 1;
	}
	c->cql.tls.enabled = tls;
	if (env_bool("CASSANDRA_TLS_VERIFY", 1, &c->cql.tls.verify, err, errlen))
		return -1;
	{
		static const struct {
			const char *name;
			size_t off;
		} files[] = {
			{"CASSANDRA_TLS_CA_FILE", offsetof(struct cql_tls_config, ca_file)},
			{"CASSANDRA_TLS_CERT_FILE", offsetof(struct cql_tls_config, cert_file)},
			{"CASSANDRA_TLS_KEY_FILE", offsetof(struct cql_tls_config, key_file)},
		};
		size_t i;

		for (i = 0; i < 3; i++) {
			char *dst = (char *)&c->cql.tls + files[i].off;

			v = getenv(files[i].name);
			if (v && *v) {
				if (strlen(v) >= sizeof(c->cql.tls.ca_file)) {
					snprintf(err, errlen, "%s: path too long", files[i].name);
					return -1;
				}
				strcpy(dst, v);
			}
		}
	}

	/*
	 * Default: password when a user name is given, else SigV4 when a
	 * region is (Keyspaces, also through CASSANDRA_HOSTS: VPC or FIPS
	 * endpoints, tests), else none.
	 */
	v = getenv("CASSANDRA_AUTH");
	if (v == NULL || *v == 0)
		v = getenv("CASSANDRA_USERNAME") && *getenv("CASSANDRA_USERNAME") ? "password" :
		    c->aws_region[0] ? "sigv4" : "none";
	if (strcasecmp(v, "password") == 0) {
		const char *u = getenv("CASSANDRA_USERNAME");
		const char *pw = getenv("CASSANDRA_PASSWORD");
		const char *pf = getenv("CASSANDRA_PASSWORD_FILE");

		if (u == NULL || *u == 0 || strlen(u) >= sizeof(c->username)) {
			snprintf(err, errlen, "CASSANDRA_AUTH=password needs CASSANDRA_USERNAME (1 to %zu bytes)",
				 sizeof(c->username) - 1);
			return -1;
		}
		snprintf(c->username, sizeof(c->username), "%s", u);
		if (pf && *pf) {
			FILE *fp = fopen(pf, "r");
			size_t len;

			if (fp == NULL) {
				snprintf(err, errlen, "CASSANDRA_PASSWORD_FILE=%s: %s", pf, strerror(errno));
				return -1;
			}
			len = fread(c->password, 1, sizeof(c->password) - 1, fp);
			fclose(fp);
			c->password[len] = 0;
			while (len > 0 && (c->password[len - 1] == '\n' || c->password[len - 1] == '\r'))
				c->password[--len] = 0;
			if (len == 0) {
				snprintf(err, errlen, "CASSANDRA_PASSWORD_FILE=%s is empty", pf);
				return -1;
			}
		} else if (pw && *pw) {
			if (strlen(pw) >= sizeof(c->password)) {
				snprintf(err, errlen, "CASSANDRA_PASSWORD is too long");
				return -1;
			}
			snprintf(c->password, sizeof(c->password), "%s", pw);
		} else {
			snprintf(err, errlen, "CASSANDRA_AUTH=password needs CASSANDRA_PASSWORD or CASSANDRA_PASSWORD_FILE");
			return -1;
		}
		c->auth_password = 1;
	} else if (strcasecmp(v, "sigv4") == 0) {
		if (c->aws_region[0] == 0) {
			snprintf(err, errlen, "CASSANDRA_AUTH=sigv4 needs AWS_REGION (the region signed for, "
				 "e.g. AWS_REGION=us-east-1)");
			return -1;
		}
		c->auth_sigv4 = 1;
	} else if (strcasecmp(v, "none") != 0) {
		snprintf(err, errlen, "CASSANDRA_AUTH='%s': expected none, password or sigv4", v);
		return -1;
	}

	v = getenv("CONSISTENCY");
	if (v && *v) {
		int cl = cql_consistency_parse(v);

		if (cl < 0) {
			snprintf(err, errlen,
				 "CONSISTENCY='%s': expected one of ONE, LOCAL_ONE, QUORUM, LOCAL_QUORUM, ...", v);
			return -1;
		}
		c->cql.consistency = (uint16_t)cl;
	} else {
		c->cql.consistency = CQL_CONSISTENCY_LOCAL_ONE;
	}
	if (env_int("CASSANDRA_PROTOCOL_VERSION", 4, 3, 4, &n, err, errlen))
		return -1;
	c->cql.max_version = (uint8_t)n;
	if (env_int("CASSANDRA_CONNECT_TIMEOUT_MS", CONFIG_CONNECT_TIMEOUT_MS, 10, 600000, &n, err, errlen))
		return -1;
	c->cql.connect_timeout_ms = (int)n;
	if (env_int("CASSANDRA_REQUEST_TIMEOUT_MS", CONFIG_REQUEST_TIMEOUT_MS, 10, 600000, &n, err, errlen))
		return -1;
	c->cql.request_timeout_ms = (int)n;
	if (env_int("CASSANDRA_RECONNECT_MAX_MS", CONFIG_RECONNECT_MAX_MS, 100, 3600000, &n, err, errlen))
		return -1;
	c->cql.reconnect_max_ms = (int)n;
	c->cql.reconnect_min_ms = CONFIG_RECONNECT_MIN_MS;
	if (env_int("CASSANDRA_LOOKUP_TIMEOUT_MS", CONFIG_LOOKUP_TIMEOUT_MS, 10, 600000, &n, err, errlen))
		return -1;
	c->cql.lookup_timeout_ms = (int)n;
	if (env_int("CASSANDRA_HEARTBEAT_MS", CONFIG_HEARTBEAT_MS, 0, 3600000, &n, err, errlen))
		return -1;
	c->cql.heartbeat_ms = (int)n;
	if (env_int("CASSANDRA_CONNECTIONS_PER_HOST", CONFIG_CONNECTIONS_PER_HOST, 1, 16, &n, err, errlen))
		return -1;
	c->cql.connections_per_host = (int)n;
	if (env_bool("CASSANDRA_DISCOVERY", 1, &c->cql.discovery, err, errlen))
		return -1;
	if (env_int("CASSANDRA_REFRESH_MS", CONFIG_REFRESH_MS, 100, 86400000, &n, err, errlen))
		return -1;
	c->cql.refresh_ms = (int)n;
	v = getenv("CASSANDRA_LOCAL_DC");
	if (v && *v) {
		if (strlen(v) >= sizeof(c->cql.local_dc)) {
			snprintf(err, errlen, "CASSANDRA_LOCAL_DC='%s': too long", v);
			return -1;
		}
		snprintf(c->cql.local_dc, sizeof(c->cql.local_dc), "%s", v);
	}

	if (env_int("CLIENT_IDLE_TIMEOUT", CONFIG_IDLE_TIMEOUT_S, 1, 86400, &n, err, errlen))
		return -1;
	c->idle_timeout_ms = (int)n * 1000;
	if (env_int("MAX_CLIENTS", CONFIG_MAX_CLIENTS, 1, 1000000, &n, err, errlen))
		return -1;
	c->max_clients = (unsigned)n;

	v = getenv("RECIPIENT_DELIMITER");
	if (v == NULL)
		v = "+";
	if (strlen(v) > SEARCH_DELIM_MAX || strpbrk(v, "@ \t") != NULL) {
		snprintf(err, errlen, "RECIPIENT_DELIMITER='%s': at most %d characters, no '@' or blanks",
			 v, SEARCH_DELIM_MAX);
		return -1;
	}
	snprintf(c->maps.delimiters, sizeof(c->maps.delimiters), "%s", v);
	if (env_int("CACHE_TTL", MAP_DEFAULT_TTL_MS / 1000, 0, 86400 * 7, &n, err, errlen))
		return -1;
	c->maps.ttl_ms = n * 1000;
	if (env_int("CACHE_NEGATIVE_TTL", MAP_DEFAULT_NEGATIVE_TTL_MS / 1000, 0, 86400 * 7, &n, err, errlen))
		return -1;
	c->maps.negative_ttl_ms = n * 1000;
	if (env_int("CACHE_STALE_TTL", MAP_DEFAULT_STALE_MS / 1000, 0, 86400 * 7, &n, err, errlen))
		return -1;
	c->maps.stale_ms = n * 1000;
	if (env_int("CACHE_MAX_ENTRIES", CONFIG_CACHE_MAX_ENTRIES, 0, 100000000, &n, err, errlen))
		return -1;
	c->cache_max_entries = (size_t)n;
	{
		int on;

		if (env_bool("CACHE", 1, &on, err, errlen))
			return -1;
		if (!on)
			c->cache_max_entries = 0;
	}

	v = getenv("LOG_LEVEL");
	c->log_level = LOG_LEVEL_INFO;
	if (v && *v && (c->log_level = log_level_parse(v)) < 0) {
		snprintf(err, errlen, "LOG_LEVEL='%s': expected error, warning, info or debug", v);
		return -1;
	}
	v = getenv("LOG_TARGET");
	if (v && *v) {
		if (strcasecmp(v, "syslog") == 0)
			c->log_syslog = 1;
		else if (strcasecmp(v, "stderr") != 0) {
			snprintf(err, errlen, "LOG_TARGET='%s': expected stderr or syslog", v);
			return -1;
		}
	}
	return 0;
}
