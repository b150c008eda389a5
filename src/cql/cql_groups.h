/*
 * cql_groups - the standby host groups of region failover
 *
 * SYNOPSIS
 *	#include "cql/cql_groups.h"
 *
 *	int cql_groups_parse(const char *list, uint16_t default_port,
 *			     const char *default_region,
 *			     struct cql_group_spec groups[CQL_MAX_STANDBY],
 *			     size_t *ngroups, char *err, size_t errlen);
 *
 *	int cql_groups_from_regions(const char *regions,
 *				    struct cql_group_spec groups[CQL_MAX_STANDBY],
 *				    size_t *ngroups, char *err, size_t errlen);
 *
 *	int cql_region_of_host(const char *host, char *region, size_t len);
 *
 * DESCRIPTION
 *	CASSANDRA_FAILOVER_HOSTS is a comma (or space) list of
 *	host[:port][@region]: the nodes used only while the primary group
 *	(CASSANDRA_HOSTS) cannot serve. Each entry's region is its "@region",
 *	else the one its name says (cql_region_of_host: Amazon Keyspaces'
 *	endpoint names, the service endpoints page of the Keyspaces developer
 *	guide and its "Using interface VPC endpoints" page), else
 *	default_region (AWS_REGION). Entries of the same region form one
 *	group, which signs for that region with SigV4; groups keep the order
 *	of their first entry, which is the order they are tried in.
 *
 *	AWS_FAILOVER_REGIONS=r1,r2 is the short form: one group per region,
 *	its public endpoint cassandra.REGION.amazonaws.com:9142
 *	(.amazonaws.com.cn for the China regions).
 *
 *	Pure functions: no allocation, no I/O, no name resolution.
 *
 * DIAGNOSTICS
 *	-1 with a one-line reason in err: an entry the host list parser
 *	refuses (cql_hosts.h), an empty or malformed region, more than
 *	CQL_MAX_HOSTS entries or CQL_MAX_STANDBY groups.
 */
#ifndef PAC_CQL_GROUPS_H
#define PAC_CQL_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "cql_hosts.h"

#define CQL_MAX_STANDBY		3	/* standby groups after the primary */
#define CQL_MAX_GROUPS		(1 + CQL_MAX_STANDBY)
#define CQL_REGION_MAX		32	/* bytes in a region name, with its NUL */

struct cql_group_spec {
	char region[CQL_REGION_MAX];	/* "" when none is known */
	struct cql_host_spec hosts[CQL_MAX_HOSTS];
	size_t nhosts;
};

/*
 * cql_groups_parse - CASSANDRA_FAILOVER_HOSTS into groups by region.
 * Returns 0 (at least one group), or -1 with a message in err.
 */
int cql_groups_parse(const char *list, uint16_t default_port, const char *default_region,
		     struct cql_group_spec groups[CQL_MAX_STANDBY], size_t *ngroups,
		     char *err, size_t errlen);

/*
 * cql_groups_from_regions - AWS_FAILOVER_REGIONS: one group per region,
 * on the region's public endpoint. 0, or -1 with a message in err.
 */
int cql_groups_from_regions(const char *regions,
			    struct cql_group_spec groups[CQL_MAX_STANDBY], size_t *ngroups,
			    char *err, size_t errlen);

/*
 * cql_region_of_host - the region a Keyspaces endpoint name says
 * (cassandra[-fips].REGION.amazonaws.com[.cn], cassandra[-fips].REGION.api.aws,
 * *.cassandra.REGION.vpce.amazonaws.com), lower-cased into region; 0, or
 * -1 when the name says none
 */
int cql_region_of_host(const char *host, char *region, size_t len);

/*
 * cql_region_endpoint - cassandra.REGION.amazonaws.com (.com.cn in the
 * China regions) into host, cut to len
 */
void cql_region_endpoint(const char *region, char *host, size_t len);

/* cql_region_valid - lower-case letters, digits and '-', 1 to CQL_REGION_MAX - 1 bytes */
int cql_region_valid(const char *s, size_t n);

#endif
