/*
 * admin - the one-shot modes: --check, --query, --flush
 *
 * SYNOPSIS
 *	#include "admin.h"
 *
 * DESCRIPTION
 *	admin_flush() (admin_flush.c) asks one running daemon, --pid PID or
 *	the systemd unit's main PID, to empty its cache (SIGUSR1). The other
 *	two run on the daemon's loop, handed what they
 *	use (the engine, the CQL session, the maps) rather than the daemon:
 *	once the session is ready and every statement settled, or at the
 *	deadline, --check reads each map once through the engine and prints
 *	a report, and --query prints the candidate keys of one key and its
 *	reply. Each ends the loop when it is done; admin_exit_code() then
 *	says how it went.
 *
 * DIAGNOSTICS
 *	--check: exit 0 when every map is usable, 1 otherwise. --query: the
 *	ADMIN_QUERY_EXIT_* code of the reply. --flush: 0 when the daemon
 *	was signalled, 1 when none runs or the signal was refused (EPERM
 *	said as such), 2 for a malformed --pid.
 */
#ifndef PAC_ADMIN_H
#define PAC_ADMIN_H

#include <stdint.h>

#include "map_registry.h"
#include "socketmap.h"

/* --query's exit codes, one per reply status */
#define ADMIN_QUERY_EXIT_OK		0
#define ADMIN_QUERY_EXIT_NOTFOUND	1
#define ADMIN_QUERY_EXIT_TEMP		3
#define ADMIN_QUERY_EXIT_PERM		4

struct cred_chain;
struct config;
struct cql_failover;
struct event_base;
struct lookup_engine;

/* What the one-shot modes use of the daemon. */
struct admin_deps {
	struct event_base *base;
	struct lookup_engine *engine;
	struct cql_failover *cql;
	struct map_registry *reg;
	const struct config *cfg;	/* what --check reports */
	struct cred_chain *creds;	/* SigV4 only, else NULL */
};

struct admin;

/* admin_flush - SIGUSR1 to pid_arg, else the unit's main PID; the exit code */
int admin_flush(const char *progname, const char *pid_arg);

/*
 * admin_check_start, admin_query_start - run --check, or --query MAP KEY,
 * on the loop (started later by the caller) until done or deadline (ms,
 * clock_now_ms). NULL: out of memory. Free after the engine and session:
 * their lookups answer into the handle.
 */
struct admin *admin_check_start(const struct admin_deps *deps, int64_t deadline);
struct admin *admin_query_start(const struct admin_deps *deps, int64_t deadline,
				const char *map, const char *key);

/* admin_exit_code - the mode's exit code once the loop ended */
int admin_exit_code(const struct admin *a);

/* admin_free - release the handle; NULL is fine */
void admin_free(struct admin *a);

#endif
