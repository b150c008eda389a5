/*
 * test_config - the settings table: defaults, bounds, every error, and the
 * README's and the man page's variable tables held to the same names
 *
 * The environment is faked through config_parse()'s getter, so no test
 * touches the process environment and every failure comes back as -1
 * with a message, never as an exit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"
#include "config_value.h"
#include "log.h"

#define ENV_MAX		16	/* variables one case sets */
#define DOC_NAMES_MAX	128	/* names in one document's table */
#define DOC_NAME_MAX	64	/* bytes in one variable name */

/* Read by main.c, not by the table (it must be known before -c is parsed). */
static const char *const read_elsewhere[] = { "CONFIG_FILE", "MAIL_CONFIG" };

/* fake_get - config_get_fn over a NULL-terminated "NAME=value" list */
static const char *fake_get(void *ctx, const char *name)
{
	const char *const *env = ctx;
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* parse_env - config_parse over up to ENV_MAX "NAME=value" strings */
static int parse_env(struct config *c, char *err, size_t errlen, ...)
{
	const char *env[ENV_MAX + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, errlen);
	while (n < ENV_MAX && (env[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	env[n] = NULL;
	return config_parse(c, fake_get, env, err, errlen);
}

/* expect_ok - the settings parse */
#define expect_ok(c, ...) do { \
	char e_[CONFIG_ERR_MAX]; \
	if (parse_env((c), e_, sizeof(e_), "KEYSPACE_NAME=mailion", __VA_ARGS__, NULL) != 0) \
		fail_msg("unexpected error: %s", e_); \
} while (0)

/* expect_error - the settings fail, and the message holds want */
static void expect_error(const char *want, const char *a, const char *b, const char *d)
{
	static struct config c;
	char err[CONFIG_ERR_MAX];

	strcpy(err, "(none)");
	if (parse_env(&c, err, sizeof(err), a, b, d, NULL) != -1)
		fail_msg("%s %s %s: accepted, expected '%s'", a, b ? b : "", d ? d : "", want);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_defaults(void **state)
{
	static struct config c;

	(void)state;
	expect_ok(&c, NULL);
	assert_int_equal(c.port, CONFIG_DEFAULT_PORT);
	assert_int_equal(c.listen.n, 1);
	assert_string_equal(c.listen.ep[0].text, "inet:127.0.0.1:9999");
	assert_int_equal(c.allow_remote, 0);
	assert_int_equal(c.listen_mode, 0660);
	assert_string_equal(c.listen_group, "");
	assert_string_equal(c.metrics_listen, "");
	assert_string_equal(c.keyspace, "mailion");
	assert_int_equal(c.cql.nhosts, 1);
	assert_string_equal(c.cql.hosts[0].host, "127.0.0.1");
	assert_int_equal(c.cql.hosts[0].port, CQL_DEFAULT_PORT);
	assert_int_equal(c.cql.tls.enabled, 0);
	assert_int_equal(c.cql.tls.verify, 1);
	assert_int_equal(c.cql.consistency, CQL_CONSISTENCY_LOCAL_ONE);
	assert_int_equal(c.cql.max_version, 4);
	assert_int_equal(c.cql.connect_timeout_ms, 5000);
	assert_int_equal(c.cql.request_timeout_ms, 1000);
	assert_int_equal(c.cql.reconnect_min_ms, 100);
	assert_int_equal(c.cql.reconnect_max_ms, 30000);
	assert_int_equal(c.cql.lookup_timeout_ms, 3000);
	assert_int_equal(c.cql.heartbeat_ms, 30000);
	assert_int_equal(c.cql.connections_per_host, 2);
	assert_int_equal(c.cql.connections_per_host_max, 8);
	assert_int_equal(c.cql.connection_rate_limit, 3000);
	assert_int_equal(c.cql.discovery, 1);
	assert_int_equal(c.cql.refresh_ms, 60000);
	assert_string_equal(c.cql.local_dc, "");
	assert_int_equal(c.idle_timeout_ms, 60000);
	assert_int_equal(c.max_clients, 1000);
	assert_int_equal(c.auth_password, 0);
	assert_int_equal(c.auth_sigv4, 0);
	assert_string_equal(c.aws_region, "");
	assert_int_equal(c.keyspaces_endpoint, 0);
	assert_string_equal(c.maps.delimiters, "+");
	assert_int_equal(c.maps.ttl_ms, MAP_DEFAULT_TTL_MS);
	assert_int_equal(c.maps.negative_ttl_ms, MAP_DEFAULT_NEGATIVE_TTL_MS);
	assert_int_equal(c.maps.stale_ms, MAP_DEFAULT_STALE_MS);
	assert_int_equal(c.cache_max_entries, 100000);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.log_syslog, 0);
}

/* Each default, written out, gives what leaving the variable unset gives. */
static void test_defaults_written_out(void **state)
{
	static struct config unset, set;
	char err[CONFIG_ERR_MAX], kv[256];
	size_t i;

	(void)state;
	expect_ok(&unset, NULL);
	for (i = 0; i < config_var_count(); i++) {
		const char *def = config_var_default(i);

		if (def == NULL)
			continue;
		snprintf(kv, sizeof(kv), "%s=%s", config_var_name(i), def);
		if (parse_env(&set, err, sizeof(err), "KEYSPACE_NAME=mailion", kv, NULL) != 0)
			fail_msg("%s: %s", kv, err);
		if (memcmp(&set, &unset, sizeof(set)) != 0)
			fail_msg("%s differs from leaving it unset", kv);
	}
}

/* Empty is unset, except for RECIPIENT_DELIMITER, where it disables extensions. */
static void test_empty_values(void **state)
{
	static struct config c;

	(void)state;
	expect_ok(&c, "PORT=", "CACHE_TTL=", "CASSANDRA_AUTH=", "LOG_LEVEL=");
	assert_int_equal(c.port, 9999);
	assert_int_equal(c.maps.ttl_ms, 300000);
	expect_ok(&c, "RECIPIENT_DELIMITER=");
	assert_string_equal(c.maps.delimiters, "");
	expect_ok(&c, "RECIPIENT_DELIMITER=+-");
	assert_string_equal(c.maps.delimiters, "+-");
}

struct bound {
	const char *name;
	long min, max;
};

/* Numbers: the lowest and highest allowed, and one past each, named in the error. */
static void test_bounds(void **state)
{
	static const struct bound bounds[] = {
		{ "PORT", 0, 65535 },
		{ "CASSANDRA_PROTOCOL_VERSION", 3, 4 },
		{ "CASSANDRA_CONNECT_TIMEOUT_MS", 10, 600000 },
		{ "CASSANDRA_REQUEST_TIMEOUT_MS", 10, 600000 },
		{ "CASSANDRA_RECONNECT_MAX_MS", 100, 3600000 },
		{ "CASSANDRA_LOOKUP_TIMEOUT_MS", 10, 600000 },
		{ "CASSANDRA_HEARTBEAT_MS", 0, 3600000 },
		{ "CASSANDRA_CONNECTIONS_PER_HOST", 1, 16 },
		{ "CASSANDRA_CONNECTIONS_PER_HOST_MAX", 1, 16 },
		{ "CASSANDRA_CONNECTION_RATE_LIMIT", 1, 1000000 },
		{ "CASSANDRA_REFRESH_MS", 100, 86400000 },
		{ "CLIENT_IDLE_TIMEOUT", 1, 86400 },
		{ "MAX_CLIENTS", 1, 1000000 },
		{ "CACHE_TTL", 0, 604800 },
		{ "CACHE_NEGATIVE_TTL", 0, 604800 },
		{ "CACHE_STALE_TTL", 0, 604800 },
		{ "CACHE_MAX_ENTRIES", 0, 100000000 },
	};
	static struct config c;
	char kv[128], want[160], err[CONFIG_ERR_MAX];
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		const struct bound *b = &bounds[i];
		long ok[2] = { b->min, b->max }, bad[2] = { b->min - 1, b->max + 1 };

		for (k = 0; k < 2; k++) {
			snprintf(kv, sizeof(kv), "%s=%ld", b->name, ok[k]);
			if (parse_env(&c, err, sizeof(err), "KEYSPACE_NAME=m", kv, NULL) != 0)
				fail_msg("%s refused: %s", kv, err);
			snprintf(kv, sizeof(kv), "%s=%ld", b->name, bad[k]);
			snprintf(want, sizeof(want), "%s='%ld': expected a number from %ld to %ld",
				 b->name, bad[k], b->min, b->max);
			expect_error(want, "KEYSPACE_NAME=m", kv, NULL);
		}
		snprintf(kv, sizeof(kv), "%s=12x", b->name);
		expect_error("='12x': expected a number", "KEYSPACE_NAME=m", kv, NULL);
	}
	expect_ok(&c, "CLIENT_IDLE_TIMEOUT=86400", "CACHE_STALE_TTL=604800", "MAX_CLIENTS=1000000",
		  "CACHE_MAX_ENTRIES=100000000", "CASSANDRA_PROTOCOL_VERSION=3");
	assert_int_equal(c.idle_timeout_ms, 86400000);
	assert_int_equal(c.maps.stale_ms, 604800000LL);
	assert_int_equal(c.max_clients, 1000000);
	assert_int_equal(c.cache_max_entries, 100000000);
	assert_int_equal(c.cql.max_version, 3);
	expect_error("PORT='99999999999999999999': expected a number from 0 to 65535",
		     "KEYSPACE_NAME=m", "PORT=99999999999999999999", NULL);
	expect_ok(&c, "LISTEN_MODE=0777");
	assert_int_equal(c.listen_mode, 0777);
	expect_ok(&c, "LISTEN_MODE=600");
	assert_int_equal(c.listen_mode, 0600);
	expect_error("LISTEN_MODE='01000': expected an octal mode", "KEYSPACE_NAME=m", "LISTEN_MODE=01000", NULL);
	expect_error("LISTEN_MODE='0668': expected an octal mode", "KEYSPACE_NAME=m", "LISTEN_MODE=0668", NULL);
}

/* One yes/no parser: every spelling, any case, in the environment and the map file. */
static void test_yes_no(void **state)
{
	static const char *const yes[] = { "yes", "YES", "on", "On", "true", "TRUE", "1" };
	static const char *const no[] = { "no", "No", "off", "OFF", "false", "False", "0" };
	static struct config c;
	static struct map_registry reg;
	static const struct map_defaults d = { .delimiters = "+", .ttl_ms = 1000 };
	char kv[64], err[CONFIG_ERR_MAX], text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(config_bool_parse(yes[i]), 1);
		assert_int_equal(config_bool_parse(no[i]), 0);
		snprintf(kv, sizeof(kv), "CASSANDRA_DISCOVERY=%s", no[i]);
		expect_ok(&c, kv, "CACHE=on");
		assert_int_equal(c.cql.discovery, 0);
		snprintf(kv, sizeof(kv), "LISTEN_ALLOW_REMOTE=%s", yes[i]);
		expect_ok(&c, kv);
		assert_int_equal(c.allow_remote, 1);
		assert_int_equal(map_registry_defaults(&reg, "mailion", &d, err, sizeof(err)), 0);
		snprintf(text, sizeof(text), "[users]\nfold_case = %s\n", no[i]);
		assert_int_equal(config_file_parse(text, strlen(text), &reg, &d, err, sizeof(err)), 0);
		assert_int_equal(map_registry_find(&reg, "users", 5)->fold_case, 0);
	}
	assert_int_equal(config_bool_parse(""), -1);
	assert_int_equal(config_bool_parse("y"), -1);
	assert_int_equal(config_bool_parse("yes "), -1);
	assert_int_equal(config_bool_parse("2"), -1);
	/* The README says on/off for these, yes/no for LISTEN_ALLOW_REMOTE. */
	expect_error("CACHE='maybe': expected on or off (also yes/no, true/false)",
		     "KEYSPACE_NAME=m", "CACHE=maybe", NULL);
	expect_error("CASSANDRA_TLS='y': expected on or off", "KEYSPACE_NAME=m", "CASSANDRA_TLS=y", NULL);
	expect_error("CASSANDRA_TLS_VERIFY='nope': expected on or off",
		     "KEYSPACE_NAME=m", "CASSANDRA_TLS_VERIFY=nope", NULL);
	expect_error("CASSANDRA_DISCOVERY='2': expected on or off",
		     "KEYSPACE_NAME=m", "CASSANDRA_DISCOVERY=2", NULL);
	expect_error("LISTEN_ALLOW_REMOTE='sure': expected yes or no (also on/off, true/false)",
		     "KEYSPACE_NAME=m", "LISTEN_ALLOW_REMOTE=sure", NULL);
}

/* Every other way a setting can be refused: the variable, the value, what is allowed. */
static void test_every_error(void **state)
{
	char long_text[1100];

	(void)state;
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = 0;
	expect_error("KEYSPACE_NAME is not set", "PORT=1", NULL, NULL);
	expect_error("KEYSPACE_NAME is not set", "KEYSPACE_NAME=", NULL, NULL);
	expect_error("KEYSPACE_NAME='mail-ion': expected 1 to 48 letters", "KEYSPACE_NAME=mail-ion", NULL, NULL);
	expect_error("LISTEN='inet:0.0.0.0:1': ", "KEYSPACE_NAME=m", "LISTEN=inet:0.0.0.0:1", NULL);
	expect_error("LISTEN_ALLOW_REMOTE=yes", "KEYSPACE_NAME=m", "LISTEN=inet:0.0.0.0:1", NULL);
	expect_error("LISTEN='tcp:1': 'tcp:1': expected inet:ADDRESS:PORT or unix:/PATH",
		     "KEYSPACE_NAME=m", "LISTEN=tcp:1", NULL);
	expect_error("LISTEN_GROUP='ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg': "
		     "expected at most 63 bytes", "KEYSPACE_NAME=m",
		     "LISTEN_GROUP=ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg", NULL);
	expect_error("METRICS_LISTEN='9998': expected off or one ADDRESS:PORT",
		     "KEYSPACE_NAME=m", "METRICS_LISTEN=9998", NULL);
	expect_error("METRICS_LISTEN='127.0.0.1:1,127.0.0.1:2': expected off or one ADDRESS:PORT",
		     "KEYSPACE_NAME=m", "METRICS_LISTEN=127.0.0.1:1,127.0.0.1:2", NULL);
	/* The socketmap's switch does not open the metrics endpoint: it has its own. */
	expect_error("set METRICS_ALLOW_REMOTE=yes", "KEYSPACE_NAME=m",
		     "METRICS_LISTEN=0.0.0.0:9998", "LISTEN_ALLOW_REMOTE=yes");
	{
		static struct config c;

		expect_ok(&c, "METRICS_LISTEN=0.0.0.0:9998", "METRICS_ALLOW_REMOTE=yes");
		assert_string_equal(c.metrics_listen, "0.0.0.0:9998");
		expect_ok(&c, "METRICS_LISTEN=[::1]:0");
		assert_string_equal(c.metrics_listen, "[::1]:0");
		expect_ok(&c, "METRICS_LISTEN=OFF");
		assert_string_equal(c.metrics_listen, "");
	}
	expect_error("AWS_REGION='EU-1': expected a region name such as us-east-1",
		     "KEYSPACE_NAME=m", "AWS_REGION=EU-1", NULL);
	expect_error("AWS_REGION='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': expected a region name",
		     "KEYSPACE_NAME=m", "AWS_REGION=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
	expect_error("AWS_DEFAULT_REGION='x y': expected a region name",
		     "KEYSPACE_NAME=m", "AWS_DEFAULT_REGION=x y", NULL);
	expect_error("CASSANDRA_HOSTS='a:0': ", "KEYSPACE_NAME=m", "CASSANDRA_HOSTS=a:0", NULL);
	expect_error("CASSANDRA_AUTH='kerberos': expected none, password or sigv4",
		     "KEYSPACE_NAME=m", "CASSANDRA_AUTH=kerberos", NULL);
	expect_error("CASSANDRA_AUTH=sigv4 needs AWS_REGION", "KEYSPACE_NAME=m", "CASSANDRA_AUTH=sigv4", NULL);
	expect_error("CASSANDRA_AUTH=password needs CASSANDRA_USERNAME",
		     "KEYSPACE_NAME=m", "CASSANDRA_AUTH=password", "CASSANDRA_PASSWORD=p");
	expect_error("CASSANDRA_AUTH=password needs CASSANDRA_PASSWORD or CASSANDRA_PASSWORD_FILE",
		     "KEYSPACE_NAME=m", "CASSANDRA_USERNAME=u", NULL);
	expect_error("CASSANDRA_PASSWORD_FILE='/nonexistent/pw': No such file",
		     "KEYSPACE_NAME=m", "CASSANDRA_USERNAME=u", "CASSANDRA_PASSWORD_FILE=/nonexistent/pw");
	expect_error("CONSISTENCY='MOST': expected one of ONE, LOCAL_ONE, QUORUM",
		     "KEYSPACE_NAME=m", "CONSISTENCY=MOST", NULL);
	expect_error("CONSISTENCY='any': ANY is for writes only; expected one of ONE",
		     "KEYSPACE_NAME=m", "CONSISTENCY=any", NULL);
	expect_error("CONSISTENCY='QUORUM': Amazon Keyspaces (AWS_REGION set, or "
		     "CASSANDRA_AUTH=sigv4) reads only at ONE, LOCAL_ONE or LOCAL_QUORUM", "KEYSPACE_NAME=m", "AWS_REGION=us-east-1",
		     "CONSISTENCY=QUORUM");
	{
		static struct config c4;
		char err4[CONFIG_ERR_MAX];

		assert_int_equal(parse_env(&c4, err4, sizeof(err4), "KEYSPACE_NAME=m",
					   "AWS_REGION=us-east-1", "CASSANDRA_AUTH=sigv4",
					   "CONSISTENCY=ALL", NULL), -1);
		assert_non_null(strstr(err4, "CONSISTENCY='ALL': Amazon Keyspaces "
				       "(AWS_REGION set, or CASSANDRA_AUTH=sigv4) reads only at"));
	}
	expect_error("RECIPIENT_DELIMITER='@': expected at most 8 characters, no '@' or blanks",
		     "KEYSPACE_NAME=m", "RECIPIENT_DELIMITER=@", NULL);
	expect_error("RECIPIENT_DELIMITER='123456789': expected at most 8",
		     "KEYSPACE_NAME=m", "RECIPIENT_DELIMITER=123456789", NULL);
	expect_error("LOG_LEVEL='loud': expected error, warning, info or debug",
		     "KEYSPACE_NAME=m", "LOG_LEVEL=loud", NULL);
	expect_error("LOG_TARGET='file': expected stderr or syslog", "KEYSPACE_NAME=m", "LOG_TARGET=file", NULL);
	{
		char kv[1200];

		snprintf(kv, sizeof(kv), "CASSANDRA_TLS_CA_FILE=%s", long_text);
		expect_error("CASSANDRA_TLS_CA_FILE='xxx", "KEYSPACE_NAME=m", kv, NULL);
		expect_error("expected at most 1023 bytes", "KEYSPACE_NAME=m", kv, NULL);
		snprintf(kv, sizeof(kv), "CASSANDRA_LOCAL_DC=%s", long_text);
		expect_error("CASSANDRA_LOCAL_DC='xxx", "KEYSPACE_NAME=m", kv, NULL);
		snprintf(kv, sizeof(kv), "METRICS_LISTEN=%s", long_text);
		expect_error("METRICS_LISTEN='xxx", "KEYSPACE_NAME=m", kv, NULL);
	}
}

/* A password is never quoted, even when it is the value refused. */
static void test_password_never_shown(void **state)
{
	static struct config c;
	char secret[1100], kv[1200], err[CONFIG_ERR_MAX];

	(void)state;
	memset(secret, 's', sizeof(secret) - 1);
	secret[sizeof(secret) - 1] = 0;
	snprintf(kv, sizeof(kv), "CASSANDRA_PASSWORD=%s", secret);
	assert_int_equal(parse_env(&c, err, sizeof(err), "KEYSPACE_NAME=m", "CASSANDRA_USERNAME=u",
				   kv, NULL), -1);
	assert_non_null(strstr(err, "CASSANDRA_PASSWORD (value not shown): expected at most 1023 bytes"));
	assert_null(strstr(err, "sss"));
	/* Not kept either when nothing uses it. */
	expect_ok(&c, "CASSANDRA_PASSWORD=hunter2", "CASSANDRA_AUTH=none");
	assert_string_equal(c.password, "");
}

/* The settings that decide others: region, TLS by port, authentication. */
static void test_dependent_settings(void **state)
{
	static struct config c;
	char path[] = "/tmp/test_config_pw_XXXXXX";
	int fd, i;

	(void)state;
	expect_ok(&c, "AWS_REGION=eu-west-1");
	assert_string_equal(c.cql.hosts[0].host, "cassandra.eu-west-1.amazonaws.com");
	assert_int_equal(c.cql.hosts[0].port, 9142);
	assert_int_equal(c.cql.tls.enabled, 1);
	assert_int_equal(c.keyspaces_endpoint, 1);
	assert_int_equal(c.auth_sigv4, 1);
	expect_ok(&c, "AWS_DEFAULT_REGION=cn-north-1");
	assert_string_equal(c.cql.hosts[0].host, "cassandra.cn-north-1.amazonaws.com.cn");
	/* AWS_REGION wins; a bad AWS_DEFAULT_REGION beside it is not read. */
	expect_ok(&c, "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=BAD");
	assert_string_equal(c.aws_region, "us-east-1");
	expect_ok(&c, "AWS_REGION=us-east-1", "CASSANDRA_HOSTS=h1");
	assert_int_equal(c.cql.tls.enabled, 0);
	assert_int_equal(c.keyspaces_endpoint, 0);
	assert_int_equal(c.auth_sigv4, 1);
	expect_ok(&c, "CASSANDRA_HOSTS=h1,h2:9142");
	assert_int_equal(c.cql.tls.enabled, 1);
	expect_ok(&c, "CASSANDRA_HOSTS=h1:9142", "CASSANDRA_TLS=off");
	assert_int_equal(c.cql.tls.enabled, 0);
	expect_ok(&c, "CASSANDRA_TLS=on");
	assert_int_equal(c.cql.hosts[0].port, 9142);
	assert_int_equal(c.cql.tls.enabled, 1);
	expect_ok(&c, "PORT=0", "LISTEN=unix:/run/pac.sock,inet:[::1]:7");
	assert_int_equal(c.listen.n, 2);
	expect_ok(&c, "PORT=2525");
	assert_string_equal(c.listen.ep[0].text, "inet:127.0.0.1:2525");
	expect_ok(&c, "CACHE=off", "CACHE_MAX_ENTRIES=5");
	assert_int_equal(c.cache_max_entries, 0);
	expect_ok(&c, "METRICS_LISTEN=Off");
	assert_string_equal(c.metrics_listen, "");
	expect_ok(&c, "CASSANDRA_USERNAME=u", "CASSANDRA_PASSWORD=p", "AWS_REGION=eu-west-1");
	assert_int_equal(c.auth_password, 1);
	assert_int_equal(c.auth_sigv4, 0);
	assert_string_equal(c.password, "p");
	expect_ok(&c, "CASSANDRA_USERNAME=u", "CASSANDRA_PASSWORD=p", "CASSANDRA_AUTH=none");
	assert_int_equal(c.auth_password, 0);
	assert_string_equal(c.username, "");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "from-file\r\n", 11), 11);
	close(fd);
	{
		char kv[64];

		snprintf(kv, sizeof(kv), "CASSANDRA_PASSWORD_FILE=%s", path);
		expect_ok(&c, "CASSANDRA_USERNAME=u", "CASSANDRA_PASSWORD=env", kv);
		assert_string_equal(c.password, "from-file");
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "\n", 1), 1);
		close(fd);
		expect_error("' is empty", "KEYSPACE_NAME=m", "CASSANDRA_USERNAME=u", kv);
		/* 1023 bytes and a newline are a password; 1024 bytes are refused, not cut. */
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd >= 0);
		for (i = 0; i < CONFIG_SECRET_MAX; i++)
			assert_int_equal(write(fd, "p", 1), 1);
		assert_int_equal(write(fd, "\n", 1), 1);
		close(fd);
		expect_ok(&c, "CASSANDRA_USERNAME=u", kv);
		assert_int_equal(strlen(c.password), CONFIG_SECRET_MAX);
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd >= 0);
		for (i = 0; i <= CONFIG_SECRET_MAX; i++)
			assert_int_equal(write(fd, "p", 1), 1);
		close(fd);
		expect_error("': expected at most 1023 bytes", "KEYSPACE_NAME=m", "CASSANDRA_USERNAME=u", kv);
	}
	unlink(path);
}

