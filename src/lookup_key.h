/*
 * lookup_key - the checks and folding every key goes through (pure)
 *
 * DESCRIPTION
 *	Postfix sends keys as they came in the SMTP session: real smtpd asks
 *	for INFO@Example.COM as well as info@example.com. Keys are folded to
 *	lower case here (ASCII only: UTF-8 domain and local parts pass
 *	unchanged, as Postfix's own tables keep them). A key that cannot
 *	exist in the database (empty, not valid UTF-8, a control character,
 *	over LOOKUP_KEY_MAX bytes) is never read. The engine checks each
 *	search-order candidate, not the request key: an over-long or
 *	non-UTF-8 local part still leaves the domain candidates to read, and
 *	the answer is NOTFOUND without a query only when no candidate can
 *	exist.
 */
#ifndef PAC_LOOKUP_KEY_H
#define PAC_LOOKUP_KEY_H

#include <stddef.h>

#define LOOKUP_KEY_MAX	1024	/* bytes; an address is at most 254 (RFC 5321) + slack */

/* lookup_key_valid - 1 if the key could exist, else 0 with a reason */
int lookup_key_valid(const char *key, size_t len, const char **why);

/* lookup_key_fold - ASCII lower-case copy into out (len + 1 bytes) */
void lookup_key_fold(const char *key, size_t len, char *out);

/* lookup_utf8_valid - 1 if the len bytes are strict UTF-8 (as keys must be) */
int lookup_utf8_valid(const char *s, size_t len);

#endif
