/*
 * config - the daemon's settings, from the environment (see config.h)
 *
 * The table below is the whole list: one row per variable, read in the
 * table's order. A row names the field it sets, its default in the
 * variable's own syntax (so a default passes the same checks as a value
 * an operator writes), its bounds and its parser. Rows that depend on
 * others (LISTEN on PORT, CASSANDRA_HOSTS on the region and CASSANDRA_TLS,
 * CASSANDRA_AUTH on the user name and the region) come after them, as
 * Postfix's *_FN_TABLE rows compute a default from settings read before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>

#include "config.h"
#include "config_value.h"
#include "log.h"

#define CONFIG_RECONNECT_MIN_MS		100	/* first reconnect backoff, fixed */
#define CONFIG_KEYSPACES_TLS_PORT	CQL_DEFAULT_TLS_PORT	/* Keyspaces: TLS only */
#define CONFIG_MS_PER_S			1000
#define CONFIG_WHY_MAX			300	/* bytes of "what is allowed" */
#define CONFIG_HOSTS_ERR_MAX		256	/* bytes of cql_parse_hosts' reason */
#define CONFIG_LISTEN_DEFAULT_MAX	64	/* "inet:127.0.0.1:65535" and room */
#define CONFIG_QUOTE_MAX		160	/* bytes of a bad value quoted back; the rest is "..." */

#define CONFIG_STR(x)	CONFIG_STR_(x)
#define CONFIG_STR_(x)	#x

/* What a parser reports besides 0. */
#define CONFIG_BAD_VALUE	(-1)	/* why: what is allowed; the caller names var and value */
#define CONFIG_BAD_SETTING	(-2)	/* why: the whole message (a combination is wrong) */

/* Row flags. */
#define CONFIG_EMPTY_IS_VALUE	(1 << 0)	/* "" is a value, not "unset" */
#define CONFIG_SECONDS		(1 << 1)	/* seconds, stored as milliseconds */
#define CONFIG_OCTAL		(1 << 2)	/* a file mode */
#define CONFIG_OFF_IS_EMPTY	(1 << 3)	/* "off" stores "" (disabled) */
#define CONFIG_SECRET		(1 << 4)	/* never quoted in a message */

struct config_var;

/* config_parse_fn - store value (NULL: unset, no default); 0 or CONFIG_BAD_* with why */
typedef int config_parse_fn(const struct config_var *var, const char *value,
			    struct config *c, char *why, size_t whylen);

struct config_var {
	const char *name;	/* the environment variable */
	const char *def;	/* default, in the variable's syntax; NULL: none */
	size_t off, size;	/* the field of struct config it sets */
	long min, max;		/* numbers: bounds; strings: max is the byte limit */
	config_parse_fn *parse;
	unsigned flags;		/* CONFIG_* above */
};

static config_parse_fn parse_number, parse_bool, parse_cache, parse_string,
	parse_listen, parse_metrics_listen, parse_keyspace, parse_region, parse_hosts, parse_auth,
	parse_consistency, parse_delimiter, parse_log_level, parse_log_target, parse_failover;

#define FIELD(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define NUMBER(n, d, f, lo, hi, fl)	{ n, d, FIELD(f), lo, hi, parse_number, fl }
#define BOOL(n, d, f)			{ n, d, FIELD(f), 0, 1, parse_bool, 0 }
#define STRING(n, d, f, fl)		{ n, d, FIELD(f), 0, sizeof(((struct config *)0)->f) - 1, \
					  parse_string, fl }
#define CUSTOM(n, d, f, fn, fl)		{ n, d, FIELD(f), 0, 0, fn, fl }

