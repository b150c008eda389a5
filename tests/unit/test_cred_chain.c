/*
 * test_cred_chain - the credential chain's clock: expiry to the millisecond,
 * long-term credentials, the refresh margin
 *
 * SYNOPSIS
 *	build/tests/test_cred_chain
 *
 * DESCRIPTION
 *	The chain (cred_chain.c) reads the wall clock through clock_gettime()
 *	(aws_now_ms(), aws_base.c).
 *	This test defines clock_gettime() itself, so the executable's definition
 *	is the one the chain (and libevent) call: CLOCK_REALTIME can be frozen
 *	at a chosen millisecond, every other clock is the kernel's. Credentials
 *	come from the real sources: the environment, or a credential_process
 *	profile (a shell script in a temporary directory) for ones that expire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "aws/cred_chain.h"
#include "clock.h"

#define T0_MS		1893456000000LL	/* 2030-01-01T00:00:00Z */
#define SETTLE_MS	20000		/* a chain walk on a loaded machine */
#define REFRESH_WAIT_MS	20000		/* a refresh due in REFRESH_DUE_MS */
#define REFRESH_DUE_MS	1500		/* Expiration - margin - now, in the margin test */

static int64_t frozen_ms = -1;		/* CLOCK_REALTIME; -1: the kernel's */
static char dir[] = "/tmp/test_cred_chain.XXXXXX";
static int settled;

/* clock_gettime - the kernel's clocks, with CLOCK_REALTIME frozen on demand */
int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = (int)syscall(SYS_clock_gettime, id, ts);

	if (rc == 0 && id == CLOCK_REALTIME && frozen_ms >= 0) {
		ts->tv_sec = (time_t)(frozen_ms / 1000);
		ts->tv_nsec = (long)(frozen_ms % 1000) * 1000000L;
	}
	return rc;
}

/* on_settled - the first walk is over */
static void on_settled(void *arg)
{
	(void)arg;
	settled = 1;
}

/* path - a file in the test's directory */
static const char *path(const char *name)
{
	static char p[sizeof(dir) + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* count_runs - how many times the credential process ran */
static int count_runs(void)
{
	FILE *f = fopen(path("runs"), "r");
	int n = 0, c;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/*
 * use_process - the only source is a credential_process handing out
 * credentials that expire at expiration (ISO 8601)
 */
static void use_process(const char *expiration)
{
	FILE *f;

	f = fopen(path("proc.sh"), "w");
	assert_non_null(f);
	fprintf(f, "echo run >> %s\n"
		"echo '{\"Version\": 1, \"AccessKeyId\": \"ASIATEST\", "
		"\"SecretAccessKey\": \"secret\", \"SessionToken\": \"token\", "
		"\"Expiration\": \"%s\"}'\n", path("runs"), expiration);
	fclose(f);
	f = fopen(path("config"), "w");
	assert_non_null(f);
	fprintf(f, "[default]\ncredential_process = /bin/sh %s\n", path("proc.sh"));
	fclose(f);
	setenv("AWS_CONFIG_FILE", path("config"), 1);
}

/* walk - a chain on a new loop, after its first walk */
static struct cred_chain *walk(struct event_base **base)
{
	struct cred_chain *ch;
	int64_t until;

	*base = event_base_new();
	assert_non_null(*base);
	ch = cred_chain_new(*base, NULL);
	assert_non_null(ch);
	settled = 0;
	cred_chain_on_settled(ch, on_settled, NULL);
	cred_chain_start(ch);
	until = clock_now_ms() + SETTLE_MS;
	while (!settled && clock_now_ms() < until)
		event_base_loop(*base, EVLOOP_ONCE);
	assert_true(settled);
	return ch;
}

/* setup - no source but the ones a test sets up */
static int setup(void **state)
{
	(void)state;
	unlink(path("runs"));
	frozen_ms = T0_MS;
	setenv("HOME", dir, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path("no-credentials"), 1);
	setenv("AWS_CONFIG_FILE", path("no-config"), 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS");
	return 0;
}

/* Usable up to the millisecond before Expiration, not at it. */
static void test_expiry_millisecond(void **state)
{
	struct event_base *base;
	struct cred_chain *ch;
	const struct aws_credentials *c;

	(void)state;
	use_process("2030-01-01T02:00:00.500Z");
	ch = walk(&base);
	c = cred_chain_current(ch);
	assert_non_null(c);
	assert_string_equal(c->access_key_id, "ASIATEST");
	assert_int_equal(c->expiration_ms, T0_MS + 7200500);
	frozen_ms = T0_MS + 7200500 - 1;
	assert_non_null(cred_chain_current(ch));
	frozen_ms = T0_MS + 7200500;
	assert_null(cred_chain_current(ch));
	frozen_ms = T0_MS + 7200500 + 1;
	assert_null(cred_chain_current(ch));
	cred_chain_free(ch);
	event_base_free(base);
}

/* Long-term credentials (no Expiration) are never expired, whatever the time. */
static void test_long_term_never_expire(void **state)
{
	struct event_base *base;
	struct cred_chain *ch;
	const struct aws_credentials *c;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIATEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	ch = walk(&base);
	c = cred_chain_current(ch);
	assert_non_null(c);
	assert_int_equal(c->expiration_ms, 0);
	frozen_ms = 4102444800000LL;	/* 2100-01-01 */
	assert_non_null(cred_chain_current(ch));
	cred_chain_free(ch);
	event_base_free(base);
}

/*
 * The refresh comes the margin before Expiration: with a margin of an hour
 * and credentials good for an hour and REFRESH_DUE_MS, the source is asked
 * again after REFRESH_DUE_MS, not after an hour.
 */
static void test_refresh_margin(void **state)
{
	struct event_base *base;
	struct cred_chain *ch;
	int64_t until;

	(void)state;
	setenv("AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS", "3600", 1);
	use_process("2030-01-01T01:00:01.500Z");	/* T0 + 3600 s + REFRESH_DUE_MS */
	ch = walk(&base);
	assert_non_null(cred_chain_current(ch));
	assert_int_equal(count_runs(), 1);
	until = clock_now_ms() + REFRESH_WAIT_MS;
	while (count_runs() < 2 && clock_now_ms() < until) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	assert_true(count_runs() >= 2);
	cred_chain_free(ch);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_expiry_millisecond, setup),
		cmocka_unit_test_setup(test_long_term_never_expire, setup),
		cmocka_unit_test_setup(test_refresh_margin, setup),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path("runs"));
	unlink(path("proc.sh"));
	unlink(path("config"));
	rmdir(dir);
	return rc;
}
