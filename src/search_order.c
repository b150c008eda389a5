/*
 * search_order - the keys Postfix would try, for a socketmap (see .h)
 *
 * DESCRIPTION
 *	The rules follow Postfix's own code, which decides when the man
 *	pages are vague: split_addr() for where an extension starts,
 *	mail_addr_find() for the address forms, check_domain_access() and
 *	check_addr_access() in smtpd for host names and client addresses,
 *	transport_lookup() for transport(5).
 */
#include <string.h>
#include <strings.h>

#include "search_order.h"

/* Local parts Postfix never splits (split_addr: postmaster, MAILER-DAEMON,
 * the default double_bounce_sender). */
static const char *const never_split[] = {
	"postmaster", "mailer-daemon", "double-bounce",
};

#define OWNER_PREFIX	"owner-"
#define REQUEST_SUFFIX	"-request"

/* add - append a candidate unless it is already there or cannot exist */
static void add(struct search_candidates *out, const char *a, size_t alen,
		const char *b, size_t blen)
{
	size_t i, n = alen + blen;

	if (out->n == SEARCH_MAX_CANDIDATES || n == 0 || n > LOOKUP_KEY_MAX)
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

/* same_ci - ASCII case-insensitive equality of a counted string and a C string */
static int same_ci(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/*
 * ext_start - where the extension begins in the local part, or ulen when
 * Postfix's split_addr() would not split it: the special local parts,
 * owner-* and *-request when '-' is a delimiter (owner_request_special),
 * a local part that starts with a delimiter (strcspn() == 0), or none.
 */
static size_t ext_start(const char *user, size_t ulen, const char *delims)
{
	size_t i, rlen = sizeof(REQUEST_SUFFIX) - 1;

	if (*delims == 0)
		return ulen;
	for (i = 0; i < sizeof(never_split) / sizeof(never_split[0]); i++)
		if (same_ci(user, ulen, never_split[i]))
			return ulen;
	if (strchr(delims, '-') != NULL) {
		if (ulen >= sizeof(OWNER_PREFIX) - 1 &&
		    strncasecmp(user, OWNER_PREFIX, sizeof(OWNER_PREFIX) - 1) == 0)
			return ulen;
		if (ulen > rlen && strncasecmp(user + ulen - rlen, REQUEST_SUFFIX, rlen) == 0)
			return ulen;
	}
	for (i = 0; i < ulen; i++)
		if (user[i] != 0 && strchr(delims, user[i]) != NULL)
			return i == 0 ? ulen : i;	/* a leading delimiter: no split */
	return ulen;
}

/* parent_style - the parent style in effect for a kind */
static enum search_parent parent_style(const struct search_settings *s)
{
	if (s->parent_domains != SEARCH_PARENT_DEFAULT)
		return (enum search_parent)s->parent_domains;
	switch (s->kind) {
	case SEARCH_ACCESS:
		return SEARCH_PARENT_PLAIN;	/* smtpd_access_maps is in Postfix's
						 * parent_domain_matches_subdomains */
	case SEARCH_TRANSPORT:
		return SEARCH_PARENT_DOT;	/* transport_maps is not */
	default:
		return SEARCH_PARENT_NONE;
	}
}

/*
 * add_domain - the domain, then its parents as Postfix's domain loop walks
 * them: with PLAIN "a.b.c", "b.c", "c"; with DOT "a.b.c", ".b.c", ".c".
 * The next name starts at the first '.' after the current name's first
 * byte, so "a.b.c." ends in "c." (PLAIN) or "." (DOT), as in Postfix.
 */
static void add_domain(struct search_candidates *out, const char *dom,
		       size_t dlen, enum search_parent style)
{
	const char *name = dom, *end = dom + dlen, *next;

	while (name < end) {
		add(out, name, (size_t)(end - name), "", 0);
		if (style == SEARCH_PARENT_NONE ||
		    (next = memchr(name + 1, '.', (size_t)(end - name - 1))) == NULL)
			break;
		name = style == SEARCH_PARENT_PLAIN ? next + 1 : next;
	}
}

/* ipv4_like - four dotted decimal bytes, as Postfix's valid_ipv4_hostaddr */
static int ipv4_like(const char *s, size_t len)
{
	size_t i, digits = 0, dots = 0;
	unsigned val = 0;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			val = val * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || val > 255)
				return 0;
		} else if (s[i] == '.' && digits > 0 && dots < 3) {
			dots++;
			digits = 0;
			val = 0;
		} else {
			return 0;
		}
	}
	return dots == 3 && digits > 0;
}

