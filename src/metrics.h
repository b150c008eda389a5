/*
 * metrics - Prometheus text exposition over HTTP (evhttp), off by default
 *
 * DESCRIPTION
 *	METRICS_LISTEN=127.0.0.1:9998 serves GET (and HEAD) /metrics: lookups by map and
 *	result, cache hits, misses, stale answers, evictions and entries, CQL
 *	reads, coalesced and refresh reads, read errors by kind, a read latency
 *	histogram, the backend connection state, an estimate of Amazon
 *	Keyspaces read request units, the AWS credentials in use (when
 *	metrics_start() is handed the chain), the change table's polls (fleet
 *	invalidation, metrics_set_changes()), Postfix's connections (open, and
 *	refused at MAX_CLIENTS: metrics_watch_clients()), build info, and the
 *	process_* metrics of Prometheus' process collector (proc_stats.h).
 *	Read latencies are measured in microseconds.
 *	Only loopback addresses unless METRICS_ALLOW_REMOTE=yes (config.c).
 */
#ifndef PAC_METRICS_H
#define PAC_METRICS_H

#include <stddef.h>

struct event_base;
struct map_registry;
struct lookup_engine;
struct cache;
struct cql_failover;
struct cred_chain;
struct config;
struct metrics;

struct metrics *metrics_start(struct event_base *base, const char *listen,
			      struct map_registry *reg, struct lookup_engine *engine,
			      struct cache *cache, struct cql_failover *cql,
			      const struct cred_chain *creds, const struct config *cfg,
			      char *err, size_t errlen);
void metrics_free(struct metrics *m);

/* metrics_watch_clients - report the socketmap server's connections too */
struct sm_server;
void metrics_watch_clients(struct metrics *m, const struct sm_server *srv);
struct changes_poll;
/* metrics_set_changes - also report the change table's polls (NULL: none) */
void metrics_set_changes(struct metrics *m, const struct changes_poll *p);

/* metrics_render - the exposition text (exposed for tests and --check) */
struct buf;
void metrics_render(struct metrics *m, struct buf *out);

#endif
