/*
 * fuzz_result_format - libFuzzer target for result_format expansion
 *
 * Input: <format> NUL <value>. The format is first checked as the config
 * loader does; apply is run whether or not it passed (a bad format must
 * still be handled safely). A discarded value (an empty part that %d or
 * %u needs) leaves the output as it was; %s alone gives the value itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map_registry.h"
#include "result_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	char fmt[MAP_FORMAT_MAX];
	const char *val, *why;
	size_t flen, vlen;
	struct buf b;
	int rc;

	if (nul == NULL)
		return 0;
	flen = (size_t)(nul - data);
	if (flen >= sizeof(fmt))
		return 0;
	memcpy(fmt, data, flen);
	fmt[flen] = 0;
	val = (const char *)nul + 1;
	vlen = size - flen - 1;
	(void)result_format_check(fmt, &why);
	buf_init(&b);
	buf_append_str(&b, "x");
	rc = result_format_apply(fmt, val, vlen, &b);
	if (b.oom || (rc != 0 && rc != 1) || (rc == 0 && b.len != 1) || b.data[0] != 'x')
		abort();
	if (rc == 0 && strstr(fmt, "%d") == NULL && strstr(fmt, "%u") == NULL)
		abort();
	if (rc == 0 && vlen > 1 && val[0] != '@' && val[vlen - 1] != '@' &&
	    memchr(val, '@', vlen) != NULL)
		abort();		/* both parts present: never discarded */
	if (!strcmp(fmt, "%s") && (b.len != 1 + vlen || memcmp(b.data + 1, val, vlen)))
		abort();
	buf_free(&b);
	return 0;
}
