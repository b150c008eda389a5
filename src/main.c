/*
 * postfix-aws-cassandra - Postfix socketmap daemon backed by Cassandra
 *
 * SYNOPSIS
 *	postfix-aws-cassandra [-c FILE] [--foreground] [--port-file PATH]
 *	postfix-aws-cassandra [-c FILE] --check
 *	postfix-aws-cassandra [-c FILE] --query MAP KEY
 *	postfix-aws-cassandra --credentials
 *	postfix-aws-cassandra --flush | --version | --help
 *
 * DESCRIPTION
 *	Reads its settings from the environment (config.h) and the optional
 *	map file (config_file.h), listens for Postfix socketmap lookups
 *	(127.0.0.1:9999 by default) and answers them from Cassandra or
 *	Amazon Keyspaces. It always runs in the foreground (systemd
 *	supervises it: Type=notify, watchdog, socket activation).
 *
 *	The daemon starts and serves whether or not the database is
 *	reachable: until it is, lookups answer TEMP and Postfix defers.
 *
 *	--check connects, prepares and runs every map's query once, prints a
 *	report and exits 0 when all is well. --query runs one lookup through
 *	the full engine and prints the candidate keys and the reply.
 *	--credentials resolves the AWS credentials once and prints their
 *	source and access key id (cred_chain_show.c).
 *
 * SIGNALS
 *	HUP re-reads the map file and re-prepares its statements, serving
 *	throughout; a bad file is rejected and the old maps stay. TERM/INT
 *	stop accepting, answer the lookups in flight (up to 5 s), exit 0.
 *	USR1 empties the cache.
 *
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on a runtime failure at startup (cannot
 *	listen) or a failed --check, 2 on a usage or configuration error;
 *	the message names the bad option, variable or line. --query exits
 *	0 (OK), 1 (NOTFOUND), 3 (TEMP) or 4 (PERM).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "aws/cred_chain.h"
#include "aws/cred_chain_show.h"
#include "cql/cql_auth.h"
#include "cql/cql_auth_sigv4.h"
#include "cql/cql_session.h"
#include "log.h"
#include "lookup_backend.h"
#include "lookup_engine.h"
#include "lookup_key.h"
#include "map_registry.h"
#include "metrics.h"
#include "postfix_conf.h"
#include "result_rows.h"
#include "search_order.h"
#include "service.h"
#include "sm_server.h"

#ifndef PAC_VERSION
#define PAC_VERSION "unknown"
#endif

#define PROGNAME		"postfix-aws-cassandra"
#define DRAIN_MAX_MS		5000	/* answer in-flight lookups on TERM */
#define POLL_MS			10	/* readiness polls (reload, --check) */
#define FD_RESERVE		100	/* descriptors besides the clients' */
#define RELOAD_MAX_MS		5000	/* new statements must prepare by then */
#define STATUS_EVERY_MS		5000	/* systemd STATUS= refresh */
#define SM_MAX_PIPELINE		64	/* requests in flight per client */

enum mode { MODE_SERVE, MODE_CHECK, MODE_QUERY };

struct daemon {
	struct event_base *base;
	struct config cfg;
	const char *config_path;
	int config_explicit;
	struct map_registry reg;	/* live maps: updated in place on HUP */
	struct map_registry *pending;	/* a reload waiting for its statements */
	int64_t pending_deadline;
	struct cql_session *cql;
	struct cred_chain *creds;	/* SigV4 only */
	struct cache *cache;
	struct lookup_engine *engine;
	struct sm_server *srv;
	struct metrics *metrics;
	struct event *poll_timer;	/* reload, --check, --query */
	struct event *status_timer;
	struct event *drain_timer;
	int64_t drain_deadline;
	int64_t deadline;		/* --check, --query */
	enum mode mode;
	const char *query_map, *query_key;
	int exit_code;
	int query_started;
};

