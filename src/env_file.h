/*
 * env_file - parse a systemd EnvironmentFile= (pure)
 *
 * SYNOPSIS
 *	#include "env_file.h"
 *
 * DESCRIPTION
 *	env_file_parse() reads the text of an environment file the way
 *	systemd.exec(5) describes EnvironmentFile=: one NAME=VALUE per
 *	line; blank lines, lines starting with '#' or ';', and lines
 *	without '=' or with an invalid name are ignored; blanks around the
 *	name and the value are dropped; a value in double quotes keeps its
 *	blanks and takes backslash escapes (\" \\ \$ \`), one in single
 *	quotes is taken as it is; a backslash at the end of a line joins the
 *	next line. Each assignment is handed to the callback in file order
 *	(a later one for the same name wins, as in systemd).
 *
 * DIAGNOSTICS
 *	0, or -1 with err naming the line (an unterminated quote, a line
 *	or value over ENV_FILE_LINE_MAX bytes, or the callback's refusal).
 */
#ifndef PAC_ENV_FILE_H
#define PAC_ENV_FILE_H

#include <stddef.h>

#define ENV_FILE_LINE_MAX	8192	/* bytes of one logical line */
#define ENV_FILE_NAME_MAX	255	/* bytes of a variable name */

/* env_file_fn - one assignment; nonzero stops the parse with an error */
typedef int env_file_fn(void *ctx, const char *name, const char *value);

/* env_file_parse - every assignment of text[0..len) to fn; 0 or -1 with err */
int env_file_parse(const char *text, size_t len, env_file_fn *fn, void *ctx,
		   char *err, size_t errlen);

#endif
