/*
 * fuzz_cql_groups - libFuzzer target for the failover host groups
 *
 * The input is CASSANDRA_FAILOVER_HOSTS (up to its first NUL), parsed
 * with the default region us-east-1, and also read as
 * AWS_FAILOVER_REGIONS and as one host name for cql_region_of_host.
 * Checked beyond memory safety: an error leaves a non-empty, terminated
 * message; a success has 1 to CQL_MAX_STANDBY groups of distinct, valid
 * regions, each with 1 to CQL_MAX_HOSTS entries, at most CQL_MAX_HOSTS in
 * all; writing them back as "host:port@region" parses to the same groups;
 * a region found in a host name is valid.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql/cql_groups.h"

#define FUZZ_INPUT_MAX	(CQL_MAX_HOSTS * (CQL_HOST_MAX + CQL_REGION_MAX + 16))
#define FUZZ_ERR_MAX	160
#define FUZZ_REGION	"us-east-1"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_groups - well formed: counts, distinct valid regions */
static void check_groups(const struct cql_group_spec *g, size_t n)
{
	size_t i, j, total = 0;

	if (n < 1 || n > CQL_MAX_STANDBY)
		abort();
	for (i = 0; i < n; i++) {
		if (!cql_region_valid(g[i].region, strnlen(g[i].region, CQL_REGION_MAX)))
			abort();
		if (g[i].nhosts < 1 || g[i].nhosts > CQL_MAX_HOSTS)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(g[i].region, g[j].region) == 0)
				abort();
		for (j = 0; j < g[i].nhosts; j++)
			if (g[i].hosts[j].host[0] == 0 || g[i].hosts[j].port == 0)
				abort();
		total += g[i].nhosts;
	}
	if (total > CQL_MAX_HOSTS)
		abort();
}

/* round_trip - the groups written back with explicit regions parse to themselves */
static void round_trip(const struct cql_group_spec *g, size_t n)
{
	static struct cql_group_spec again[CQL_MAX_STANDBY];
	static char list[FUZZ_INPUT_MAX * 2];
	char err[FUZZ_ERR_MAX];
	size_t i, j, len = 0, n2;

	for (i = 0; i < n; i++)
		for (j = 0; j < g[i].nhosts; j++) {
			const char *h = g[i].hosts[j].host;
			int bracket = strchr(h, ':') != NULL || h[0] == '[';

			len += (size_t)snprintf(list + len, sizeof(list) - len,
						bracket ? "[%s]:%u@%s," : "%s:%u@%s,", h,
						(unsigned)g[i].hosts[j].port, g[i].region);
		}
	if (cql_groups_parse(list, CQL_DEFAULT_PORT, "", again, &n2, err, sizeof(err)) != 0 ||
	    n2 != n)
		abort();
	for (i = 0; i < n; i++) {
		if (strcmp(again[i].region, g[i].region) != 0 || again[i].nhosts != g[i].nhosts)
			abort();
		for (j = 0; j < g[i].nhosts; j++)
			if (strcmp(again[i].hosts[j].host, g[i].hosts[j].host) != 0 ||
			    again[i].hosts[j].port != g[i].hosts[j].port)
				abort();
	}
}

/* check_error - a refusal says why */
static void check_error(const char *err)
{
	if (err[0] == 0 || memchr(err, 0, FUZZ_ERR_MAX) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cql_group_spec groups[CQL_MAX_STANDBY];
	static char input[FUZZ_INPUT_MAX + 1];
	char err[FUZZ_ERR_MAX], region[CQL_REGION_MAX];
	size_t n = 0;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	memcpy(input, data, size);
	input[size] = 0;
	memset(err, 0, sizeof(err));
	if (cql_groups_parse(input, CQL_DEFAULT_TLS_PORT, FUZZ_REGION, groups, &n, err,
			     sizeof(err)) != 0) {
		check_error(err);
	} else {
		check_groups(groups, n);
		round_trip(groups, n);
	}
	memset(err, 0, sizeof(err));
	if (cql_groups_from_regions(input, groups, &n, err, sizeof(err)) != 0)
		check_error(err);
	else
		check_groups(groups, n);
	if (cql_region_of_host(input, region, sizeof(region)) == 0 &&
	    !cql_region_valid(region, strnlen(region, sizeof(region))))
		abort();
	return 0;
}