/* ---- the documents ------------------------------------------------- */

struct names {
	char name[DOC_NAMES_MAX][DOC_NAME_MAX];
	size_t n;
};

/* is_upper_name - [A-Z][A-Z0-9_]+: how a variable is spelled */
static int is_upper_name(const char *t, size_t n)
{
	size_t i;

	if (n < 2 || n >= DOC_NAME_MAX || t[0] < 'A' || t[0] > 'Z')
		return 0;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
			return 0;
	return 1;
}

/* add_names - the words of text (a table's first column) spelled like variables */
static void add_names(struct names *ns, const char *text, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		for (j = i; j < len && (text[j] == '_' || (text[j] >= 'A' && text[j] <= 'Z') ||
					(text[j] >= 'a' && text[j] <= 'z') ||
					(text[j] >= '0' && text[j] <= '9')); j++)
			;
		if (is_upper_name(text + i, j - i)) {
			assert_true(ns->n < DOC_NAMES_MAX);
			memcpy(ns->name[ns->n], text + i, j - i);
			ns->name[ns->n++][j - i] = 0;
		}
		i = j + 1;
	}
}

/* read_doc - a document of the tree, from the top directory (where make runs) */
static char *read_doc(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	if (fp == NULL)
		fail_msg("%s: cannot open (run the unit tests from the top of the tree, as make does)", path);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	return buf;
}

