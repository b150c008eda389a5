/*
 * fuzz_table_source - libFuzzer target for the Postfix table source parser
 *
 * The input is a table source file (what `import` reads). Checked beyond
 * memory safety: every entry has a non-empty key within LOOKUP_KEY_MAX
 * bytes, folded to lower case, without white space outside quotes, and a
 * value that neither starts nor ends with white space; line numbers
 * never go backwards; the parser ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_key.h"
#include "tool/table_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_entry - the promises an entry keeps */
static void check_entry(const struct table_record *r)
{
	size_t i;

	if (r->keylen == 0 || r->keylen > LOOKUP_KEY_MAX || strlen(r->key) != r->keylen ||
	    r->valuelen == 0 || r->valuelen > TABLE_VALUE_MAX || strlen(r->value) != r->valuelen)
		abort();
	for (i = 0; i < r->keylen; i++)
		if (r->key[i] >= 'A' && r->key[i] <= 'Z')
			abort();
	if (r->value[0] == ' ' || r->value[0] == '\t' || r->value[r->valuelen - 1] == ' ' ||
	    r->value[r->valuelen - 1] == '\r')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_source ts;
	struct table_record r;
	unsigned last = 0;
	int rc;

	table_source_init(&ts, (const char *)data, size);
	while ((rc = table_source_next(&ts, &r)) == 1) {
		if (r.line < last || r.line == 0)
			abort();
		last = r.line;
		if (r.why == NULL)
			check_entry(&r);
	}
	table_source_free(&ts);
	return 0;
}
