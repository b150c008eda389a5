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

static void walk(struct cred_chain *ch, int i);
static int64_t backoff(struct cred_chain *ch);

/* settle - the first walk ended: tell the one who waits */
static void settle(struct cred_chain *ch)
{
	void (*fn)(void *) = ch->settled;

	ch->settled = NULL;
	if (fn)
		fn(ch->settled_arg);
}

/* cred_chain_on_settled - call fn after the first walk */
void cred_chain_on_settled(struct cred_chain *ch, void (*fn)(void *arg), void *arg)
{
	ch->settled = fn;
	ch->settled_arg = arg;
}

/* cred_chain_on_found - call fn whenever credentials appear after a time without */
void cred_chain_on_found(struct cred_chain *ch, void (*fn)(void *arg), void *arg)
{
	ch->found = fn;
	ch->found_arg = arg;
}

/* expired - are the current credentials past their Expiration? */
static int expired(const struct cred_chain *ch, int64_t now)
{
	return ch->cur.expiration_ms != 0 && now >= ch->cur.expiration_ms;
}

/* when_text - an expiration time for logs */
static void when_text(int64_t ms, char *out)
{
	if (ms == 0 || sigv4_amzdate(ms, out) != 0)
		snprintf(out, SIGV4_AMZDATE_LEN + 1, "never");
}

/* arm_ms - (re)start the chain's timer */
static void arm_ms(struct cred_chain *ch, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ch->timer, &tv);
}

/* schedule_refresh - before Expiration, minus the margin */
static void schedule_refresh(struct cred_chain *ch)
{
	int64_t now = aws_now_ms(), left, margin_ms, delay;

	if (ch->cur.expiration_ms == 0) {
		evtimer_del(ch->timer);		/* long-term credentials */
		return;
	}
	left = ch->cur.expiration_ms - now;
	margin_ms = ch->margin_s > 0 ? ch->margin_s * 1000LL :
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
	arm_ms(ch, delay);
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
static int64_t extend(struct cred_chain *ch)
{
	int64_t add = (AWS_EXTEND_MIN_S + (int64_t)(rand() % (AWS_EXTEND_JITTER_S + 1))) * 1000LL;

	if (!ch->extended)
		ch->source_exp_ms = ch->cur.expiration_ms;
	ch->cur.expiration_ms = aws_now_ms() + add;
	ch->extended = 1;
	return add;
}

/* install - take new credentials from source i */
static void install(struct cred_chain *ch, int i, const struct aws_credentials *c)
{
	char when[SIGV4_AMZDATE_LEN + 1];
	int changed_source = ch->chosen != i, changed_key;

	changed_key = !ch->have || strcmp(ch->cur.access_key_id, c->access_key_id) != 0;
	aws_credentials_wipe(&ch->cur);
	ch->cur = *c;
	ch->have = 1;
	ch->chosen = i;
	ch->extended = 0;
	when_text(c->expiration_ms, when);
	if (changed_source || ch->failed_once)
		msg_info("aws: credentials from %s: access key id %s%s, expire %s",
			 ch->p[i]->where, c->access_key_id,
			 c->session_token[0] ? " (temporary, with session token)" : "", when);
	else if (changed_key)
		msg_info("aws: credentials refreshed from %s: access key id %s, expire %s",
			 ch->p[i]->where, c->access_key_id, when);
	else
		msg_debug("aws: credentials refreshed from %s: same key, expire %s",
			  ch->p[i]->where, when);
	ch->failed_once = 0;
	if (ch->p[i]->static_stability && c->expiration_ms != 0 &&
	    c->expiration_ms <= aws_now_ms()) {
		int64_t add = extend(ch), delay = backoff(ch);

		msg_limited(&ch->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "aws: %s handed out credentials (access key id %s) that expired at %s; "
			    "using them up to %lld min more, as the AWS SDKs do (static stability), "
			    "and asking again in %lld ms", ch->p[i]->where, c->access_key_id, when,
			    (long long)(add / 60000), (long long)delay);
		arm_ms(ch, delay);
		return;
	}
	ch->retry_ms = AWS_RETRY_MIN_MS;
	schedule_refresh(ch);
}

/* backoff - the next retry delay, doubling */
static int64_t backoff(struct cred_chain *ch)
{
	int64_t d = ch->retry_ms;

	ch->retry_ms = ch->retry_ms * 2 > AWS_RETRY_MAX_MS ? AWS_RETRY_MAX_MS : ch->retry_ms * 2;
	/* Jitter: 75% to 100% of the delay. */
	return d - (d / 4) * (rand() % 101) / 100;
}

/* all_failed - the first n sources gave no credentials: say what was tried, retry */
static void all_failed(struct cred_chain *ch, size_t n)
{
	char msg[AWS_PROVIDERS * (CRED_REASON_MAX + 16)];
	size_t i, off = 0;
	int64_t delay = backoff(ch);

	if (ch->have && expired(ch, aws_now_ms())) {
		/* Nothing to keep: forget them, so the expiry is reported once. */
		aws_credentials_wipe(&ch->cur);
		ch->have = 0;
		ch->chosen = -1;
	}
	for (i = 0; i < n && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%zu. %s: %s",
					i ? "; " : "", i + 1, ch->p[i]->name, ch->reasons[i]);
	if (!ch->failed_once) {
		msg_error("aws: no AWS credentials found (lookups answer TEMP until some are; "
			  "retrying in %lld ms); tried in order: %s", (long long)delay, msg);
		ch->fail_log.last_ms = clock_now_ms();	/* repeats: once a minute */
	} else
		msg_limited(&ch->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_ERROR,
			    "aws: still no AWS credentials; tried in order: %s", msg);
	ch->failed_once = 1;
	arm_ms(ch, delay);
	settle(ch);
}

/* walk_done - one source of a chain walk answered */
static void walk_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_chain *ch = arg;
	int i = ch->asking;

	ch->asking = -1;
	ch->walking = 0;
	if (c) {
		/* After the first walk, connections that failed without
		 * credentials wait in their backoff: wake them now. */
		int recovered = ch->settled == NULL &&
				!(ch->have && !expired(ch, aws_now_ms()));

		install(ch, i, c);
		settle(ch);
		if (recovered && ch->found)
			ch->found(ch->found_arg);
		return;
	}
	snprintf(ch->reasons[i], sizeof(ch->reasons[i]), "%s", reason ? reason : "failed");
	if ((size_t)i + 1 < ch->np && !ch->p[i]->final) {
		/* A source that is set up but unusable is worth saying at info. */
		msg_log(ch->p[i]->present ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
			"aws: credential source %s %s: %s; trying the next", ch->p[i]->name,
			ch->p[i]->present ? "is set but unusable" : "not used", ch->reasons[i]);
		walk(ch, i + 1);
	} else
		all_failed(ch, (size_t)i + 1);
}

