/*
 * netstring - streaming netstring decoder and encoder (pure)
 *
 * SYNOPSIS
 *	#include "netstring.h"
 *
 * DESCRIPTION
 *	A netstring is "<decimal length>:<payload>,". Postfix's socketmap
 *	client frames every request and every reply this way.
 *
 *	netstring_decode() looks at the bytes received so far and says
 *	COMPLETE (one netstring is there: payload and bytes consumed are set),
 *	NEED_MORE (a valid prefix; read more and call again with everything)
 *	or ERROR (the input can never become a valid netstring: a non-digit
 *	in the length, a leading zero, a length over the limit, a missing
 *	comma). Errors are found as early as the bytes allow, so a client
 *	announcing an oversized netstring is refused before it sends it.
 */
#ifndef PAC_NETSTRING_H
#define PAC_NETSTRING_H

#include <stddef.h>

#include "buf.h"

#define NETSTRING_MAX_LEN	100000	/* payload bytes: Postfix's socketmap limit */
#define NETSTRING_MAX_DIGITS	9	/* length digits we ever accept */
#define NETSTRING_HEAD_MAX	21	/* "<size_t in decimal>:" */

enum netstring_status {
	NETSTRING_NEED_MORE = 0,
	NETSTRING_COMPLETE = 1,
	NETSTRING_ERROR = -1,
};

/*
 * netstring_decode - decode one netstring at the start of p[0..len).
 * max is the payload limit (at most NETSTRING_MAX_LEN is sensible).
 */
enum netstring_status netstring_decode(const char *p, size_t len, size_t max,
				       const char **payload, size_t *plen,
				       size_t *consumed, const char **why);

/* netstring_encode_head - append "<n>:", the frame's start */
void netstring_encode_head(struct buf *b, size_t n);

/* netstring_encode - append "<n>:<payload>," */
void netstring_encode(struct buf *b, const void *payload, size_t n);

#endif