static const struct config_var config_vars[] = {
	/* Where Postfix reaches us. */
	BOOL("LISTEN_ALLOW_REMOTE", "no", allow_remote),
	NUMBER("PORT", CONFIG_STR(CONFIG_DEFAULT_PORT), port, 0, 65535, 0),
	CUSTOM("LISTEN", NULL, listen, parse_listen, 0),	/* inet:127.0.0.1:$PORT */
	NUMBER("LISTEN_MODE", "0660", listen_mode, 0, 0777, CONFIG_OCTAL),
	STRING("LISTEN_GROUP", NULL, listen_group, 0),
	BOOL("METRICS_ALLOW_REMOTE", "no", metrics_allow_remote),
	CUSTOM("METRICS_LISTEN", "off", metrics_listen, parse_metrics_listen, 0),
	CUSTOM("KEYSPACE_NAME", NULL, keyspace, parse_keyspace, 0),	/* required */

	/* The database: CASSANDRA_HOSTS, or Keyspaces in the region. */
	CUSTOM("AWS_REGION", NULL, aws_region, parse_region, 0),
	CUSTOM("AWS_DEFAULT_REGION", NULL, aws_region, parse_region, 0),
	BOOL("CASSANDRA_TLS", NULL, cql.tls.enabled),	/* unset: -1, the port decides */
	CUSTOM("CASSANDRA_HOSTS", NULL, cql, parse_hosts, 0),
	BOOL("CASSANDRA_TLS_VERIFY", "on", cql.tls.verify),
	STRING("CASSANDRA_TLS_CA_FILE", NULL, cql.tls.ca_file, 0),
	STRING("CASSANDRA_TLS_CERT_FILE", NULL, cql.tls.cert_file, 0),
	STRING("CASSANDRA_TLS_KEY_FILE", NULL, cql.tls.key_file, 0),
	STRING("CASSANDRA_TLS_SERVER_NAME", NULL, cql.tls.server_name, 0),
	STRING("CASSANDRA_USERNAME", NULL, username, 0),
	STRING("CASSANDRA_PASSWORD", NULL, password, CONFIG_SECRET),
	STRING("CASSANDRA_PASSWORD_FILE", NULL, password_file, 0),
	CUSTOM("CASSANDRA_AUTH", NULL, auth_password, parse_auth, 0),
	CUSTOM("CONSISTENCY", "LOCAL_ONE", cql.consistency, parse_consistency, 0),
	NUMBER("CASSANDRA_PROTOCOL_VERSION", "4", cql.max_version, 3, 4, 0),
	NUMBER("CASSANDRA_CONNECT_TIMEOUT_MS", "5000", cql.connect_timeout_ms, 10, 600000, 0),
	NUMBER("CASSANDRA_REQUEST_TIMEOUT_MS", "1000", cql.request_timeout_ms, 10, 600000, 0),
	NUMBER("CASSANDRA_RECONNECT_MAX_MS", "30000", cql.reconnect_max_ms, 100, 3600000, 0),
	NUMBER("CASSANDRA_LOOKUP_TIMEOUT_MS", "3000", cql.lookup_timeout_ms, 10, 600000, 0),
	NUMBER("CASSANDRA_HEARTBEAT_MS", "30000", cql.heartbeat_ms, 0, 3600000, 0),
	NUMBER("CASSANDRA_CONNECTIONS_PER_HOST", "2", cql.connections_per_host, 1, 16, 0),
	NUMBER("CASSANDRA_CONNECTIONS_PER_HOST_MAX", "8", cql.connections_per_host_max, 1, 16, 0),
	NUMBER("CASSANDRA_CONNECTION_RATE_LIMIT", "3000", cql.connection_rate_limit, 1, 1000000, 0),
	BOOL("CASSANDRA_DISCOVERY", "on", cql.discovery),
	NUMBER("CASSANDRA_REFRESH_MS", "60000", cql.refresh_ms, 100, 86400000, 0),
	STRING("CASSANDRA_LOCAL_DC", NULL, cql.local_dc, 0),
	/* Standby groups (region failover), after the hosts: TLS and the region are known. */
	CUSTOM("CASSANDRA_FAILOVER_HOSTS", NULL, failover, parse_failover, 0),
	CUSTOM("AWS_FAILOVER_REGIONS", NULL, failover, parse_failover, 0),
	NUMBER("CASSANDRA_FAILBACK_HOLDDOWN_MS", "60000", failback_holddown_ms, 0, 86400000, 0),

	/* Postfix's side: clients, search order, cache. */
	NUMBER("CLIENT_IDLE_TIMEOUT", "60", idle_timeout_ms, 1, 86400, CONFIG_SECONDS),
	NUMBER("MAX_CLIENTS", "1000", max_clients, 1, 1000000, 0),
	CUSTOM("RECIPIENT_DELIMITER", "+", maps.delimiters, parse_delimiter, CONFIG_EMPTY_IS_VALUE),
	NUMBER("CACHE_TTL", "300", maps.ttl_ms, 0, 86400 * 7, CONFIG_SECONDS),
	NUMBER("CACHE_NEGATIVE_TTL", "30", maps.negative_ttl_ms, 0, 86400 * 7, CONFIG_SECONDS),
	NUMBER("CACHE_STALE_TTL", "3600", maps.stale_ms, 0, 86400 * 7, CONFIG_SECONDS),
	NUMBER("CACHE_MAX_ENTRIES", "100000", cache_max_entries, 0, 100000000, 0),
	CUSTOM("CACHE", "on", cache_max_entries, parse_cache, 0),	/* off: no entries */
	NUMBER("CHANGES_POLL_SECONDS", "10", changes_poll_ms, 0, 86400, CONFIG_SECONDS),	/* 0: off */

	/* The log. */
	CUSTOM("LOG_LEVEL", "info", log_level, parse_log_level, 0),
	CUSTOM("LOG_TARGET", "stderr", log_syslog, parse_log_target, 0),
};

