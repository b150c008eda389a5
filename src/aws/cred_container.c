/*
 * cred_container - credentials from the ECS / EKS container endpoint
 *
 * DESCRIPTION
 *	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS task roles) is a path on
 *	http://169.254.170.2; otherwise AWS_CONTAINER_CREDENTIALS_FULL_URI
 *	(EKS Pod Identity, local emulators) is a whole URL, sent with an
 *	Authorization header read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *	(re-read at each fetch: EKS rotates it) or
 *	AWS_CONTAINER_AUTHORIZATION_TOKEN. As in the SDKs, a full URI over
 *	plain http must point at loopback or the ECS/EKS link-local
 *	addresses; https endpoints are not supported by this build. The
 *	answer is the usual credential document (cred_json.c). Requests
 *	time out after AWS_METADATA_SERVICE_TIMEOUT seconds (1) and are
 *	attempted AWS_METADATA_SERVICE_NUM_ATTEMPTS times (3 by default, as
 *	botocore's ContainerMetadataFetcher, RETRY_ATTEMPTS = 3).
 *
 *	A host given by name is resolved (evdns) before each fetch and every
 *	address it resolves to must be allowed, as the Go SDK checks
 *	(credentials/endpointcreds, validateLocalURL): a prefix test on the
 *	name would let "127.example.invalid" through.
 *
 *	Once either variable is set, this source is final: an endpoint that
 *	is refused, answers 500, or is not allowed ends the walk with its
 *	reason. botocore and the Go SDK stop there with an error, and in the
 *	C SDK (aws-c-auth credentials_provider_default_chain.c) the container
 *	and IMDS providers are mutually exclusive; falling through would sign
 *	as the instance's role instead of the task's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "aws/cred_fetch.h"
#include "aws/cred_json.h"
#include "aws/cred_provider.h"

#define CONTAINER_HOST		"http://169.254.170.2"
#define CONTAINER_TIMEOUT_S	1
#define CONTAINER_ATTEMPTS	3
#define CONTAINER_RETRY_MS	200
#define CONTAINER_AUTH_MAX	16384	/* bytes in an authorization token */

/*
 * One resolution of FULL_URI's host. Apart from the container because
 * libevent calls back a cancelled evdns_getaddrinfo later, from the loop:
 * cancelling only unhooks it (k = NULL), and the callback frees it.
 */
struct resolving {
	struct container *k;		/* NULL: cancelled */
	struct evdns_getaddrinfo_request *req;
};

struct container {
	struct cred_fetch f;		/* the request, the attempts, the chain's callback */
	char url[CRED_HTTP_URL_MAX];	/* "": not configured */
	char bad[CRED_REASON_MAX];	/* why the configuration is unusable */
	char host[CRED_HTTP_HOST_MAX + 1];	/* FULL_URI's host, when it is a name to check */
	struct resolving *resolving;	/* FULL_URI's name being resolved */
};

static void container_send(void *ctx);
static void container_resolve(struct container *k);

/* container_fail - retry, or give up with the reason */
static void container_fail(struct container *k, const char *why)
{
	char reason[CRED_REASON_MAX];

	if (cred_fetch_again(&k->f, CONTAINER_RETRY_MS))
		return;
	/* A failure before any request (token file, host check) spent the attempts. */
	if (k->f.attempt > k->f.attempts)
		snprintf(reason, sizeof(reason), "container endpoint %.180s: %.250s; set in the "
			 "environment, so IMDS is not tried", k->url, why);
	else
		snprintf(reason, sizeof(reason), "container endpoint %.180s: %.220s (%d attempt%s); "
			 "set in the environment, so IMDS is not tried",
			 k->url, why, k->f.attempts, k->f.attempts > 1 ? "s" : "");
	cred_fetch_finish(&k->f, NULL, reason);
}

/* container_answer - the credential document, or a failure */
static void container_answer(void *arg, int status, const char *body, size_t len,
			     const char *err)
{
	struct container *k = arg;
	struct aws_credentials c;
	char why[CRED_REASON_MAX / 2];

	k->f.http = NULL;
	if (status != 200) {
		if (status)
			snprintf(why, sizeof(why), "HTTP %d", status);
		else
			snprintf(why, sizeof(why), "%s", err ? err : "failed");
		container_fail(k, why);
		return;
	}
	if (cred_json_parse(body, len, &c, why, sizeof(why)) != 0) {
		container_fail(k, why);
		return;
	}
	cred_fetch_finish(&k->f, &c, NULL);
	aws_credentials_wipe(&c);
}