/* readme_names - the first column of the README's variable table */
static void readme_names(struct names *ns)
{
	char *doc = read_doc("README.md"), *p, *end, *bar;

	p = strstr(doc, "\n## Configuration\n");
	assert_non_null(p);
	p = strstr(p, "\n| variable | default | meaning |\n");
	assert_non_null(p);
	p = strchr(p + 1, '\n') + 1;		/* the header */
	p = strchr(p, '\n') + 1;		/* |---|---|---| */
	while (*p == '|') {
		end = strchr(p, '\n');
		bar = strchr(p + 1, '|');
		assert_non_null(end);
		assert_true(bar != NULL && bar < end);
		add_names(ns, p + 1, (size_t)(bar - p - 1));
		p = end + 1;
	}
	free(doc);
}

/* man_names - the tags (.TP, then .B NAME, NAME) of the man page's ENVIRONMENT */
static void man_names(struct names *ns)
{
	char *doc = read_doc("man/postfix-aws-cassandra.8"), *p, *end;

	p = strstr(doc, "\n.SH ENVIRONMENT\n");
	assert_non_null(p);
	end = strstr(p + 1, "\n.SH ");
	assert_non_null(end);
	while ((p = strstr(p, "\n.TP\n.B ")) != NULL && p < end) {
		char *eol;

		p += strlen("\n.TP\n.B ");
		eol = strchr(p, '\n');
		add_names(ns, p, (size_t)(eol - p));
	}
	free(doc);
}

