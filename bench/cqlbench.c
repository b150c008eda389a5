/*
 * cqlbench - prepared SELECT by key on our CQL client, N in flight
 *
 * SYNOPSIS
 *	cqlbench [--inflight N] [--duration S] [--keys N] [--conns-per-host N]
 *	         [--query CQL] [--key-format FMT] HOST:PORT
 *
 * DESCRIPTION
 *	The CQL half of the daemon without the socketmap half: a cql_session
 *	(src/cql/cql_session.h) on one libevent loop, one prepared statement
 *	(default "SELECT email, active FROM mailion.users WHERE email = ?"),
 *	and N requests kept in flight, each answered request replaced by the
 *	next one with a key drawn uniformly from --keys keys. Every row is
 *	decoded cell by cell, as the drivers it is compared with do.
 *
 *	The clock starts once the session is ready and the statement is
 *	prepared, after a one-second warm-up. At the end it prints, on stdout:
 *
 *	RESULT tool=cqlbench inflight=.. requests=.. errors=.. seconds=..
 *	       rps=.. cpu_s=.. cpu_per_100k=.. rows=..
 *
 *	where cpu_s is this process's user+system CPU over the measured
 *	interval (getrusage), the figure compared with gocql's and the Python
 *	driver's (bench/gocql/main.go, bench/pydriver.py print the same line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "cql/cql_session.h"

#define CQLBENCH_KEY_MAX	256	/* bytes of a key */
#define CQLBENCH_WARMUP_MS	1000	/* unmeasured load before the clock starts */
#define CQLBENCH_READY_MS	10000	/* session and statement must be ready by then */
#define CQLBENCH_POLL_MS	5	/* readiness polling */

struct req {
	char key[CQLBENCH_KEY_MAX];
};

static struct {
	struct event_base *base;
	struct cql_session *s;
	struct cql_stmt *stmt;
	struct event *timer;
	const char *key_format;
	unsigned keys;
	int inflight, outstanding;
	double duration;
	enum { PH_WAIT, PH_WARM, PH_MEASURE, PH_DRAIN } phase;
	uint64_t done, errors, rows, rng;
	double t0, t1, cpu0, cpu1, waited_ms;
	enum cql_status last_err;
} g;

/* now_s - monotonic seconds */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_s - user+system CPU of this process */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* rnd - xorshift64* */
static uint64_t rnd(void)
{
	g.rng ^= g.rng >> 12;
	g.rng ^= g.rng << 25;
	g.rng ^= g.rng >> 27;
	return g.rng * 2685821657736338717ull;
}

static void issue(struct req *r);

/* result_cb - count, decode the rows, send the next one */
static void result_cb(const struct cql_result *res, void *arg)
{
	struct req *r = arg;

	g.outstanding--;
	if (res->status != CQL_STATUS_OK) {
		g.errors++;
		g.last_err = res->status;
	} else {
		if (res->has_rows) {
			struct cql_rows rows = res->rows;
			struct cql_cell cells[CQL_MAX_COLUMNS];

			while (cql_rows_next(&rows, cells) == 1)
				g.rows++;
		}
		if (g.phase == PH_MEASURE)
			g.done++;
	}
	if (g.phase == PH_WARM || g.phase == PH_MEASURE)
		issue(r);
	else if (g.outstanding == 0)
		event_base_loopexit(g.base, NULL);
}

/* issue - one EXECUTE with a random key */
static void issue(struct req *r)
{
	struct cql_value v;
	enum cql_status why;
	int n = snprintf(r->key, sizeof(r->key), g.key_format, (unsigned)(rnd() % g.keys));

	v.p = r->key;
	v.len = n < 0 ? 0 : n >= (int)sizeof(r->key) ? (int)sizeof(r->key) - 1 : n;
	if (cql_session_execute(g.s, g.stmt, &v, 1, result_cb, r, &why) != 0) {
		g.errors++;
		g.last_err = why;
		return;		/* this slot is lost; the count shows it */
	}
	g.outstanding++;
}

/* arm - timer in ms */
static void arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(g.timer, &tv);
}

