/*
 * test_map_reload - the maps built from the defaults and the map file
 *
 * map_reload_build is what startup and every SIGHUP use: the default path
 * may be absent, an explicit one must exist, errors name the file (and the
 * line), a file over CONFIG_FILE_MAX is refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_file.h"
#include "map_reload.h"

static const struct map_defaults defaults = {
	.delimiters = "+", .ttl_ms = 300000, .negative_ttl_ms = 30000, .stale_ms = 3600000,
};

/* write_file - a temporary map file holding text (len bytes); its path in path */
static void write_file(char *path, size_t size, const char *text, size_t len)
{
	int fd;

	snprintf(path, size, "/tmp/test_map_reload.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* build - map_reload_build from path (explicit or not) into reg */
static int build(const char *path, int explicit_path, struct map_registry *reg,
		 char *err, size_t size)
{
	struct map_source src = { path, explicit_path, "mailion", &defaults };

	err[0] = 0;
	return map_reload_build(&src, reg, err, size);
}

static void test_file_overlays_defaults(void **state)
{
	static struct map_registry reg;
	const char *text = "[sender_login_maps]\n"
			   "query = SELECT owner FROM mailion.logins WHERE address = ?\n";
	char path[64], err[512];

	(void)state;
	write_file(path, sizeof(path), text, strlen(text));
	assert_int_equal(build(path, 1, &reg, err, sizeof(err)), 0);
	assert_int_equal(reg.n, 7);
	assert_non_null(map_registry_find(&reg, "sender_login_maps", 17));
	assert_non_null(map_registry_find(&reg, "users", 5));
	unlink(path);
}

static void test_explicit_path_must_exist(void **state)
{
	static struct map_registry reg;
	char err[512];

	(void)state;
	assert_int_equal(build("/nonexistent/pac.conf", 1, &reg, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/pac.conf: No such file or directory");
}

static void test_default_path_may_be_absent(void **state)
{
	static struct map_registry reg;
	char err[512];

	(void)state;
	if (access(CONFIG_FILE_DEFAULT, F_OK) == 0)
		skip();		/* this machine has one: not the case under test */
	/* Not explicit: the path given is not even looked at. */
	assert_int_equal(build("/nonexistent/pac.conf", 0, &reg, err, sizeof(err)), 0);
	assert_int_equal(reg.n, 6);
}

static void test_errors_name_file_and_line(void **state)
{
	static struct map_registry reg;
	const char *text = "[users]\nresult_format = %x\n";
	char path[64], err[512], want[600];

	(void)state;
	write_file(path, sizeof(path), text, strlen(text));
	assert_int_equal(build(path, 1, &reg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: line 2: [users] result_format has an unknown", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
}

static void test_too_large_refused(void **state)
{
	static struct map_registry reg;
	size_t len = CONFIG_FILE_MAX + 1;
	char *text = malloc(len), path[64], err[512], want[600];

	(void)state;
	assert_non_null(text);
	memset(text, '#', len);
	write_file(path, sizeof(path), text, len);
	free(text);
	assert_int_equal(build(path, 1, &reg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_overlays_defaults),
		cmocka_unit_test(test_explicit_path_must_exist),
		cmocka_unit_test(test_default_path_may_be_absent),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_too_large_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
