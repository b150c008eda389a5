/*
 * postfix-aws-cassandra - Postfix socketmap daemon backed by Cassandra
 *
 * SYNOPSIS
 *	postfix-aws-cassandra [-c FILE] [--foreground] [--port-file PATH]
 *	postfix-aws-cassandra --version | --help
 *
 * DESCRIPTION
 *	Reads its settings from the environment (config.h), listens for
 *	Postfix socketmap lookups on 127.0.0.1:PORT and answers them from
 *	Cassandra or Amazon Keyspaces. It always runs in the foreground
 *	(systemd supervises it); --foreground is accepted for clarity.
 *
 *	The daemon starts and serves whether or not the database is
 *	reachable: until it is, lookups answer TEMP and Postfix defers.
 *
 * DIAGNOSTICS
 *	Exit 0 after SIGTERM/SIGINT, 1 on a runtime failure at startup
 *	(cannot listen), 2 on a usage or configuration error; the message
 *	names the bad option or variable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "cql/cql_session.h"
#include "log.h"
#include "lookup_engine.h"
#include "map_registry.h"
#include "sm_server.h"

#ifndef PAC_VERSION
#define PAC_VERSION "unknown"
#endif

#define PROGNAME		"postfix-aws-cassandra"
#define DRAIN_MAX_MS		5000	/* answer in-flight lookups on TERM */
#define DRAIN_POLL_MS		20
#define SM_MAX_PIPELINE		64	/* requests in flight per client */

struct daemon {
	struct event_base *base;
	struct cache *cache;
	struct sm_server *srv;
	int64_t drain_deadline;
	struct event *drain_timer;
};

/* usage - print the synopsis */
static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-c FILE] [--foreground] [--port-file PATH]\n"
		"       %s --flush | --version | --help\n"
		"\n"
		"Answers Postfix socketmap lookups from Cassandra / Amazon Keyspaces.\n"
		"Settings come from the environment (see postfix-aws-cassandra(8)):\n"
		"  KEYSPACE_NAME (required), PORT (9999), LISTEN_ADDRESS (127.0.0.1),\n"
		"  CASSANDRA_HOSTS (127.0.0.1:9042), CONSISTENCY (LOCAL_ONE),\n"
		"  CASSANDRA_CONNECT_TIMEOUT_MS (5000), CASSANDRA_REQUEST_TIMEOUT_MS (1000),\n"
		"  CLIENT_IDLE_TIMEOUT (60 s), MAX_CLIENTS (1000), LOG_LEVEL (info),\n"
		"  LOG_TARGET (stderr), RECIPIENT_DELIMITER (+), CACHE (on),\n"
		"  CACHE_MAX_ENTRIES (100000), CACHE_TTL (300 s), CACHE_NEGATIVE_TTL (30 s),\n"
		"  CACHE_STALE_TTL (3600 s), CONFIG_FILE (" CONFIG_FILE_DEFAULT ").\n",
		PROGNAME, PROGNAME);
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
 * load_config_file - apply the map configuration file. An explicit path
 * (-c, CONFIG_FILE) must exist; the default path may be absent.
 */
static int load_config_file(const char *path, int explicit_path,
			    struct map_registry *reg, const struct map_defaults *d)
{
	char err[CONFIG_ERR_MAX];
	struct buf text;
	char chunk[8192];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		if (!explicit_path && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: configuration error: %s: %s\n", PROGNAME, path,
			strerror(errno));
		return -1;
	}
	buf_init(&text);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text.len <= CONFIG_FILE_MAX)
		buf_append(&text, chunk, n);
	fclose(fp);
	if (text.oom || text.len > CONFIG_FILE_MAX) {
		fprintf(stderr, "%s: configuration error: %s: larger than %d bytes\n",
			PROGNAME, path, CONFIG_FILE_MAX);
		buf_free(&text);
		return -1;
	}
	if (config_file_parse((char *)text.data, text.len, reg, d, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s: %s\n", PROGNAME, path, err);
		buf_free(&text);
		return -1;
	}
	buf_free(&text);
	return 0;
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

/* drain_cb - exit once in-flight lookups are answered, or at the deadline */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (sm_server_in_flight(d->srv) == 0 || clock_now_ms() >= d->drain_deadline) {
		if (sm_server_in_flight(d->srv))
			msg_warn("exiting with %u lookups unanswered",
				 sm_server_in_flight(d->srv));
		event_base_loopexit(d->base, NULL);
	}
}

/* usr1_cb - empty the cache: the next lookups ask the database */
static void usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	if (d->cache) {
		msg_info("SIGUSR1: flushing %zu cached entries",
			 cache_stats(d->cache)->entries);
		cache_flush(d->cache);
	}
}

/* term_cb - stop accepting, answer what is in flight, exit 0 */
static void term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, DRAIN_POLL_MS * 1000 };

	(void)what;
	if (d->drain_timer) {		/* second signal: go now */
		event_base_loopexit(d->base, NULL);
		return;
	}
	msg_info("signal %d: stopping", (int)sig);
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

