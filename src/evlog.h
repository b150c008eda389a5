/*
 * evlog - libevent's own messages, through the daemon's log
 *
 * SYNOPSIS
 *	#include "evlog.h"
 *
 *	void evlog_route(void);
 *	enum log_level evlog_level(int severity, const char *msg);
 *
 * DESCRIPTION
 *	Left alone, libevent writes its messages to stderr as "[warn] ...".
 *	evlog_route() sends them to msg_log() instead, at the level that
 *	evlog_level() gives, so they honour LOG_LEVEL and LOG_TARGET.
 *
 *	One warning is expected under the systemd unit and says nothing
 *	wrong: a host name resolved with AI_ADDRCONFIG (cql_discovery.c)
 *	makes libevent look at the host's addresses with getifaddrs(), which
 *	needs an AF_NETLINK socket that the unit's RestrictAddressFamilies=
 *	forbids. libevent then finds the same answer by connecting UDP
 *	sockets (evutil_check_interfaces), so that message is debug only.
 */
#ifndef PAC_EVLOG_H
#define PAC_EVLOG_H

#include "log.h"

void evlog_route(void);
enum log_level evlog_level(int severity, const char *msg);

#endif
