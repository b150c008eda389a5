/*
 * metrics - Prometheus text exposition over HTTP (see metrics.h)
 *
 * DESCRIPTION
 *	The read request unit estimate follows Keyspaces' pricing: a
 *	LOCAL_ONE (or ONE) read of up to 4 KB is half a unit, a LOCAL_QUORUM
 *	read one unit. Rows here are far below 4 KB, so every read counts as
 *	one 4 KB read.
 *
 *	The listener is reachable by whoever can reach its port, so each
 *	request is bounded: METRICS_MAX_HEADERS bytes of request line and
 *	headers (libevent's default is unlimited: one endless header went
 *	into memory), no body, and METRICS_TIMEOUT_S of inactivity. A
 *	request over a limit is refused (libevent closes the connection).
 *	libevent 2.1 has no limit on the number of HTTP connections; each
 *	costs at most the header limit and lives at most the timeout without
 *	traffic, and descriptors are bounded by the process's limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "cache.h"
#include "changes_poll.h"
#include "clock.h"
#include "config.h"
#include "cql/cql_failover.h"
#include "listen_spec.h"
#include "log.h"
#include "lookup_engine.h"
#include "map_registry.h"
#include "metrics.h"
#include "proc_stats.h"
#include "sm_server.h"
#include "aws/cred_chain.h"
#include "socketmap.h"

#define METRICS_PREFIX	"postfix_aws_cassandra_"
#define METRICS_MAX_HEADERS	8192	/* request line and headers, bytes */
#define METRICS_MAX_BODY	0	/* bytes: a scrape is a GET or HEAD */
#define METRICS_TIMEOUT_S	10	/* idle connection, seconds */

struct metrics {
	struct evhttp *http;
	struct map_registry *reg;
	struct lookup_engine *engine;
	struct cache *cache;
	struct cql_failover *cql;
	const struct cred_chain *creds;	/* SigV4 only; NULL: no credential metrics */
	const struct config *cfg;
	const struct sm_server *srv;	/* NULL: no client metrics */
	const struct changes_poll *changes;	/* NULL: fleet invalidation off */
	int64_t started_ms;
};

/* head - HELP and TYPE lines */
static void head(struct buf *o, const char *name, const char *type, const char *help)
{
	buf_printf(o, "# HELP " METRICS_PREFIX "%s %s\n# TYPE " METRICS_PREFIX "%s %s\n",
		   name, help, name, type);
}

/* sample - HELP and TYPE lines, then the one unlabelled sample */
static void sample(struct buf *o, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	head(o, name, type, help);
	buf_printf(o, METRICS_PREFIX "%s %llu\n", name, v);
}

/* render_changes - the change table's polls (fleet invalidation) */
static void render_changes(struct buf *o, const struct changes_poll_stats *cs)
{
	sample(o, "changes_polls_total", "counter",
	       "Reads of the change table (pac_changes) that ended.", cs->polls);
	sample(o, "changes_poll_failures_total", "counter",
	       "Polls of the change table that failed or could not start (the cache is kept).",
	       cs->failures);
	sample(o, "changes_maps_invalidated_total", "counter",
	       "Maps whose cached answers were dropped because their table's serial changed.",
	       cs->maps_invalidated);
	sample(o, "changes_table_found", "gauge", "1 when the last poll read the change table.",
	       (unsigned long long)cs->table_found);
}

/* label_value - a label value escaped as the text format wants */
static void label_value(struct buf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			buf_append_str(o, "\\n");
		else
			buf_printf(o, "%c", *v);
	}
}

/* process_head - HELP and TYPE of an unprefixed process_* metric */
static void process_head(struct buf *o, const char *name, const char *type, const char *help)
{
	buf_printf(o, "# HELP process_%s %s\n# TYPE process_%s %s\n", name, help, name, type);
}

/*
 * render_process - the metrics of Prometheus' process collector, under its
 * names, so the dashboards and alerts written for any exporter apply
 */