/* usage - print the synopsis */
static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-c FILE] [--foreground] [--port-file PATH]\n"
		"       %s [-c FILE] --check\n"
		"       %s [-c FILE] --query MAP KEY\n"
		"       %s --credentials\n"
		"       %s --flush | --version | --help\n"
		"\n"
		"Answers Postfix socketmap lookups from Cassandra / Amazon Keyspaces.\n"
		"Settings come from the environment (see postfix-aws-cassandra(8)):\n"
		"  KEYSPACE_NAME (required), PORT (9999), LISTEN (inet:127.0.0.1:PORT),\n"
		"  CASSANDRA_HOSTS (127.0.0.1:9042), CONSISTENCY (LOCAL_ONE),\n"
		"  AWS_REGION (Amazon Keyspaces in that region: TLS, SigV4 with AWS credentials),\n"
		"  CASSANDRA_CONNECT_TIMEOUT_MS (5000), CASSANDRA_REQUEST_TIMEOUT_MS (1000),\n"
		"  CLIENT_IDLE_TIMEOUT (60 s), MAX_CLIENTS (1000), LOG_LEVEL (info),\n"
		"  LOG_TARGET (stderr), RECIPIENT_DELIMITER (+), CACHE (on),\n"
		"  CACHE_MAX_ENTRIES (100000), CACHE_TTL (300 s), CACHE_NEGATIVE_TTL (30 s),\n"
		"  CACHE_STALE_TTL (3600 s), METRICS_LISTEN (off),\n"
		"  CONFIG_FILE (" CONFIG_FILE_DEFAULT ").\n",
		PROGNAME, PROGNAME, PROGNAME, PROGNAME, PROGNAME);
}

/*
 * flush_running - send SIGUSR1 to every running daemon (same program name,
 * any path), so each empties its cache. Returns the process exit code.
 */
static int flush_running(void)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	char path[64], exe[4096];
	const char *base;
	ssize_t n;
	int sent = 0, failed = 0;
	pid_t self = getpid();

	if (dir == NULL) {
		fprintf(stderr, "%s: --flush: cannot read /proc: %s\n", PROGNAME, strerror(errno));
		return 1;
	}
	while ((de = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
			continue;
		exe[n] = 0;
		base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		if (strcmp(base, PROGNAME) != 0)
			continue;
		if (kill(pid, SIGUSR1) == 0) {
			printf("%s: cache flush requested from pid %d\n", PROGNAME, (int)pid);
			sent++;
		} else {
			fprintf(stderr, "%s: --flush: pid %d: %s\n", PROGNAME, (int)pid, strerror(errno));
			failed++;
		}
	}
	closedir(dir);
	if (sent == 0 && failed == 0)
		fprintf(stderr, "%s: --flush: no running %s found\n", PROGNAME, PROGNAME);
	return sent > 0 && failed == 0 ? 0 : 1;
}

/*
 * build_registry - the default maps, then the map file. An explicit path
 * (-c, CONFIG_FILE) must exist; the default path may be absent. Errors
 * are written to err ("FILE: line N: ...").
 */
static int build_registry(const struct daemon *d, struct map_registry *reg,
			  char *err, size_t errlen)
{
	const char *path = d->config_explicit ? d->config_path : CONFIG_FILE_DEFAULT;
	char perr[CONFIG_ERR_MAX];
	struct buf text;
	char chunk[8192];
	size_t n;
	FILE *fp;
	int rc;

	if (map_registry_defaults(reg, d->cfg.keyspace, &d->cfg.maps, err, errlen) != 0)
		return -1;
	if ((fp = fopen(path, "r")) == NULL) {
		if (!d->config_explicit && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&text);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text.len <= CONFIG_FILE_MAX)
		buf_append(&text, chunk, n);
	fclose(fp);
	if (text.oom || text.len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		buf_free(&text);
		return -1;
	}
	rc = config_file_parse((char *)text.data, text.len, reg, &d->cfg.maps, perr, sizeof(perr));
	if (rc != 0)
		snprintf(err, errlen, "%.200s: %.280s", path, perr);
	buf_free(&text);
	return rc;
}

