/*
 * netstring - streaming netstring decoder and encoder (see netstring.h)
 *
 * DESCRIPTION
 *	Leading zeros are refused, as in D. J. Bernstein's definition
 *	("0:," is the only length that starts with 0); Postfix never sends
 *	them, so one here means a confused or hostile peer.
 */
#include "netstring.h"

/* netstring_decode - decode one netstring at the start of p[0..len) */
enum netstring_status netstring_decode(const char *p, size_t len, size_t max,
				       const char **payload, size_t *plen,
				       size_t *consumed, const char **why)
{
	size_t i, n = 0, total;

	*why = NULL;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (c == ':')
			break;
		if (c < '0' || c > '9') {
			*why = i == 0 ? "netstring does not start with a digit"
				      : "non-digit in netstring length";
			return NETSTRING_ERROR;
		}
		if (i == 1 && p[0] == '0') {
			*why = "leading zero in netstring length";
			return NETSTRING_ERROR;
		}
		if (i >= NETSTRING_MAX_DIGITS) {
			*why = "netstring length has too many digits";
			return NETSTRING_ERROR;
		}
		n = n * 10 + (size_t)(c - '0');
		if (n > max) {
			*why = "netstring longer than the limit";
			return NETSTRING_ERROR;
		}
	}
	if (i == len)
		return NETSTRING_NEED_MORE;
	if (i == 0) {
		*why = "netstring length is empty";
		return NETSTRING_ERROR;
	}
	total = i + 1 + n + 1;		/* digits ':' payload ',' */
	if (len < total)
		return NETSTRING_NEED_MORE;
	if (p[total - 1] != ',') {
		*why = "netstring does not end with a comma";
		return NETSTRING_ERROR;
	}
	*payload = p + i + 1;
	*plen = n;
	*consumed = total;
	return NETSTRING_COMPLETE;
}

/*
 * netstring_encode_head - append "<n>:", the digits by hand: a reply is
 * framed for every lookup, and printf's machinery cost more than the rest
 * of a cache hit's reply path (callgrind, bench/README.md)
 */
void netstring_encode_head(struct buf *b, size_t n)
{
	char digits[NETSTRING_HEAD_MAX];
	size_t i = sizeof(digits);

	digits[--i] = ':';
	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	buf_append(b, digits + i, sizeof(digits) - i);
}

/* netstring_encode - append "<n>:<payload>," */
void netstring_encode(struct buf *b, const void *payload, size_t n)
{
	netstring_encode_head(b, n);
	buf_append(b, payload, n);
	buf_append_byte(b, ',');
}
