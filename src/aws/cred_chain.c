/*
 * cred_chain - AWS credentials from the SDK's default provider chain
 * (see cred_chain.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "aws/cred_chain.h"
#include "aws/cred_provider.h"
#include "aws/sigv4.h"

#define AWS_PROVIDERS		5
#define AWS_MARGIN_MIN_S	300	/* refresh at least 5 min before Expiration */
#define AWS_MARGIN_JITTER_S	600	/* ... and up to 10 min earlier still */
#define AWS_MARGIN_MAX_S	86400	/* AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS */
#define AWS_REFRESH_MIN_MS	1000	/* never ask a source more often */
#define AWS_REFRESH_SLOW_MS	30000	/* when a source keeps handing out old credentials */
#define AWS_RETRY_MIN_MS	1000	/* backoff after a failure ... */
#define AWS_RETRY_MAX_MS	60000	/* ... doubling up to this */
#define AWS_LOG_INTERVAL_MS	60000	/* repeated failures are logged this often */
#define AWS_EXTEND_MIN_S	300	/* static stability: keep expired credentials ... */
#define AWS_EXTEND_JITTER_S	600	/* ... 5 to 15 min more */

struct cred_chain {
	struct event_base *base;
	struct cred_provider *p[AWS_PROVIDERS];
	size_t np;
	int chosen;			/* source of cur; -1: none yet */
	int asking;			/* source asked now; -1: idle */
	int walking;			/* asking in a walk of the whole chain */
	int have;
	int extended;			/* cur is past the Expiration its source gave */
	int64_t source_exp_ms;		/* that Expiration, for logs */
	struct aws_credentials cur;
	char reasons[AWS_PROVIDERS][CRED_REASON_MAX];
	struct event *timer;
	int64_t retry_ms;
	long margin_s;			/* fixed margin; 0: 5-15 min with jitter */
	int failed_once;
	struct log_limit fail_log;
	void (*settled)(void *arg);	/* once, after the first walk */
	void *settled_arg;
	void (*found)(void *arg);	/* credentials again after none */
	void *found_arg;
};

static void walk(struct cred_chain *ac, int i);
static int64_t backoff(struct cred_chain *ac);

/* settle - the first walk ended: tell the one who waits */
static void settle(struct cred_chain *ac)
{
	void (*fn)(void *) = ac->settled;

	ac->settled = NULL;
	if (fn)
		fn(ac->settled_arg);
}

/* cred_chain_on_settled - call fn after the first walk */
void cred_chain_on_settled(struct cred_chain *ac, void (*fn)(void *arg), void *arg)
{
	ac->settled = fn;
	ac->settled_arg = arg;
}

/* cred_chain_on_found - call fn whenever credentials appear after a time without */
void cred_chain_on_found(struct cred_chain *ac, void (*fn)(void *arg), void *arg)
{
	ac->found = fn;
	ac->found_arg = arg;
}

/* expired - are the current credentials past their Expiration? */
static int expired(const struct cred_chain *ac, int64_t now)
{
	return ac->cur.expiration_ms != 0 && now >= ac->cur.expiration_ms;
}

/* when_text - an expiration time for logs */
static void when_text(int64_t ms, char *out)
{
	if (ms == 0 || sigv4_amzdate(ms, out) != 0)
		snprintf(out, SIGV4_AMZDATE_LEN + 1, "never");
}

/* arm_ms - (re)start the chain's timer */
static void arm_ms(struct cred_chain *ac, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ac->timer, &tv);
}

/* schedule_refresh - before Expiration, minus the margin */
static void schedule_refresh(struct cred_chain *ac)
{
	int64_t now = aws_now_ms(), left, margin_ms, delay;

	if (ac->cur.expiration_ms == 0) {
		evtimer_del(ac->timer);		/* long-term credentials */
		return;
	}
	left = ac->cur.expiration_ms - now;
	margin_ms = ac->margin_s > 0 ? ac->margin_s * 1000LL :
		    (AWS_MARGIN_MIN_S + (int64_t)(rand() % (AWS_MARGIN_JITTER_S + 1))) * 1000LL;
	delay = left - margin_ms;
	if (delay < AWS_REFRESH_MIN_MS) {
		/*
		 * Inside the margin already (short-lived credentials, or a
		 * source still handing out the old ones): ask again soon, but
		 * not in a loop.
		 */
		delay = left / 3;
		if (delay > AWS_REFRESH_SLOW_MS)
			delay = AWS_REFRESH_SLOW_MS;
		if (delay < AWS_REFRESH_MIN_MS)
			delay = AWS_REFRESH_MIN_MS;
	}
	msg_debug("aws: credentials expire in %lld s; next refresh in %lld ms",
		  (long long)(left / 1000), (long long)delay);
	arm_ms(ac, delay);
}