/* register_statements - give every map its prepared statement */
static int register_statements(struct cql_session *cql, struct map_registry *reg)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if ((reg->maps[i].stmt = cql_session_add(cql, reg->maps[i].query)) == NULL)
			return -1;
	return 0;
}

/* statements_settled - every statement prepared or refused */
static int statements_settled(const struct map_registry *reg)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (cql_stmt_state(reg->maps[i].stmt, NULL) == CQL_STMT_NEW)
			return 0;
	return 1;
}

/* write_port_file - the bound port, atomically, for tests using PORT=0 */
static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(fp, "%d\n", port);
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

/* arm - (re)start a one-shot timer */
static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* ---- reload (SIGHUP) --------------------------------------------- */

/* reload_finish - apply or reject the pending maps */
static void reload_finish(struct daemon *d)
{
	struct map_registry *nr = d->pending;
	struct cql_stmt *keep[MAP_MAX];
	const struct cql_error *err;
	size_t i;

	d->pending = NULL;
	for (i = 0; i < nr->n; i++) {
		if (cql_stmt_state(nr->maps[i].stmt, &err) == CQL_STMT_FAILED) {
			msg_error("reload rejected, old maps kept: map %s: query refused by the server: %s",
				  nr->maps[i].name, err ? err->message : "?");
			goto done;
		}
		if (cql_session_is_ready(d->cql) &&
		    cql_stmt_state(nr->maps[i].stmt, NULL) == CQL_STMT_NEW) {
			msg_error("reload rejected, old maps kept: map %s: not prepared within %d ms",
				  nr->maps[i].name, RELOAD_MAX_MS);
			goto done;
		}
	}
	/*
	 * In place: the engine finds maps here by name. Lookups in flight
	 * hold their own copy of their map (lookup_engine), whose older
	 * generation keeps their answers out of the cache, which is keyed
	 * by map index and starts afresh (a new epoch).
	 */
	d->reg = *nr;
	if (d->cache)
		cache_flush(d->cache);
	msg_info("reloaded: %zu maps", d->reg.n);
done:
	free(nr);
	/* The maps in use now are the only ones worth preparing. */
	for (i = 0; i < d->reg.n; i++)
		keep[i] = d->reg.maps[i].stmt;
	cql_session_keep_only(d->cql, keep, d->reg.n);
	service_notify("READY=1");
}

/* reload_start - re-read the map file; statements prepare before the swap */
static void reload_start(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	struct map_registry *nr;

	if (d->pending) {
		msg_warn("SIGHUP: a reload is already in progress");
		return;
	}
	service_notify("RELOADING=1");
	if ((nr = malloc(sizeof(*nr))) == NULL || build_registry(d, nr, err, sizeof(err)) != 0 ||
	    register_statements(d->cql, nr) != 0) {
		msg_error("reload rejected, old maps kept: %s", nr ? err : "out of memory");
		free(nr);
		service_notify("READY=1");
		return;
	}
	map_registry_stamp(nr, &d->reg);
	d->pending = nr;
	d->pending_deadline = clock_now_ms() + RELOAD_MAX_MS;
	arm(d->poll_timer, 0);
}

/* ---- --check and --query ----------------------------------------- */

struct check_probe {
	struct daemon *d;
	struct map_def *map;
	int done;
	enum socketmap_status st;
	char reply[256];
};

static struct check_probe probes[MAP_MAX];
static size_t probes_left;

/* probe_reply - one map's probe lookup answered */
static void probe_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct check_probe *p = arg;

	p->done = 1;
	p->st = st;
	snprintf(p->reply, sizeof(p->reply), "%.*s", (int)(len > 200 ? 200 : len), data);
	probes_left--;
}

