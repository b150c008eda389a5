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
 *	may be configured, as in Postfix's recipient_delimiter); it is not
 *	stripped when that would leave the local part empty.
 *
 *	SEARCH_EXACT      key
 *	SEARCH_VIRTUAL    user+ext@domain, user@domain, @domain   (virtual(5):
 *	                  virtual_alias_maps, virtual_mailbox_maps); a key
 *	                  without '@' is looked up as is, and only as is
 *	SEARCH_ACCESS     user+ext@domain, user@domain, domain, parent domains
 *	                  (parent_domain_matches_subdomains, Postfix's default
 *	                  for smtpd_access_maps), user+ext@, user@  (access(5))
 *	SEARCH_TRANSPORT  user+ext@domain, user@domain, domain, .parent
 *	                  domains, *   (transport(5))
 *	SEARCH_DOMAIN     the domain; with parent_domains, then each parent
 *	                  domain (relay_domains-style matching). Postfix asks
 *	                  domain maps for domains: an address is looked up
 *	                  as is, and only as is
 */
#ifndef PAC_SEARCH_ORDER_H
#define PAC_SEARCH_ORDER_H

#include <stddef.h>

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

struct search_settings {
	enum search_kind kind;
	char delimiters[SEARCH_DELIM_MAX + 1];	/* "" disables extensions */
	int parent_domains;			/* SEARCH_DOMAIN only */
};

struct search_candidates {
	size_t n;
	size_t len[SEARCH_MAX_CANDIDATES];
	char key[SEARCH_MAX_CANDIDATES][LOOKUP_KEY_MAX + 2];
};

/* search_order_expand - the candidates for key, in priority order */
void search_order_expand(const struct search_settings *s, const char *key,
			 size_t len, struct search_candidates *out);

/* search_kind_parse - "exact", "virtual", ... to a kind; -1 if unknown */
int search_kind_parse(const char *name);
const char *search_kind_name(enum search_kind kind);

#endif
