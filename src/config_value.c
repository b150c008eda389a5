/*
 * config_value - the value syntax shared by the environment and the map file
 * (see config_value.h)
 */
#include <string.h>
#include <strings.h>

#include "config_value.h"

/*
 * "1" and "0" are kept: both parsers accepted them before they were one,
 * and an EnvironmentFile that says CACHE=0 must not stop a running service
 * at its next restart.
 */
static const char *const config_true[] = { "yes", "on", "true", "1" };
static const char *const config_false[] = { "no", "off", "false", "0" };

#define CONFIG_BOOL_WORDS	(sizeof(config_true) / sizeof(config_true[0]))

/* config_bool_parse - 1, 0, or -1 when value is neither */
int config_bool_parse(const char *value)
{
	size_t i;

	for (i = 0; i < CONFIG_BOOL_WORDS; i++) {
		if (strcasecmp(value, config_true[i]) == 0)
			return 1;
		if (strcasecmp(value, config_false[i]) == 0)
			return 0;
	}
	return -1;
}
