/*
 * search_order - the keys Postfix would try, for a socketmap (see .h)
 */
#include <string.h>

#include "search_order.h"

/* add - append a candidate unless it is already there or does not fit */
static void add(struct search_candidates *out, const char *a, size_t alen,
		const char *b, size_t blen)
{
	size_t i, n = alen + blen;

	if (out->n == SEARCH_MAX_CANDIDATES || n == 0 || n > LOOKUP_KEY_MAX + 1)
		return;
	for (i = 0; i < out->n; i++)
		if (out->len[i] == n && memcmp(out->key[i], a, alen) == 0 &&
		    memcmp(out->key[i] + alen, b, blen) == 0)
			return;
	memcpy(out->key[out->n], a, alen);
	memcpy(out->key[out->n] + alen, b, blen);
	out->key[out->n][n] = 0;
	out->len[out->n++] = n;
}

/* ext_start - where the extension begins in the local part, or ulen */
static size_t ext_start(const char *user, size_t ulen, const char *delims)
{
	size_t i;

	if (*delims == 0)
		return ulen;
	for (i = 1; i < ulen; i++)	/* i > 0: never strip to an empty user */
		if (strchr(delims, user[i]) != NULL)
			return i;
	return ulen;
}

/* add_parents - each parent domain of dom, with an optional "." prefix */
static void add_parents(struct search_candidates *out, const char *dom,
			size_t dlen, const char *prefix)
{
	size_t i;

	for (i = 0; i < dlen; i++)
		if (dom[i] == '.' && i + 1 < dlen)
			add(out, prefix, strlen(prefix), dom + i + 1, dlen - i - 1);
}

/* search_order_expand - candidates in priority order */
void search_order_expand(const struct search_settings *s, const char *key,
			 size_t len, struct search_candidates *out)
{
	const char *at = NULL, *dom;
	size_t i, ulen, dlen, ext;

	out->n = 0;
	for (i = len; i > 0; i--)
		if (key[i - 1] == '@') {
			at = key + i - 1;
			break;
		}
	add(out, key, len, "", 0);		/* the full key always comes first */
	if (s->kind == SEARCH_EXACT)
		return;
	if (at == NULL) {			/* a bare domain (or other token) */
		switch (s->kind) {
		case SEARCH_ACCESS:
			add_parents(out, key, len, "");
			break;
		case SEARCH_TRANSPORT:
			add_parents(out, key, len, ".");
			add(out, "*", 1, "", 0);
			break;
		case SEARCH_DOMAIN:
			if (s->parent_domains)
				add_parents(out, key, len, "");
			break;
		default:
			break;
		}
		return;
	}
	ulen = (size_t)(at - key);
	dom = at + 1;
	dlen = len - ulen - 1;
	ext = ext_start(key, ulen, s->delimiters);

	switch (s->kind) {
	case SEARCH_VIRTUAL:
		if (ulen > 0)
			add(out, key, ext, at, dlen + 1);	/* user@domain */
		if (dlen > 0)
			add(out, at, dlen + 1, "", 0);		/* @domain */
		break;
	case SEARCH_ACCESS:
		if (ulen > 0)
			add(out, key, ext, at, dlen + 1);
		if (dlen > 0) {
			add(out, dom, dlen, "", 0);
			add_parents(out, dom, dlen, "");
		}
		if (ulen > 0) {
			add(out, key, ulen + 1, "", 0);		/* user+ext@ */
			add(out, key, ext, "@", 1);		/* user@ */
		}
		break;
	case SEARCH_TRANSPORT:
		if (ulen > 0)
			add(out, key, ext, at, dlen + 1);
		if (dlen > 0) {
			add(out, dom, dlen, "", 0);
			add_parents(out, dom, dlen, ".");
		}
		add(out, "*", 1, "", 0);
		break;
	default:	/* SEARCH_DOMAIN: Postfix sends domains, not addresses */
		break;
	}
}

static const char *const search_kind_names[] = {
	"exact", "virtual", "access", "transport", "domain",
};

/* search_kind_parse - name to kind */
int search_kind_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(search_kind_names) / sizeof(search_kind_names[0]); i++)
		if (strcmp(name, search_kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/* search_kind_name - kind to name */
const char *search_kind_name(enum search_kind kind)
{
	return (size_t)kind < sizeof(search_kind_names) / sizeof(search_kind_names[0]) ?
	       search_kind_names[kind] : "unknown";
}
