/*
 * test_cql_groups - CASSANDRA_FAILOVER_HOSTS and AWS_FAILOVER_REGIONS:
 * entries grouped by region (@region, the endpoint's name, the default),
 * the region each Keyspaces endpoint name says, limits and refusals
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cql/cql_groups.h"

#define ERR_MAX		256
#define LIST_MAX	(CQL_MAX_HOSTS * 32)

static struct cql_group_spec groups[CQL_MAX_STANDBY];
static size_t ngroups;
static char err[ERR_MAX];

/* parse - the failover list with port 9142 and region us-east-1 as defaults */
static int parse(const char *list)
{
	memset(groups, 0, sizeof(groups));
	ngroups = 99;
	err[0] = 0;
	return cql_groups_parse(list, CQL_DEFAULT_TLS_PORT, "us-east-1", groups, &ngroups,
				err, sizeof(err));
}

/* region_of - what cql_region_of_host says of name ("-" for none) */
static const char *region_of(const char *name)
{
	static char region[CQL_REGION_MAX];

	if (cql_region_of_host(name, region, sizeof(region)) != 0)
		return "-";
	return region;
}

static void test_region_from_endpoint_names(void **state)
{
	(void)state;
	/* The service endpoints page: public, FIPS, dual-stack, China. */
	assert_string_equal(region_of("cassandra.us-west-2.amazonaws.com"), "us-west-2");
	assert_string_equal(region_of("cassandra-fips.us-east-1.amazonaws.com"), "us-east-1");
	assert_string_equal(region_of("cassandra.eu-west-1.api.aws"), "eu-west-1");
	assert_string_equal(region_of("cassandra-fips.us-west-2.api.aws"), "us-west-2");
	assert_string_equal(region_of("cassandra.cn-north-1.amazonaws.com.cn"), "cn-north-1");
	assert_string_equal(region_of("CASSANDRA.AP-SOUTHEAST-2.AMAZONAWS.COM."), "ap-southeast-2");
	/* Interface VPC endpoints, regional and zonal names. */
	assert_string_equal(region_of("vpce-0123456789abcdef-abcd1234.cassandra.eu-central-1"
				      ".vpce.amazonaws.com"), "eu-central-1");
	assert_string_equal(region_of("vpce-0a-b-us-east-1a.cassandra.us-east-1.vpce.amazonaws.com"),
			    "us-east-1");
	/* Names that say no region. */
	assert_string_equal(region_of("cassandra.local"), "-");
	assert_string_equal(region_of("db.us-west-2.amazonaws.com"), "-");
	assert_string_equal(region_of("x.cassandra.us-west-2.amazonaws.com"), "-");
	assert_string_equal(region_of("cassandra.us-west-2.vpce.amazonaws.com"), "-");
	assert_string_equal(region_of("cassandra-fips.x.cassandra.us-east-1.vpce.amazonaws.com"),
			    "us-east-1");
	assert_string_equal(region_of("cassandra..amazonaws.com"), "-");
	assert_string_equal(region_of("cassandra.us_west.amazonaws.com"), "-");
	assert_string_equal(region_of("127.0.0.1"), "-");
	assert_string_equal(region_of(".amazonaws.com"), "-");
	assert_string_equal(region_of(""), "-");
}

static void test_grouped_by_region_in_order(void **state)
{
	(void)state;
	assert_int_equal(parse("127.0.0.2:9043@us-west-2, 127.0.0.3@eu-west-1,"
			       "127.0.0.4:9044@us-west-2"), 0);
	assert_int_equal(ngroups, 2);
	assert_string_equal(groups[0].region, "us-west-2");
	assert_int_equal(groups[0].nhosts, 2);
	assert_string_equal(groups[0].hosts[0].host, "127.0.0.2");
	assert_int_equal(groups[0].hosts[0].port, 9043);
	assert_string_equal(groups[0].hosts[1].host, "127.0.0.4");
	assert_int_equal(groups[0].hosts[1].port, 9044);
	assert_string_equal(groups[1].region, "eu-west-1");
	assert_int_equal(groups[1].nhosts, 1);
	assert_int_equal(groups[1].hosts[0].port, CQL_DEFAULT_TLS_PORT);
}

