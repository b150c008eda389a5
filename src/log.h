/*
 * log - the one logging call
 *
 * SYNOPSIS
 *	#include "log.h"
 *
 * DESCRIPTION
 *	One line per event, to stderr (journald adds the time) or to syslog
 *	facility mail. msg_error/msg_warn/msg_info/msg_debug are filtered by
 *	the level set with log_set_level(). msg_limited() drops repeats of
 *	the same event within an interval and reports how many were dropped,
 *	so a dead database cannot flood the log. Nothing secret is ever
 *	passed to these functions.
 */
#ifndef PAC_LOG_H
#define PAC_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

struct log_limit {
	int64_t last_ms;	/* when the last line was written */
	unsigned suppressed;	/* lines dropped since */
};

void log_init(const char *progname, int use_syslog);
void log_set_level(enum log_level level);
int log_level_parse(const char *name);	/* -1 when unknown */
int log_enabled(enum log_level level);

void msg_log(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void msg_limited(struct log_limit *lim, int64_t interval_ms,
		 enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define msg_error(...)	msg_log(LOG_LEVEL_ERROR, __VA_ARGS__)
#define msg_warn(...)	msg_log(LOG_LEVEL_WARN, __VA_ARGS__)
#define msg_info(...)	msg_log(LOG_LEVEL_INFO, __VA_ARGS__)
#define msg_debug(...)	do { if (log_enabled(LOG_LEVEL_DEBUG)) \
				msg_log(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

#endif