/*
 * extend - static stability: use expired credentials a while longer.
 *
 * When the instance metadata service hands out credentials that have
 * already expired, or cannot be reached when they expire, every SDK keeps
 * the old ones and tries again later, so that an IMDS outage does not stop
 * an instance whose credentials are in fact still accepted (AWS SDKs and
 * Tools Reference Guide, "static stability"). The extension is random so
 * that a fleet does not retry in step:
 *   Go, credentials/ec2rolecreds/provider.go HandleFailToRefresh:
 *	"Random distribution of [5,15) minutes."
 *	expireOffset := randFloat64*10*time.Minute + 5*time.Minute
 *   JS, @smithy/credential-provider-imds getExtendedInstanceMetadataCredentials:
 *	refreshInterval = 5 * 60 + Math.floor(Math.random() * 5 * 60)   (5-10 min)
 *   botocore, utils.py InstanceMetadataFetcher._evaluate_expiration:
 *	refresh_interval = 600; jitter = random.randint(120, 600)      (12-20 min)
 * We take Go's 5-15 min. Meanwhile the source is asked again with the
 * usual backoff, so fresh credentials are taken as soon as it has them.
 */
static int64_t extend(struct cred_chain *ac)
{
	int64_t add = (AWS_EXTEND_MIN_S + (int64_t)(rand() % (AWS_EXTEND_JITTER_S + 1))) * 1000LL;

	if (!ac->extended)
		ac->source_exp_ms = ac->cur.expiration_ms;
	ac->cur.expiration_ms = aws_now_ms() + add;
	ac->extended = 1;
	return add;
}

/* install - take new credentials from source i */
static void install(struct cred_chain *ac, int i, const struct aws_credentials *c)
{
	char when[SIGV4_AMZDATE_LEN + 1];
	int changed_source = ac->chosen != i, changed_key;

	changed_key = !ac->have || strcmp(ac->cur.access_key_id, c->access_key_id) != 0;
	aws_credentials_wipe(&ac->cur);
	ac->cur = *c;
	ac->have = 1;
	ac->chosen = i;
	ac->extended = 0;
	when_text(c->expiration_ms, when);
	if (changed_source || ac->failed_once)
		msg_info("aws: credentials from %s: access key id %s%s, expire %s",
			 ac->p[i]->where, c->access_key_id,
			 c->session_token[0] ? " (temporary, with session token)" : "", when);
	else if (changed_key)
		msg_info("aws: credentials refreshed from %s: access key id %s, expire %s",
			 ac->p[i]->where, c->access_key_id, when);
	else
		msg_debug("aws: credentials refreshed from %s: same key, expire %s",
			  ac->p[i]->where, when);
	ac->failed_once = 0;
	if (ac->p[i]->static_stability && c->expiration_ms != 0 &&
	    c->expiration_ms <= aws_now_ms()) {
		int64_t add = extend(ac), delay = backoff(ac);

		msg_limited(&ac->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "aws: %s handed out credentials (access key id %s) that expired at %s; "
			    "using them up to %lld min more, as the AWS SDKs do (static stability), "
			    "and asking again in %lld ms", ac->p[i]->where, c->access_key_id, when,
			    (long long)(add / 60000), (long long)delay);
		arm_ms(ac, delay);
		return;
	}
	ac->retry_ms = AWS_RETRY_MIN_MS;
	schedule_refresh(ac);
}