#define CONFIG_NVARS	(sizeof(config_vars) / sizeof(config_vars[0]))

/* field - where var's value goes in c */
static void *field(const struct config_var *var, struct config *c)
{
	return (char *)c + var->off;
}

/* store_int - n into var's integer field, whatever its width */
static void store_int(const struct config_var *var, struct config *c, long long n)
{
	void *p = field(var, c);

	uint8_t u8 = (uint8_t)n;
	uint16_t u16 = (uint16_t)n;
	int32_t i32 = (int32_t)n;
	int64_t i64 = (int64_t)n;

	/* The bounds were checked: n fits the field, whichever width it has. */
	if (var->size == sizeof(u8))
		memcpy(p, &u8, sizeof(u8));
	else if (var->size == sizeof(u16))
		memcpy(p, &u16, sizeof(u16));
	else if (var->size == sizeof(i32))
		memcpy(p, &i32, sizeof(i32));
	else
		memcpy(p, &i64, sizeof(i64));
}

/* parse_number - an integer within [min, max] (octal for a mode) */
static int parse_number(const struct config_var *var, const char *value,
			struct config *c, char *why, size_t whylen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, var->flags & CONFIG_OCTAL ? 8 : 10);
	if (end == value || *end != 0 || errno == ERANGE || n < var->min || n > var->max) {
		if (var->flags & CONFIG_OCTAL)
			snprintf(why, whylen, "expected an octal mode from 0 to %lo, such as 0660",
				 var->max);
		else
			snprintf(why, whylen, "expected a number from %ld to %ld%s", var->min,
				 var->max, var->flags & CONFIG_SECONDS ? " (seconds)" : "");
		return CONFIG_BAD_VALUE;
	}
	store_int(var, c, var->flags & CONFIG_SECONDS ? (long long)n * CONFIG_MS_PER_S : n);
	return 0;
}

/* bool_words - how the README spells var's values, for its message */
static const char *bool_words(const struct config_var *var)
{
	return var->def && (var->def[0] == 'y' || var->def[0] == 'n') ?
	    CONFIG_BOOL_YES_NO : CONFIG_BOOL_ON_OFF;
}

/* parse_bool - yes/no; unset with no default is -1 (not said) */
static int parse_bool(const struct config_var *var, const char *value,
		      struct config *c, char *why, size_t whylen)
{
	int b = value ? config_bool_parse(value) : -1;

	if (value && b < 0) {
		snprintf(why, whylen, "expected %s", bool_words(var));
		return CONFIG_BAD_VALUE;
	}
	store_int(var, c, b);
	return 0;
}

/* parse_cache - CACHE=off keeps no entries, whatever CACHE_MAX_ENTRIES says */
static int parse_cache(const struct config_var *var, const char *value,
		       struct config *c, char *why, size_t whylen)
{
	int b = config_bool_parse(value);

	if (b < 0) {
		snprintf(why, whylen, "expected %s", bool_words(var));
		return CONFIG_BAD_VALUE;
	}
	if (b == 0)
		c->cache_max_entries = 0;
	return 0;
}