/* walk - ask source i (and, through walk_done, the ones after it) */
static void walk(struct cred_chain *ch, int i)
{
	ch->asking = i;
	ch->walking = 1;
	ch->p[i]->fetch(ch->p[i], walk_done, ch);
}

/* refresh_done - the chosen source answered a refresh */
static void refresh_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_chain *ch = arg;
	char when[SIGV4_AMZDATE_LEN + 1];
	int64_t now = aws_now_ms(), delay;
	int stable;

	ch->asking = -1;
	if (c) {
		install(ch, ch->chosen, c);
		return;
	}
	/*
	 * A source with static stability whose credentials end within the
	 * shortest extension is extended now (Go's HandleFailToRefresh does the
	 * same inside 5 minutes), so that they never lapse between two tries.
	 */
	stable = ch->have && ch->p[ch->chosen]->static_stability;
	if (ch->have && !expired(ch, now) &&
	    !(stable && ch->cur.expiration_ms - now < AWS_EXTEND_MIN_S * 1000LL)) {
		delay = backoff(ch);
		if (delay > ch->cur.expiration_ms - now)
			delay = ch->cur.expiration_ms - now;
		when_text(ch->cur.expiration_ms, when);
		msg_limited(&ch->fail_log, AWS_LOG_INTERVAL_MS, LOG_LEVEL_WARN,
			    "aws: cannot refresh credentials: %s; keeping access key id %s until it "
			    "expires at %s, retrying in %lld ms", reason ? reason : "failed",
			    ch->cur.access_key_id, when, (long long)delay);
		arm_ms(ch, delay);
		return;
	}
	if (stable) {
		int64_t add = extend(ch);

		delay = backoff(ch);
		when_text(ch->source_exp_ms, when);
		msg_warn("aws: cannot refresh credentials from %s: %s; their Expiration is %s: using "
			 "access key id %s up to %lld min more, as the AWS SDKs do (static "
			 "stability), retrying in %lld ms", ch->p[ch->chosen]->where,
			 reason ? reason : "failed", when, ch->cur.access_key_id,
			 (long long)(add / 60000), (long long)delay);
		arm_ms(ch, delay);
		return;
	}
	msg_error("aws: credentials (access key id %s) expired and %s could not refresh them: %s; "
		  "trying every source again", ch->cur.access_key_id, ch->p[ch->chosen]->where,
		  reason ? reason : "failed");
	ch->retry_ms = AWS_RETRY_MIN_MS;
	walk(ch, 0);
}

