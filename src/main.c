/*
 * postfix-aws-cassandra - Postfix socketmap daemon backed by Cassandra
 *
 * SYNOPSIS
 *	postfix-aws-cassandra [-c FILE] [--foreground] [--port-file PATH]
 *	postfix-aws-cassandra [-c FILE] [--as-service [--user U] [--env-file F]] --check
 *	postfix-aws-cassandra [-c FILE] [--as-service ...] --query MAP KEY
 *	postfix-aws-cassandra --credentials
 *	postfix-aws-cassandra --flush [--pid PID]
 *	postfix-aws-cassandra --version | --help
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
 *	report and exits 0 when all is well; with --as-service, after becoming
 *	the unit's user with its environment files (run_as.h). --query runs one lookup through
 *	the full engine and prints the candidate keys and the reply. --flush
 *	asks one running daemon to empty its cache: --pid PID, else the
 *	systemd unit's main PID (admin.c, admin_flush.c). --credentials resolves the AWS credentials once and prints
 *	their source and access key id (cred_chain_show.c).
 *
 *	This file holds the options, the wiring of the modules, the signals
 *	and the shutdown; building and reloading the maps is map_reload.c.
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
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "admin.h"
#include "aws/cred_chain.h"
#include "aws/cred_chain_show.h"
#include "cache.h"
#include "changes_poll.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "cql/cql_auth.h"
#include "cql/cql_auth_sigv4.h"
#include "cql/cql_failover.h"
#include "evlog.h"
#include "log.h"
#include "lookup_backend.h"
#include "lookup_engine.h"
#include "map_registry.h"
#include "map_reload.h"
#include "metrics.h"
#include "run_as.h"
#include "service.h"
#include "sm_server.h"

#ifndef PAC_VERSION
#define PAC_VERSION "unknown"
#endif

#define PROGNAME		"postfix-aws-cassandra"
#define DRAIN_MAX_MS		5000	/* answer in-flight lookups on TERM */
#define DRAIN_POLL_MS		10	/* how often the drain looks */
#define FD_RESERVE		100	/* descriptors besides the clients' */
#define STATUS_EVERY_MS		5000	/* systemd STATUS= refresh */
#define SM_MAX_PIPELINE		64	/* requests in flight per client */
#define SD_LISTEN_FDS_START	3	/* the first descriptor systemd passes */
#define EXIT_RUNTIME		1	/* startup failed: listen, memory, ... */
#define EXIT_CONFIG		2	/* usage or configuration error */
#define CONTINUE		(-1)	/* not an exit code: go on */

enum mode { MODE_SERVE, MODE_CHECK, MODE_QUERY };

static const int signums[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
#define NSIGNALS	(sizeof(signums) / sizeof(signums[0]))

struct daemon {
	struct event_base *base;
	struct evdns_base *dns;
	struct config cfg;
	const char *config_path;
	int config_explicit;
	struct map_registry reg;	/* live maps: updated in place on HUP */
	struct map_reload *reload;	/* HUP */
	SSL_CTX *tls_ctx;
	struct cql_auth *auth;
	struct cred_chain *creds;	/* SigV4 only */
	struct cql_failover *cql;	/* the session of each host group */
	struct cache *cache;
	struct lookup_engine *engine;
	struct sm_server *srv;
	struct metrics *metrics;
	struct changes_poll *changes;	/* CHANGES_POLL_SECONDS */
	struct admin *admin;		/* --check, --query */
	struct event *sigs[NSIGNALS];
	struct event *status_timer;
	struct event *drain_timer;
	int64_t drain_deadline;
	enum mode mode;
	const char *query_map, *query_key;
	const char *port_file;
};

/* usage - print the synopsis */
static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-c FILE] [--foreground] [--port-file PATH]\n"
		"       %s [-c FILE] [--as-service [--user USER] [--env-file FILE]] --check\n"
		"       %s [-c FILE] [--as-service ...] --query MAP KEY\n"
		"       %s --credentials\n"
		"       %s --flush [--pid PID]\n"
		"       %s --version | --help\n"
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
		PROGNAME, PROGNAME, PROGNAME, PROGNAME, PROGNAME, PROGNAME);
}