/* ipv6_like - hex digits and ':' (a dotted IPv4 tail allowed), two ':' at least */
static int ipv6_like(const char *s, size_t len)
{
	size_t i, colons = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == ':')
			colons++;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F') || c == '.'))
			return 0;
	}
	return colons >= 2;
}

/*
 * add_address_parents - a client address and its parent networks, as
 * smtpd's check_addr_access(): cut at the last delimiter ('.' for IPv4,
 * ':' for IPv6) until none is left. Never domain-style suffixes.
 */
static void add_address_parents(struct search_candidates *out, const char *a,
				size_t len, char delim)
{
	while (len > 0) {
		add(out, a, len, "", 0);
		while (len > 0 && a[len - 1] != delim)
			len--;
		if (len > 0)
			len--;		/* drop the delimiter itself */
	}
}

/* search_order_expand - candidates in priority order */
void search_order_expand(const struct search_settings *s, const char *key,
			 size_t len, struct search_candidates *out)
{
	const char *at = NULL, *dom;
	size_t i, ulen, dlen, ext;
	enum search_parent style = parent_style(s);

	out->n = 0;
	out->ext_cand = SEARCH_NO_EXT;
	out->ext_off = out->ext_len = 0;
	for (i = len; i > 0; i--)
		if (key[i - 1] == '@') {
			at = key + i - 1;
			break;
		}
	add(out, key, len, "", 0);		/* the full key always comes first */
	if (s->kind == SEARCH_EXACT)
		return;
	if (at == NULL) {			/* a bare domain, host or address */
		switch (s->kind) {
		case SEARCH_ACCESS:
			if (ipv6_like(key, len))
				add_address_parents(out, key, len, ':');
			else if (ipv4_like(key, len))
				add_address_parents(out, key, len, '.');
			else
				add_domain(out, key, len, style);
			break;
		case SEARCH_TRANSPORT:
			add_domain(out, key, len, style);
			add(out, "*", 1, "", 0);
			break;
		case SEARCH_DOMAIN:
			add_domain(out, key, len, style);
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
		if (ext < ulen) {
			size_t before = out->n;

			add(out, key, ext, at, dlen + 1);	/* user@domain */
			if (out->n > before) {
				out->ext_cand = before;
				out->ext_off = ext;
				out->ext_len = ulen - ext;
			}
		}
		if (dlen > 0)
			add(out, at, dlen + 1, "", 0);		/* @domain */
		break;
	case SEARCH_ACCESS:
		if (ext < ulen)
			add(out, key, ext, at, dlen + 1);
		add_domain(out, dom, dlen, style);
		add(out, key, ulen + 1, "", 0);			/* user+ext@ */
		if (ext < ulen)
			add(out, key, ext, "@", 1);		/* user@ */
		break;
	case SEARCH_TRANSPORT:
		if (ext < ulen)
			add(out, key, ext, at, dlen + 1);
		add_domain(out, dom, dlen, style);
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

/* search_parent_parse - "yes", "dot", "no" to a parent style; -1 if none */
int search_parent_parse(const char *name)
{
	if (!strcasecmp(name, "yes") || !strcasecmp(name, "on") || !strcasecmp(name, "true"))
		return SEARCH_PARENT_PLAIN;
	if (!strcasecmp(name, "dot"))
		return SEARCH_PARENT_DOT;
	if (!strcasecmp(name, "no") || !strcasecmp(name, "off") || !strcasecmp(name, "false"))
		return SEARCH_PARENT_NONE;
	return -1;
}