/* timer_cb - time to refresh, or to retry */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_chain *ch = arg;

	(void)fd;
	(void)what;
	if (ch->asking >= 0)
		return;
	if (ch->have && ch->chosen >= 0 &&
	    (!expired(ch, aws_now_ms()) || ch->p[ch->chosen]->static_stability)) {
		ch->asking = ch->chosen;
		ch->walking = 0;
		ch->p[ch->chosen]->fetch(ch->p[ch->chosen], refresh_done, ch);
		return;
	}
	if (ch->have && expired(ch, aws_now_ms())) {
		msg_error("aws: credentials (access key id %s) expired; looking for new ones",
			  ch->cur.access_key_id);
		ch->retry_ms = AWS_RETRY_MIN_MS;
	}
	walk(ch, 0);
}

/* cred_chain_new - the chain in SDK order */
struct cred_chain *cred_chain_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_chain *ch = calloc(1, sizeof(*ch));
	size_t i;

	if (ch == NULL)
		return NULL;
	ch->base = base;
	ch->chosen = -1;
	ch->asking = -1;
	ch->retry_ms = AWS_RETRY_MIN_MS;
	ch->margin_s = cred_env_number("AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS", 0, AWS_MARGIN_MAX_S);
	ch->p[0] = cred_env_new();
	ch->p[1] = cred_web_identity_new(base, dns);
	ch->p[2] = cred_file_new(base, dns);
	ch->p[3] = cred_container_new(base, dns);
	ch->p[4] = cred_imds_new(base, dns);
	ch->np = AWS_PROVIDERS;
	ch->timer = evtimer_new(base, timer_cb, ch);
	for (i = 0; i < ch->np; i++)
		if (ch->p[i] == NULL)
			ch->timer = NULL;
	if (ch->timer == NULL) {
		cred_chain_free(ch);
		return NULL;
	}
	return ch;
}

/* cred_chain_start - the first walk */
void cred_chain_start(struct cred_chain *ch)
{
	if (ch->asking < 0 && !ch->have)
		walk(ch, 0);
}

/* cred_chain_free - cancel what is in flight, wipe, release */
void cred_chain_free(struct cred_chain *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	for (i = 0; i < AWS_PROVIDERS; i++)
		if (ch->p[i])
			ch->p[i]->destroy(ch->p[i]);
	if (ch->timer)
		event_free(ch->timer);
	aws_credentials_wipe(&ch->cur);
	free(ch);
}

/* cred_chain_current - credentials valid now, or NULL */
const struct aws_credentials *cred_chain_current(const struct cred_chain *ch)
{
	if (ch == NULL || !ch->have || expired(ch, aws_now_ms()))
		return NULL;
	return &ch->cur;
}

/* cred_chain_describe - where the credentials come from */
const char *cred_chain_describe(const struct cred_chain *ch)
{
	return ch && ch->chosen >= 0 ? ch->p[ch->chosen]->where : "none";
}

/* cred_chain_status - source and seconds to expiry, for metrics */
int cred_chain_status(const struct cred_chain *ch, const char **source, double *expires_in_s)
{
	if (ch == NULL)
		return 0;
	*source = ch->have && ch->chosen >= 0 ? ch->p[ch->chosen]->name : "none";
	*expires_in_s = ch->have && ch->cur.expiration_ms ?
			(double)(ch->cur.expiration_ms - aws_now_ms()) / 1000.0 : -1;
	return 1;
}
