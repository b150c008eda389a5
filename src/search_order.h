/*
 * search_order - the keys Postfix would try, for a socketmap (pure)
 *
 * SYNOPSIS
 *	#include "search_order.h"
 *
 * DESCRIPTION
 *	Postfix sends a socketmap table the full key only; the partial keys
 *	it tries for its own indexed tables ("TABLE SEARCH ORDER" in
 *	virtual(5), access(5), transport(5)) are this daemon's job. Given a
 *	folded key, search_order_expand() lists the candidates in priority
 *	order, without duplicates. The first candidate found wins.
 *
 *	Addresses split at the last '@'. The extension starts at the first
 *	recipient delimiter character in the local part (several characters
 *	may be configured, as in Postfix's recipient_delimiter), except where
 *	Postfix's split_addr() does not split: a local part that starts with
 *	a delimiter, postmaster, MAILER-DAEMON and double-bounce (any case),
 *	and with '-' among the delimiters owner-* and *-request
 *	(owner_request_special = yes, Postfix's default).
 *
 *	Postfix sends the external (quoted) form of an address first. Where
 *	the internal (unquoted) form differs ("a..b+x"@d is a..b+x@d inside),
 *	the extension is found in the internal form, and each user@domain
 *	step tries the external form, then the internal one, as
 *	mail_addr_find() does for access and transport lookups; virtual alias
 *	expansion asks the external forms only (user+ext@domain, user@domain
 *	below stand for these pairs).
 *
 *	SEARCH_EXACT      key
 *	SEARCH_VIRTUAL    user+ext@domain, user@domain, @domain   (virtual(5):
 *	                  virtual_alias_maps, virtual_mailbox_maps); a key
 *	                  without '@' is looked up as is, and only as is
 *	SEARCH_ACCESS     user+ext@domain, user@domain, domain, parent domains,
 *	                  user+ext@, user@  (access(5), smtpd's
 *	                  check_mail_access). A key without '@': an IPv4
 *	                  address 1.2.3.4, 1.2.3, 1.2, 1; an IPv6 address cut
 *	                  at each ':' from the right (check_addr_access); any
 *	                  other a host name and its parent domains
 *	                  (check_domain_access)
 *	SEARCH_TRANSPORT  user+ext@domain, user@domain, domain, parent
 *	                  domains, *   (transport(5))
 *	SEARCH_DOMAIN     the domain, and its parent domains when a parent
 *	                  style is set (relay_domains-style matching). Postfix
 *	                  asks domain maps for domains: an address is looked
 *	                  up as is, and only as is
 *
 *	Parent domains, as Postfix's parent_domain_matches_subdomains:
 *	SEARCH_PARENT_PLAIN (on) tries "example.com" for sub.example.com;
 *	SEARCH_PARENT_DOT (off) tries ".example.com"; SEARCH_PARENT_NONE
 *	none. The default is Postfix's own for the kind: PLAIN for access
 *	(smtpd_access_maps is in Postfix's default list), DOT for transport,
 *	NONE for domain maps.
 */
#ifndef PAC_SEARCH_ORDER_H
#define PAC_SEARCH_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "lookup_key.h"

#define SEARCH_MAX_CANDIDATES	16	/* keys tried for one lookup */
#define SEARCH_DELIM_MAX	8	/* recipient delimiter characters */

enum search_kind {
	SEARCH_EXACT,
	SEARCH_VIRTUAL,
	SEARCH_ACCESS,
	SEARCH_TRANSPORT,
	SEARCH_DOMAIN,
};

enum search_parent {
	SEARCH_PARENT_DEFAULT,		/* Postfix's default for the kind */
	SEARCH_PARENT_PLAIN,		/* parent_domain_matches_subdomains on */
	SEARCH_PARENT_DOT,		/* off: ".parent" keys */
	SEARCH_PARENT_NONE,		/* no parent lookups */
};

struct search_settings {
	enum search_kind kind;
	char delimiters[SEARCH_DELIM_MAX + 1];	/* "" disables extensions */
	int parent_domains;			/* an enum search_parent */
};

struct search_candidates {
	size_t n;
	/*
	 * SEARCH_VIRTUAL: bit i set when candidate i is user@domain made by
	 * stripping an extension (external or internal form), and where that
	 * extension (its delimiter included, "+foo") sits in the key: what
	 * Postfix propagates when such a candidate matches. 0 otherwise, and
	 * when the extension is not a plain slice of the key (escapes).
	 */
	uint32_t ext_mask;
	size_t ext_off, ext_len;
	size_t len[SEARCH_MAX_CANDIDATES];
	char key[SEARCH_MAX_CANDIDATES][LOOKUP_KEY_MAX + 1];
};

/* search_order_expand - the candidates for key, in priority order */
void search_order_expand(const struct search_settings *s, const char *key,
			 size_t len, struct search_candidates *out);

/* search_kind_parse - "exact", "virtual", ... to a kind; -1 if unknown */
int search_kind_parse(const char *name);
const char *search_kind_name(enum search_kind kind);

/* search_parent_parse - "yes", "dot" or "no" to a parent style; -1 if none */
int search_parent_parse(const char *name);

#endif