/* check_report - print the --check report; set the exit code */
static void check_report(struct daemon *d)
{
	const struct cql_error *err;
	char why[256];
	size_t i;
	int bad = 0;

	printf("postfix-aws-cassandra %s: configuration check\n", PAC_VERSION);
	printf("  keyspace     %s\n", d->cfg.keyspace);
	printf("  cassandra    %s\n", cql_session_state(d->cql));
	printf("  consistency  %s\n", cql_consistency_name(d->cfg.cql.consistency));
	(void)postfix_delimiter_report(d->cfg.maps.delimiters, stdout);
	if (d->creds)
		printf("  auth         SigV4, region %s, credentials: %s\n", d->cfg.aws_region,
		       cred_chain_current(d->creds) ? cred_chain_describe(d->creds) :
		       "NONE (see the aws: error above)");
	if (!cql_session_is_ready(d->cql)) {
		printf("FAILED: cannot reach Cassandra: %s\n", cql_session_state(d->cql));
		d->exit_code = 1;
		return;
	}
	for (i = 0; i < d->reg.n; i++) {
		struct map_def *m = &d->reg.maps[i];
		struct check_probe *p = &probes[i];

		switch (cql_stmt_state(m->stmt, &err)) {
		case CQL_STMT_FAILED:
			printf("  map %-18s FAILED: %s: %s\n", m->name, err ? cql_error_name(err->code) : "?",
			       err ? err->message : "?");
			bad++;
			continue;
		case CQL_STMT_NEW:
			printf("  map %-18s FAILED: not prepared in time\n", m->name);
			bad++;
			continue;
		case CQL_STMT_READY:
			break;
		}
		if (cql_stmt_result_meta(m->stmt) &&
		    result_rows_check(cql_stmt_result_meta(m->stmt), why, sizeof(why)) != 0) {
			/* From the PREPARED result: the columns the query returns. */
			printf("  map %-18s FAILED: %s\n", m->name, why);
			bad++;
			continue;
		}
		if (!p->done || p->st == SOCKETMAP_TEMP || p->st == SOCKETMAP_PERM) {
			printf("  map %-18s FAILED: test read: %s\n", m->name,
			       p->done ? p->reply : "no answer in time");
			bad++;
			continue;
		}
		printf("  map %-18s ok (search %s): %s\n", m->name,
		       search_kind_name(m->search.kind), m->query);
	}
	if (bad) {
		printf("FAILED: %d map%s not usable\n", bad, bad > 1 ? "s" : "");
		d->exit_code = 1;
	} else {
		printf("OK: %zu maps ready\n", d->reg.n);
		d->exit_code = 0;
	}
}

/* query_reply - the --query answer */
static void query_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct daemon *d = arg;
	static const int codes[] = { 0, 1, 3, 4 };

	printf("%s %.*s\n", socketmap_status_name(st), (int)len, data);
	d->exit_code = codes[st];
	event_base_loopexit(d->base, NULL);
}

/* query_run - print the candidates, then look the key up */
static void query_run(struct daemon *d)
{
	struct map_def *m = map_registry_find(&d->reg, d->query_map, strlen(d->query_map));
	static struct search_candidates sc;
	char folded[LOOKUP_KEY_MAX + 1];
	struct buf req;
	size_t i, len = strlen(d->query_key);

	if (m && len <= LOOKUP_KEY_MAX) {
		if (m->fold_case)
			lookup_key_fold(d->query_key, len, folded);
		else
			memcpy(folded, d->query_key, len + 1);
		search_order_expand(&m->search, folded, len, &sc);
		printf("candidates (search %s):", search_kind_name(m->search.kind));
		for (i = 0; i < sc.n; i++)
			printf(" %s", sc.key[i]);
		printf("\n");
	}
	buf_init(&req);
	buf_printf(&req, "%s %s", d->query_map, d->query_key);
	d->query_started = 1;
	(void)lookup_start(d->engine, (char *)req.data, req.len, query_reply, d);
	buf_free(&req);
}

