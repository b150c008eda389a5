/*
 * smload - socketmap load generator
 *
 * SYNOPSIS
 *	smload [options] HOST:PORT
 *
 *	-c, --conns N		persistent connections (default 16)
 *	-d, --duration S	run for S seconds (default 5)
 *	-n, --count N		or send exactly N requests in all
 *	-m, --map NAME		socketmap name (default users)
 *	    --dist D		hot | uniform | zipf | miss | seq (default hot)
 *	    --keys N		key space: keys 0..N-1 (default 10000)
 *	    --hot N		hot set size for --dist hot (default 100)
 *	    --zipf-s S		Zipf exponent (default 1.0)
 *	    --key-format FMT	printf format with one %u (default
 *				"user%u@bench.example")
 *	    --hold S		keep the connections open S seconds after the
 *				last reply (footprint measurements); prints
 *				"HOLDING" on stdout when the hold starts
 *	    --seed N		random seed (default 1)
 *	    --label TEXT	copied into the result line
 *	    --cdf PATH		write the latency distribution to PATH:
 *				"<fraction> <us>" at SMLOAD_CDF_POINTS
 *				quantiles (bench/run.py's CDF charts)
 *
 * DESCRIPTION
 *	Opens N connections and keeps exactly one request in flight on each,
 *	as Postfix's socketmap client does (it writes a request and waits for
 *	its reply before the next one). Each reply's latency, from just before
 *	write() to the read that completes its netstring, is recorded; at the
 *	end smload prints a human line on stderr and one machine-readable line
 *	on stdout:
 *
 *	RESULT tool=smload conns=.. requests=.. seconds=.. rps=.. p50_us=..
 *	       p99_us=.. p999_us=.. max_us=.. ok=.. notfound=.. temp=.. perm=..
 *	       errors=.. label=..
 *
 *	Key distributions: hot draws uniformly from the first --hot keys (a
 *	warm cache), uniform from all --keys, zipf with rank i drawn with
 *	weight 1/i^s (skewed traffic), miss makes every key unique and absent
 *	(miss<n>.<seed>@absent.invalid), seq walks 0..N-1 in order (filling a
 *	cache with exactly N entries).
 *
 *	Plain epoll, no library: the generator must cost less than what it
 *	measures. Netstrings are decoded with the daemon's own decoder.
 *
 * DIAGNOSTICS
 *	Exit 0 when every request got a reply; 1 when a connection failed or
 *	closed early (counted as errors); 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netstring.h"

#define SMLOAD_KEY_MAX		512	/* bytes of one key */
#define SMLOAD_REQ_MAX		(SMLOAD_KEY_MAX + 128)	/* request netstring */
#define SMLOAD_IN_MAX		(NETSTRING_MAX_LEN + 16)	/* reply buffer */
#define SMLOAD_EVENTS		256	/* epoll_wait batch */
#define SMLOAD_DRAIN_MS		10000	/* wait for in-flight replies at the end */
#define SMLOAD_CDF_POINTS	200	/* quantiles written by --cdf */

enum dist { DIST_HOT, DIST_UNIFORM, DIST_ZIPF, DIST_MISS, DIST_SEQ };

struct conn {
	int fd;
	int busy;			/* a request is in flight */
	uint64_t sent_ns;
	size_t inlen;
	char in[SMLOAD_IN_MAX];
};

struct opts {
	const char *addr;
	int conns;
	double duration;
	uint64_t count;
	const char *map;
	enum dist dist;
	unsigned keys;
	unsigned hot;
	double zipf_s;
	const char *key_format;
	double hold;
	uint64_t seed;
	const char *label;
	const char *cdf;
};

static struct {
	uint64_t *lat;			/* latencies, ns */
	size_t nlat, caplat;
	uint64_t ok, notfound, temp, perm, errors, issued;
	int inflight;			/* connections with a request out */
	double *zipf_cdf;
	uint64_t rng;
	uint64_t seq;
} st;

/* now_ns - monotonic clock */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* rnd - xorshift64*, good enough for picking keys */
static uint64_t rnd(void)
{
	st.rng ^= st.rng >> 12;
	st.rng ^= st.rng << 25;
	st.rng ^= st.rng >> 27;
	return st.rng * 2685821657736338717ull;
}

