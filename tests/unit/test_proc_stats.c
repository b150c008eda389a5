/*
 * test_proc_stats - /proc/PID/stat fields, and this process's own numbers
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "proc_stats.h"

/* A real line (proc(5)), with a command name holding ") (" and blanks. */
static const char stat_line[] =
	"4242 (post) (fix x) S 1 4242 4242 0 -1 4194560 1530 0 0 0 37 12 0 0 20 0 1 0 "
	"987654 14884864 1367 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

static void test_fields_after_the_last_paren(void **state)
{
	unsigned long long cpu = 0, start = 0, vsize = 0;
	long long rss = 0;

	(void)state;
	assert_int_equal(proc_stats_parse(stat_line, strlen(stat_line), &cpu, &start, &vsize, &rss), 0);
	assert_int_equal(cpu, 37 + 12);
	assert_int_equal(start, 987654);
	assert_int_equal(vsize, 14884864);
	assert_int_equal(rss, 1367);
}

static void test_short_or_odd_lines_fail(void **state)
{
	unsigned long long cpu, start, vsize;
	long long rss;

	(void)state;
	assert_int_equal(proc_stats_parse("1 (x) S 1 2 3", 13, &cpu, &start, &vsize, &rss), -1);
	assert_int_equal(proc_stats_parse("no paren", 8, &cpu, &start, &vsize, &rss), -1);
	assert_int_equal(proc_stats_parse("", 0, &cpu, &start, &vsize, &rss), -1);
}

static void test_this_process(void **state)
{
	struct proc_stats ps;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(proc_stats_read(&ps), 0);
	assert_true(ps.start_time_s > (double)now - 3600 && ps.start_time_s <= (double)now + 1);
	assert_true(ps.open_fds >= 3);		/* stdin, stdout, stderr */
	assert_true(ps.resident_bytes > 0 && ps.virtual_bytes >= ps.resident_bytes);
	assert_true(ps.cpu_s >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_after_the_last_paren),
		cmocka_unit_test(test_short_or_odd_lines_fail),
		cmocka_unit_test(test_this_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
