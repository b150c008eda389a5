/*
 * metrics - Prometheus text exposition over HTTP (evhttp), off by default
 *
 * DESCRIPTION
 *	METRICS_LISTEN=127.0.0.1:9998 serves GET (and HEAD) /metrics: lookups by map and
 *	result, cache hits, misses, stale answers, evictions and entries, CQL
 *	reads, coalesced and refresh reads, read errors by kind, a read latency
 *	histogram, the backend connection state, an estimate of Amazon
 *	Keyspaces read request units, the AWS credentials in use (when
 *	metrics_start() is handed the chain), client connections and build info.
 *	Only loopback addresses unless LISTEN_ALLOW_REMOTE=yes.
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

/* metrics_render - the exposition text (exposed for tests and --check) */
struct buf;
void metrics_render(struct metrics *m, struct buf *out);

#endif
