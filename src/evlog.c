/*
 * evlog - libevent's own messages, through the daemon's log (see evlog.h)
 */
#include <string.h>

#include <event2/event.h>

#include "evlog.h"

/* What libevent says when getifaddrs() fails, before ": strerror". */
#define EVLOG_GETIFADDRS	"Unable to call getifaddrs()"

/* evlog_level - our level for one libevent message */
enum log_level evlog_level(int severity, const char *msg)
{
	if (msg && strncmp(msg, EVLOG_GETIFADDRS, strlen(EVLOG_GETIFADDRS)) == 0)
		return LOG_LEVEL_DEBUG;	/* libevent falls back to UDP probes */
	switch (severity) {
	case EVENT_LOG_ERR:
		return LOG_LEVEL_ERROR;
	case EVENT_LOG_WARN:
		return LOG_LEVEL_WARN;
	case EVENT_LOG_MSG:
		return LOG_LEVEL_INFO;
	default:
		return LOG_LEVEL_DEBUG;
	}
}

/* evlog_cb - libevent's log callback */
static void evlog_cb(int severity, const char *msg)
{
	enum log_level level = evlog_level(severity, msg);

	if (log_enabled(level))
		msg_log(level, "libevent: %s", msg ? msg : "");
}

/* evlog_route - send libevent's messages to msg_log() from now on */
void evlog_route(void)
{
	event_set_log_callback(evlog_cb);
}
