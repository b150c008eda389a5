/*
 * cred_fetch - the attempts of an HTTP credential source (internal to src/aws)
 *
 * SYNOPSIS
 *	#include "aws/cred_fetch.h"
 *
 * DESCRIPTION
 *	The state the container endpoint and IMDS share: the request in
 *	flight, the timer of the next attempt, the attempt count
 *	(AWS_METADATA_SERVICE_NUM_ATTEMPTS) and per-request timeout
 *	(AWS_METADATA_SERVICE_TIMEOUT, seconds), and the chain's callback,
 *	called exactly once per fetch unless it is cancelled. The source
 *	supplies send(), which starts the current attempt's request.
 */
#ifndef PAC_AWS_CRED_FETCH_H
#define PAC_AWS_CRED_FETCH_H

#include "aws/cred_http.h"
#include "aws/cred_provider.h"

struct cred_fetch {
	struct event_base *base;
	struct evdns_base *dns;
	struct cred_http *http;		/* the request in flight, or NULL */
	struct event *retry;		/* starts the next attempt */
	int timeout_ms;			/* per request */
	int attempts;			/* per fetch */
	int attempt;			/* 0-based, of this fetch */
	void (*send)(void *ctx);	/* the source's: start the current attempt */
	void *ctx;
	cred_done_fn done;		/* NULL once called, or when idle */
	void *arg;
};

/*
 * cred_fetch_init - set up with the environment's timeout and attempts
 * (given defaults); -1 without memory.
 */
int cred_fetch_init(struct cred_fetch *f, struct event_base *base, struct evdns_base *dns,
		    int timeout_s, int attempts, void (*send)(void *ctx), void *ctx);

/* cred_fetch_begin - a new fetch for the chain: attempt 0 */
void cred_fetch_begin(struct cred_fetch *f, cred_done_fn done, void *arg);

/* cred_fetch_finish - tell the chain (once): credentials or a reason */
void cred_fetch_finish(struct cred_fetch *f, const struct aws_credentials *c,
		       const char *reason);

/*
 * cred_fetch_again - after a failed attempt: 1 when another is scheduled
 * delay_ms from now, 0 when the attempts are spent
 */
int cred_fetch_again(struct cred_fetch *f, int delay_ms);

/* cred_fetch_spend - a failure no retry can mend: no attempt is left */
void cred_fetch_spend(struct cred_fetch *f);

/* cred_fetch_cancel - drop the request and the timer; done is not called */
void cred_fetch_cancel(struct cred_fetch *f);

/* cred_fetch_release - cancel and free the timer */
void cred_fetch_release(struct cred_fetch *f);

#endif
