/*
 * fuzz_cql_hosts - libFuzzer target for the CASSANDRA_HOSTS parser
 *
 * The input is the variable's value (up to its first NUL). Checked beyond
 * memory safety: an error leaves a non-empty, terminated message; a
 * success has 1 to CQL_MAX_HOSTS entries, each a non-empty terminated
 * name without separators and a port from 1 to 65535, each name made of
 * the input's bytes; and writing the entries back as a list
 * ("[name]:port" where the name has a ':' or starts with '[') parses to
 * the same entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql/cql_hosts.h"

#define FUZZ_INPUT_MAX	(CQL_MAX_HOSTS * (CQL_HOST_MAX + 16))
#define FUZZ_ERR_MAX	128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_entry - one parsed entry is well formed and comes from the input */
static void check_entry(const struct cql_host_spec *h, const char *input)
{
	size_t len = strnlen(h->host, sizeof(h->host));

	if (len == 0 || len == sizeof(h->host) || h->port == 0)
		abort();
	if (strpbrk(h->host, ", ") != NULL || strstr(input, h->host) == NULL)
		abort();
}

/* round_trip - the entries written back as a list parse to themselves */
static void round_trip(const struct cql_host_spec *hosts, size_t n)
{
	static struct cql_host_spec again[CQL_MAX_HOSTS];
	static char list[FUZZ_INPUT_MAX * 2];
	char err[FUZZ_ERR_MAX];
	size_t i, len = 0, n2;

	for (i = 0; i < n; i++) {
		int bracket = strchr(hosts[i].host, ':') != NULL || hosts[i].host[0] == '[';

		len += (size_t)snprintf(list + len, sizeof(list) - len, bracket ? "%s[%s]:%u" :
					"%s%s:%u", i ? "," : "", hosts[i].host,
					(unsigned)hosts[i].port);
	}
	if (cql_hosts_parse(list, CQL_DEFAULT_PORT, again, &n2, err, sizeof(err)) != 0 || n2 != n)
		abort();
	for (i = 0; i < n; i++)
		if (strcmp(again[i].host, hosts[i].host) != 0 || again[i].port != hosts[i].port)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cql_host_spec hosts[CQL_MAX_HOSTS];
	static char input[FUZZ_INPUT_MAX + 1];
	char err[FUZZ_ERR_MAX];
	size_t i, n = 0;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	memcpy(input, data, size);
	input[size] = 0;
	memset(err, 0, sizeof(err));
	if (cql_hosts_parse(input, CQL_DEFAULT_PORT, hosts, &n, err, sizeof(err)) != 0) {
		if (err[0] == 0 || memchr(err, 0, sizeof(err)) == NULL || n > CQL_MAX_HOSTS)
			abort();
		return 0;
	}
	if (n < 1 || n > CQL_MAX_HOSTS)
		abort();
	for (i = 0; i < n; i++)
		check_entry(&hosts[i], input);
	round_trip(hosts, n);
	return 0;
}
