/*
 * test_cql_hosts - the CASSANDRA_HOSTS parser: names, ports, IPv6, limits
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cql/cql_hosts.h"

#define ERR_MAX	256

static struct cql_host_spec hosts[CQL_MAX_HOSTS];
static size_t nhosts;
static char err[ERR_MAX];

/* parse - run the parser on list with port 9042 as the default */
static int parse(const char *list)
{
	memset(hosts, 0, sizeof(hosts));
	nhosts = 99;
	err[0] = 0;
	return cql_hosts_parse(list, CQL_DEFAULT_PORT, hosts, &nhosts, err, sizeof(err));
}

/* expect_error - list is refused with exactly this message */
static void expect_error(const char *list, const char *message)
{
	assert_int_equal(parse(list), -1);
	assert_string_equal(err, message);
}

static void test_names_and_ports(void **state)
{
	(void)state;
	assert_int_equal(parse("a.example.com,b:9043 10.0.0.1:1"), 0);
	assert_int_equal(nhosts, 3);
	assert_string_equal(hosts[0].host, "a.example.com");
	assert_int_equal(hosts[0].port, CQL_DEFAULT_PORT);
	assert_string_equal(hosts[1].host, "b");
	assert_int_equal(hosts[1].port, 9043);
	assert_string_equal(hosts[2].host, "10.0.0.1");
	assert_int_equal(hosts[2].port, 1);
	/* Commas and spaces in any number separate; leading and trailing ones are fine. */
	assert_int_equal(parse(" ,, x ,  y:65535,,"), 0);
	assert_int_equal(nhosts, 2);
	assert_string_equal(hosts[0].host, "x");
	assert_string_equal(hosts[1].host, "y");
	assert_int_equal(hosts[1].port, 65535);
	/* The default port is the caller's (9142 with TLS). */
	assert_int_equal(cql_hosts_parse("k", CQL_DEFAULT_TLS_PORT, hosts, &nhosts, err,
					 sizeof(err)), 0);
	assert_int_equal(hosts[0].port, CQL_DEFAULT_TLS_PORT);
}

static void test_ipv6(void **state)
{
	(void)state;
	assert_int_equal(parse("[::1]:9044,[fe80::1%eth0],[2001:db8::7]"), 0);
	assert_int_equal(nhosts, 3);
	assert_string_equal(hosts[0].host, "::1");
	assert_int_equal(hosts[0].port, 9044);
	assert_string_equal(hosts[1].host, "fe80::1%eth0");
	assert_int_equal(hosts[1].port, CQL_DEFAULT_PORT);
	assert_string_equal(hosts[2].host, "2001:db8::7");
	expect_error("::1", "IPv6 address '::1' must be written [addr]:port");
	expect_error("a,2001:db8::7:9042", "IPv6 address '2001:db8::7:9042' must be written [addr]:port");
	expect_error("[::1", "unterminated '[' in host '[::1'");
	expect_error("[::1]9042", "junk after ']' in host '[::1]9042'");
	expect_error("[]:9042", "bad host name in '[]:9042'");
}

static void test_bad_ports(void **state)
{
	(void)state;
	expect_error("h:0", "bad port in '0'");
	expect_error("h:65536", "bad port in '65536'");
	expect_error("h:", "bad port in ''");
	expect_error("h:12x,g", "bad port in '12x'");
	expect_error("h:-1", "bad port in '-1'");
	expect_error("[::1]:99999", "bad port in '99999'");
}

static void test_empty(void **state)
{
	(void)state;
	expect_error("", "no host given");
	expect_error(" , ,", "no host given");
	expect_error(":9042", "bad host name in ':9042'");
	assert_int_equal(nhosts, 0);
}

static void test_limits(void **state)
{
	char name[CQL_HOST_MAX + 8], list[CQL_MAX_HOSTS * 4 + 8];
	size_t i, len = 0;

	(void)state;
	/* The longest name that fits, and one byte more. */
	memset(name, 'n', CQL_HOST_MAX - 1);
	name[CQL_HOST_MAX - 1] = 0;
	assert_int_equal(parse(name), 0);
	assert_int_equal(strlen(hosts[0].host), CQL_HOST_MAX - 1);
	name[CQL_HOST_MAX - 1] = 'n';
	name[CQL_HOST_MAX] = 0;
	assert_int_equal(parse(name), -1);
	assert_int_equal(strncmp(err, "bad host name in 'nnn", 21), 0);
	/* CQL_MAX_HOSTS entries, then one more. */
	for (i = 0; i < CQL_MAX_HOSTS; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "h%zu,", i % 10);
	assert_int_equal(parse(list), 0);
	assert_int_equal(nhosts, CQL_MAX_HOSTS);
	snprintf(list + len, sizeof(list) - len, "z");
	expect_error(list, "more than 32 hosts");
	/* The entries before the error stay counted. */
	assert_int_equal(parse("a,b,c:0"), -1);
	assert_int_equal(nhosts, 2);
}

static void test_short_error_buffer(void **state)
{
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(cql_hosts_parse("h:99999", CQL_DEFAULT_PORT, hosts, &nhosts, small,
					 sizeof(small)), -1);
	assert_string_equal(small, "bad por");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_ports),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_ports),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_short_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
