/*
 * config_value - the value syntax shared by the environment and the map file
 *
 * SYNOPSIS
 *	#include "config_value.h"
 *
 *	int config_bool_parse(const char *value);
 *
 * DESCRIPTION
 *	One yes/no parser, so that a word the environment accepts is also
 *	accepted in the map configuration file and the other way round:
 *	yes, on, true (and 1) are 1; no, off, false (and 0) are 0; case does
 *	not matter. Anything else is -1, and the caller's message says the
 *	words the README uses for that setting: CONFIG_BOOL_YES_NO or
 *	CONFIG_BOOL_ON_OFF.
 *	Pure: no I/O, no globals.
 */
#ifndef PAC_CONFIG_VALUE_H
#define PAC_CONFIG_VALUE_H

/* What is allowed, for error messages ("expected " CONFIG_BOOL_ON_OFF). */
#define CONFIG_BOOL_YES_NO	"yes or no (also on/off, true/false)"
#define CONFIG_BOOL_ON_OFF	"on or off (also yes/no, true/false)"

/* config_bool_parse - 1, 0, or -1 when value is neither */
int config_bool_parse(const char *value);

#endif