/* has - is name among ns */
static int has(const struct names *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->name[i], name) == 0)
			return 1;
	return 0;
}

/* same_names - doc lists exactly the table's variables and those read elsewhere */
static void same_names(const char *what, const struct names *doc)
{
	static struct names table;
	char missing[2048] = "", extra[2048] = "";
	size_t i, k;

	table.n = 0;
	for (i = 0; i < config_var_count(); i++)
		snprintf(table.name[table.n++], DOC_NAME_MAX, "%s", config_var_name(i));
	for (k = 0; k < sizeof(read_elsewhere) / sizeof(read_elsewhere[0]); k++)
		snprintf(table.name[table.n++], DOC_NAME_MAX, "%s", read_elsewhere[k]);
	for (i = 0; i < table.n; i++)
		if (!has(doc, table.name[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
				 table.name[i]);
	for (i = 0; i < doc->n; i++)
		if (!has(&table, doc->name[i]))
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s",
				 doc->name[i]);
	if (missing[0] || extra[0])
		fail_msg("%s: missing (the daemon reads them):%s; not read by the daemon:%s",
			 what, missing[0] ? missing : " none", extra[0] ? extra : " none");
}

static void test_readme_lists_the_table(void **state)
{
	static struct names ns;

	(void)state;
	readme_names(&ns);
	same_names("README.md (Configuration)", &ns);
}

static void test_man_page_lists_the_table(void **state)
{
	static struct names ns;

	(void)state;
	man_names(&ns);
	same_names("man/postfix-aws-cassandra.8 (ENVIRONMENT)", &ns);
}

/* The README's default column says what the table's default is, where it is one word. */
static void test_readme_defaults(void **state)
{
	char *doc = read_doc("README.md"), *p, *end, want[160];
	size_t i;

	(void)state;
	p = strstr(doc, "\n| variable | default | meaning |\n");
	assert_non_null(p);
	end = strstr(p, "\n\n");
	assert_non_null(end);
	*end = 0;
	for (i = 0; i < config_var_count(); i++) {
		const char *def = config_var_default(i);

		if (def == NULL)
			continue;
		snprintf(want, sizeof(want), "\n| `%s` | `%s` |", config_var_name(i), def);
		if (strstr(p, want) == NULL) {
			snprintf(want, sizeof(want), "\n| `%s` |", config_var_name(i));
			if (strstr(p, want) != NULL)	/* a row of its own: the default must match */
				fail_msg("README.md: the row of %s does not give its default `%s`",
					 config_var_name(i), def);
		}
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_written_out),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_yes_no),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_password_never_shown),
		cmocka_unit_test(test_dependent_settings),
		cmocka_unit_test(test_readme_lists_the_table),
		cmocka_unit_test(test_man_page_lists_the_table),
		cmocka_unit_test(test_readme_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
