/*
 * fuzz_socketmap - libFuzzer target for the socketmap request parser and
 * the reply encoder
 *
 * The input is one netstring payload. A parsed request must describe the
 * input exactly (name, one space, key); the reply carrying the key as data
 * must be a netstring our decoder reads back, or be refused when over the
 * 100000-byte limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "socketmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *why, *payload;
	struct socketmap_request req;
	size_t plen, consumed, i;
	struct buf b;
	int rc, st;

	if (socketmap_parse_request(p, size, &req, &why) != 0) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (req.name != p || req.name_len == 0 || req.name_len > SOCKETMAP_NAME_MAX ||
	    req.key != p + req.name_len + 1 || req.name_len + 1 + req.key_len != size ||
	    p[req.name_len] != ' ')
		abort();
	for (i = 0; i < req.name_len; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			abort();
	for (st = SOCKETMAP_OK; st <= SOCKETMAP_PERM; st++) {
		const char *word = socketmap_status_name((enum socketmap_status)st);
		size_t wl = strlen(word);

		buf_init(&b);
		rc = socketmap_encode_reply(&b, (enum socketmap_status)st, req.key, req.key_len);
		if (wl + 1 + req.key_len > SOCKETMAP_REPLY_MAX) {
			if (rc != -1 || b.len != 0)
				abort();
		} else {
			if (rc != 0 || b.oom ||
			    netstring_decode((char *)b.data, b.len, NETSTRING_MAX_LEN, &payload,
					     &plen, &consumed, &why) != NETSTRING_COMPLETE ||
			    consumed != b.len || plen != wl + 1 + req.key_len ||
			    memcmp(payload, word, wl) != 0 || payload[wl] != ' ' ||
			    memcmp(payload + wl + 1, req.key, req.key_len) != 0)
				abort();
		}
		buf_free(&b);
	}
	return 0;
}
