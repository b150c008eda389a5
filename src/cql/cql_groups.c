/*
 * cql_groups - the standby host groups of region failover
 *
 * DESCRIPTION
 *	See cql_groups.h. Each entry is cut at its last '@' and the part
 *	before goes through the one host list parser (cql_hosts_parse), so
 *	CASSANDRA_FAILOVER_HOSTS accepts exactly the host syntax
 *	CASSANDRA_HOSTS does.
 */
#include <stdio.h>
#include <string.h>

#include "cql_groups.h"

#define GROUPS_ENTRY_MAX	(CQL_HOST_MAX + 8)	/* "[name]:65535", NUL */
#define GROUPS_PUBLIC_SUFFIX	".amazonaws.com"
#define GROUPS_CHINA_SUFFIX	".amazonaws.com.cn"
#define GROUPS_DUALSTACK_SUFFIX	".api.aws"
#define GROUPS_VPCE_SUFFIX	".vpce.amazonaws.com"
#define GROUPS_SEPARATORS	", "

/* cql_region_valid - a region name's syntax */
int cql_region_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= CQL_REGION_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* ends_with - s (length n) ends with suffix; its length before it, or 0 */
static size_t ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0 ? n - k : 0;
}

/*
 * region_label - the label before position end of name (lower case),
 * when the label before that is the service label: the first label
 * (first != 0) or any (first == 0); 0 or -1
 */
static int region_label(const char *name, size_t end, int first, char *region, size_t len)
{
	const char *dot = memrchr(name, '.', end);
	size_t rstart, sstart, slen;

	if (dot == NULL)
		return -1;
	rstart = (size_t)(dot - name) + 1;
	sstart = 0;
	if (rstart > 1) {
		const char *d2 = memrchr(name, '.', rstart - 1);

		sstart = d2 ? (size_t)(d2 - name) + 1 : 0;
		if (first && d2 != NULL)
			return -1;
		if (!first && d2 == NULL)
			return -1;
	}
	slen = rstart - 1 - sstart;
	if (!((slen == 9 && memcmp(name + sstart, "cassandra", 9) == 0) ||
	      (first && slen == 14 && memcmp(name + sstart, "cassandra-fips", 14) == 0)))
		return -1;
	if (!cql_region_valid(name + rstart, end - rstart) || end - rstart >= len)
		return -1;
	memcpy(region, name + rstart, end - rstart);
	region[end - rstart] = 0;
	return 0;
}

/* cql_region_of_host - the region in a Keyspaces endpoint's name */
int cql_region_of_host(const char *host, char *region, size_t len)
{
	char name[CQL_HOST_MAX];
	size_t i, n = strlen(host), end;

	if (n == 0 || n >= sizeof(name))
		return -1;
	for (i = 0; i < n; i++)
		name[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] - 'A' + 'a') : host[i];
	name[n] = 0;
	if (n > 0 && name[n - 1] == '.')	/* a fully qualified name */
		name[--n] = 0;
	if ((end = ends_with(name, n, GROUPS_VPCE_SUFFIX)) != 0)
		return region_label(name, end, 0, region, len);
	if ((end = ends_with(name, n, GROUPS_CHINA_SUFFIX)) != 0 ||
	    (end = ends_with(name, n, GROUPS_PUBLIC_SUFFIX)) != 0 ||
	    (end = ends_with(name, n, GROUPS_DUALSTACK_SUFFIX)) != 0)
		return region_label(name, end, 1, region, len);
	return -1;
}