/* parse_string - text of at most max bytes; "off" may mean none */
static int parse_string(const struct config_var *var, const char *value,
			struct config *c, char *why, size_t whylen)
{
	if (value == NULL || ((var->flags & CONFIG_OFF_IS_EMPTY) && strcasecmp(value, "off") == 0))
		value = "";
	if (strlen(value) > (size_t)var->max) {
		snprintf(why, whylen, "expected at most %ld bytes", var->max);
		return CONFIG_BAD_VALUE;
	}
	memcpy(field(var, c), value, strlen(value) + 1);
	return 0;
}

/* parse_listen - the endpoints; by default 127.0.0.1 on PORT */
static int parse_listen(const struct config_var *var, const char *value,
			struct config *c, char *why, size_t whylen)
{
	char def[CONFIG_LISTEN_DEFAULT_MAX], lerr[CONFIG_WHY_MAX];

	(void)var;
	if (value == NULL) {
		snprintf(def, sizeof(def), "inet:127.0.0.1:%d", c->port);
		value = def;
	}
	if (listen_spec_parse(value, c->allow_remote, &c->listen, lerr, sizeof(lerr)) != 0) {
		snprintf(why, whylen, "LISTEN='%s': %s", value, lerr);
		return CONFIG_BAD_SETTING;
	}
	return 0;
}

/*
 * parse_metrics_listen - off, or one ADDRESS:PORT, loopback unless
 * METRICS_ALLOW_REMOTE=yes: checked here, so a bad value stops the daemon
 * (exit 2) and fails --check instead of failing when metrics start
 */
static int parse_metrics_listen(const struct config_var *var, const char *value,
				struct config *c, char *why, size_t whylen)
{
	char item[sizeof(CONFIG_METRICS_INET) + CONFIG_METRICS_LISTEN_MAX], lerr[CONFIG_WHY_MAX];
	struct listen_spec spec;

	if (strcasecmp(value, "off") == 0) {
		c->metrics_listen[0] = 0;
		return 0;
	}
	if (strlen(value) > CONFIG_METRICS_LISTEN_MAX || strpbrk(value, ", \t") != NULL) {
		snprintf(why, whylen, "expected off or one ADDRESS:PORT, such as 127.0.0.1:9998");
		return CONFIG_BAD_VALUE;
	}
	snprintf(item, sizeof(item), CONFIG_METRICS_INET "%s", value);
	if (listen_spec_parse(item, 1, &spec, lerr, sizeof(lerr)) != 0 || spec.n != 1) {
		snprintf(why, whylen, "expected off or one ADDRESS:PORT, such as 127.0.0.1:9998");
		return CONFIG_BAD_VALUE;
	}
	/* Parsed again without remote addresses: it fails only for a remote one. */
	if (!c->metrics_allow_remote && listen_spec_parse(item, 0, &spec, lerr, sizeof(lerr)) != 0) {
		snprintf(why, whylen, "METRICS_LISTEN='%s' is not a loopback address; the metrics "
			 "endpoint has no authentication, so set METRICS_ALLOW_REMOTE=yes if you "
			 "really mean it", value);
		return CONFIG_BAD_SETTING;
	}
	(void)var;
	memcpy(c->metrics_listen, value, strlen(value) + 1);
	return 0;
}

/* parse_keyspace - required; a name CQL takes unquoted */
static int parse_keyspace(const struct config_var *var, const char *value,
			  struct config *c, char *why, size_t whylen)
{
	(void)var;
	if (value == NULL) {
		snprintf(why, whylen, "KEYSPACE_NAME is not set (the keyspace holding the mail "
			 "tables, e.g. KEYSPACE_NAME=mailion)");
		return CONFIG_BAD_SETTING;
	}
	if (!map_keyspace_valid(value)) {
		snprintf(why, whylen, "expected 1 to %d letters, digits or '_'", MAP_KEYSPACE_MAX);
		return CONFIG_BAD_VALUE;
	}
	snprintf(c->keyspace, sizeof(c->keyspace), "%s", value);
	return 0;
}

/* parse_region - AWS_REGION, else AWS_DEFAULT_REGION (ignored when the first is set) */
static int parse_region(const struct config_var *var, const char *value,
			struct config *c, char *why, size_t whylen)
{
	size_t i, n;