/* backoff - the next retry delay, doubling */
static int64_t backoff(struct cred_chain *ac)
{
	int64_t d = ac->retry_ms;

	ac->retry_ms = ac->retry_ms * 2 > AWS_RETRY_MAX_MS ? AWS_RETRY_MAX_MS : ac->retry_ms * 2;
	/* Jitter: 75% to 100% of the delay. */
	return d - (d / 4) * (rand() % 101) / 100;
}

/* all_failed - the first n sources gave no credentials: say what was tried, retry */
static void all_failed(struct cred_chain *ac, size_t n)
{
	char msg[AWS_PROVIDERS * (CRED_REASON_MAX + 16)];
	size_t i, off = 0;
	int64_t delay = backoff(ac);

	if (ac->have && expired(ac, aws_now_ms())) {
		/* Nothing to keep: forget them, so the expiry is reported once. */
		aws_credentials_wipe(&ac->cur);
		ac->have = 0;
		ac->chosen = -1;
	}
	for (i = 0; i < n && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%zu. %s: %s",
					i ? "; " : "", i + 1, ac->p[i]->name, ac->reasons[i]);
	if (!ac->failed_once) {
		msg_error("aws: no AWS credentials found (lookups answer TEMP until some are; "
			  "retrying in %lld ms); tried in order: %s", (long long)delay, msg);
		ac->fail_log.last_ms = clock_now_ms();	/* repeats: once a minute */
	} else
		msg_limited(&ac->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "aws: still no AWS credentials; tried in order: %s", msg);
	ac->failed_once = 1;
	arm_ms(ac, delay);
	settle(ac);
}

/* walk_done - one source of a chain walk answered */
static void walk_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_chain *ac = arg;
	int i = ac->asking;

	ac->asking = -1;
	ac->walking = 0;
	if (c) {
		/* After the first walk, connections that failed without
		 * credentials wait in their backoff: wake them now. */
		int recovered = ac->settled == NULL &&
				!(ac->have && !expired(ac, aws_now_ms()));

		install(ac, i, c);
		settle(ac);
		if (recovered && ac->found)
			ac->found(ac->found_arg);
		return;
	}
	snprintf(ac->reasons[i], sizeof(ac->reasons[i]), "%s", reason ? reason : "failed");
	if ((size_t)i + 1 < ac->np && !ac->p[i]->final) {
		/* A source that is set up but unusable is worth saying at info. */
		msg_log(ac->p[i]->present ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
			"aws: credential source %s %s: %s; trying the next", ac->p[i]->name,
			ac->p[i]->present ? "is set but unusable" : "not used", ac->reasons[i]);
		walk(ac, i + 1);
	} else
		all_failed(ac, (size_t)i + 1);
}

/* walk - ask source i (and, through walk_done, the ones after it) */
static void walk(struct cred_chain *ac, int i)
{
	ac->asking = i;
	ac->walking = 1;
	ac->p[i]->fetch(ac->p[i], walk_done, ac);
}

/* refresh_done - the chosen source answered a refresh */
static void refresh_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_chain *ac = arg;
	char when[SIGV4_AMZDATE_LEN + 1];
	int64_t now = aws_now_ms(), delay;
	int stable;

	ac->asking = -1;
	if (c) {
		install(ac, ac->chosen, c);
		return;
	}
	/*
	 * A source with static stability whose credentials end within the
	 * shortest extension is extended now (Go's HandleFailToRefresh does the
	 * same inside 5 minutes), so that they never lapse between two tries.
	 */
	stable = ac->have && ac->p[ac->chosen]->static_stability;
	if (ac->have && !expired(ac, now) &&
	    !(stable && ac->cur.expiration_ms - now < AWS_EXTEND_MIN_S * 1000LL)) {
		delay = backoff(ac);
		if (delay > ac->cur.expiration_ms - now)
			delay = ac->cur.expiration_ms - now;
		when_text(ac->cur.expiration_ms, when);
		msg_limited(&ac->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "aws: cannot refresh credentials: %s; keeping access key id %s until it "
			    "expires at %s, retrying in %lld ms", reason ? reason : "failed",
			    ac->cur.access_key_id, when, (long long)delay);
		arm_ms(ac, delay);
		return;
	}
	if (stable) {
		int64_t add = extend(ac);

		delay = backoff(ac);
		when_text(ac->source_exp_ms, when);
		msg_warn("aws: cannot refresh credentials from %s: %s; their Expiration is %s: using "
			 "access key id %s up to %lld min more, as the AWS SDKs do (static "
			 "stability), retrying in %lld ms", ac->p[ac->chosen]->where,
			 reason ? reason : "failed", when, ac->cur.access_key_id,
			 (long long)(add / 60000), (long long)delay);
		arm_ms(ac, delay);
		return;
	}
	msg_error("aws: credentials (access key id %s) expired and %s could not refresh them: %s; "
		  "trying every source again", ac->cur.access_key_id, ac->p[ac->chosen]->where,
		  reason ? reason : "failed");
	ac->retry_ms = AWS_RETRY_MIN_MS;
	walk(ac, 0);
}