int main(int argc, char **argv)
{
	struct config cfg;
	struct map_registry reg;
	struct daemon d;
	struct evdns_base *dns;
	struct cql_session *cql;
	struct lookup_engine *engine;
	struct cache *cache = NULL;
	struct sm_server_config scfg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct event *sig_term, *sig_int, *sig_usr1;
	const char *port_file = NULL;
	const char *config_path = getenv("CONFIG_FILE");
	int config_explicit = config_path != NULL && *config_path != 0;
	char err[CONFIG_ERR_MAX];
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--version") || !strcmp(argv[a], "-V")) {
			printf("%s %s\n", PROGNAME, PAC_VERSION);
			return 0;
		} else if (!strcmp(argv[a], "--flush")) {
			return flush_running();
		} else if (!strcmp(argv[a], "--foreground") || !strcmp(argv[a], "-f")) {
			continue;
		} else if (!strcmp(argv[a], "-c") && a + 1 < argc) {
			config_path = argv[++a];
			config_explicit = 1;
		} else if (!strcmp(argv[a], "--port-file") && a + 1 < argc) {
			port_file = argv[++a];
		} else {
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", PROGNAME, argv[a]);
			usage(stderr);
			return 2;
		}
	}
	if (config_from_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
		return 2;
	}
	log_init(PROGNAME, cfg.log_syslog);
	log_set_level((enum log_level)cfg.log_level);
	if (map_registry_defaults(&reg, cfg.keyspace, &cfg.maps, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", PROGNAME, err);
		return 2;
	}
	if (load_config_file(config_explicit ? config_path : CONFIG_FILE_DEFAULT,
			     config_explicit, &reg, &cfg.maps) != 0)
		return 2;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGPIPE, SIG_IGN);

	memset(&d, 0, sizeof(d));
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
	if ((cql = cql_session_new(d.base, dns, &cfg.cql)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	for (i = 0; i < reg.n; i++) {
		if ((reg.maps[i].stmt = cql_session_add(cql, reg.maps[i].query)) == NULL) {
			msg_error("out of memory");
			return 1;
		}
	}
	if (cfg.cache_max_entries > 0 &&
	    (cache = cache_new(cfg.cache_max_entries,
			       (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^
			       (uint64_t)rand() << 32)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	if ((engine = lookup_engine_new(&reg, cql, cache)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	scfg.idle_timeout_ms = cfg.idle_timeout_ms;
	scfg.max_clients = cfg.max_clients;
	scfg.max_pipeline = SM_MAX_PIPELINE;
	if ((d.srv = sm_server_new(d.base, engine, &scfg)) == NULL) {
		msg_error("out of memory");
		return 1;
	}
	memset(&ss, 0, sizeof(ss));
	if (strchr(cfg.listen_addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg.port);
		inet_pton(AF_INET6, cfg.listen_addr, &s6->sin6_addr);
		sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg.port);
		inet_pton(AF_INET, cfg.listen_addr, &s4->sin_addr);
		sslen = sizeof(*s4);
	}
	if (sm_server_listen(d.srv, (struct sockaddr *)&ss, sslen, err, sizeof(err)) != 0) {
		msg_error("cannot listen on %s port %d: %s", cfg.listen_addr, cfg.port, err);
		return 1;
	}
	if (port_file && write_port_file(port_file, sm_server_port(d.srv)) != 0) {
		msg_error("cannot write %s: %s", port_file, strerror(errno));
		return 1;
	}
	sig_term = evsignal_new(d.base, SIGTERM, term_cb, &d);
	sig_int = evsignal_new(d.base, SIGINT, term_cb, &d);
	sig_usr1 = evsignal_new(d.base, SIGUSR1, usr1_cb, &d);
	d.cache = cache;
	if (!sig_term || !sig_int || !sig_usr1 || evsignal_add(sig_term, NULL) ||
	    evsignal_add(sig_int, NULL) || evsignal_add(sig_usr1, NULL)) {
		msg_error("cannot install signal handlers");
		return 1;
	}
	msg_info("version %s listening on %s port %d; keyspace %s; cassandra %s:%u%s; "
		 "%zu maps; cache %s", PAC_VERSION, cfg.listen_addr, sm_server_port(d.srv),
		 cfg.keyspace, cfg.cql.hosts[0].host, (unsigned)cfg.cql.hosts[0].port,
		 cfg.cql.nhosts > 1 ? " (and others)" : "", reg.n,
		 cache ? "on" : "off");
	cql_session_start(cql);

	event_base_dispatch(d.base);

	msg_info("stopped");
	/* Clients first (cancels their lookups), then reads in flight, then the engine. */
	sm_server_free(d.srv);
	cql_session_free(cql);
	lookup_engine_free(engine);
	cache_free(cache);
	if (d.drain_timer)
		event_free(d.drain_timer);
	event_free(sig_term);
	event_free(sig_int);
	event_free(sig_usr1);
	evdns_base_free(dns, 0);
	event_base_free(d.base);
	return 0;
}