	(void)var;
	if (value == NULL || c->aws_region[0] != 0)
		return 0;
	n = strlen(value);
	for (i = 0; i < n; i++)
		if (!((value[i] >= 'a' && value[i] <= 'z') ||
		      (value[i] >= '0' && value[i] <= '9') || value[i] == '-'))
			break;
	if (i < n || n >= sizeof(c->aws_region)) {
		snprintf(why, whylen, "expected a region name such as us-east-1 (lower-case "
			 "letters, digits and '-', at most %zu)", sizeof(c->aws_region) - 1);
		return CONFIG_BAD_VALUE;
	}
	memcpy(c->aws_region, value, n + 1);
	return 0;
}

/*
 * parse_hosts - the contact points: the list, else Keyspaces in the region,
 * else 127.0.0.1. CASSANDRA_TLS unset (-1) is decided here: on when a port
 * is 9142 (Keyspaces, DataStax Astra and others serve TLS there).
 */
static int parse_hosts(const struct config_var *var, const char *value,
		       struct config *c, char *why, size_t whylen)
{
	uint16_t port = c->cql.tls.enabled == 1 ? CQL_DEFAULT_TLS_PORT : CQL_DEFAULT_PORT;
	char herr[CONFIG_HOSTS_ERR_MAX], ep[CQL_HOST_MAX];
	size_t i;

	(void)var;
	if (value != NULL) {
		if (cql_parse_hosts(value, port, &c->cql, why, whylen) != 0)
			return CONFIG_BAD_VALUE;
	} else if (c->aws_region[0]) {
		cql_region_endpoint(c->aws_region, ep, sizeof(ep));
		if (cql_parse_hosts(ep, CONFIG_KEYSPACES_TLS_PORT, &c->cql, herr, sizeof(herr))) {
			snprintf(why, whylen, "AWS_REGION='%s': %s", c->aws_region, herr);
			return CONFIG_BAD_SETTING;
		}
		c->keyspaces_endpoint = 1;
	} else {
		(void)cql_parse_hosts("127.0.0.1", port, &c->cql, herr, sizeof(herr));
	}
	if (c->cql.tls.enabled == -1) {
		c->cql.tls.enabled = 0;
		for (i = 0; i < c->cql.nhosts; i++)
			if (c->cql.hosts[i].port == CQL_DEFAULT_TLS_PORT)
				c->cql.tls.enabled = 1;
	}
	return 0;
}

/*
 * parse_failover - the standby groups: CASSANDRA_FAILOVER_HOSTS grouped by
 * region, on the primary's default port (TLS is decided just before), or
 * AWS_FAILOVER_REGIONS, the regions' public endpoints (TLS only)
 */
static int parse_failover(const struct config_var *var, const char *value,
			  struct config *c, char *why, size_t whylen)
{
	uint16_t port = c->cql.tls.enabled == 1 ? CQL_DEFAULT_TLS_PORT : CQL_DEFAULT_PORT;
	int regions = strcmp(var->name, "AWS_FAILOVER_REGIONS") == 0, rc;

	if (value == NULL)
		return 0;
	if (regions && c->nfailover > 0) {
		snprintf(why, whylen, "set CASSANDRA_FAILOVER_HOSTS or AWS_FAILOVER_REGIONS, "
			 "not both");
		return CONFIG_BAD_SETTING;
	}
	if (regions && !c->cql.tls.enabled) {
		snprintf(why, whylen, "AWS_FAILOVER_REGIONS names Amazon Keyspaces endpoints, "
			 "which need TLS: CASSANDRA_TLS is off");
		return CONFIG_BAD_SETTING;
	}
	rc = regions ? cql_groups_from_regions(value, c->failover, &c->nfailover, why, whylen) :
	     cql_groups_parse(value, port, c->aws_region, c->failover, &c->nfailover, why, whylen);
	if (rc != 0) {
		c->nfailover = 0;
		return CONFIG_BAD_VALUE;
	}
	return 0;
}

/*
 * read_password_file - CASSANDRA_PASSWORD_FILE's contents, without the
 * trailing newlines, into c->password. A longer file is refused, as a
 * longer CASSANDRA_PASSWORD is, rather than cut into a wrong password.
 */
