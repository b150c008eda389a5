/*
 * service - sd_notify, watchdog and socket activation (see service.h)
 */
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "service.h"

#define SERVICE_LINE_MAX	512	/* bytes of one sd_notify line */

/* service_notify - one notification line */
void service_notify(const char *state)
{
	(void)sd_notify(0, state);
}

/* service_status - STATUS= with formatted text */
void service_status(const char *fmt, ...)
{
	char line[SERVICE_LINE_MAX];
	va_list ap;
	int n = snprintf(line, sizeof(line), "STATUS=");

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	(void)sd_notify(0, line);
}

/* service_watchdog_ms - ping interval: half of WatchdogSec */
int64_t service_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	return (int64_t)(usec / 2000);
}

/* service_listen_fds - sockets from socket activation */
int service_listen_fds(void)
{
	int n = sd_listen_fds(1);

	return n > 0 ? n : 0;
}
