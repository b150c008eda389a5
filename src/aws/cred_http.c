/*
 * cred_http - one HTTP request to a credential endpoint (see cred_http.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "aws/cred_http.h"

struct cred_http {
	struct event_base *base;
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	cred_http_fn cb;
	void *arg;
	enum evhttp_request_error error;
	int have_error;
};

/* free_later - release the connection once evhttp is done with it */
static void free_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(arg);
}

/* error_name - evhttp's request error in words */
static const char *error_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed before an answer";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid answer";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection refused or I/O error";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "answer too long";
	}
	return "failed";
}

/* on_error - remember why the request failed */
static void on_error(enum evhttp_request_error e, void *arg)
{
	struct cred_http *h = arg;

	h->error = e;
	h->have_error = 1;
}

/* on_done - the answer, or the failure */
static void on_done(struct evhttp_request *req, void *arg)
{
	struct cred_http *h = arg;
	struct evbuffer *in;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	char *body = NULL;
	size_t len = 0;
	const char *err = NULL;
	struct timeval zero = { 0, 0 };

	if (status > 0 && (in = evhttp_request_get_input_buffer(req)) != NULL) {
		len = evbuffer_get_length(in);
		if (len > CRED_HTTP_BODY_MAX) {
			status = 0;
			err = "answer too long";
			len = 0;
		} else if ((body = malloc(len + 1)) != NULL) {
			evbuffer_remove(in, body, len);
			body[len] = 0;
		} else {
			status = 0;
			err = "out of memory";
			len = 0;
		}
	} else if (status <= 0) {
		status = 0;
		err = h->have_error ? error_name(h->error) : "connection refused or closed";
	}
	h->cb(h->arg, status, body ? body : "", len, err);
	if (body) {
		memset(body, 0, len);
		free(body);
	}
	if (event_base_once(h->base, -1, EV_TIMEOUT, free_later, h->conn, &zero) != 0)
		evhttp_connection_free(h->conn);	/* last resort */
	free(h);
}

/* cred_http_url_split - http://host[:port]/path */
int cred_http_url_split(const char *url, char *host, size_t hostlen, int *port,
			char *path, size_t pathlen)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *scheme, *hst, *pth, *q;
	int rc = -1;

	if (u == NULL)
		return -1;
	scheme = evhttp_uri_get_scheme(u);
	hst = evhttp_uri_get_host(u);
	pth = evhttp_uri_get_path(u);
	q = evhttp_uri_get_query(u);
	if (scheme && strcasecmp(scheme, "http") == 0 && hst && *hst &&
	    strlen(hst) < hostlen) {
		/* evhttp keeps the brackets of an IPv6 literal. */
		if (hst[0] == '[' && hst[strlen(hst) - 1] == ']')
			snprintf(host, hostlen, "%.*s", (int)strlen(hst) - 2, hst + 1);
		else
			snprintf(host, hostlen, "%s", hst);
		*port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
		if ((size_t)snprintf(path, pathlen, "%s%s%s", pth && *pth ? pth : "/",
				     q ? "?" : "", q ? q : "") < pathlen)
			rc = 0;
	}
	evhttp_uri_free(u);
	return rc;
}

/* cred_http_start - send one request */
struct cred_http *cred_http_start(struct event_base *base, struct evdns_base *dns,
				  enum cred_http_method method, const char *url,
				  const char *const *headers, int timeout_ms,
				  cred_http_fn cb, void *arg, char *err, size_t errlen)
{
	char host[CRED_HTTP_HOST_MAX + 1], path[CRED_HTTP_URL_MAX];
	char hosthdr[CRED_HTTP_HOST_MAX + 1 + CRED_HTTP_HOSTHDR_EXTRA];
	int port;
	struct cred_http *h;
	struct evkeyvalq *out;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	size_t i;

	if (cred_http_url_split(url, host, sizeof(host), &port, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "not an http://host[:port]/path URL");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->cb = cb;
	h->arg = arg;
	h->conn = evhttp_connection_base_new(base, dns, host, (unsigned short)port);
	if (h->conn == NULL || (h->req = evhttp_request_new(on_done, h)) == NULL) {
		snprintf(err, errlen, "out of memory");
		if (h->conn)
			evhttp_connection_free(h->conn);
		free(h);
		return NULL;
	}
	evhttp_connection_set_timeout_tv(h->conn, &tv);
	evhttp_connection_set_retries(h->conn, 0);
	evhttp_request_set_error_cb(h->req, on_error);
	out = evhttp_request_get_output_headers(h->req);
	/* RFC 7230 Host: brackets around an IPv6 literal, the port unless 80. */
	snprintf(hosthdr, sizeof(hosthdr), "%s%s%s%s%.0d", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port != 80 ? ":" : "", port != 80 ? port : 0);
	evhttp_add_header(out, "Host", hosthdr);
	evhttp_add_header(out, "Connection", "close");
	for (i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		evhttp_add_header(out, headers[i], headers[i + 1]);
	if (evhttp_make_request(h->conn, h->req, method == CRED_HTTP_PUT ? EVHTTP_REQ_PUT : EVHTTP_REQ_GET,
				path) != 0) {
		/* evhttp freed the request. */
		snprintf(err, errlen, "cannot send the request");
		evhttp_connection_free(h->conn);
		free(h);
		return NULL;
	}
	return h;
}

/* cred_http_cancel - drop a request in flight without a callback */
void cred_http_cancel(struct cred_http *h)
{
	if (h == NULL)
		return;
	/* Freeing the connection frees its requests without calling them back. */
	evhttp_connection_free(h->conn);
	free(h);
}