static int read_password_file(struct config *c, char *why, size_t whylen)
{
	char buf[CONFIG_SECRET_MAX + 3];	/* the password, "\r\n", and one more byte */
	FILE *fp = fopen(c->password_file, "r");
	size_t len;
	int more;

	if (fp == NULL) {
		snprintf(why, whylen, "CASSANDRA_PASSWORD_FILE='%s': %s", c->password_file,
			 strerror(errno));
		return CONFIG_BAD_SETTING;
	}
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	more = len == sizeof(buf) - 1 && fgetc(fp) != EOF;
	fclose(fp);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (more || len > CONFIG_SECRET_MAX) {
		OPENSSL_cleanse(buf, sizeof(buf));
		snprintf(why, whylen, "CASSANDRA_PASSWORD_FILE='%s': expected at most %d bytes",
			 c->password_file, CONFIG_SECRET_MAX);
		return CONFIG_BAD_SETTING;
	}
	memcpy(c->password, buf, len);
	c->password[len] = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	if (len == 0) {
		snprintf(why, whylen, "CASSANDRA_PASSWORD_FILE='%s' is empty", c->password_file);
		return CONFIG_BAD_SETTING;
	}
	return 0;
}

/*
 * parse_auth - password when a user name is given, else SigV4 when a
 * region is (Keyspaces, also through CASSANDRA_HOSTS: VPC or FIPS
 * endpoints, tests), else none
 */
static int parse_auth(const struct config_var *var, const char *value,
		      struct config *c, char *why, size_t whylen)
{
	(void)var;
	if (value == NULL)
		value = c->username[0] ? "password" : c->aws_region[0] ? "sigv4" : "none";
	if (strcasecmp(value, "password") == 0) {
		if (c->username[0] == 0) {
			snprintf(why, whylen, "CASSANDRA_AUTH=password needs CASSANDRA_USERNAME "
				 "(1 to %zu bytes)", sizeof(c->username) - 1);
			return CONFIG_BAD_SETTING;
		}
		if (c->password_file[0] && read_password_file(c, why, whylen) != 0)
			return CONFIG_BAD_SETTING;
		if (c->password[0] == 0) {
			snprintf(why, whylen, "CASSANDRA_AUTH=password needs CASSANDRA_PASSWORD "
				 "or CASSANDRA_PASSWORD_FILE");
			return CONFIG_BAD_SETTING;
		}
		c->auth_password = 1;
		return 0;
	} else if (strcasecmp(value, "sigv4") == 0) {
		if (c->aws_region[0] == 0) {
			snprintf(why, whylen, "CASSANDRA_AUTH=sigv4 needs AWS_REGION (the region "
				 "signed for, e.g. AWS_REGION=us-east-1)");
			return CONFIG_BAD_SETTING;
		}
		c->auth_sigv4 = 1;
	} else if (strcasecmp(value, "none") != 0) {
		snprintf(why, whylen, "expected none, password or sigv4");
		return CONFIG_BAD_VALUE;
	}
	/* Not used: the password stays in memory only while it has a use. */
	OPENSSL_cleanse(c->password, sizeof(c->password));
	memset(c->username, 0, sizeof(c->username));
	return 0;
}

/* parse_consistency - a consistency level's name, any case */
static int parse_consistency(const struct config_var *var, const char *value,
			     struct config *c, char *why, size_t whylen)
{
	int cl = cql_consistency_parse(value);

	(void)var;
	if (cl < 0 || cl == CQL_CONSISTENCY_ANY) {
		/* ANY is a write-only level: Cassandra refuses reads at ANY */
		snprintf(why, whylen, "%sexpected one of ONE, LOCAL_ONE, QUORUM, LOCAL_QUORUM, "
			 "EACH_QUORUM, ALL, TWO, THREE, SERIAL, LOCAL_SERIAL",
			 cl < 0 ? "" : "ANY is for writes only; ");
		return CONFIG_BAD_VALUE;
	}
	/*
	 * Amazon Keyspaces reads only at ONE, LOCAL_ONE and LOCAL_QUORUM and
	 * answers any other level with an Invalid error ("Supported Apache
	 * Cassandra consistency levels in Amazon Keyspaces", developer guide):
	 * every lookup would be TEMP, so refuse the setting at startup. The
	 * region or SigV4 (both read before this row) say the target is
	 * Keyspaces.
	 */
	if ((c->aws_region[0] || c->auth_sigv4) && cl != CQL_CONSISTENCY_ONE &&
	    cl != CQL_CONSISTENCY_LOCAL_ONE && cl != CQL_CONSISTENCY_LOCAL_QUORUM) {
		snprintf(why, whylen, "Amazon Keyspaces (AWS_REGION set, or CASSANDRA_AUTH=sigv4) "
			 "reads only at ONE, LOCAL_ONE or LOCAL_QUORUM");
		return CONFIG_BAD_VALUE;
	}
	c->cql.consistency = (uint16_t)cl;
	return 0;
}