/* rnd01 - uniform in [0, 1) */
static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* zipf_init - cumulative weights 1/i^s for ranks 1..n, normalised */
static int zipf_init(unsigned n, double s)
{
	double sum = 0;
	unsigned i;

	if ((st.zipf_cdf = malloc(sizeof(double) * n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		sum += 1.0 / pow((double)(i + 1), s);
		st.zipf_cdf[i] = sum;
	}
	for (i = 0; i < n; i++)
		st.zipf_cdf[i] /= sum;
	return 0;
}

/* zipf_pick - rank by binary search over the cdf */
static unsigned zipf_pick(unsigned n)
{
	double u = rnd01();
	unsigned lo = 0, hi = n - 1;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (st.zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* make_request - the next request netstring into out; returns its length */
static size_t make_request(const struct opts *o, char *out, size_t outlen)
{
	char key[SMLOAD_KEY_MAX], payload[SMLOAD_REQ_MAX];
	unsigned idx = 0;
	int klen, plen, n;

	switch (o->dist) {
	case DIST_HOT:
		idx = (unsigned)(rnd() % o->hot);
		break;
	case DIST_UNIFORM:
		idx = (unsigned)(rnd() % o->keys);
		break;
	case DIST_ZIPF:
		idx = zipf_pick(o->keys);
		break;
	case DIST_SEQ:
		idx = (unsigned)(st.seq++ % o->keys);
		break;
	case DIST_MISS:
		break;
	}
	if (o->dist == DIST_MISS)
		klen = snprintf(key, sizeof(key), "miss%llu.%llu@absent.invalid",
				(unsigned long long)st.seq++, (unsigned long long)o->seed);
	else
		klen = snprintf(key, sizeof(key), o->key_format, idx);
	if (klen < 0 || (size_t)klen >= sizeof(key))
		klen = (int)sizeof(key) - 1;
	plen = snprintf(payload, sizeof(payload), "%s %.*s", o->map, klen, key);
	if (plen < 0 || (size_t)plen >= sizeof(payload))
		plen = (int)sizeof(payload) - 1;
	n = snprintf(out, outlen, "%d:%.*s,", plen, plen, payload);
	return n < 0 ? 0 : (size_t)n;
}

/* record - one latency sample */
static void record(uint64_t ns)
{
	if (st.nlat == st.caplat) {
		size_t cap = st.caplat ? st.caplat * 2 : 1 << 20;
		uint64_t *p = realloc(st.lat, cap * sizeof(*p));

		if (p == NULL)
			return;		/* keep counting; lose the sample */
		st.lat = p;
		st.caplat = cap;
	}
	st.lat[st.nlat++] = ns;
}

/* send_one - write the next request on c */
static int send_one(const struct opts *o, struct conn *c)
{
	char req[SMLOAD_REQ_MAX + 16];
	size_t len = make_request(o, req, sizeof(req));
	ssize_t w;

	c->sent_ns = now_ns();
	/* A request is a few dozen bytes: it always fits an empty socket buffer. */
	w = send(c->fd, req, len, MSG_NOSIGNAL);
	if (w != (ssize_t)len)
		return -1;
	c->busy = 1;
	st.inflight++;
	st.issued++;
	return 0;
}

/* classify - count the reply by its status word */
static void classify(const char *p, size_t n)
{
	if (n >= 2 && !memcmp(p, "OK", 2))
		st.ok++;
	else if (n >= 8 && !memcmp(p, "NOTFOUND", 8))
		st.notfound++;
	else if (n >= 4 && !memcmp(p, "TEMP", 4))
		st.temp++;
	else if (n >= 4 && !memcmp(p, "PERM", 4))
		st.perm++;
	else
		st.errors++;
}

/* conn_close - give up on a connection */
static void conn_close(int ep, struct conn *c, int *open)
{
	if (c->fd < 0)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->busy) {
		st.errors++;
		st.inflight--;
	}
	c->busy = 0;
	(*open)--;
}

/* parse_addr - "host:port" (IPv4 literal) */
static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* cmp_u64 - qsort order */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* pct - the p-th percentile of the sorted samples, in microseconds */
static double pct(double p)
{
	size_t i;

	if (st.nlat == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(st.nlat - 1) + 0.5);
	if (i >= st.nlat)
		i = st.nlat - 1;
	return (double)st.lat[i] / 1000.0;
}

/* write_cdf - the sorted latencies at SMLOAD_CDF_POINTS quantiles, to path */
static void write_cdf(const char *path)
{
	FILE *f = fopen(path, "w");
	int k;

	if (f == NULL) {
		fprintf(stderr, "smload: %s: cannot write the CDF\n", path);
		return;
	}
	for (k = 0; k <= SMLOAD_CDF_POINTS; k++)
		fprintf(f, "%.4f %.1f\n", (double)k / SMLOAD_CDF_POINTS,
			pct(100.0 * k / SMLOAD_CDF_POINTS));
	fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: smload [-c CONNS] [-d SECONDS | -n COUNT] [-m MAP] "
		"[--dist hot|uniform|zipf|miss|seq] [--keys N] [--hot N] [--zipf-s S]\n"
		"              [--key-format FMT] [--hold SECONDS] [--seed N] [--label TEXT] [--cdf PATH] HOST:PORT\n");
}

/* parse_opts - command line into o; exits on errors */
static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"conns", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'n'},
		{"map", required_argument, NULL, 'm'},
		{"dist", required_argument, NULL, 'D'},
		{"keys", required_argument, NULL, 'K'},
		{"hot", required_argument, NULL, 'H'},
		{"zipf-s", required_argument, NULL, 'Z'},
		{"key-format", required_argument, NULL, 'F'},
		{"hold", required_argument, NULL, 'O'},
		{"seed", required_argument, NULL, 'S'},
		{"label", required_argument, NULL, 'L'},
		{"cdf", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->conns = 16;
	o->duration = 5;
	o->map = "users";
	o->dist = DIST_HOT;
	o->keys = 10000;
	o->hot = 100;
	o->zipf_s = 1.0;
	o->key_format = "user%u@bench.example";
	o->seed = 1;
	o->label = "-";
	while ((ch = getopt_long(argc, argv, "c:d:n:m:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conns = atoi(optarg); break;
		case 'd': o->duration = atof(optarg); break;
		case 'n': o->count = strtoull(optarg, NULL, 10); break;
		case 'm': o->map = optarg; break;
		case 'D':
			if (!strcmp(optarg, "hot")) o->dist = DIST_HOT;
			else if (!strcmp(optarg, "uniform")) o->dist = DIST_UNIFORM;
			else if (!strcmp(optarg, "zipf")) o->dist = DIST_ZIPF;
			else if (!strcmp(optarg, "miss")) o->dist = DIST_MISS;
			else if (!strcmp(optarg, "seq")) o->dist = DIST_SEQ;
			else { usage(stderr); exit(2); }
			break;
		case 'K': o->keys = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'H': o->hot = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'Z': o->zipf_s = atof(optarg); break;
		case 'F': o->key_format = optarg; break;
		case 'O': o->hold = atof(optarg); break;
		case 'S': o->seed = strtoull(optarg, NULL, 10); break;
		case 'L': o->label = optarg; break;
		case 'C': o->cdf = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind + 1 != argc || o->conns < 1 || o->keys < 1 || o->hot < 1 ||
	    (o->count == 0 && o->duration <= 0)) {
		usage(stderr);
		exit(2);
	}
	if (o->hot > o->keys)
		o->hot = o->keys;
	/* The format is the user's: it must hold exactly one %u. */
	{
		const char *p = o->key_format;
		int conv = 0;

		for (; *p; p++)
			if (p[0] == '%') {
				if (p[1] == '%') {
					p++;
					continue;
				}
				if (p[1] != 'u') {
					fprintf(stderr, "smload: --key-format takes one %%u and nothing else\n");
					exit(2);
				}
				conv++;
			}
		if (conv != 1) {
			fprintf(stderr, "smload: --key-format takes exactly one %%u\n");
			exit(2);
		}
	}
	o->addr = argv[optind];
}

/* raise_nofile - allow as many sockets as the hard limit */
static void raise_nofile(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need + 16) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sockaddr_in sa;
	struct conn *conns;
	struct epoll_event evs[SMLOAD_EVENTS];
	uint64_t start, end_at, stop_issue_at, last;
	int ep, i, open = 0, stopping = 0;
	double secs;

	parse_opts(argc, argv, &o);
	if (parse_addr(o.addr, &sa) != 0) {
		fprintf(stderr, "smload: bad address '%s' (want IPv4:PORT)\n", o.addr);
		return 2;
	}
	st.rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
	if (o.dist == DIST_ZIPF && zipf_init(o.keys, o.zipf_s) != 0) {
		fprintf(stderr, "smload: out of memory\n");
		return 1;
	}
	raise_nofile(o.conns);
	if ((conns = calloc((size_t)o.conns, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(0)) < 0) {
		fprintf(stderr, "smload: %s\n", strerror(errno));
		return 1;
	}
	/* Connect everything first (blocking, loopback), then start the clock. */
	for (i = 0; i < o.conns; i++) {
		struct epoll_event ev = {.events = EPOLLIN};
		int one = 1;

		conns[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (conns[i].fd < 0 ||
		    connect(conns[i].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			fprintf(stderr, "smload: connection %d to %s: %s\n", i, o.addr,
				strerror(errno));
			return 1;
		}
		setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.ptr = &conns[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
			fprintf(stderr, "smload: epoll: %s\n", strerror(errno));
			return 1;
		}
		open++;
	}
	start = now_ns();
	stop_issue_at = o.count ? UINT64_MAX : start + (uint64_t)(o.duration * 1e9);
	end_at = UINT64_MAX;
	for (i = 0; i < o.conns && (!o.count || st.issued < o.count); i++)
		if (send_one(&o, &conns[i]) != 0)
			conn_close(ep, &conns[i], &open);

	for (;;) {
		uint64_t now = now_ns();
		int n, inflight = st.inflight, timeout_ms;

		if (!stopping && (now >= stop_issue_at || (o.count && st.issued >= o.count))) {
			stopping = 1;
			end_at = now + (uint64_t)SMLOAD_DRAIN_MS * 1000000u;
		}
		if (open == 0 || (stopping && inflight == 0) || now >= end_at)
			break;
		timeout_ms = stopping ? 100 : (int)((stop_issue_at - now) / 1000000u) + 1;
		if (timeout_ms > 100)
			timeout_ms = 100;
		n = epoll_wait(ep, evs, SMLOAD_EVENTS, timeout_ms);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "smload: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			const char *payload, *why;
			size_t plen, used;
			ssize_t r;

			if (c->fd < 0)
				continue;
			r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				conn_close(ep, c, &open);
				continue;
			}
			c->inlen += (size_t)r;
			switch (netstring_decode(c->in, c->inlen, NETSTRING_MAX_LEN, &payload,
						 &plen, &used, &why)) {
			case NETSTRING_NEED_MORE:
				continue;
			case NETSTRING_ERROR:
				fprintf(stderr, "smload: bad reply: %s\n", why);
				conn_close(ep, c, &open);
				continue;
			case NETSTRING_COMPLETE:
				break;
			}
			record(now_ns() - c->sent_ns);
			classify(payload, plen);
			c->busy = 0;
			st.inflight--;
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			if (!stopping && now_ns() < stop_issue_at &&
			    (!o.count || st.issued < o.count) && send_one(&o, c) != 0)
				conn_close(ep, c, &open);
		}
	}
	last = now_ns();
	secs = (double)(last - start) / 1e9;
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u64);
	fprintf(stderr, "smload: %s %d conns, %s, %.2f s: %zu replies (ok %llu, notfound %llu, "
		"temp %llu, perm %llu, errors %llu): %.0f/s; latency p50 %.0f us, p99 %.0f us, "
		"p99.9 %.0f us, max %.0f us\n",
		o.addr, o.conns, o.map, secs, st.nlat, (unsigned long long)st.ok,
		(unsigned long long)st.notfound, (unsigned long long)st.temp,
		(unsigned long long)st.perm, (unsigned long long)st.errors,
		(double)st.nlat / secs, pct(50), pct(99), pct(99.9), pct(100));
	printf("RESULT tool=smload conns=%d requests=%zu seconds=%.3f rps=%.1f p50_us=%.1f "
	       "p99_us=%.1f p999_us=%.1f max_us=%.1f ok=%llu notfound=%llu temp=%llu perm=%llu "
	       "errors=%llu label=%s\n",
	       o.conns, st.nlat, secs, (double)st.nlat / secs, pct(50), pct(99), pct(99.9),
	       pct(100), (unsigned long long)st.ok, (unsigned long long)st.notfound,
	       (unsigned long long)st.temp, (unsigned long long)st.perm,
	       (unsigned long long)st.errors, o.label);
	fflush(stdout);
	if (o.cdf != NULL)
		write_cdf(o.cdf);
	if (o.hold > 0) {
		struct timespec ts = {(time_t)o.hold,
				      (long)((o.hold - (double)(time_t)o.hold) * 1e9)};

		printf("HOLDING conns=%d\n", open);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < o.conns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return st.errors ? 1 : 0;
}
