/*
 * fuzz_env_file - libFuzzer target for the EnvironmentFile= parser
 *
 * Input: the file's bytes. Every name handed out is a valid variable name
 * and no value is longer than a line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - env_file_fn: what a caller may rely on */
static int check(void *ctx, const char *name, const char *value)
{
	size_t i, n = strlen(name);

	(void)ctx;
	if (n == 0 || n > ENV_FILE_NAME_MAX || strlen(value) > ENV_FILE_LINE_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	(void)env_file_parse((const char *)data, size, check, NULL, err, sizeof(err));
	return 0;
}