/* cql_region_endpoint - the region's public endpoint name */
void cql_region_endpoint(const char *region, char *host, size_t len)
{
	/* The China regions are under amazonaws.com.cn (service endpoints page). */
	snprintf(host, len, "cassandra.%s" GROUPS_PUBLIC_SUFFIX "%s", region,
		 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
}

/* group_for - the group of region, added after the others if new; NULL when full */
static struct cql_group_spec *group_for(const char *region,
					struct cql_group_spec groups[CQL_MAX_STANDBY],
					size_t *ngroups)
{
	size_t i;

	for (i = 0; i < *ngroups; i++)
		if (strcmp(groups[i].region, region) == 0)
			return &groups[i];
	if (*ngroups == CQL_MAX_STANDBY)
		return NULL;
	memset(&groups[*ngroups], 0, sizeof(groups[0]));
	snprintf(groups[*ngroups].region, CQL_REGION_MAX, "%s", region);
	return &groups[(*ngroups)++];
}

/*
 * entry_region - the region of one entry: after its last '@' (then *hlen
 * is the length before it), else ""; 0 or -1 with err
 */
static int entry_region(const char *p, size_t n, size_t *hlen,
			char region[CQL_REGION_MAX], char *err, size_t errlen)
{
	const char *at = memrchr(p, '@', n);

	*hlen = n;
	if (at != NULL) {
		size_t rlen = n - (size_t)(at - p) - 1;

		if (!cql_region_valid(at + 1, rlen)) {
			snprintf(err, errlen, "bad region in '%.*s' (lower-case letters, digits "
				 "and '-', at most %d)", (int)n, p, CQL_REGION_MAX - 1);
			return -1;
		}
		memcpy(region, at + 1, rlen);
		region[rlen] = 0;
		*hlen = (size_t)(at - p);
		return 0;
	}
	region[0] = 0;
	return 0;
}

/* add_entry - one host[:port][@region] into its group; 0 or -1 with err */
static int add_entry(const char *p, size_t n, uint16_t default_port, const char *def,
		     struct cql_group_spec groups[CQL_MAX_STANDBY], size_t *ngroups,
		     char *err, size_t errlen)
{
	char entry[GROUPS_ENTRY_MAX], region[CQL_REGION_MAX];
	struct cql_host_spec one[CQL_MAX_HOSTS];
	struct cql_group_spec *g;
	size_t hlen, k;

	if (entry_region(p, n, &hlen, region, err, errlen) != 0)
		return -1;
	if (hlen == 0 || hlen >= sizeof(entry)) {
		snprintf(err, errlen, "bad host name in '%.*s'", (int)n, p);
		return -1;
	}
	memcpy(entry, p, hlen);
	entry[hlen] = 0;
	if (cql_hosts_parse(entry, default_port, one, &k, err, errlen) != 0)
		return -1;
	if (region[0] == 0 && cql_region_of_host(one[0].host, region, sizeof(region)) != 0)
		snprintf(region, sizeof(region), "%s", def ? def : "");
	if ((g = group_for(region, groups, ngroups)) == NULL) {
		snprintf(err, errlen, "more than %d regions", CQL_MAX_STANDBY);
		return -1;
	}
	if (g->nhosts == CQL_MAX_HOSTS) {
		snprintf(err, errlen, "more than %d hosts", CQL_MAX_HOSTS);
		return -1;
	}
	g->hosts[g->nhosts++] = one[0];
	return 0;
}

/* cql_groups_parse - split CASSANDRA_FAILOVER_HOSTS into groups */
int cql_groups_parse(const char *list, uint16_t default_port, const char *default_region,
		     struct cql_group_spec groups[CQL_MAX_STANDBY], size_t *ngroups,
		     char *err, size_t errlen)
{
	const char *p = list;
	size_t n, total = 0;

	*ngroups = 0;
	for (;;) {
		p += strspn(p, GROUPS_SEPARATORS);
		if (*p == 0)
			break;
		n = strcspn(p, GROUPS_SEPARATORS);
		if (++total > CQL_MAX_HOSTS) {
			snprintf(err, errlen, "more than %d hosts", CQL_MAX_HOSTS);
			return -1;
		}
		if (add_entry(p, n, default_port, default_region, groups, ngroups,
			      err, errlen) != 0)
			return -1;
		p += n;
	}
	if (*ngroups == 0) {
		snprintf(err, errlen, "no host given");
		return -1;
	}
	return 0;
}

/* cql_groups_from_regions - one group per region, on its public endpoint */
int cql_groups_from_regions(const char *regions,
			    struct cql_group_spec groups[CQL_MAX_STANDBY], size_t *ngroups,
			    char *err, size_t errlen)
{
	const char *p = regions;
	struct cql_group_spec *g;
	size_t n;

	*ngroups = 0;
	for (;;) {
		p += strspn(p, GROUPS_SEPARATORS);
		if (*p == 0)
			break;
		n = strcspn(p, GROUPS_SEPARATORS);
		if (!cql_region_valid(p, n)) {
			snprintf(err, errlen, "bad region '%.*s' (lower-case letters, digits "
				 "and '-', at most %d)", (int)(n > CQL_REGION_MAX ? CQL_REGION_MAX : n),
				 p, CQL_REGION_MAX - 1);
			return -1;
		}
		for (g = groups; g < groups + *ngroups; g++)
			if (strlen(g->region) == n && memcmp(g->region, p, n) == 0)
				break;
		if (g == groups + *ngroups) {
			if (*ngroups == CQL_MAX_STANDBY) {
				snprintf(err, errlen, "more than %d regions", CQL_MAX_STANDBY);
				return -1;
			}
			memset(g, 0, sizeof(*g));
			memcpy(g->region, p, n);
			cql_region_endpoint(g->region, g->hosts[0].host, CQL_HOST_MAX);
			g->hosts[0].port = CQL_DEFAULT_TLS_PORT;
			g->nhosts = 1;
			(*ngroups)++;
		}
		p += n;
	}
	if (*ngroups == 0) {
		snprintf(err, errlen, "no region given");
		return -1;
	}
	return 0;
}
