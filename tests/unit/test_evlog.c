/*
 * test_evlog - the levels given to libevent's own messages
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "evlog.h"

/* The sandboxed unit's getifaddrs() failure is not worth a warning. */
static void test_getifaddrs_is_debug(void **state)
{
	(void)state;
	assert_int_equal(evlog_level(EVENT_LOG_WARN, "Unable to call getifaddrs(): "
				     "Address family not supported by protocol"),
			 LOG_LEVEL_DEBUG);
}

/* Every other message keeps libevent's severity. */
static void test_other_messages_keep_their_severity(void **state)
{
	(void)state;
	assert_int_equal(evlog_level(EVENT_LOG_WARN, "Unable to call socket(): x"),
			 LOG_LEVEL_WARN);
	assert_int_equal(evlog_level(EVENT_LOG_WARN, "Unable to call getifaddrs"),
			 LOG_LEVEL_WARN);	/* not the whole prefix */
	assert_int_equal(evlog_level(EVENT_LOG_ERR, "epoll_ctl"), LOG_LEVEL_ERROR);
	assert_int_equal(evlog_level(EVENT_LOG_MSG, "note"), LOG_LEVEL_INFO);
	assert_int_equal(evlog_level(EVENT_LOG_DEBUG, "x"), LOG_LEVEL_DEBUG);
	assert_int_equal(evlog_level(EVENT_LOG_WARN, NULL), LOG_LEVEL_WARN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getifaddrs_is_debug),
		cmocka_unit_test(test_other_messages_keep_their_severity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