/* poll_cb - drive reloads, --check and --query until they can finish */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t now = clock_now_ms();
	size_t i;

	(void)fd;
	(void)what;
	if (d->mode == MODE_SERVE) {
		if (d->pending && (!cql_session_is_ready(d->cql) || statements_settled(d->pending) ||
				   now >= d->pending_deadline))
			reload_finish(d);
		else if (d->pending)
			arm(d->poll_timer, POLL_MS);
		return;
	}
	if (d->mode == MODE_QUERY) {
		if (d->query_started)
			return;
		if ((cql_session_is_ready(d->cql) && statements_settled(&d->reg)) || now >= d->deadline)
			query_run(d);
		else
			arm(d->poll_timer, POLL_MS);
		return;
	}
	/* MODE_CHECK: prepare, then one probe read per map, then report. */
	if (probes_left == 0 && probes[0].d == NULL) {
		/* Every host failed once: no point waiting out the deadline. */
		int hopeless = cql_session_all_failed(d->cql);

		if (!((cql_session_is_ready(d->cql) && statements_settled(&d->reg)) ||
		      now >= d->deadline || hopeless)) {
			arm(d->poll_timer, POLL_MS);
			return;
		}
		for (i = 0; i < d->reg.n && cql_session_is_ready(d->cql); i++) {
			struct buf req;

			probes[i].d = d;
			probes[i].map = &d->reg.maps[i];
			if (cql_stmt_state(d->reg.maps[i].stmt, NULL) != CQL_STMT_READY)
				continue;
			probes_left++;
			buf_init(&req);
			buf_printf(&req, "%s postfix-aws-cassandra-check@check.invalid", d->reg.maps[i].name);
			(void)lookup_start(d->engine, (char *)req.data, req.len, probe_reply, &probes[i]);
			buf_free(&req);
		}
		probes[0].d = d;
	}
	if (probes_left > 0 && now < d->deadline) {
		arm(d->poll_timer, POLL_MS);
		return;
	}
	check_report(d);
	event_base_loopexit(d->base, NULL);
}

/* ---- Amazon Keyspaces: SigV4 credentials -------------------------- */

/* sigv4_creds - the chain's current credentials for the authenticator */
static int sigv4_creds(void *arg, struct sigv4_creds *out)
{
	const struct aws_credentials *c = cred_chain_current(arg);

	if (c == NULL)
		return -1;
	out->access_key_id = c->access_key_id;
	out->secret_access_key = c->secret_access_key;
	out->session_token = c->session_token;
	return 0;
}

/* creds_settled - the first credential walk ended: connect */
static void creds_settled(void *arg)
{
	cql_session_start(arg);
}

/* creds_found - credentials again after none: reconnect without waiting */
static void creds_found(void *arg)
{
	msg_info("aws: credentials available again; reconnecting now");
	cql_session_retry_now(arg);
}

/* ---- signals and status ------------------------------------------ */

/* status_cb - keep systemd's STATUS= line current */
static void status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	const struct lookup_stats *st = lookup_engine_stats(d->engine);

	(void)fd;
	(void)what;
	service_status("cassandra: %s; %llu lookups, %u clients",
		       cql_session_state(d->cql), (unsigned long long)st->requests,
		       sm_server_clients(d->srv));
	if (service_watchdog_ms() > 0)
		service_notify("WATCHDOG=1");
}

/* drain_cb - exit once in-flight lookups are answered, or at the deadline */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	/* Answered and written: closing a socket drops what was not sent. */
	if ((sm_server_in_flight(d->srv) == 0 && sm_server_unsent(d->srv) == 0) ||
	    clock_now_ms() >= d->drain_deadline) {
		if (sm_server_in_flight(d->srv))
			msg_warn("exiting with %u lookups unanswered", sm_server_in_flight(d->srv));
		event_base_loopexit(d->base, NULL);
	}
}

