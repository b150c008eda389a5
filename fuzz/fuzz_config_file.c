/*
 * fuzz_config_file - libFuzzer target for the map configuration file parser
 *
 * The input is a whole configuration file, parsed over the six default
 * maps. Success means every map has a query that passes the query check
 * and a valid result format; failure means a "line N:" or "map [...]"
 * message, NUL-terminated inside the error buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "result_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct map_defaults d = {
		.delimiters = "+", .ttl_ms = 300000, .negative_ttl_ms = 30000,
		.stale_ms = 3600000,
	};
	static struct map_registry reg;
	char err[256], e2[256];
	const char *why;
	size_t i;

	if (size > CONFIG_FILE_MAX)
		return 0;
	if (map_registry_defaults(&reg, "mailion", &d, e2, sizeof(e2)) != 0)
		abort();
	memset(err, 'Z', sizeof(err));
	if (config_file_parse((const char *)data, size, &reg, &d, err, sizeof(err)) != 0) {
		if (memchr(err, 0, sizeof(err)) == NULL ||
		    (strncmp(err, "line ", 5) != 0 && strncmp(err, "map [", 5) != 0))
			abort();
		return 0;
	}
	if (reg.n < 6 || reg.n > MAP_MAX)
		abort();
	for (i = 0; i < reg.n; i++) {
		const struct map_def *m = &reg.maps[i];

		if (memchr(m->name, 0, sizeof(m->name)) == NULL || m->name[0] == 0 ||
		    config_query_check(m->query, &why) != 0 ||
		    result_format_check(m->result_format, &why) != 0 ||
		    m->id != i || m->ttl_ms < 0 || m->negative_ttl_ms < 0 || m->stale_ms < 0 ||
		    map_registry_find(&reg, m->name, strlen(m->name)) != m)
			abort();
	}
	return 0;
}
