/*
 * auth_sigv4 - Amazon Keyspaces' SigV4 exchange, one accepted key
 *
 * DESCRIPTION
 *	--auth sigv4:ACCESS_KEY_ID:SECRET[:REGION] (REGION: us-east-1).
 *	The exchange, as Keyspaces runs it:
 *
 *	client	"SigV4\0\0"
 *	cqld	AUTH_CHALLENGE "nonce=<32 random hex characters>"
 *	client	"signature=<hex>,access_key=<id>,amzdate=<...>[,session_token=...]"
 *	cqld	AUTH_SUCCESS, or Bad credentials
 *
 *	The answer is verified with the daemon's own signer (src/aws/sigv4.c,
 *	cross-checked against AWS's Node plugin): a wrong access key id, an
 *	amzdate more than SIGV4_SKEW_MAX_MS away from cqld's clock, or a
 *	signature other than the one the secret gives for this nonce, time
 *	and region are refused. The session token is not signed; it is not
 *	checked either.
 *
 *	Control commands (cqld's "auth ARGS" line, see auth_control()):
 *	"key ACCESS_KEY_ID:SECRET[:REGION]" changes the accepted key from
 *	now on (credential rotation tests); "stats" answers
 *	"ok accepted=N rejected=M last=ACCESS_KEY_ID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth.h"
#include "aws/sigv4.h"

#define SIGV4_SKEW_MAX_MS	(15 * 60 * 1000)	/* amzdate tolerance */
#define SIGV4_NONCE_BYTES	16			/* 32 hex characters */
#define SIGV4_DEFAULT_REGION	"us-east-1"
#define SIGV4_ID_MAX		128
#define SIGV4_SECRET_MAX	256
#define SIGV4_REGION_MAX	32

struct sv_cfg {
	char key_id[SIGV4_ID_MAX + 1];
	char secret[SIGV4_SECRET_MAX + 1];
	char region[SIGV4_REGION_MAX + 1];
	unsigned long accepted, rejected;
	char last[SIGV4_ID_MAX + 1];		/* last key id accepted */
};

struct sv_sess {
	struct sv_cfg *cfg;
	int challenged;
	char nonce[2 * SIGV4_NONCE_BYTES + 1];
};

/* sv_parse - KEYID:SECRET[:REGION] into cfg; -1 with err */
static int sv_parse(const char *arg, struct sv_cfg *cfg, char *err, size_t errlen)
{
	const char *c1 = strchr(arg, ':'), *c2;
	size_t klen, slen;

	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	klen = c1 ? (size_t)(c1 - arg) : 0;
	slen = c1 ? (c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)) : 0;
	if (c1 == NULL || klen == 0 || klen > SIGV4_ID_MAX || slen == 0 ||
	    slen > SIGV4_SECRET_MAX || (c2 && (c2[1] == 0 || strlen(c2 + 1) > SIGV4_REGION_MAX))) {
		snprintf(err, errlen, "bad sigv4:ACCESS_KEY_ID:SECRET[:REGION] (non-empty key id and "
			 "secret; the secret may not hold ':')");
		return -1;
	}
	memset(cfg->key_id, 0, sizeof(cfg->key_id));
	OPENSSL_cleanse(cfg->secret, sizeof(cfg->secret));
	memcpy(cfg->key_id, arg, klen);
	memcpy(cfg->secret, c1 + 1, slen);
	snprintf(cfg->region, sizeof(cfg->region), "%s", c2 ? c2 + 1 : SIGV4_DEFAULT_REGION);
	return 0;
}

/* sv_open - parse the argument */
static void *sv_open(const char *arg, char *err, size_t errlen)
{
	struct sv_cfg *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sv_parse(arg, cfg, err, errlen) != 0) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* sv_begin - a new exchange */
static void *sv_begin(void *cfg)
{
	struct sv_sess *s = calloc(1, sizeof(*s));

	if (s)
		s->cfg = cfg;
	return s;
}

