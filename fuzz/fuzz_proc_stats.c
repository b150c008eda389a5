/*
 * fuzz_proc_stats - libFuzzer target for the /proc/PID/stat line parser
 *
 * Input: the line's bytes. The parser must stay inside them and, when it
 * succeeds, have found a ')' before the fields it read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long cpu, start, vsize;
	long long rss;

	if (proc_stats_parse((const char *)data, size, &cpu, &start, &vsize, &rss) == 0 &&
	    memchr(data, ')', size) == NULL)
		abort();
	return 0;
}