/* read_token - the authorization token, from its file or variable */
static int read_token(char *tok, size_t size, char *err, size_t errlen)
{
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *v = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	size_t n = 0;
	FILE *fp;

	tok[0] = 0;
	if (file && *file) {
		if ((fp = fopen(file, "r")) == NULL) {
			snprintf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%.150s: %s", file,
				 strerror(errno));
			return -1;
		}
		n = fread(tok, 1, size - 1, fp);
		fclose(fp);
		tok[n] = 0;
	} else if (v && *v) {
		if ((n = strlen(v)) >= size) {
			snprintf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
			return -1;
		}
		memcpy(tok, v, n + 1);
	}
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = 0;
	if (strpbrk(tok, "\r\n")) {
		snprintf(err, errlen, "the container authorization token holds a line break");
		return -1;
	}
	return 0;
}

/* container_send - one GET of the endpoint */
static void container_send(void *ctx)
{
	static char tok[CONTAINER_AUTH_MAX];
	struct container *k = ctx;
	const char *hdr[3] = { NULL, NULL, NULL };
	struct cred_http_request rq = { CRED_HTTP_GET, k->url, 0, hdr, NULL, 0, k->f.timeout_ms, 0 };
	char err[CRED_REASON_MAX / 2];

	if (read_token(tok, sizeof(tok), err, sizeof(err)) != 0) {
		cred_fetch_spend(&k->f);
		container_fail(k, err);
		return;
	}
	if (tok[0]) {
		hdr[0] = "Authorization";
		hdr[1] = tok;
	}
	k->f.http = cred_http_start(k->f.base, k->f.dns, &rq, container_answer, k, err, sizeof(err));
	memset(tok, 0, sizeof(tok));
	if (k->f.http == NULL) {
		cred_fetch_spend(&k->f);
		container_fail(k, err);
	}
}

/* container_fetch - ask the endpoint */
static void container_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	struct container *k = p->ctx;

	if (k->bad[0]) {
		done(arg, NULL, k->bad);
		return;
	}
	cred_fetch_begin(&k->f, done, arg);
	if (k->host[0])
		container_resolve(k);
	else
		container_send(k);
}

/* container_cancel - stop a fetch in flight */
static void container_cancel(struct cred_provider *p)
{
	struct container *k = p->ctx;

	cred_fetch_cancel(&k->f);
	if (k->resolving) {
		k->resolving->k = NULL;
		evdns_getaddrinfo_cancel(k->resolving->req);	/* calls back later */
		k->resolving = NULL;
	}
}

/* container_destroy - release everything */
static void container_destroy(struct cred_provider *p)
{
	struct container *k = p->ctx;

	container_cancel(p);
	cred_fetch_release(&k->f);
	free(k);
	free(p);
}

/* address_allowed - loopback, or the ECS / EKS container addresses */
static int address_allowed(const struct sockaddr *sa)
{
	static const char *const v4[] = { "169.254.170.2", "169.254.170.23", NULL };
	struct in6_addr eks6;
	size_t i;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		struct in_addr a;

		if ((ntohl(in->sin_addr.s_addr) >> 24) == 127)
			return 1;
		for (i = 0; v4[i]; i++)
			if (inet_pton(AF_INET, v4[i], &a) == 1 && a.s_addr == in->sin_addr.s_addr)
				return 1;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return inet_pton(AF_INET6, "fd00:ec2::23", &eks6) == 1 &&
		       memcmp(&eks6, &in6->sin6_addr, sizeof(eks6)) == 0;
	}
	return 0;
}

/* literal_allowed - 1 allowed, 0 not, -1 not an address (a name to resolve) */
static int literal_allowed(const char *host)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	in.sin_family = AF_INET;
	in6.sin6_family = AF_INET6;
	if (inet_pton(AF_INET, host, &in.sin_addr) == 1)
		return address_allowed((struct sockaddr *)&in);
	if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1)
		return address_allowed((struct sockaddr *)&in6);
	return -1;
}