static void render_process(struct buf *o)
{
	struct proc_stats ps;

	if (proc_stats_read(&ps) != 0)
		return;
	process_head(o, "start_time_seconds", "gauge",
		     "Start time of the process since unix epoch in seconds.");
	buf_printf(o, "process_start_time_seconds %.3f\n", ps.start_time_s);
	process_head(o, "cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	buf_printf(o, "process_cpu_seconds_total %.2f\n", ps.cpu_s);
	if (ps.open_fds >= 0) {
		process_head(o, "open_fds", "gauge", "Number of open file descriptors.");
		buf_printf(o, "process_open_fds %ld\n", ps.open_fds);
	}
	if (ps.max_fds >= 0) {
		process_head(o, "max_fds", "gauge", "Maximum number of open file descriptors.");
		buf_printf(o, "process_max_fds %ld\n", ps.max_fds);
	}
	process_head(o, "virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	buf_printf(o, "process_virtual_memory_bytes %.0f\n", ps.virtual_bytes);
	process_head(o, "resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	buf_printf(o, "process_resident_memory_bytes %.0f\n", ps.resident_bytes);
}

/* render_clients - Postfix's connections: open now, refused at MAX_CLIENTS */
static void render_clients(const struct metrics *m, struct buf *o)
{
	if (m->srv == NULL)
		return;
	head(o, "clients_connected", "gauge", "Postfix socketmap connections open now.");
	buf_printf(o, METRICS_PREFIX "clients_connected %u\n", sm_server_clients(m->srv));
	head(o, "clients_max", "gauge", "MAX_CLIENTS: connections served at once.");
	buf_printf(o, METRICS_PREFIX "clients_max %u\n", m->cfg->max_clients);
	head(o, "clients_refused_total", "counter",
	     "Connections closed at once because MAX_CLIENTS were open.");
	buf_printf(o, METRICS_PREFIX "clients_refused_total %llu\n",
		   (unsigned long long)sm_server_refused(m->srv));
}

/* throttle_counters - throttled answers, and the reads sent again after them */
static void throttle_counters(struct buf *o, const struct cql_failover *cql)
{
	static const char *const names[2] = { "cql_throttled_total", "cql_throttle_retries_total" };
	static const char *const helps[2] = {
		"Answers refusing a read for load (ReadTimeout, WriteTimeout, Overloaded).",
		"Reads sent again after a backoff because they were throttled.",
	};
	unsigned long long v[2];
	int i;

	cql_failover_throttled(cql, &v[0], &v[1]);
	for (i = 0; i < 2; i++) {
		head(o, names[i], "counter", helps[i]);
		buf_printf(o, METRICS_PREFIX "%s %llu\n", names[i], v[i]);
	}
}

/*
 * render_groups - region failover: the group reads go to (0 primary,
 * 1.. standby), switches so far, each group's readiness
 */
static void render_groups(struct metrics *m, struct buf *o)
{
	const char *region, *state;
	size_t g;
	int up;

	head(o, "cql_active_group", "gauge",
	     "Host group reads go to: 0 the primary (CASSANDRA_HOSTS), 1 and up the standby groups.");
	buf_printf(o, METRICS_PREFIX "cql_active_group %zu\n", cql_failover_active(m->cql));
	head(o, "cql_group_switches_total", "counter", "Failovers and failbacks between host groups.");
	buf_printf(o, METRICS_PREFIX "cql_group_switches_total %u\n", cql_failover_switches(m->cql));
	head(o, "cql_group_up", "gauge", "1 when the host group has a ready connection.");
	for (g = 0; cql_failover_group(m->cql, g, &region, &state, &up) == 0; g++) {
		buf_printf(o, METRICS_PREFIX "cql_group_up{group=\"%zu\",region=\"", g);
		label_value(o, region);
		buf_printf(o, "\"} %d\n", up ? 1 : 0);
	}
}

/* metrics_render - the whole exposition */
void metrics_render(struct metrics *m, struct buf *o)
{
	static const char *results[] = { "ok", "notfound", "temp", "perm" };
	const struct lookup_stats *st = lookup_engine_stats(m->engine);
	uint16_t cl = m->cfg->cql.consistency;
	double unit = (cl == CQL_CONSISTENCY_ONE || cl == CQL_CONSISTENCY_LOCAL_ONE) ? 0.5 : 1.0;
	const char *label;
	size_t i;
	int k, up, conns;

	head(o, "build_info", "gauge", "Version of the daemon.");
	buf_printf(o, METRICS_PREFIX "build_info{version=\"%s\"} 1\n", PAC_VERSION);
	head(o, "uptime_seconds", "gauge", "Seconds since start.");
	buf_printf(o, METRICS_PREFIX "uptime_seconds %.3f\n",
		   (double)(clock_now_ms() - m->started_ms) / 1000.0);

	head(o, "lookups_total", "counter", "Socketmap lookups answered, by map and result.");
	for (i = 0; i < m->reg->n && i < LOOKUP_STAT_MAPS; i++)
		for (k = 0; k < SOCKETMAP_NSTATUS; k++)
			buf_printf(o, METRICS_PREFIX "lookups_total{map=\"%s\",result=\"%s\"} %llu\n",
				   m->reg->maps[i].name, results[k],
				   (unsigned long long)st->by_map[i][k]);
	head(o, "requests_total", "counter", "Socketmap requests received, any map.");
	buf_printf(o, METRICS_PREFIX "requests_total %llu\n", (unsigned long long)st->requests);
	render_clients(m, o);

	if (m->cache) {
		const struct cache_stats *cs = cache_stats(m->cache);

		head(o, "cache_hits_total", "counter", "Candidate keys answered from fresh cache entries.");
		buf_printf(o, METRICS_PREFIX "cache_hits_total %llu\n", (unsigned long long)cs->hits);
		head(o, "cache_misses_total", "counter", "Candidate keys not fresh in the cache.");
		buf_printf(o, METRICS_PREFIX "cache_misses_total %llu\n", (unsigned long long)cs->misses);
		head(o, "cache_stale_answers_total", "counter",
		     "Failed reads answered from expired entries inside the stale window.");
		buf_printf(o, METRICS_PREFIX "cache_stale_answers_total %llu\n",
			   (unsigned long long)cs->stale_hits);
		head(o, "cache_evictions_total", "counter", "Entries evicted to stay under CACHE_MAX_ENTRIES.");
		buf_printf(o, METRICS_PREFIX "cache_evictions_total %llu\n",
			   (unsigned long long)cs->evictions);
		head(o, "cache_entries", "gauge", "Entries in the cache.");
		buf_printf(o, METRICS_PREFIX "cache_entries %zu\n", cs->entries);
	}
	if (m->changes)
		render_changes(o, changes_poll_stats(m->changes));

	head(o, "cql_reads_total", "counter", "CQL reads sent.");
	buf_printf(o, METRICS_PREFIX "cql_reads_total %llu\n", (unsigned long long)st->queries);
	head(o, "cql_coalesced_total", "counter", "Reads shared with an identical read in flight.");
	buf_printf(o, METRICS_PREFIX "cql_coalesced_total %llu\n", (unsigned long long)st->coalesced);
	head(o, "cql_refreshes_total", "counter", "Background refresh-ahead reads.");
	buf_printf(o, METRICS_PREFIX "cql_refreshes_total %llu\n", (unsigned long long)st->refreshes);
	head(o, "cql_errors_total", "counter", "Failed reads, by kind.");
	for (k = 0; lookup_error_name(k); k++)
		buf_printf(o, METRICS_PREFIX "cql_errors_total{kind=\"%s\"} %llu\n",
			   lookup_error_name(k), (unsigned long long)st->errors[k]);
	throttle_counters(o, m->cql);
	head(o, "cql_startup_waits_total", "counter",
	     "Reads that waited for the first CQL connection, then were sent.");
	buf_printf(o, METRICS_PREFIX "cql_startup_waits_total %llu\n",
		   cql_failover_startup_waits(m->cql));
	head(o, "cql_read_duration_seconds", "histogram", "Latency of CQL reads (measured in microseconds).");
	for (k = 0; k < LOOKUP_LATENCY_BUCKETS; k++)
		buf_printf(o, METRICS_PREFIX "cql_read_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   lookup_latency_bound(k), (unsigned long long)st->latency_le[k]);
	buf_printf(o, METRICS_PREFIX "cql_read_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
		   (unsigned long long)st->latency_count);
	buf_printf(o, METRICS_PREFIX "cql_read_duration_seconds_sum %.6f\n", st->latency_sum_s);
	buf_printf(o, METRICS_PREFIX "cql_read_duration_seconds_count %llu\n",
		   (unsigned long long)st->latency_count);
	head(o, "cql_connected", "gauge", "1 when a CQL connection is ready.");
	buf_printf(o, METRICS_PREFIX "cql_connected %d\n", cql_failover_is_ready(m->cql) ? 1 : 0);
	render_groups(m, o);
	head(o, "cql_host_up", "gauge", "1 when the node has a ready connection, 0 while it is down or connecting.");
	for (i = 0; cql_failover_host_info(m->cql, i, &label, &up, &conns) == 0; i++) {
		buf_printf(o, METRICS_PREFIX "cql_host_up{host=\"");
		label_value(o, label);
		buf_printf(o, "\"} %d\n", up ? 1 : 0);
	}
	head(o, "cql_host_connections", "gauge", "Ready CQL connections per node.");
	for (i = 0; cql_failover_host_info(m->cql, i, &label, &up, &conns) == 0; i++) {
		buf_printf(o, METRICS_PREFIX "cql_host_connections{host=\"");
		label_value(o, label);
		buf_printf(o, "\"} %d\n", conns);
	}
	head(o, "keyspaces_read_units_total", "counter",
	     "Estimated Amazon Keyspaces read request units of lookups and change-table polls "
	     "(LOCAL_ONE 0.5, LOCAL_QUORUM 1 per 4 KB read).");
	buf_printf(o, METRICS_PREFIX "keyspaces_read_units_total %.1f\n",
		   (double)(st->queries + (m->changes ? changes_poll_stats(m->changes)->polls : 0)) *
		   unit);
	{
		const char *src;
		double left;

		if (cred_chain_status(m->creds, &src, &left)) {	/* SigV4 only */
			head(o, "aws_credentials_source", "gauge",
			     "1 for the source of the AWS credentials in use (env, profile, container, imds, none).");
			buf_printf(o, METRICS_PREFIX "aws_credentials_source{source=\"%s\"} 1\n", src);
			head(o, "aws_credentials_expiry_seconds", "gauge",
			     "Seconds until the AWS credentials expire; -1 when they do not or there are none.");
			buf_printf(o, METRICS_PREFIX "aws_credentials_expiry_seconds %.0f\n", left);
		}
	}
	render_process(o);
}

/* serve - GET or HEAD /metrics */
static void serve(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *out;
	struct buf text;

	/* HEAD is a GET without the body, which evhttp leaves out itself. */
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	buf_init(&text);
	metrics_render(m, &text);
	evbuffer_add(out, text.data, text.len);
	buf_free(&text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* not_found - any other path */
static void not_found(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "Not Found");
}

/* metrics_start - bind and serve */
struct metrics *metrics_start(struct event_base *base, const char *listen,
			      struct map_registry *reg, struct lookup_engine *engine,
			      struct cache *cache, struct cql_failover *cql,
			      const struct cred_chain *creds, const struct config *cfg,
			      char *err, size_t errlen)
{
	struct listen_spec spec;
	char item[sizeof(CONFIG_METRICS_INET) + CONFIG_METRICS_LISTEN_MAX], host[INET6_ADDRSTRLEN];
	struct metrics *m;
	const struct sockaddr *sa;
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned port;

	snprintf(item, sizeof(item), CONFIG_METRICS_INET "%s", listen);
	/* config.c refused a remote address unless METRICS_ALLOW_REMOTE=yes. */
	if (listen_spec_parse(item, 1, &spec, err, errlen) != 0)
		return NULL;
	if (spec.n != 1) {
		snprintf(err, errlen, "expected one ADDRESS:PORT");
		return NULL;
	}
	sa = (const struct sockaddr *)&spec.ep[0].ss;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->http = evhttp_new(base)) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->reg = reg;
	m->engine = engine;
	m->cache = cache;
	m->cql = cql;
	m->creds = creds;
	m->cfg = cfg;
	m->started_ms = clock_now_ms();
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_cb(m->http, "/metrics", serve, m);
	evhttp_set_gencb(m->http, not_found, m);
	if ((bound = evhttp_bind_socket_with_handle(m->http, host, (ev_uint16_t)port)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %u", host, port);
		evhttp_free(m->http);
		free(m);
		return NULL;
	}
	/* The port actually bound: port 0 asks the kernel for one. */
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			     ((struct sockaddr_in6 *)&ss)->sin6_port);
	msg_info("metrics at http://%s%s%s:%u/metrics", sa->sa_family == AF_INET6 ? "[" : "",
		 host, sa->sa_family == AF_INET6 ? "]" : "", port);
	return m;
}

/* metrics_watch_clients - report srv's connections too */
void metrics_watch_clients(struct metrics *m, const struct sm_server *srv)
{
	m->srv = srv;
}

/* metrics_set_changes - report the change table's polls too */
void metrics_set_changes(struct metrics *m, const struct changes_poll *p)
{
	m->changes = p;
}

/* metrics_free - stop serving */

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->http);
	free(m);
}