/* tick_cb - wait for readiness, then warm up, measure, drain */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;
	static struct req *reqs;

	(void)fd;
	(void)what;
	(void)arg;
	switch (g.phase) {
	case PH_WAIT:
		if (!cql_session_is_ready(g.s) ||
		    cql_stmt_state(g.stmt, NULL) != CQL_STMT_READY) {
			g.waited_ms += CQLBENCH_POLL_MS;
			if (g.waited_ms > CQLBENCH_READY_MS) {
				fprintf(stderr, "cqlbench: not ready after %d ms: %s\n",
					CQLBENCH_READY_MS, cql_session_state(g.s));
				event_base_loopexit(g.base, NULL);
				return;
			}
			arm(CQLBENCH_POLL_MS);
			return;
		}
		if ((reqs = calloc((size_t)g.inflight, sizeof(*reqs))) == NULL) {
			event_base_loopexit(g.base, NULL);
			return;
		}
		g.phase = PH_WARM;
		for (i = 0; i < g.inflight; i++)
			issue(&reqs[i]);
		arm(CQLBENCH_WARMUP_MS);
		return;
	case PH_WARM:
		g.phase = PH_MEASURE;
		g.errors = 0;
		g.t0 = now_s();
		g.cpu0 = cpu_s();
		arm((int)(g.duration * 1000));
		return;
	case PH_MEASURE:
		g.t1 = now_s();
		g.cpu1 = cpu_s();
		g.phase = PH_DRAIN;
		if (g.outstanding == 0)
			event_base_loopexit(g.base, NULL);
		return;
	case PH_DRAIN:
		return;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"inflight", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"keys", required_argument, NULL, 'k'},
		{"conns-per-host", required_argument, NULL, 'c'},
		{"query", required_argument, NULL, 'q'},
		{"key-format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	const char *query = "SELECT email, active FROM mailion.users WHERE email = ?";
	struct cql_session_config cfg;
	struct evdns_base *dns;
	char err[256];
	int ch, conns = 2;
	double secs, cpu;

	g.inflight = 64;
	g.duration = 5;
	g.keys = 10000;
	g.key_format = "user%u@bench.example";
	g.rng = 0x9E3779B97F4A7C15ull;
	while ((ch = getopt_long(argc, argv, "i:d:k:c:q:f:", lo, NULL)) != -1) {
		switch (ch) {
		case 'i': g.inflight = atoi(optarg); break;
		case 'd': g.duration = atof(optarg); break;
		case 'k': g.keys = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': conns = atoi(optarg); break;
		case 'q': query = optarg; break;
		case 'f': g.key_format = optarg; break;
		default:
			fprintf(stderr, "usage: cqlbench [--inflight N] [--duration S] [--keys N] "
				"[--conns-per-host N] [--query CQL] [--key-format FMT] HOST:PORT\n");
			return 2;
		}
	}
	if (optind + 1 != argc || g.inflight < 1 || g.keys < 1 || g.duration <= 0 ||
	    conns < 1) {
		fprintf(stderr, "cqlbench: bad arguments\n");
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (cql_parse_hosts(argv[optind], CQL_DEFAULT_PORT, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "cqlbench: %s: %s\n", argv[optind], err);
		return 2;
	}
	/* The daemon's defaults (src/config.c), with the pool size from the command line. */
	cfg.consistency = CQL_CONSISTENCY_LOCAL_ONE;
	cfg.max_version = 4;
	cfg.connect_timeout_ms = 5000;
	cfg.request_timeout_ms = 2000;
	cfg.reconnect_min_ms = 100;
	cfg.reconnect_max_ms = 2000;
	cfg.lookup_timeout_ms = 3000;
	cfg.heartbeat_ms = 30000;
	cfg.connections_per_host = conns;
	cfg.discovery = 1;

	if ((g.base = event_base_new()) == NULL ||
	    (dns = evdns_base_new(g.base, 0)) == NULL ||
	    (g.s = cql_session_new(g.base, dns, &cfg)) == NULL ||
	    (g.stmt = cql_session_add(g.s, query)) == NULL ||
	    (g.timer = evtimer_new(g.base, tick_cb, NULL)) == NULL) {
		fprintf(stderr, "cqlbench: out of memory\n");
		return 1;
	}
	cql_session_start(g.s);
	arm(0);
	event_base_dispatch(g.base);
	if (g.phase != PH_DRAIN) {
		fprintf(stderr, "cqlbench: no measurement\n");
		return 1;
	}
	secs = g.t1 - g.t0;
	cpu = g.cpu1 - g.cpu0;
	fprintf(stderr, "cqlbench: %d in flight, %d conns/host, %.2f s: %llu requests, %llu errors%s%s: "
		"%.0f/s, %.3f CPU s (%.3f s per 100k)\n",
		g.inflight, conns, secs, (unsigned long long)g.done, (unsigned long long)g.errors,
		g.errors ? ", last " : "", g.errors ? cql_status_name(g.last_err) : "",
		(double)g.done / secs, cpu, g.done ? cpu / (double)g.done * 1e5 : 0);
	printf("RESULT tool=cqlbench inflight=%d requests=%llu errors=%llu seconds=%.3f rps=%.1f "
	       "cpu_s=%.3f cpu_per_100k=%.3f rows=%llu\n",
	       g.inflight, (unsigned long long)g.done, (unsigned long long)g.errors, secs,
	       (double)g.done / secs, cpu, g.done ? cpu / (double)g.done * 1e5 : 0,
	       (unsigned long long)g.rows);
	cql_session_free(g.s);
	evdns_base_free(dns, 0);
	event_free(g.timer);
	event_base_free(g.base);
	return g.done ? 0 : 1;
}