/* wall_ms - cqld's clock, epoch milliseconds */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* field - a NUL-terminated copy of name= from the answer; -1 if absent/too long */
static int field(const uint8_t *tok, size_t len, const char *name, char *out, size_t size)
{
	size_t n;
	const char *v = sigv4_response_field(tok, len, name, &n);

	if (v == NULL || n == 0 || n >= size)
		return -1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

/* sv_verify - check the signed answer against the nonce */
static void sv_verify(struct sv_sess *s, const uint8_t *tok, size_t len,
		      struct auth_result *res)
{
	struct sv_cfg *cfg = s->cfg;
	char sig[SIGV4_HEX_LEN + 2], key[SIGV4_ID_MAX + 2], date[SIGV4_AMZDATE_LEN + 2];
	char want[SIGV4_HEX_LEN + 1];
	struct sigv4_creds c = { cfg->key_id, cfg->secret, NULL };
	struct buf tmp;
	int64_t t, skew;

	if (field(tok, len, "signature", sig, sizeof(sig)) != 0 ||
	    field(tok, len, "access_key", key, sizeof(key)) != 0 ||
	    field(tok, len, "amzdate", date, sizeof(date)) != 0) {
		snprintf(res->message, sizeof(res->message), "SigV4: the answer lacks signature, "
			 "access_key or amzdate");
		return;
	}
	if (strcmp(key, cfg->key_id) != 0) {
		snprintf(res->message, sizeof(res->message), "SigV4: unknown access key id %.64s", key);
		return;
	}
	if (sigv4_parse_amzdate(date, strlen(date), &t) != 0) {
		snprintf(res->message, sizeof(res->message), "SigV4: bad amzdate '%.32s'", date);
		return;
	}
	skew = t - wall_ms();
	if (skew > SIGV4_SKEW_MAX_MS || -skew > SIGV4_SKEW_MAX_MS) {
		snprintf(res->message, sizeof(res->message), "SigV4: amzdate %s is %lld s away from "
			 "the server's clock (at most %d s)", date, (long long)(skew / 1000),
			 SIGV4_SKEW_MAX_MS / 1000);
		return;
	}
	buf_init(&tmp);
	if (sigv4_sign(&c, cfg->region, s->nonce, t, &tmp, want) != 0 ||
	    strlen(sig) != SIGV4_HEX_LEN || CRYPTO_memcmp(sig, want, SIGV4_HEX_LEN) != 0) {
		buf_free(&tmp);
		snprintf(res->message, sizeof(res->message), "SigV4: signature mismatch for access "
			 "key id %.64s", key);
		return;
	}
	buf_free(&tmp);
	res->step = AUTH_SUCCESS;
	res->null_token = 1;
}

/* sv_evaluate - "SigV4\0\0" gets the nonce; the signed answer is checked */
static void sv_evaluate(void *cfgp, void *sessp, const uint8_t *tok, int32_t len,
			struct auth_result *res)
{
	struct sv_cfg *cfg = cfgp;
	struct sv_sess *s = sessp;
	uint8_t rnd[SIGV4_NONCE_BYTES];
	size_t i, n = len > 0 ? (size_t)len : 0;

	if (!s->challenged) {
		if (n < 5 || memcmp(tok, "SigV4", 5) != 0) {
			snprintf(res->message, sizeof(res->message), "SigV4: expected the initial "
				 "response SigV4\\0\\0");
			cfg->rejected++;
			return;
		}
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			snprintf(res->message, sizeof(res->message), "SigV4: no random nonce");
			return;
		}
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(s->nonce + 2 * i, 3, "%02x", rnd[i]);
		s->challenged = 1;
		buf_printf(&res->token, "nonce=%s", s->nonce);
		res->step = AUTH_CHALLENGE;
		return;
	}
	s->challenged = 0;	/* one answer per nonce */
	sv_verify(s, tok, n, res);
	if (res->step == AUTH_SUCCESS) {
		cfg->accepted++;
		snprintf(cfg->last, sizeof(cfg->last), "%s", cfg->key_id);
	} else {
		cfg->rejected++;
	}
}

/* sv_end - forget an exchange */
static void sv_end(void *cfg, void *sess)
{
	(void)cfg;
	free(sess);
}

/* sv_close - forget the key */
static void sv_close(void *cfgp)
{
	struct sv_cfg *cfg = cfgp;

	OPENSSL_cleanse(cfg, sizeof(*cfg));
	free(cfg);
}

/* sv_control - "key ID:SECRET[:REGION]" or "stats" */
static int sv_control(void *cfgp, const char *arg, struct buf *reply)
{
	struct sv_cfg *cfg = cfgp, next;
	char err[AUTH_MSG_MAX];

	if (strncmp(arg, "key ", 4) == 0) {
		next = *cfg;
		if (sv_parse(arg + 4, &next, err, sizeof(err)) != 0) {
			buf_printf(reply, "error %s", err);
			OPENSSL_cleanse(&next, sizeof(next));
			return -1;
		}
		*cfg = next;
		OPENSSL_cleanse(&next, sizeof(next));
		buf_printf(reply, "ok key %s region %s", cfg->key_id, cfg->region);
		return 0;
	}
	if (strcmp(arg, "stats") == 0) {
		buf_printf(reply, "ok accepted=%lu rejected=%lu last=%s", cfg->accepted,
			   cfg->rejected, cfg->last[0] ? cfg->last : "-");
		return 0;
	}
	buf_append_str(reply, "error usage: auth key ACCESS_KEY_ID:SECRET[:REGION] | auth stats");
	return -1;
}

const struct auth_backend auth_sigv4 = {
	.mode = "sigv4",
	/* Clients (AWS's plugins) do not look at the class name. */
	.class_name = "com.amazonaws.cassandra.DefaultAuthenticator",
	.open = sv_open,
	.begin = sv_begin,
	.evaluate = sv_evaluate,
	.end = sv_end,
	.close = sv_close,
	.control = sv_control,
};