/* container_resolved - FULL_URI's name resolved: every address must be allowed */
static void container_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolving *r = arg;
	struct container *k = r->k;
	struct evutil_addrinfo *ai;
	char why[CRED_REASON_MAX], addr[INET6_ADDRSTRLEN];
	const void *a;

	free(r);
	if (k == NULL || result == EVUTIL_EAI_CANCEL) {
		if (res)
			evutil_freeaddrinfo(res);
		return;
	}
	k->resolving = NULL;
	why[0] = 0;
	if (result != 0 || res == NULL)
		snprintf(why, sizeof(why), "cannot resolve %.100s (%s), so cannot check that it is "
			 "loopback or a container address", k->host, evutil_gai_strerror(result));
	for (ai = res; ai && !why[0]; ai = ai->ai_next) {
		if (address_allowed(ai->ai_addr))
			continue;
		a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		if (inet_ntop(ai->ai_family, a, addr, sizeof(addr)) == NULL)
			snprintf(addr, sizeof(addr), "?");
		snprintf(why, sizeof(why), "%.100s resolves to %s, which is neither loopback nor "
			 "169.254.170.2, 169.254.170.23 or fd00:ec2::23 (plain http is allowed only "
			 "there)", k->host, addr);
	}
	if (res)
		evutil_freeaddrinfo(res);
	if (why[0]) {
		cred_fetch_spend(&k->f);
		container_fail(k, why);
		return;
	}
	container_send(k);
}

/* container_resolve - check FULL_URI's host name before asking it */
static void container_resolve(struct container *k)
{
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	struct resolving *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		cred_fetch_spend(&k->f);
		container_fail(k, "out of memory");
		return;
	}
	r->k = k;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* NULL when answered at once (hosts file, cache): r is freed already. */
	req = evdns_getaddrinfo(k->f.dns, k->host, NULL, &hints, container_resolved, r);
	if (req != NULL) {
		r->req = req;
		k->resolving = r;
	}
}

/* cred_container_new - the container endpoint provider, from the environment */
struct cred_provider *cred_container_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_provider *p = cred_provider_new("container", container_fetch, container_cancel,
						    container_destroy);
	struct container *k = calloc(1, sizeof(*k));
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char host[CRED_HTTP_HOST_MAX + 1], path[CRED_HTTP_URL_MAX];
	int https, port, allowed;

	if (p == NULL || k == NULL ||
	    cred_fetch_init(&k->f, base, dns, CONTAINER_TIMEOUT_S, CONTAINER_ATTEMPTS,
			    container_send, k) != 0) {
		free(p);
		free(k);
		return NULL;
	}
	if (rel && *rel) {
		snprintf(k->url, sizeof(k->url), CONTAINER_HOST "%s%.900s", rel[0] == '/' ? "" : "/", rel);
		p->final = 1;
	} else if (full && *full) {
		p->final = 1;
		snprintf(k->url, sizeof(k->url), "%.1000s", full);
		if (strncasecmp(full, "https:", 6) == 0)
			snprintf(k->bad, sizeof(k->bad), "AWS_CONTAINER_CREDENTIALS_FULL_URI=%.300s: https "
				 "endpoints are not supported by this build", full);
		else if (cred_http_url_split(full, 0, &https, host, sizeof(host), &port, path,
					     sizeof(path)) != 0)
			snprintf(k->bad, sizeof(k->bad), "AWS_CONTAINER_CREDENTIALS_FULL_URI=%.300s: "
				 "not an http://host[:port]/path URL", full);
		else if ((allowed = literal_allowed(host)) == 0)
			snprintf(k->bad, sizeof(k->bad), "AWS_CONTAINER_CREDENTIALS_FULL_URI=%.300s: plain "
				 "http is allowed only to loopback, 169.254.170.2, 169.254.170.23 or "
				 "fd00:ec2::23", full);
		else if (allowed < 0)
			snprintf(k->host, sizeof(k->host), "%s", host);
	} else {
		snprintf(k->bad, sizeof(k->bad), "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
			 "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
	}
	if (p->final && k->bad[0])
		snprintf(k->bad + strlen(k->bad), sizeof(k->bad) - strlen(k->bad),
			 "; set in the environment, so IMDS is not tried");
	snprintf(p->where, sizeof(p->where), "container endpoint %.400s", k->url[0] ? k->url : "(none)");
	p->ctx = k;
	return p;
}
