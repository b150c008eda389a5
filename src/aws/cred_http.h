/*
 * cred_http - one HTTP request to a credential endpoint, on the event loop
 *
 * SYNOPSIS
 *	#include "aws/cred_http.h"
 *
 * DESCRIPTION
 *	A thin layer over libevent's evhttp for the container endpoint and
 *	IMDS: plain http:// only (both are link-local or loopback), one
 *	connection per request, a timeout for the whole request, no
 *	automatic retries (the providers decide), a body limit. Names are
 *	resolved with evdns. The callback is called exactly once unless the
 *	request is cancelled first; status 0 means no HTTP answer (err says
 *	why: refused, timeout, ...).
 */
#ifndef PAC_AWS_CRED_HTTP_H
#define PAC_AWS_CRED_HTTP_H

#include <stddef.h>

struct event_base;
struct evdns_base;
struct cred_http;

#define CRED_HTTP_BODY_MAX	65536	/* bytes in an answer */
#define CRED_HTTP_URL_MAX	1024	/* bytes in a URL */
#define CRED_HTTP_HOST_MAX	255	/* bytes in a URL's host (a DNS name's limit) */
#define CRED_HTTP_HOSTHDR_EXTRA	24	/* Host: header beyond the host: "[]", ":" and a port */

enum cred_http_method { CRED_HTTP_GET, CRED_HTTP_PUT };

typedef void (*cred_http_fn)(void *arg, int status, const char *body, size_t len,
			     const char *err);

/*
 * cred_http_start - send method url with headers (name, value, ...,
 * NULL). Returns the request, or NULL with err (bad URL, no memory).
 */
struct cred_http *cred_http_start(struct event_base *base, struct evdns_base *dns,
				  enum cred_http_method method, const char *url,
				  const char *const *headers, int timeout_ms,
				  cred_http_fn cb, void *arg, char *err, size_t errlen);

/* cred_http_cancel - drop a request in flight; its callback is not called */
void cred_http_cancel(struct cred_http *h);

/*
 * cred_http_url_split - "http://host[:port]/path" into its parts; -1 if
 * not an http URL. host is without brackets.
 */
int cred_http_url_split(const char *url, char *host, size_t hostlen, int *port,
			char *path, size_t pathlen);

#endif
