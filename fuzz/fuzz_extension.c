/*
 * fuzz_extension - libFuzzer target for extension propagation
 *
 * Input: <extension> NUL <value>. The output keeps every byte of the value
 * in order and adds the extension a whole number of times (once per
 * non-blank element); with an empty extension it is the value itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extension.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	const char *ext, *val;
	size_t elen, vlen;
	struct buf b;

	if (nul == NULL)
		return 0;
	ext = (const char *)data;
	elen = (size_t)(nul - data);
	val = (const char *)nul + 1;
	vlen = size - elen - 1;
	buf_init(&b);
	extension_propagate(val, vlen, ext, elen, &b);
	if (b.oom || b.len < vlen)
		abort();
	if (elen == 0 && (b.len != vlen || (vlen > 0 && memcmp(b.data, val, vlen) != 0)))
		abort();
	if (elen > 0 && (b.len - vlen) % elen != 0)
		abort();
	buf_free(&b);
	return 0;
}
