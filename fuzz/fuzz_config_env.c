/*
 * fuzz_config_env - libFuzzer target for the settings table (config.c)
 *
 * The input is an environment, one NAME=value per line, read through
 * config_parse()'s getter. Success means a configuration the daemon can
 * start with (a keyspace, at least one host and one endpoint, a known TLS
 * decision); failure means a message that names a variable, NUL-terminated
 * inside the error buffer. CASSANDRA_PASSWORD_FILE is never handed over:
 * a fuzzer's path could be a FIFO or a terminal and block the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_ENV_MAX	64	/* variables read from one input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_env {
	char *line[FUZZ_ENV_MAX];
	size_t n;
};

/* fuzz_get - config_get_fn over the input's lines */
static const char *fuzz_get(void *ctx, const char *name)
{
	const struct fuzz_env *env = ctx;
	size_t i, n = strlen(name);

	if (strcmp(name, "CASSANDRA_PASSWORD_FILE") == 0)
		return NULL;
	for (i = 0; i < env->n; i++)
		if (strncmp(env->line[i], name, n) == 0 && env->line[i][n] == '=')
			return env->line[i] + n + 1;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	struct fuzz_env env = { .n = 0 };
	char err[CONFIG_ERR_MAX], *text, *p, *nl;
	size_t i, known;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (p = text; *p && env.n < FUZZ_ENV_MAX; p = nl + 1) {
		env.line[env.n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = 0;
	}
	memset(err, 'Z', sizeof(err));
	if (config_parse(&c, fuzz_get, &env, err, sizeof(err)) != 0) {
		if (memchr(err, 0, sizeof(err)) == NULL)
			abort();
		for (i = known = 0; i < config_var_count(); i++)
			known |= strstr(err, config_var_name(i)) != NULL;
		if (!known)
			abort();
	} else if (c.keyspace[0] == 0 || c.cql.nhosts == 0 || c.listen.n == 0 ||
		   (c.cql.tls.enabled != 0 && c.cql.tls.enabled != 1) ||
		   (c.auth_password && (c.username[0] == 0 || c.password[0] == 0)) ||
		   (c.auth_sigv4 && c.aws_region[0] == 0) ||
		   c.cql.max_version < 3 || c.cql.max_version > 4) {
		abort();
	}
	free(text);
	return 0;
}