/* write_port_file - the bound port, atomically, for tests using PORT=0 */
static int write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
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

/* map_source - where the daemon's maps come from */
static struct map_source map_source(const struct daemon *d)
{
	struct map_source src = { d->config_path, d->config_explicit, d->cfg.keyspace,
				  &d->cfg.maps };

	return src;
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
	cql_failover_start(arg);
}

/* creds_found - credentials again after none: reconnect without waiting */
static void creds_found(void *arg)
{
	msg_info("aws: credentials available again; reconnecting now");
	cql_failover_retry_now(arg);
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
		       cql_failover_state(d->cql), (unsigned long long)st->requests,
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
	struct timeval tv = clock_timeval(DRAIN_POLL_MS);

	(void)what;
	switch (sig) {
	case SIGHUP:
		msg_info("SIGHUP: reloading the map configuration");
		map_reload_start(d->reload);
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
	/* Lookups waiting for the first connection answer TEMP now, not at their deadline. */
	cql_failover_stop_waiting(d->cql);
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
static int start_listening(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	int i, nfds = service_listen_fds();
	size_t k;

	for (i = 0; i < nfds; i++) {
		if (sm_server_adopt(d->srv, SD_LISTEN_FDS_START + i, err, sizeof(err)) != 0) {
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
	if (d->port_file && write_port_file(d->port_file, sm_server_port(d->srv)) != 0) {
		msg_error("cannot write %s: %s", d->port_file, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * parse_options - the command line into d; an exit code for the modes that
 * end here (--help, --version, --flush, --credentials, a bad option), else
 * CONTINUE
 */
static int parse_options(struct daemon *d, int argc, char **argv)
{
	const char *flush_pid = NULL, *cli_config = NULL, *user = NULL, *env_file = NULL;
	int a, flush = 0, as_service = 0, rc;

	d->mode = MODE_SERVE;
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--version") || !strcmp(argv[a], "-V")) {
			printf("%s %s\n", PROGNAME, PAC_VERSION);
			return 0;
		} else if (!strcmp(argv[a], "--flush")) {
			flush = 1;
		} else if (!strcmp(argv[a], "--pid") && a + 1 < argc) {
			flush_pid = argv[++a];
		} else if (!strcmp(argv[a], "--credentials")) {
			return cred_chain_show(PROGNAME);
		} else if (!strcmp(argv[a], "--check")) {
			d->mode = MODE_CHECK;
		} else if (!strcmp(argv[a], "--query") && a + 2 < argc) {
			d->mode = MODE_QUERY;
			d->query_map = argv[++a];
			d->query_key = argv[++a];
		} else if (!strcmp(argv[a], "--foreground") || !strcmp(argv[a], "-f")) {
			continue;
		} else if (!strcmp(argv[a], "-c") && a + 1 < argc) {
			cli_config = argv[++a];
		} else if (!strcmp(argv[a], "--as-service")) {
			as_service = 1;
		} else if (!strcmp(argv[a], "--user") && a + 1 < argc) {
			user = argv[++a];
		} else if (!strcmp(argv[a], "--env-file") && a + 1 < argc) {
			env_file = argv[++a];
		} else if (!strcmp(argv[a], "--port-file") && a + 1 < argc) {
			d->port_file = argv[++a];
		} else {
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", PROGNAME, argv[a]);
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (flush)
		return admin_flush(PROGNAME, flush_pid);
	if ((user || env_file) && !as_service) {
		fprintf(stderr, "%s: --user and --env-file go with --as-service\n", PROGNAME);
		return EXIT_CONFIG;
	}
	if (as_service) {
		if (d->mode == MODE_SERVE) {
			fprintf(stderr, "%s: --as-service goes with --check or --query\n", PROGNAME);
			return EXIT_CONFIG;
		}
		if ((rc = run_as_service(PROGNAME, user, env_file)) != 0)
			return rc;
	}
	/* After --as-service: CONFIG_FILE may come from the unit's environment file. */
	d->config_path = cli_config ? cli_config : getenv("CONFIG_FILE");
	d->config_explicit = d->config_path != NULL && *d->config_path != 0;
	return CONTINUE;
}

/* load_config - the settings and the maps, then logging; CONTINUE or EXIT_CONFIG */
static int load_config(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	struct map_source src;

	if (config_from_env(&d->cfg, err, sizeof(err)) == 0) {
		src = map_source(d);
		if (map_reload_build(&src, &d->reg, err, sizeof(err)) == 0)
			goto built;
	}
	fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
	return EXIT_CONFIG;
built:
	/* A group that does not exist is a setting to fix, not a failure to retry. */
	if (d->cfg.listen_group[0] && getgrnam(d->cfg.listen_group) == NULL) {
		fprintf(stderr, "%s: configuration error: LISTEN_GROUP='%s': no such group\n",
			PROGNAME, d->cfg.listen_group);
		return EXIT_CONFIG;
	}
	map_registry_stamp(&d->reg, NULL);
	log_init(PROGNAME, d->cfg.log_syslog);
	log_set_level((enum log_level)d->cfg.log_level);
	evlog_route();
	if (d->mode != MODE_SERVE && d->cfg.log_level > LOG_LEVEL_WARN)
		log_set_level(LOG_LEVEL_WARN);	/* the report is the output */
	return CONTINUE;
}

/* open_auth - TLS and the authenticator (password or SigV4); CONTINUE or an exit code */
static int open_auth(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];

	if (d->cfg.cql.tls.enabled) {
		if ((d->tls_ctx = cql_tls_ctx_new(&d->cfg.cql.tls, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
			return EXIT_CONFIG;
		}
		d->cfg.cql.tls_ctx = d->tls_ctx;
		if (!d->cfg.cql.tls.verify)
			msg_warn("CASSANDRA_TLS_VERIFY=off: the database's certificate and name are NOT "
				 "verified; anyone on the network path can impersonate it");
	}
	if (d->cfg.auth_password) {
		if ((d->auth = cql_auth_password_new(d->cfg.username, d->cfg.password)) == NULL) {
			msg_error("out of memory");
			return EXIT_RUNTIME;
		}
		d->cfg.cql.auth = d->auth;
	}
	if (d->cfg.auth_sigv4) {
		if ((d->creds = cred_chain_new(d->base, d->dns)) == NULL ||
		    (d->auth = cql_auth_sigv4_new(d->cfg.aws_region, sigv4_creds, d->creds)) == NULL) {
			msg_error("out of memory");
			return EXIT_RUNTIME;
		}
		d->cfg.cql.auth = d->auth;
	}
	return CONTINUE;
}

/*
 * open_cql - the CQL client: the primary group's session, and one per
 * standby group, each signing for its own region with SigV4
 */
static struct cql_failover *open_cql(struct daemon *d)
{
	struct cql_failover_config fc = {
		&d->cfg.cql, d->cfg.aws_region, d->cfg.failover, d->cfg.nfailover,
		d->cfg.failback_holddown_ms, d->cfg.auth_sigv4 ? sigv4_creds : NULL, d->creds,
	};

	return cql_failover_new(d->base, d->dns, &fc);
}

/*
 * open_daemon - the loop, the resolver, the CQL session with the maps'
 * statements, the cache, the engine and the socketmap server; CONTINUE or
 * an exit code
 */
static int open_daemon(struct daemon *d)
{
	struct lookup_backend backend = { &lookup_backend_cql, NULL };
	struct sm_server_config scfg;
	uint64_t seed;
	int rc;

	if ((d->base = event_base_new()) == NULL) {
		msg_error("cannot create the event loop");
		return EXIT_RUNTIME;
	}
	/* evdns reads resolv.conf; without one it still resolves /etc/hosts names. */
	d->dns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
				EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (d->dns == NULL)
		d->dns = evdns_base_new(d->base, 0);
	if (d->dns == NULL) {
		msg_error("cannot create the DNS resolver");
		return EXIT_RUNTIME;
	}
	if ((rc = open_auth(d)) != CONTINUE)
		return rc;
	if ((d->cql = open_cql(d)) == NULL || map_reload_prepare(d->cql, &d->reg) != 0)
		goto oom;
	seed = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^ (uint64_t)rand() << 32;
	if (d->cfg.cache_max_entries > 0 && d->mode == MODE_SERVE &&
	    (d->cache = cache_new(d->cfg.cache_max_entries, seed)) == NULL)
		goto oom;
	backend.ctx = d->cql;
	if ((d->engine = lookup_engine_new(&d->reg, &backend, d->cache,
					   seed * 0x9e3779b97f4a7c15ULL + 1)) == NULL)
		goto oom;
	scfg.idle_timeout_ms = d->cfg.idle_timeout_ms;
	scfg.max_clients = d->cfg.max_clients;
	scfg.max_pipeline = SM_MAX_PIPELINE;
	if ((d->srv = sm_server_new(d->base, d->engine, &scfg)) == NULL)
		goto oom;
	return CONTINUE;
oom:
	msg_error("out of memory");
	return EXIT_RUNTIME;
}

/* start_status - keep systemd's STATUS= current, as often as its watchdog needs */
static void start_status(struct daemon *d)
{
	int64_t ms = service_watchdog_ms();
	struct timeval tv;

	d->status_timer = event_new(d->base, -1, EV_PERSIST, status_cb, d);
	if (d->status_timer == NULL)
		return;
	ms = ms > 0 && ms < STATUS_EVERY_MS ? ms : STATUS_EVERY_MS;
	tv = clock_timeval(ms);
	evtimer_add(d->status_timer, &tv);
}

/* log_started - the startup lines an operator reads first */
static void log_started(const struct daemon *d)
{
	const struct cql_session_config *c = &d->cfg.cql;

	msg_info("version %s; keyspace %s; cassandra %s:%u%s (%s, auth %s); %zu maps; cache %s",
		 PAC_VERSION, d->cfg.keyspace, c->hosts[0].host, (unsigned)c->hosts[0].port,
		 c->nhosts > 1 ? " and others" : "",
		 !c->tls.enabled ? "plain TCP" : c->tls.verify ? "TLS" : "TLS WITHOUT verification",
		 d->auth ? d->auth->name : "none", d->reg.n, d->cache ? "on" : "off");
	if (d->creds)
		msg_info("amazon keyspaces: region %s, endpoint %s:%u%s; SigV4 with AWS "
			 "credentials from the SDK chain (env, shared files, container, IMDSv2)",
			 d->cfg.aws_region, c->hosts[0].host, (unsigned)c->hosts[0].port,
			 d->cfg.keyspaces_endpoint ? "" : " (CASSANDRA_HOSTS)");
}

/* start_serving - listeners, metrics, reloads, signals; CONTINUE or EXIT_RUNTIME */
static int start_serving(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	struct map_source src = map_source(d);
	size_t i;

	fd_budget(d->cfg.max_clients);
	if (start_listening(d) != 0)
		return EXIT_RUNTIME;
	/* Fleet invalidation: only a cache has anything to drop. */
	if (d->cfg.changes_poll_ms > 0 && d->cache &&
	    (d->changes = changes_poll_new(d->base, d->cql, &d->reg, d->cache, d->cfg.keyspace,
					   d->cfg.changes_poll_ms, d->cfg.maps.ttl_ms)) == NULL) {
		msg_error("out of memory");
		return EXIT_RUNTIME;
	}
	if (d->cfg.metrics_listen[0] &&
	    (d->metrics = metrics_start(d->base, d->cfg.metrics_listen, &d->reg, d->engine,
					d->cache, d->cql, d->creds, &d->cfg, err, sizeof(err))) == NULL) {
		msg_error("METRICS_LISTEN=%s: %s", d->cfg.metrics_listen, err);
		return EXIT_RUNTIME;
	}
	if (d->metrics) {
		metrics_watch_clients(d->metrics, d->srv);
		metrics_set_changes(d->metrics, d->changes);
	}
	if ((d->reload = map_reload_new(d->base, &src, &d->reg, d->cql, d->cache)) == NULL) {
		msg_error("out of memory");
		return EXIT_RUNTIME;
	}
	for (i = 0; i < NSIGNALS; i++) {
		d->sigs[i] = evsignal_new(d->base, signums[i], signal_cb, d);
		if (d->sigs[i] == NULL || evsignal_add(d->sigs[i], NULL) != 0) {
			msg_error("cannot install signal handlers");
			return EXIT_RUNTIME;
		}
	}
	start_status(d);
	log_started(d);
	/* Listeners are bound: Postfix can connect (lookups say TEMP until Cassandra answers). */
	service_notify("READY=1");
	service_status("cassandra: connecting");
	return CONTINUE;
}

/* start_admin - --check or --query on the loop; CONTINUE or EXIT_RUNTIME */
static int start_admin(struct daemon *d)
{
	struct admin_deps deps = { d->base, d->engine, d->cql, &d->reg, &d->cfg, d->creds };
	int64_t deadline = clock_now_ms() + d->cfg.cql.connect_timeout_ms +
			   2 * d->cfg.cql.request_timeout_ms;

	d->admin = d->mode == MODE_CHECK ? admin_check_start(&deps, deadline) :
		   admin_query_start(&deps, deadline, d->query_map, d->query_key);
	if (d->admin == NULL) {
		msg_error("out of memory");
		return EXIT_RUNTIME;
	}
	return CONTINUE;
}

/* close_daemon - free everything, in an order that keeps callbacks safe */
static void close_daemon(struct daemon *d)
{
	size_t i;

	/* Clients first (cancels their lookups), then reads in flight, then the engine. */
	metrics_free(d->metrics);
	sm_server_free(d->srv);
	lookup_engine_closing(d->engine);	/* --query answered: its other reads are cut */
	changes_poll_free(d->changes);	/* detaches its read: the session ends it */
	cql_failover_free(d->cql);
	lookup_engine_free(d->engine);
	cache_free(d->cache);
	map_reload_free(d->reload);
	admin_free(d->admin);		/* after the engine: its lookups answer into it */
	if (d->status_timer)
		event_free(d->status_timer);
	if (d->drain_timer)
		event_free(d->drain_timer);
	for (i = 0; i < NSIGNALS; i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	evdns_base_free(d->dns, 0);
	event_base_free(d->base);
	cql_auth_free(d->auth);
	cred_chain_free(d->creds);
	if (d->tls_ctx)
		SSL_CTX_free(d->tls_ctx);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	int rc;

	if ((rc = parse_options(&d, argc, argv)) != CONTINUE ||
	    (rc = load_config(&d)) != CONTINUE)
		return rc;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGPIPE, SIG_IGN);
	if ((rc = open_daemon(&d)) != CONTINUE ||
	    (rc = d.mode == MODE_SERVE ? start_serving(&d) : start_admin(&d)) != CONTINUE)
		return rc;
	if (d.creds) {
		/* Connect once the chain has answered: no handshake without credentials. */
		cred_chain_on_settled(d.creds, creds_settled, d.cql);
		cred_chain_on_found(d.creds, creds_found, d.cql);
		cred_chain_start(d.creds);
	} else {
		cql_failover_start(d.cql);
	}

	event_base_dispatch(d.base);

	if (d.mode == MODE_SERVE)
		msg_info("stopped");
	rc = d.mode == MODE_SERVE ? 0 : admin_exit_code(d.admin);
	close_daemon(&d);
	return rc;
}
