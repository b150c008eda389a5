/*
 * config_file - the optional map configuration file (see config_file.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_file.h"
#include "config_value.h"
#include "result_format.h"

#define CONFIG_LINE_MAX		2048	/* bytes in one line */
#define QUERY_KEYWORD		"select"	/* a map's query starts so, any case */
#define QUERY_KEYWORD_LEN	(sizeof(QUERY_KEYWORD) - 1)
#define CONFIG_TTL_MAX_S	(86400 * 7)

/* config_query_check - a SELECT with exactly one '?' outside quotes */
int config_query_check(const char *q, const char **why)
{
	const char *p;
	int markers = 0;
	char quote = 0;

	while (*q == ' ' || *q == '\t')
		q++;
	if (strncasecmp(q, QUERY_KEYWORD, QUERY_KEYWORD_LEN) != 0 ||
	    (q[QUERY_KEYWORD_LEN] != ' ' && q[QUERY_KEYWORD_LEN] != '\t')) {
		*why = "query must be a SELECT";
		return -1;
	}
	for (p = q; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '?') {
			markers++;
		} else if (*p == ';' && p[1] != 0) {
			*why = "query must be one statement";
			return -1;
		}
	}
	if (quote) {
		*why = "query has an unterminated quote";
		return -1;
	}
	if (markers != 1) {
		*why = "query must have exactly one bind marker '?' (for the key)";
		return -1;
	}
	*why = NULL;
	return 0;
}

/* trim - strip blanks at both ends, in place */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/*
 * strip_comment - cut a '#' comment that starts the line or follows a
 * blank, outside quotes (a CQL string literal may hold " #"), in place
 */
static void strip_comment(char *s)
{
	char quote = 0, *p;

	for (p = s; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = 0;
			return;
		}
	}
}

/* parse_bool - yes/no and friends; -1 if neither */
static int parse_bool(const char *v)
{
	return config_bool_parse(v);	/* the environment's words too */
}

/* parse_seconds - 0..CONFIG_TTL_MAX_S to milliseconds; -1 if bad */
static long long parse_seconds(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == 0 || *end != 0 || n < 0 || n > CONFIG_TTL_MAX_S)
		return -1;
	return (long long)n * 1000;
}

/* new_map - add a map with the defaults and no query yet */
static struct map_def *new_map(struct map_registry *reg, const char *name,
			       const struct map_defaults *d)
{
	struct map_def *m;

	if (reg->n == MAP_MAX)
		return NULL;
	m = &reg->maps[reg->n];
	memset(m, 0, sizeof(*m));
	m->id = (uint32_t)reg->n++;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->result_format, sizeof(m->result_format), "%%s");
	m->search.kind = SEARCH_EXACT;
	snprintf(m->search.delimiters, sizeof(m->search.delimiters), "%s", d->delimiters);
	m->fold_case = 1;
	m->ttl_ms = d->ttl_ms;
	m->negative_ttl_ms = d->negative_ttl_ms;
	m->stale_ms = d->stale_ms;
	return m;
}

/* set_param - one "name = value" inside a section */
static int set_param(struct map_def *m, const char *k, const char *v,
		     char *err, size_t errlen)
{
	const char *why;
	long long ms;
	int b;

	if (!strcmp(k, "query")) {
		if (strlen(v) >= sizeof(m->query)) {
			snprintf(err, errlen, "query longer than %d bytes", MAP_QUERY_MAX - 1);
			return -1;
		}
		if (config_query_check(v, &why) != 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		snprintf(m->query, sizeof(m->query), "%s", v);
	} else if (!strcmp(k, "result_format")) {
		if (strlen(v) >= sizeof(m->result_format) || *v == 0) {
			snprintf(err, errlen, "result_format must be 1 to %d bytes", MAP_FORMAT_MAX - 1);
			return -1;
		}
		if (result_format_check(v, &why) != 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		snprintf(m->result_format, sizeof(m->result_format), "%s", v);
	} else if (!strcmp(k, "search")) {
		int kind = search_kind_parse(v);

		if (kind < 0) {
			snprintf(err, errlen, "search '%s': expected exact, virtual, access, transport or domain", v);
			return -1;
		}
		m->search.kind = (enum search_kind)kind;
	} else if (!strcmp(k, "parent_domains")) {
		if ((b = search_parent_parse(v)) < 0) {
			snprintf(err, errlen, "%s '%s': expected yes, dot or no", k, v);
			return -1;
		}
		m->search.parent_domains = b;
	} else if (!strcmp(k, "fold_case") || !strcmp(k, "propagate_extension")) {
		if ((b = parse_bool(v)) < 0) {
			snprintf(err, errlen, "%s '%s': expected yes or no", k, v);
			return -1;
		}
		if (k[0] == 'f')
			m->fold_case = b;
		else
			m->propagate_ext = b;
	} else if (!strcmp(k, "cache_ttl") || !strcmp(k, "negative_ttl") ||
		   !strcmp(k, "stale_ttl")) {
		if ((ms = parse_seconds(v)) < 0) {
			snprintf(err, errlen, "%s '%s': expected seconds from 0 to %d", k, v,
				 CONFIG_TTL_MAX_S);
			return -1;
		}
		if (k[0] == 'c')
			m->ttl_ms = ms;
		else if (k[0] == 'n')
			m->negative_ttl_ms = ms;
		else
			m->stale_ms = ms;
	} else {
		snprintf(err, errlen, "unknown parameter '%s' (query, result_format, search, "
			 "parent_domains, fold_case, propagate_extension, cache_ttl, negative_ttl, stale_ttl)", k);
		return -1;
	}
	return 0;
}

/* valid_map_name - what Postfix can put in socketmap:...:NAME */
static int valid_map_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SOCKETMAP_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* config_file_parse - apply the file to the registry */
int config_file_parse(const char *text, size_t len, struct map_registry *reg,
		      const struct map_defaults *d, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX + 1], msg[CONFIG_LINE_MAX / 2];
	struct map_def *m = NULL;
	size_t pos = 0, i;
	int lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *eq;

		lineno++;
		if (n > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "line %d: longer than %d bytes", lineno, CONFIG_LINE_MAX);
			return -1;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		pos += n + (nl != NULL);
		if (memchr(line, 0, n) != NULL) {
			snprintf(err, errlen, "line %d: NUL byte", lineno);
			return -1;
		}
		strip_comment(line);
		s = trim(line);
		if (*s == 0 || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL || end[1] != 0) {
				snprintf(err, errlen, "line %d: expected [map_name]", lineno);
				return -1;
			}
			*end = 0;
			s = trim(s + 1);
			if (!valid_map_name(s)) {
				snprintf(err, errlen, "line %d: bad map name '%s' (letters, digits, '_', '-', '.')",
					 lineno, s);
				return -1;
			}
			m = map_registry_find(reg, s, strlen(s));
			if (m == NULL && (m = new_map(reg, s, d)) == NULL) {
				snprintf(err, errlen, "line %d: more than %d maps", lineno, MAP_MAX);
				return -1;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "line %d: expected 'name = value' or '[map_name]'", lineno);
			return -1;
		}
		if (m == NULL) {
			snprintf(err, errlen, "line %d: parameter outside a [map_name] section", lineno);
			return -1;
		}
		*eq = 0;
		if (set_param(m, trim(s), trim(eq + 1), msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "line %d: [%s] %s", lineno, m->name, msg);
			return -1;
		}
	}
	for (i = 0; i < reg->n; i++) {
		if (reg->maps[i].query[0] == 0) {
			snprintf(err, errlen, "map [%s] has no query", reg->maps[i].name);
			return -1;
		}
	}
	return 0;
}