/* timer_cb - time to refresh, or to retry */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_chain *ac = arg;

	(void)fd;
	(void)what;
	if (ac->asking >= 0)
		return;
	if (ac->have && ac->chosen >= 0 &&
	    (!expired(ac, aws_now_ms()) || ac->p[ac->chosen]->static_stability)) {
		ac->asking = ac->chosen;
		ac->walking = 0;
		ac->p[ac->chosen]->fetch(ac->p[ac->chosen], refresh_done, ac);
		return;
	}
	if (ac->have && expired(ac, aws_now_ms())) {
		msg_error("aws: credentials (access key id %s) expired; looking for new ones",
			  ac->cur.access_key_id);
		ac->retry_ms = AWS_RETRY_MIN_MS;
	}
	walk(ac, 0);
}

/* cred_chain_new - the chain in SDK order */
struct cred_chain *cred_chain_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_chain *ac = calloc(1, sizeof(*ac));
	size_t i;

	if (ac == NULL)
		return NULL;
	ac->base = base;
	ac->chosen = -1;
	ac->asking = -1;
	ac->retry_ms = AWS_RETRY_MIN_MS;
	ac->margin_s = cred_env_number("AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS", 0, AWS_MARGIN_MAX_S);
	ac->p[0] = cred_env_new();
	ac->p[1] = cred_web_identity_new(base, dns);
	ac->p[2] = cred_file_new(base, dns);
	ac->p[3] = cred_container_new(base, dns);
	ac->p[4] = cred_imds_new(base, dns);
	ac->np = AWS_PROVIDERS;
	ac->timer = evtimer_new(base, timer_cb, ac);
	for (i = 0; i < ac->np; i++)
		if (ac->p[i] == NULL)
			ac->timer = NULL;
	if (ac->timer == NULL) {
		cred_chain_free(ac);
		return NULL;
	}
	return ac;
}

/* cred_chain_start - the first walk */
void cred_chain_start(struct cred_chain *ac)
{
	if (ac->asking < 0 && !ac->have)
		walk(ac, 0);
}

/* cred_chain_free - cancel what is in flight, wipe, release */
void cred_chain_free(struct cred_chain *ac)
{
	size_t i;

	if (ac == NULL)
		return;
	for (i = 0; i < AWS_PROVIDERS; i++)
		if (ac->p[i])
			ac->p[i]->destroy(ac->p[i]);
	if (ac->timer)
		event_free(ac->timer);
	aws_credentials_wipe(&ac->cur);
	free(ac);
}

/* cred_chain_current - credentials valid now, or NULL */
const struct aws_credentials *cred_chain_current(const struct cred_chain *ac)
{
	if (ac == NULL || !ac->have || expired(ac, aws_now_ms()))
		return NULL;
	return &ac->cur;
}

/* cred_chain_describe - where the credentials come from */
const char *cred_chain_describe(const struct cred_chain *ac)
{
	return ac && ac->chosen >= 0 ? ac->p[ac->chosen]->where : "none";
}

/* cred_chain_status - source and seconds to expiry, for metrics */
int cred_chain_status(const struct cred_chain *ac, const char **source, double *expires_in_s)
{
	if (ac == NULL)
		return 0;
	*source = ac->have && ac->chosen >= 0 ? ac->p[ac->chosen]->name : "none";
	*expires_in_s = ac->have && ac->cur.expiration_ms ?
			(double)(ac->cur.expiration_ms - aws_now_ms()) / 1000.0 : -1;
	return 1;
}
