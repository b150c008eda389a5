/*
 * log - the one logging call (see log.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "clock.h"
#include "log.h"

#define LOG_LINE_MAX	2048	/* bytes in one log line */

static const char *log_progname = "postfix-aws-cassandra";
static int log_syslog;
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *log_level_names[] = { "error", "warning", "info", "debug" };

/* log_init - set the program name and the target */
void log_init(const char *progname, int use_syslog)
{
	log_progname = progname;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_level - lines above this level are dropped */
void log_set_level(enum log_level level)
{
	log_threshold = level;
}

/* log_level_parse - "error", "warning"/"warn", "info", "debug" */
int log_level_parse(const char *name)
{
	int i;

	if (strcasecmp(name, "warn") == 0)
		return LOG_LEVEL_WARN;
	for (i = 0; i <= LOG_LEVEL_DEBUG; i++)
		if (strcasecmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

/* log_enabled - would a line at this level be written */
int log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

/* log_write - format and emit one line, control characters made visible */
static void log_write(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[LOG_LINE_MAX];
	char *p;

	vsnprintf(line, sizeof(line), fmt, ap);
	/* Keys and server messages come from outside: keep one event one line. */
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_syslog) {
		syslog(prio[level], "%s: %s", log_level_names[level], line);
	} else {
		fprintf(stderr, "%s: %s: %s\n", log_progname,
			log_level_names[level], line);
	}
}

/* msg_log - write one line if the level is enabled */
void msg_log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_write(level, fmt, ap);
	va_end(ap);
}

/* msg_limited - at most one line per interval for this event */
void msg_limited(struct log_limit *lim, int64_t interval_ms,
		 enum log_level level, const char *fmt, ...)
{
	int64_t now = clock_now_ms();
	va_list ap;

	if (!log_enabled(level))
		return;
	if (lim->last_ms != 0 && now - lim->last_ms < interval_ms) {
		lim->suppressed++;
		return;
	}
	if (lim->suppressed)
		msg_log(level, "(%u similar messages suppressed)", lim->suppressed);
	lim->last_ms = now;
	lim->suppressed = 0;
	va_start(ap, fmt);
	log_write(level, fmt, ap);
	va_end(ap);
}
