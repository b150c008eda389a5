/*
 * fuzz_change_set - libFuzzer target for fleet invalidation's pure part
 *
 * Input: <size byte> <query> NUL <Rows result body>. The table named by
 * the query (change_table_of_query, into a buffer of 1 + size % 64 bytes)
 * is non-empty, fits the buffer and CHANGE_TABLE_MAX; the Rows body, read
 * with change_set_read following that table, gives at most one serial, for
 * that table, and a table compared with itself never changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "change_set.h"
#include "cql/cql_proto.h"

#define FUZZ_QUERY_MAX	4096	/* bytes of query tried */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char query[FUZZ_QUERY_MAX + 1], table[64];
	const char *tables[1] = { table };
	const uint8_t *nul;
	size_t qlen, tsize;
	struct change_set set;
	struct cql_rows rows;
	struct cql_rd rd;

	if (size < 1)
		return 0;
	tsize = 1 + data[0] % sizeof(table);
	data++;
	size--;
	nul = memchr(data, 0, size);
	qlen = nul ? (size_t)(nul - data) : size;
	if (qlen > FUZZ_QUERY_MAX)
		return 0;
	memcpy(query, data, qlen);
	query[qlen] = 0;
	memset(table, 'X', sizeof(table));
	if (change_table_of_query(query, table, tsize) != 0)
		return 0;
	if (memchr(table, 0, tsize) == NULL || table[0] == 0 ||
	    strlen(table) > CHANGE_TABLE_MAX)
		abort();
	if (nul == NULL)
		return 0;
	cql_rd_init(&rd, nul + 1, size - qlen - 1);
	if (cql_decode_rows(&rd, NULL, &rows) != 0)
		return 0;
	if (change_set_read(&set, &rows, tables, 1) == 0) {
		if (set.n > 1 || (set.n == 1 && strcmp(set.table[0], table) != 0))
			abort();
		if (change_set_changed(&set, &set, table))
			abort();
	} else if (set.n != 0) {
		abort();
	}
	return 0;
}