/* parse_delimiter - extension delimiters; empty disables extensions */
static int parse_delimiter(const struct config_var *var, const char *value,
			   struct config *c, char *why, size_t whylen)
{
	(void)var;
	if (strlen(value) > SEARCH_DELIM_MAX || strpbrk(value, "@ \t") != NULL) {
		snprintf(why, whylen, "expected at most %d characters, no '@' or blanks",
			 SEARCH_DELIM_MAX);
		return CONFIG_BAD_VALUE;
	}
	snprintf(c->maps.delimiters, sizeof(c->maps.delimiters), "%s", value);
	return 0;
}

/* parse_log_level - error, warning, info or debug */
static int parse_log_level(const struct config_var *var, const char *value,
			   struct config *c, char *why, size_t whylen)
{
	(void)var;
	if ((c->log_level = log_level_parse(value)) < 0) {
		snprintf(why, whylen, "expected error, warning, info or debug");
		return CONFIG_BAD_VALUE;
	}
	return 0;
}

/* parse_log_target - stderr or syslog */
static int parse_log_target(const struct config_var *var, const char *value,
			    struct config *c, char *why, size_t whylen)
{
	(void)var;
	if (strcasecmp(value, "syslog") == 0)
		c->log_syslog = 1;
	else if (strcasecmp(value, "stderr") == 0)
		c->log_syslog = 0;
	else {
		snprintf(why, whylen, "expected stderr or syslog");
		return CONFIG_BAD_VALUE;
	}
	return 0;
}

/* config_parse - read every row of the table, in order */
int config_parse(struct config *c, config_get_fn *get, void *ctx, char *err, size_t errlen)
{
	char why[CONFIG_WHY_MAX];
	const char *v;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	c->cql.reconnect_min_ms = CONFIG_RECONNECT_MIN_MS;
	for (i = 0; i < CONFIG_NVARS; i++) {
		const struct config_var *var = &config_vars[i];

		v = get(ctx, var->name);
		if (v == NULL || (*v == 0 && !(var->flags & CONFIG_EMPTY_IS_VALUE)))
			v = var->def;
		why[0] = 0;
		if ((rc = var->parse(var, v, c, why, sizeof(why))) == 0)
			continue;
		if (rc == CONFIG_BAD_SETTING)
			snprintf(err, errlen, "%s", why);
		else if (var->flags & CONFIG_SECRET)
			snprintf(err, errlen, "%s (value not shown): %s", var->name, why);
		else if (v && strlen(v) > CONFIG_QUOTE_MAX)
			snprintf(err, errlen, "%s='%.*s...': %s", var->name, CONFIG_QUOTE_MAX, v, why);
		else
			snprintf(err, errlen, "%s='%s': %s", var->name, v ? v : "", why);
		return -1;
	}
	return 0;
}

/* env_get - config_get_fn over the process environment */
static const char *env_get(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* config_from_env - fill c from the environment */
int config_from_env(struct config *c, char *err, size_t errlen)
{
	return config_parse(c, env_get, NULL, err, errlen);
}

/* config_var_count - how many variables the table reads */
size_t config_var_count(void)
{
	return CONFIG_NVARS;
}

/* config_var_name - the name of variable i */
const char *config_var_name(size_t i)
{
	return i < CONFIG_NVARS ? config_vars[i].name : NULL;
}

/* config_var_default - the default of variable i as text, or NULL */
const char *config_var_default(size_t i)
{
	return i < CONFIG_NVARS ? config_vars[i].def : NULL;
}
