/*
 * cred_http - one HTTP(S) request to an AWS endpoint, on the event loop
 *
 * SYNOPSIS
 *	#include "aws/cred_http.h"
 *
 * DESCRIPTION
 *	The one HTTP client of the credential chain, a thin layer over
 *	libevent's evhttp: the container endpoint and IMDS (plain http://,
 *	link-local or loopback) and STS (https://, verified against the
 *	system CAs or AWS_CA_BUNDLE, and the endpoint's host, through the CQL
 *	connections' TLS helpers in cql_tls.c). One connection per request,
 *	a timeout for the whole request, no automatic retries (the callers
 *	decide), a bound on the answer's headers and body. Names are
 *	resolved with evdns.
 *
 *	The callback is called exactly once unless the request is cancelled
 *	first: with the HTTP status and the body (wiped and freed when the
 *	callback returns), or with status 0 and err saying why there is no
 *	answer (refused, timed out, the TLS verification's reason, an answer
 *	over the bound, ...). err never holds a header or the body.
 */
#ifndef PAC_AWS_CRED_HTTP_H
#define PAC_AWS_CRED_HTTP_H

#include <stddef.h>

struct event_base;
struct evdns_base;
struct cred_http;

#define CRED_HTTP_BODY_MAX	65536	/* bytes in an answer, unless the request says less */
#define CRED_HTTP_HEADERS_MAX	16384	/* bytes of an answer's headers */
#define CRED_HTTP_URL_MAX	1024	/* bytes in a URL */
#define CRED_HTTP_HOST_MAX	255	/* bytes in a URL's host (a DNS name's limit) */
#define CRED_HTTP_HOSTHDR_MAX	(CRED_HTTP_HOST_MAX + 24)	/* Host: "[" host "]:" port */
#define CRED_HTTP_ERR_MAX	256	/* bytes of a transport error */

enum cred_http_method { CRED_HTTP_GET, CRED_HTTP_PUT, CRED_HTTP_POST };

typedef void (*cred_http_fn)(void *arg, int status, const char *body, size_t len,
			     const char *err);

struct cred_http_request {
	enum cred_http_method method;
	const char *url;		/* http://host[:port]/path[?query], or https:// */
	int allow_https;		/* 0: an https:// URL is refused */
	const char *const *headers;	/* name, value, ..., NULL; Host and Connection are added */
	const void *body;		/* sent as is (POST), or NULL */
	size_t body_len;
	int timeout_ms;			/* connect to the end of the answer */
	size_t answer_max;		/* bytes of answer body; 0: CRED_HTTP_BODY_MAX */
};

/*
 * cred_http_start - send one request. Returns it, or NULL with err (bad
 * URL, TLS set-up, no memory); the callback is then never called.
 */
struct cred_http *cred_http_start(struct event_base *base, struct evdns_base *dns,
				  const struct cred_http_request *rq, cred_http_fn cb, void *arg,
				  char *err, size_t errlen);

/* cred_http_cancel - drop a request in flight; its callback is not called */
void cred_http_cancel(struct cred_http *h);

/*
 * cred_http_url_split - "http[s]://host[:port]/path[?query]" into its
 * parts (https only with allow_https; *https says which); -1 if not such
 * a URL or if it carries user information. host is without brackets;
 * path keeps the query.
 */
int cred_http_url_split(const char *url, int allow_https, int *https, char *host,
			size_t hostlen, int *port, char *path, size_t pathlen);

/*
 * cred_http_host_header - the Host header for host and port (RFC 7230:
 * brackets around an IPv6 literal, the port unless the scheme's default)
 */
void cred_http_host_header(const char *host, int port, int https,
			   char out[CRED_HTTP_HOSTHDR_MAX]);

#endif
