/*
 * cred_fetch - the attempts of an HTTP credential source (see cred_fetch.h)
 */
#include <string.h>

#include <event2/event.h>

#include "aws/cred_fetch.h"

#define FETCH_TIMEOUT_MAX_S	60	/* AWS_METADATA_SERVICE_TIMEOUT's bound */
#define FETCH_ATTEMPTS_MAX	10	/* AWS_METADATA_SERVICE_NUM_ATTEMPTS' bound */

/* retry_cb - the next attempt */
static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_fetch *f = arg;

	(void)fd;
	(void)what;
	f->send(f->ctx);
}

/* cred_fetch_init - the timer and the environment's settings */
int cred_fetch_init(struct cred_fetch *f, struct event_base *base, struct evdns_base *dns,
		    int timeout_s, int attempts, void (*send)(void *ctx), void *ctx)
{
	memset(f, 0, sizeof(*f));
	if ((f->retry = evtimer_new(base, retry_cb, f)) == NULL)
		return -1;
	f->base = base;
	f->dns = dns;
	f->send = send;
	f->ctx = ctx;
	f->timeout_ms = (int)cred_env_number("AWS_METADATA_SERVICE_TIMEOUT", timeout_s,
					     FETCH_TIMEOUT_MAX_S) * 1000;
	f->attempts = (int)cred_env_number("AWS_METADATA_SERVICE_NUM_ATTEMPTS", attempts,
					   FETCH_ATTEMPTS_MAX);
	return 0;
}

/* cred_fetch_begin - remember the chain's callback */
void cred_fetch_begin(struct cred_fetch *f, cred_done_fn done, void *arg)
{
	f->done = done;
	f->arg = arg;
	f->attempt = 0;
}

/* cred_fetch_finish - call the chain back once */
void cred_fetch_finish(struct cred_fetch *f, const struct aws_credentials *c,
		       const char *reason)
{
	cred_done_fn done = f->done;

	f->done = NULL;
	if (done)
		done(f->arg, c, reason);
}

/* cred_fetch_again - schedule the next attempt while any is left */
int cred_fetch_again(struct cred_fetch *f, int delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	if (++f->attempt >= f->attempts)
		return 0;
	evtimer_add(f->retry, &tv);
	return 1;
}

/* cred_fetch_spend - no attempt is left */
void cred_fetch_spend(struct cred_fetch *f)
{
	f->attempt = f->attempts;
}

/* cred_fetch_cancel - stop what is in flight */
void cred_fetch_cancel(struct cred_fetch *f)
{
	cred_http_cancel(f->http);
	f->http = NULL;
	if (f->retry)
		evtimer_del(f->retry);
	f->done = NULL;
}

/* cred_fetch_release - cancel, then free the timer */
void cred_fetch_release(struct cred_fetch *f)
{
	cred_fetch_cancel(f);
	if (f->retry)
		event_free(f->retry);
	f->retry = NULL;
}