static void test_region_from_name_else_default(void **state)
{
	(void)state;
	assert_int_equal(parse("cassandra.us-west-2.amazonaws.com db1 [::1]:9042"), 0);
	assert_int_equal(ngroups, 2);
	assert_string_equal(groups[0].region, "us-west-2");
	assert_string_equal(groups[0].hosts[0].host, "cassandra.us-west-2.amazonaws.com");
	assert_string_equal(groups[1].region, "us-east-1");	/* the default: AWS_REGION */
	assert_int_equal(groups[1].nhosts, 2);
	assert_string_equal(groups[1].hosts[1].host, "::1");
	/* An @region wins over the name's. */
	assert_int_equal(parse("cassandra.us-west-2.amazonaws.com@eu-west-1"), 0);
	assert_string_equal(groups[0].region, "eu-west-1");
	/* Without AWS (plain Cassandra) every entry without @ is one group, region "". */
	memset(groups, 0, sizeof(groups));
	assert_int_equal(cql_groups_parse("dc2-a,dc2-b:9043", CQL_DEFAULT_PORT, "", groups,
					  &ngroups, err, sizeof(err)), 0);
	assert_int_equal(ngroups, 1);
	assert_string_equal(groups[0].region, "");
	assert_int_equal(groups[0].hosts[0].port, CQL_DEFAULT_PORT);
	assert_int_equal(groups[0].nhosts, 2);
}

static void test_refusals(void **state)
{
	char list[LIST_MAX];
	size_t i, len = 0;

	(void)state;
	assert_int_equal(parse(""), -1);
	assert_string_equal(err, "no host given");
	assert_int_equal(parse(" , "), -1);
	assert_int_equal(parse("a@"), -1);
	assert_non_null(strstr(err, "bad region in 'a@'"));
	assert_int_equal(parse("a@US-EAST-1"), -1);
	assert_int_equal(parse("a@us east"), 0);	/* a space separates: "a@us", then "east" */
	assert_int_equal(ngroups, 2);
	assert_int_equal(parse("@us-east-1"), -1);
	assert_string_equal(err, "bad host name in '@us-east-1'");
	assert_int_equal(parse("a:0@us-east-1"), -1);
	assert_string_equal(err, "bad port in '0'");
	assert_int_equal(parse("::1@us-east-1"), -1);
	assert_int_equal(parse("a@r1,b@r2,c@r3,d@r4"), -1);
	assert_string_equal(err, "more than 3 regions");
	for (i = 0; i <= CQL_MAX_HOSTS; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "h%zu,", i);
	assert_int_equal(parse(list), -1);
	assert_string_equal(err, "more than 32 hosts");
	assert_int_equal(parse("a@abcdefghijklmnopqrstuvwxyz-0123456789"), -1);
}

static void test_from_regions(void **state)
{
	(void)state;
	memset(groups, 0, sizeof(groups));
	assert_int_equal(cql_groups_from_regions("us-west-2, eu-west-1,us-west-2", groups,
						 &ngroups, err, sizeof(err)), 0);
	assert_int_equal(ngroups, 2);
	assert_string_equal(groups[0].region, "us-west-2");
	assert_string_equal(groups[0].hosts[0].host, "cassandra.us-west-2.amazonaws.com");
	assert_int_equal(groups[0].hosts[0].port, 9142);
	assert_int_equal(groups[0].nhosts, 1);
	assert_string_equal(groups[1].hosts[0].host, "cassandra.eu-west-1.amazonaws.com");
	assert_int_equal(cql_groups_from_regions("cn-northwest-1", groups, &ngroups, err,
						 sizeof(err)), 0);
	assert_string_equal(groups[0].hosts[0].host, "cassandra.cn-northwest-1.amazonaws.com.cn");
	assert_int_equal(cql_groups_from_regions("", groups, &ngroups, err, sizeof(err)), -1);
	assert_string_equal(err, "no region given");
	assert_int_equal(cql_groups_from_regions("us-west-2,Eu", groups, &ngroups, err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "bad region 'Eu'"));
	assert_int_equal(cql_groups_from_regions("a,b,c,d", groups, &ngroups, err,
						 sizeof(err)), -1);
	assert_string_equal(err, "more than 3 regions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_from_endpoint_names),
		cmocka_unit_test(test_grouped_by_region_in_order),
		cmocka_unit_test(test_region_from_name_else_default),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_from_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
