/*
 * fuzz_search_order - libFuzzer target for search-order expansion
 *
 * Input: <kind byte> <parent style byte> <delimiters> NUL <key>. Keys
 * may be longer than LOOKUP_KEY_MAX (the engine expands any request key
 * and drops the candidates that cannot exist). Every candidate is
 * non-empty, NUL-terminated, at most LOOKUP_KEY_MAX bytes, unique, never
 * longer than a quoted copy of the key (2 x key + 3: quotes, escapes, "@"),
 * and made of bytes of the key and '.', '*', '@', '"', '\\'; one the engine would read (lookup_key_valid) has no
 * NUL inside. For a valid key the full key comes first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct search_candidates c;
	static char folded[LOOKUP_KEY_MAX * 4 + 1];
	struct search_settings s;
	const uint8_t *nul;
	const char *key, *why;
	size_t dlen, klen, i, j;
	int valid;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.kind = (enum search_kind)(data[0] % 5);
	s.parent_domains = data[1] % 4;
	data += 2;
	size -= 2;
	if ((nul = memchr(data, 0, size)) == NULL)
		return 0;
	dlen = (size_t)(nul - data);
	if (dlen > SEARCH_DELIM_MAX)
		return 0;
	memcpy(s.delimiters, data, dlen);
	s.delimiters[dlen] = 0;
	key = (const char *)nul + 1;
	klen = size - dlen - 1;
	if (klen > LOOKUP_KEY_MAX * 4)
		return 0;
	valid = lookup_key_valid(key, klen, &why);
	lookup_key_fold(key, klen, folded);
	key = folded;
	search_order_expand(&s, key, klen, &c);
	if (c.n > SEARCH_MAX_CANDIDATES)
		abort();
	if (valid && (c.n < 1 || c.len[0] != klen || memcmp(c.key[0], key, klen) != 0))
		abort();
	for (i = 0; i < c.n; i++) {
		if (c.len[i] == 0 || c.len[i] > 2 * klen + 3 || c.len[i] > LOOKUP_KEY_MAX ||
		    c.key[i][c.len[i]] != 0)
			abort();
		/* A NUL inside a key is possible; the engine drops such candidates. */
		if (lookup_key_valid(c.key[i], c.len[i], &why) && strlen(c.key[i]) != c.len[i])
			abort();
		for (j = 0; j < c.len[i]; j++)
			if (memchr(key, c.key[i][j], klen) == NULL &&
			    strchr(".*@\"\\", c.key[i][j]) == NULL)
				abort();
		for (j = 0; j < i; j++)
			if (c.len[j] == c.len[i] && memcmp(c.key[j], c.key[i], c.len[i]) == 0)
				abort();
	}
	if (valid && s.kind == SEARCH_EXACT && c.n != 1)
		abort();
	return 0;
}
