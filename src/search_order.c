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

/*
 * unquote - the internal form of a local part, as Postfix's
 * unquote_822_local(): quotes dropped, a backslash takes the next byte as
 * is. With pos non-NULL, pos[i] is where output byte i came from.
 */
static size_t unquote(const char *l, size_t len, char *out, size_t *pos)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (l[i] == '"')
			continue;
		if (l[i] == '\\' && i + 1 < len)
			i++;
		if (pos)
			pos[n] = i;
		out[n++] = l[i];
	}
	return n;
}

/* dot_string - a local part Postfix writes without quotes (is_822_dot_string) */
static int dot_string(const char *l, size_t len)
{
	size_t i;

	if (len == 0 || l[0] == '.' || l[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c == '.' && i + 1 < len && l[i + 1] == '.') || c == ' ' || c < 0x20 ||
		    c == 0x7f || strchr("()<>@,;:\\\"[]", c) != NULL)
			return 0;
	}
	return 1;
}

/* quote - the external form of a local part (quote_822_local); returns its length */
static size_t quote(const char *l, size_t len, char *out)
{
	size_t i, n = 0;

	if (dot_string(l, len)) {
		memcpy(out, l, len);
		return len;
	}
	out[n++] = '"';
	for (i = 0; i < len; i++) {
		if (l[i] == '"' || l[i] == '\\' || l[i] == '\r')
			out[n++] = '\\';
		out[n++] = l[i];
	}
	out[n++] = '"';
	return n;
}

/*
 * The forms Postfix's mail_addr_find() asks for one address, in order:
 * the external (quoted) form before the internal one, the full local part
 * before the extension-stripped one. The key is what Postfix sent first,
 * the full external form.
 */
struct local_forms {
	const char *full_ext;		/* the key's local part */
	size_t full_ext_len;
	char full_int[LOOKUP_KEY_MAX + 1];
	size_t full_int_len;
	size_t ext;			/* split point in full_int; full_int_len: none */
	char bare_ext[2 * LOOKUP_KEY_MAX + 3];
	size_t bare_ext_len;
	size_t ext_src, ext_src_end;	/* the extension in the key, if a plain slice */
};

/* local_forms - the forms of a local part, and where its extension is */
static void local_forms(const char *l, size_t ulen, const char *delims,
			struct local_forms *f)
{
	size_t pos[LOOKUP_KEY_MAX + 1], i;

	f->full_ext = l;
	f->full_ext_len = ulen;
	if (ulen > LOOKUP_KEY_MAX || (memchr(l, '"', ulen) == NULL && memchr(l, '\\', ulen) == NULL)) {
		/* Nothing to unquote (or too long to be a key: only the bytes matter). */
		f->full_int_len = 0;
		f->ext = ext_start(l, ulen, delims);
		f->ext_src = f->ext;
		f->ext_src_end = ulen;
		f->bare_ext_len = 0;
		if (f->ext < ulen && f->ext <= LOOKUP_KEY_MAX && !dot_string(l, f->ext))
			f->bare_ext_len = quote(l, f->ext, f->bare_ext);
		return;
	}
	f->full_int_len = unquote(l, ulen, f->full_int, pos);
	f->ext = ext_start(f->full_int, f->full_int_len, delims);
	f->bare_ext_len = f->ext < f->full_int_len ? quote(f->full_int, f->ext, f->bare_ext) : 0;
	f->ext_src = f->ext_src_end = 0;
	if (f->ext < f->full_int_len) {
		f->ext_src = pos[f->ext];
		f->ext_src_end = pos[f->full_int_len - 1] + 1;
		for (i = f->ext_src; i < f->ext_src_end; i++)
			if (l[i] == '"' || l[i] == '\\')
				f->ext_src = f->ext_src_end = 0;	/* not a plain slice */
	}
}

/* int_local - the internal local part: the unquoted copy, or the key's own */
static const char *int_local(const struct local_forms *f, size_t *len)
{
	*len = f->full_int_len ? f->full_int_len : f->full_ext_len;
	return f->full_int_len ? f->full_int : f->full_ext;
}

/*
 * add_address - full external, full internal, then (when split) bare
 * external and bare internal forms, each followed by suffix. Virtual
 * alias expansion (cleanup's mail_addr_map) asks the external forms only:
 * then as_virtual is set, and the bare form is recorded as the
 * extension-stripped candidate. Access and transport lookups ask both
 * forms (MA_FORM_EXTERNAL_FIRST); smtpd's recipient validation does too,
 * and gets the internal form by sending it as a query of its own.
 */
static void add_address(struct search_candidates *out, const struct local_forms *f,
			const char *suffix, size_t slen, int as_virtual)
{
	size_t ilen, before;
	const char *il = int_local(f, &ilen);

	add(out, f->full_ext, f->full_ext_len, suffix, slen);
	if (!as_virtual)
		add(out, il, ilen, suffix, slen);
	if (f->ext >= ilen)
		return;
	before = out->n;
	if (f->bare_ext_len)
		add(out, f->bare_ext, f->bare_ext_len, suffix, slen);
	if (!as_virtual || f->bare_ext_len == 0)
		add(out, il, f->ext, suffix, slen);
	if (as_virtual && out->n > before && f->ext_src_end > f->ext_src) {
		for (; before < out->n; before++)
			out->ext_mask |= 1u << before;
		out->ext_off = f->ext_src;
		out->ext_len = f->ext_src_end - f->ext_src;
	}
}

/* search_order_expand - candidates in priority order */
void search_order_expand(const struct search_settings *s, const char *key,
			 size_t len, struct search_candidates *out)
{
	struct local_forms lf;
	const char *at = NULL, *dom;
	size_t i, ulen, dlen;
	enum search_parent style = parent_style(s);

	out->n = 0;
	out->ext_mask = 0;
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
	local_forms(key, ulen, s->delimiters, &lf);

	switch (s->kind) {
	case SEARCH_VIRTUAL:
		add_address(out, &lf, at, dlen + 1, 1);		/* user@domain */
		if (dlen > 0)
			add(out, at, dlen + 1, "", 0);		/* @domain */
		break;
	case SEARCH_ACCESS:
		add_address(out, &lf, at, dlen + 1, 0);
		add_domain(out, dom, dlen, style);
		add_address(out, &lf, "@", 1, 0);		/* user+ext@, user@ */
		break;
	case SEARCH_TRANSPORT:
		add_address(out, &lf, at, dlen + 1, 0);
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
