/*
 * env_file - parse a systemd EnvironmentFile= (see env_file.h)
 *
 * DESCRIPTION
 *	The text is cut into logical lines (a trailing backslash joins the
 *	next), each copied into a bounded buffer, then split at the first
 *	'='. The value is unquoted into the same buffer: it never grows.
 */
#include <stdio.h>
#include <string.h>

#include "env_file.h"

/* is_blank - space or tab */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* valid_name - letters, digits and '_', not starting with a digit */
static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ENV_FILE_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* unquote - v (NUL-terminated, trimmed) in place; -1 for an unterminated quote */
static int unquote(char *v)
{
	size_t n = strlen(v), i, o = 0;
	char q = v[0];

	if (n == 0 || (q != '"' && q != '\''))
		return 0;
	for (i = 1; i < n; i++) {
		if (v[i] == q) {
			if (i + 1 != n)
				return -1;	/* text after the closing quote */
			v[o] = 0;
			return 0;
		}
		if (q == '"' && v[i] == '\\' && i + 1 < n && strchr("\"\\$`", v[i + 1]))
			i++;
		v[o++] = v[i];
	}
	return -1;
}

/* one_line - parse one logical line; 0, or -1 with err */
static int one_line(char *line, unsigned lineno, env_file_fn *fn, void *ctx,
		    char *err, size_t errlen)
{
	char *p = line, *eq, *name_end, *v, *end;

	while (is_blank(*p))
		p++;
	if (*p == 0 || *p == '#' || *p == ';' || (eq = strchr(p, '=')) == NULL)
		return 0;
	for (name_end = eq; name_end > p && is_blank(name_end[-1]); name_end--)
		;
	if (!valid_name(p, (size_t)(name_end - p)))
		return 0;	/* systemd ignores it too */
	*name_end = 0;
	for (v = eq + 1; is_blank(*v); v++)
		;
	for (end = v + strlen(v); end > v && is_blank(end[-1]); end--)
		;
	*end = 0;
	if (unquote(v) != 0) {
		snprintf(err, errlen, "line %u: %s: unterminated quote", lineno, p);
		return -1;
	}
	if (fn(ctx, p, v) != 0) {
		snprintf(err, errlen, "line %u: %s: refused", lineno, p);
		return -1;
	}
	return 0;
}

/* env_file_parse - every assignment of text to fn, in order */
int env_file_parse(const char *text, size_t len, env_file_fn *fn, void *ctx,
		   char *err, size_t errlen)
{
	char line[ENV_FILE_LINE_MAX + 1];
	size_t i = 0, n = 0;
	unsigned lineno = 1, first = 1;

	while (i <= len) {
		char c = i < len ? text[i] : '\n';

		i++;
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (n > 0 && line[n - 1] == '\\') {	/* joined with the next line */
				n--;
				lineno++;
				continue;
			}
			line[n] = 0;
			if (one_line(line, first, fn, ctx, err, errlen) != 0)
				return -1;
			n = 0;
			first = ++lineno;
			continue;
		}
		if (c == 0 || n == ENV_FILE_LINE_MAX) {
			snprintf(err, errlen, "line %u: %s", first,
				 c == 0 ? "a NUL byte" : "too long");
			return -1;
		}
		line[n++] = c;
	}
	return 0;
}
