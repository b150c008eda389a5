/*
 * fuzz_netstring - libFuzzer target for the streaming netstring decoder
 *
 * The input is what a socketmap client sends on one connection. Checked
 * beyond memory safety: a complete netstring ends in ',' inside the input
 * and re-encodes to the same bytes; an error found on a prefix stays an
 * error on the whole input (errors are final, found as early as the bytes
 * allow); every strict prefix of a complete netstring needs more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_one - decode at p, return bytes consumed or 0 */
static size_t check_one(const char *p, size_t len)
{
	const char *payload, *why;
	size_t plen, consumed, i;
	enum netstring_status st;
	struct buf b;

	st = netstring_decode(p, len, NETSTRING_MAX_LEN, &payload, &plen, &consumed, &why);
	if (st == NETSTRING_ERROR) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (st == NETSTRING_NEED_MORE)
		return 0;
	if (consumed > len || plen > NETSTRING_MAX_LEN || p[consumed - 1] != ',' ||
	    payload < p || payload + plen > p + consumed)
		abort();
	/* Our encoder writes the same bytes (the decoder refuses leading zeros). */
	buf_init(&b);
	netstring_encode(&b, payload, plen);
	if (b.oom || b.len != consumed || memcmp(b.data, p, consumed) != 0)
		abort();
	buf_free(&b);
	/* Every strict prefix needs more (bounded to keep the target fast). */
	for (i = 0; i < consumed && i < 64; i++)
		if (netstring_decode(p, i, NETSTRING_MAX_LEN, &payload, &plen,
				     &consumed, &why) != NETSTRING_NEED_MORE)
			abort();
	netstring_decode(p, len, NETSTRING_MAX_LEN, &payload, &plen, &consumed, &why);
	return consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *payload, *why;
	size_t left = size, n, plen, consumed, i;

	/* Errors are final: an error on a prefix is an error on the whole. */
	for (i = 1; i <= size && i <= 32; i++)
		if (netstring_decode(p, i, NETSTRING_MAX_LEN, &payload, &plen,
				     &consumed, &why) == NETSTRING_ERROR &&
		    netstring_decode(p, size, NETSTRING_MAX_LEN, &payload, &plen,
				     &consumed, &why) != NETSTRING_ERROR)
			abort();
	/* A small limit too, as a caller may pass one. */
	(void)netstring_decode(p, size, 7, &payload, &plen, &consumed, &why);
	/* Several requests in one read. */
	while (left > 0 && (n = check_one(p, left)) > 0) {
		p += n;
		left -= n;
	}
	return 0;
}
