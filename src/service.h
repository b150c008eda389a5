/*
 * service - what the daemon tells systemd (sd_notify) and takes from it
 *
 * DESCRIPTION
 *	Thin wrappers over libsystemd: READY/RELOADING/STOPPING/STATUS
 *	notifications, the watchdog interval, and sockets passed by socket
 *	activation. Outside systemd every call is a harmless no-op.
 */
#ifndef PAC_SERVICE_H
#define PAC_SERVICE_H

#include <stdint.h>

void service_notify(const char *state);		/* "READY=1", "STATUS=..." */
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* service_watchdog_ms - half the watchdog interval, or 0 when off */
int64_t service_watchdog_ms(void);
/* service_listen_fds - number of sockets passed (first is fd 3) */
int service_listen_fds(void);

#endif