/* signal_cb - TERM/INT stop, HUP reloads, USR1 flushes */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, POLL_MS * 1000 };

	(void)what;
	switch (sig) {
	case SIGHUP:
		msg_info("SIGHUP: reloading the map configuration");
		reload_start(d);
		return;
	case SIGUSR1:
		if (d->cache) {
			msg_info("SIGUSR1: flushing %zu cached entries", cache_stats(d->cache)->entries);
			cache_flush(d->cache);
		}
		return;
	default:
		break;
	}
	if (d->drain_timer) {		/* second signal: go now */
		event_base_loopexit(d->base, NULL);
		return;
	}
	msg_info("signal %d: stopping", (int)sig);
	service_notify("STOPPING=1");
	sm_server_stop_listening(d->srv);
	d->drain_deadline = clock_now_ms() + DRAIN_MAX_MS;
	d->drain_timer = event_new(d->base, -1, EV_PERSIST, drain_cb, d);
	if (d->drain_timer == NULL) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->drain_timer, &tv);
	drain_cb(-1, 0, d);
}

/*
 * fd_budget - each client holds a descriptor; the process needs some more
 * (listeners, CQL connections, logs). Raise the soft RLIMIT_NOFILE toward
 * the hard one when MAX_CLIENTS needs it, and say so when even the hard
 * limit is too low: past it, accept() fails and clients wait in the
 * listen queue instead of being served or turned away cleanly.
 */
static void fd_budget(unsigned max_clients)
{
	rlim_t need = (rlim_t)max_clients + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ?
				need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur < need)
		msg_warn("MAX_CLIENTS=%u needs about %llu open files, but the limit is %llu "
			 "(raise LimitNOFILE= in the unit, or ulimit -n); clients past it wait "
			 "in the listen queue", max_clients, (unsigned long long)need,
			 (unsigned long long)rl.rlim_cur);
}

/* start_listening - socket activation, else the LISTEN endpoints */
static int start_listening(struct daemon *d, const char *port_file)
{
	char err[CONFIG_ERR_MAX];
	int i, nfds = service_listen_fds();
	size_t k;

	for (i = 0; i < nfds; i++) {
		if (sm_server_adopt(d->srv, 3 + i, err, sizeof(err)) != 0) {
			msg_error("cannot use the socket passed by systemd: %s", err);
			return -1;
		}
	}
	if (nfds > 0) {
		msg_info("listening on %d socket%s passed by systemd", nfds, nfds > 1 ? "s" : "");
	} else {
		for (k = 0; k < d->cfg.listen.n; k++) {
			const struct listen_endpoint *ep = &d->cfg.listen.ep[k];
			char where[sizeof(ep->text)];

			if (sm_server_listen(d->srv, ep, d->cfg.listen_mode, d->cfg.listen_group,
					     err, sizeof(err)) != 0) {
				msg_error("cannot listen on %s: %s", ep->text, err);
				return -1;
			}
			sm_server_last_address(d->srv, where, sizeof(where));
			msg_info("listening on %s", where);
		}
	}
	if (port_file && write_port_file(port_file, sm_server_port(d->srv)) != 0) {
		msg_error("cannot write %s: %s", port_file, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct evdns_base *dns;
	struct sm_server_config scfg;
	struct event *sigs[5];
	static const int signums[5] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0 };
	const char *port_file = NULL;
	SSL_CTX *tls_ctx = NULL;
	struct cql_auth *auth = NULL;
	struct cred_chain *creds = NULL;
	struct lookup_backend backend = { &lookup_backend_cql, NULL };
	char err[CONFIG_ERR_MAX];
	uint64_t seed;
	int a, i, rc;

	d.config_path = getenv("CONFIG_FILE");
	d.config_explicit = d.config_path != NULL && *d.config_path != 0;
	d.mode = MODE_SERVE;
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--version") || !strcmp(argv[a], "-V")) {
			printf("%s %s\n", PROGNAME, PAC_VERSION);
			return 0;
		} else if (!strcmp(argv[a], "--flush")) {
			return flush_running();
		} else if (!strcmp(argv[a], "--credentials")) {
			return cred_chain_show(PROGNAME);
		} else if (!strcmp(argv[a], "--check")) {
			d.mode = MODE_CHECK;
		} else if (!strcmp(argv[a], "--query") && a + 2 < argc) {
			d.mode = MODE_QUERY;
			d.query_map = argv[++a];
			d.query_key = argv[++a];
		} else if (!strcmp(argv[a], "--foreground") || !strcmp(argv[a], "-f")) {
			continue;
		} else if (!strcmp(argv[a], "-c") && a + 1 < argc) {
			d.config_path = argv[++a];
			d.config_explicit = 1;
		} else if (!strcmp(argv[a], "--port-file") && a + 1 < argc) {
			port_file = argv[++a];
		} else {
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", PROGNAME, argv[a]);
			usage(stderr);
			return 2;
		}
	}
	if (config_from_env(&d.cfg, err, sizeof(err)) != 0 ||
	    build_registry(&d, &d.reg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
		return 2;
	}
	map_registry_stamp(&d.reg, NULL);
	log_init(PROGNAME, d.cfg.log_syslog);
	log_set_level((enum log_level)d.cfg.log_level);
	if (d.mode != MODE_SERVE && d.cfg.log_level > LOG_LEVEL_WARN)
		log_set_level(LOG_LEVEL_WARN);	/* the report is the output */
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGPIPE, SIG_IGN);

	if ((d.base = event_base_new()) == NULL) {
		msg_error("cannot create the event loop");
		return 1;
	}
	/* evdns reads resolv.conf; without one it still resolves /etc/hosts names. */
	dns = evdns_base_new(d.base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
			     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dns == NULL)
		dns = evdns_base_new(d.base, 0);
	if (dns == NULL) {
		msg_error("cannot create the DNS resolver");
		return 1;
	}
	if (d.cfg.cql.tls.enabled) {
		if ((tls_ctx = cql_tls_ctx_new(&d.cfg.cql.tls, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
			return 2;
		}
		d.cfg.cql.tls_ctx = tls_ctx;
		if (!d.cfg.cql.tls.verify)
			msg_warn("CASSANDRA_TLS_VERIFY=off: the database's certificate and name are NOT "
				 "verified; anyone on the network path can impersonate it");
	}
	if (d.cfg.auth_password) {
		if ((auth = cql_auth_password_new(d.cfg.username, d.cfg.password)) == NULL) {
			msg_error("out of memory");
			return 1;
		}
		d.cfg.cql.auth = auth;
	}
	if (d.cfg.auth_sigv4) {
		if ((creds = cred_chain_new(d.base, dns)) == NULL ||
		    (auth = cql_auth_sigv4_new(d.cfg.aws_region, sigv4_creds, creds)) == NULL) {
			msg_error("out of memory");
			return 1;
		}
		d.cfg.cql.auth = auth;
		d.creds = creds;
	}
	if ((d.cql = cql_session_new(d.base, dns, &d.cfg.cql)) == NULL ||
	    register_statements(d.cql, &d.reg) != 0) {
		msg_error("out of memory");
		return 1;
	}
	seed = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^ (uint64_t)rand() << 32;
	if (d.cfg.cache_max_entries > 0 && d.mode == MODE_SERVE &&
	    (d.cache = cache_new(d.cfg.cache_max_entries, seed)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	backend.ctx = d.cql;
	if ((d.engine = lookup_engine_new(&d.reg, &backend, d.cache,
					  seed * 0x9e3779b97f4a7c15ULL + 1)) == NULL ||
	    (d.poll_timer = evtimer_new(d.base, poll_cb, &d)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	scfg.idle_timeout_ms = d.cfg.idle_timeout_ms;
	scfg.max_clients = d.cfg.max_clients;
	scfg.max_pipeline = SM_MAX_PIPELINE;
	if ((d.srv = sm_server_new(d.base, d.engine, &scfg)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	if (d.mode == MODE_SERVE) {
		fd_budget(d.cfg.max_clients);
		if (start_listening(&d, port_file) != 0)
			return 1;
		if (d.cfg.metrics_listen[0] &&
		    (d.metrics = metrics_start(d.base, d.cfg.metrics_listen, &d.reg, d.engine,
					       d.cache, d.cql, d.creds, &d.cfg, err, sizeof(err))) == NULL) {
			msg_error("METRICS_LISTEN=%s: %s", d.cfg.metrics_listen, err);
			return 1;
		}
		for (i = 0; signums[i]; i++) {
			sigs[i] = evsignal_new(d.base, signums[i], signal_cb, &d);
			if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0) {
				msg_error("cannot install signal handlers");
				return 1;
			}
		}
		sigs[i] = NULL;
		d.status_timer = event_new(d.base, -1, EV_PERSIST, status_cb, &d);
		if (d.status_timer) {
			int64_t ms = service_watchdog_ms();
			struct timeval tv;

			ms = ms > 0 && ms < STATUS_EVERY_MS ? ms : STATUS_EVERY_MS;
			tv.tv_sec = (time_t)(ms / 1000);
			tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
			evtimer_add(d.status_timer, &tv);
		}
		msg_info("version %s; keyspace %s; cassandra %s:%u%s (%s, auth %s); %zu maps; cache %s",
			 PAC_VERSION, d.cfg.keyspace, d.cfg.cql.hosts[0].host,
			 (unsigned)d.cfg.cql.hosts[0].port,
			 d.cfg.cql.nhosts > 1 ? " and others" : "",
			 !d.cfg.cql.tls.enabled ? "plain TCP" :
			 d.cfg.cql.tls.verify ? "TLS" : "TLS WITHOUT verification",
			 auth ? auth->name : "none", d.reg.n, d.cache ? "on" : "off");
		if (creds)
			msg_info("amazon keyspaces: region %s, endpoint %s:%u%s; SigV4 with AWS "
				 "credentials from the SDK chain (env, shared files, container, IMDSv2)",
				 d.cfg.aws_region, d.cfg.cql.hosts[0].host,
				 (unsigned)d.cfg.cql.hosts[0].port,
				 d.cfg.keyspaces_endpoint ? "" : " (CASSANDRA_HOSTS)");
		/* Listeners are bound: Postfix can connect (lookups say TEMP until Cassandra answers). */
		service_notify("READY=1");
		service_status("cassandra: connecting");
	} else {
		sigs[0] = NULL;
		d.deadline = clock_now_ms() + d.cfg.cql.connect_timeout_ms +
			     2 * d.cfg.cql.request_timeout_ms;
		arm(d.poll_timer, 0);
	}
	if (creds) {
		/* Connect once the chain has answered: no handshake without credentials. */
		cred_chain_on_settled(creds, creds_settled, d.cql);
		cred_chain_on_found(creds, creds_found, d.cql);
		cred_chain_start(creds);
	} else {
		cql_session_start(d.cql);
	}

	event_base_dispatch(d.base);

	if (d.mode == MODE_SERVE)
		msg_info("stopped");
	rc = d.mode == MODE_SERVE ? 0 : d.exit_code;
	/* Clients first (cancels their lookups), then reads in flight, then the engine. */
	metrics_free(d.metrics);
	sm_server_free(d.srv);
	cql_session_free(d.cql);
	lookup_engine_free(d.engine);
	cache_free(d.cache);
	free(d.pending);
	event_free(d.poll_timer);
	if (d.status_timer)
		event_free(d.status_timer);
	if (d.drain_timer)
		event_free(d.drain_timer);
	for (i = 0; sigs[i]; i++)
		event_free(sigs[i]);
	evdns_base_free(dns, 0);
	event_base_free(d.base);
	cql_auth_free(auth);
	cred_chain_free(creds);
	if (tls_ctx)
		SSL_CTX_free(tls_ctx);
	return rc;
}
