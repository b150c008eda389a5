/*
 * test_sigv4 - SigV4 for the Keyspaces handshake: the published vector,
 * each signing step, amzdate at millisecond edges, nonce extraction
 *
 * The intermediate values (scope, canonical request, string to sign,
 * signing key) were printed by AWS's aws-sigv4-auth-cassandra-plugin
 * 1.0.5 for the published vector; the signature is the published one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/sigv4.h"
#include "cql/cql_auth_sigv4.h"

#define VEC_NONCE	"91703fdc2ef562e19fbdab0f58e42fe5"
#define VEC_MS		1591742511000LL		/* 2020-06-09T22:41:51.000Z */
#define VEC_KEY_ID	"UserID-1"
#define VEC_SECRET	"UserSecretKey-1"
#define VEC_REGION	"us-west-2"
#define VEC_SIG		"7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87"
#define VEC_SCOPE	"20200609/us-west-2/cassandra/aws4_request"
#define VEC_CANONICAL	"PUT\n/authenticate\nX-Amz-Algorithm=AWS4-HMAC-SHA256&" \
	"X-Amz-Credential=UserID-1%2F20200609%2Fus-west-2%2Fcassandra%2Faws4_request&" \
	"X-Amz-Date=2020-06-09T22%3A41%3A51.000Z&X-Amz-Expires=900\nhost:cassandra\n\nhost\n" \
	"ddf250111597b3f35e51e649f59e3f8b30ff5b247166d709dc1b1e60bd927070"
#define VEC_STS		"AWS4-HMAC-SHA256\n2020-06-09T22:41:51.000Z\n" \
	"20200609/us-west-2/cassandra/aws4_request\n" \
	"bf5cc15759befc37fc35689dcdd7938a9ad042b6326f537c4c5eecaa2ebf911e"
#define VEC_SIGNING_KEY	"7fb139473f153aec1b05747b0cd5cd77a1186d22ae895a3a0128e699d72e1aba"

/* text - the buffer as a NUL-terminated string */
static const char *text(struct buf *b)
{
	buf_append_byte(b, 0);
	b->len--;
	return (const char *)b->data;
}

static void test_published_vector(void **state)
{
	struct buf out;
	char sig[SIGV4_HEX_LEN + 1];
	struct sigv4_creds c = { VEC_KEY_ID, VEC_SECRET, NULL };

	(void)state;
	buf_init(&out);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, VEC_MS, &out, sig), 0);
	assert_string_equal(sig, VEC_SIG);
	assert_string_equal(text(&out), "signature=" VEC_SIG ",access_key=UserID-1,"
			    "amzdate=2020-06-09T22:41:51.000Z");
	buf_free(&out);
}

static void test_session_token_is_appended(void **state)
{
	struct buf out;
	struct sigv4_creds c = { VEC_KEY_ID, VEC_SECRET, "FQoGZXIvYXdzE+/abc==" };

	(void)state;
	buf_init(&out);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, VEC_MS, &out, NULL), 0);
	/* The token is not signed: the signature is the vector's. */
	assert_string_equal(text(&out), "signature=" VEC_SIG ",access_key=UserID-1,"
			    "amzdate=2020-06-09T22:41:51.000Z,session_token=FQoGZXIvYXdzE+/abc==");
	buf_free(&out);
	/* An empty token is no token. */
	c.session_token = "";
	buf_init(&out);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, VEC_MS, &out, NULL), 0);
	assert_null(strstr(text(&out), "session_token"));
	buf_free(&out);
}

static void test_steps(void **state)
{
	struct buf scope, canonical, sts;
	uint8_t key[SIGV4_KEY_LEN];
	char hex[2 * SIGV4_KEY_LEN + 1], sig[SIGV4_HEX_LEN + 1];
	const char *amzdate = "2020-06-09T22:41:51.000Z";
	size_t i;

	(void)state;
	buf_init(&scope);
	buf_init(&canonical);
	buf_init(&sts);
	sigv4_scope(amzdate, VEC_REGION, &scope);
	assert_string_equal(text(&scope), VEC_SCOPE);
	sigv4_canonical_request(VEC_KEY_ID, VEC_SCOPE, amzdate, VEC_NONCE, &canonical);
	assert_string_equal(text(&canonical), VEC_CANONICAL);
	sigv4_string_to_sign(&canonical, amzdate, VEC_SCOPE, &sts);
	assert_string_equal(text(&sts), VEC_STS);
	sigv4_signing_key(VEC_SECRET, amzdate, VEC_REGION, key);
	for (i = 0; i < sizeof(key); i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	assert_string_equal(hex, VEC_SIGNING_KEY);
	sigv4_signature(key, &sts, sig);
	assert_string_equal(sig, VEC_SIG);
	buf_free(&scope);
	buf_free(&canonical);
	buf_free(&sts);
}

static void test_amzdate_millisecond_edges(void **state)
{
	char d[SIGV4_AMZDATE_LEN + 1];
	int64_t ms;

	(void)state;
	assert_int_equal(sigv4_amzdate(0, d), 0);
	assert_string_equal(d, "1970-01-01T00:00:00.000Z");
	assert_int_equal(sigv4_amzdate(1, d), 0);
	assert_string_equal(d, "1970-01-01T00:00:00.001Z");
	assert_int_equal(sigv4_amzdate(999, d), 0);
	assert_string_equal(d, "1970-01-01T00:00:00.999Z");
	assert_int_equal(sigv4_amzdate(1000, d), 0);
	assert_string_equal(d, "1970-01-01T00:00:01.000Z");
	/* The last millisecond of a day, and the first of the next: the scope date changes. */
	assert_int_equal(sigv4_amzdate(1591747199999LL, d), 0);
	assert_string_equal(d, "2020-06-09T23:59:59.999Z");
	assert_int_equal(sigv4_amzdate(1591747200000LL, d), 0);
	assert_string_equal(d, "2020-06-10T00:00:00.000Z");
	/* Leap day and year end. */
	assert_int_equal(sigv4_amzdate(1582934400123LL, d), 0);
	assert_string_equal(d, "2020-02-29T00:00:00.123Z");
	assert_int_equal(sigv4_amzdate(1609459199999LL, d), 0);
	assert_string_equal(d, "2020-12-31T23:59:59.999Z");
	assert_int_equal(sigv4_amzdate(VEC_MS + 10, d), 0);
	assert_string_equal(d, "2020-06-09T22:41:51.010Z");
	assert_int_equal(sigv4_amzdate(253402300799999LL, d), 0);
	assert_string_equal(d, "9999-12-31T23:59:59.999Z");
	/* Outside what the syntax can carry. */
	assert_int_equal(sigv4_amzdate(-1, d), -1);
	assert_int_equal(sigv4_amzdate(253402300800000LL, d), -1);

	/* And back. */
	assert_int_equal(sigv4_parse_amzdate("2020-06-09T23:59:59.999Z", 24, &ms), 0);
	assert_true(ms == 1591747199999LL);
	assert_int_equal(sigv4_parse_amzdate("1970-01-01T00:00:00.000Z", 24, &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(sigv4_parse_amzdate("2020-06-09T23:59:59.99Z", 23, &ms), -1);
	assert_int_equal(sigv4_parse_amzdate("2020-06-09T23:59:59.999X", 24, &ms), -1);
	assert_int_equal(sigv4_parse_amzdate("2020-02-30T00:00:00.000Z", 24, &ms), -1);
	assert_int_equal(sigv4_parse_amzdate("2020-13-01T00:00:00.000Z", 24, &ms), -1);
	assert_int_equal(sigv4_parse_amzdate("2020-06-09 23:59:59.999Z", 24, &ms), -1);
}

static void test_signature_changes_with_the_millisecond(void **state)
{
	struct buf a, b;
	char sa[SIGV4_HEX_LEN + 1], sb[SIGV4_HEX_LEN + 1];
	struct sigv4_creds c = { VEC_KEY_ID, VEC_SECRET, NULL };

	(void)state;
	buf_init(&a);
	buf_init(&b);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, VEC_MS, &a, sa), 0);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, VEC_MS + 1, &b, sb), 0);
	assert_string_not_equal(sa, sb);
	buf_free(&a);
	buf_free(&b);
}

/* nonce_of - extract from a C string challenge */
static int nonce_of(const char *challenge, char nonce[SIGV4_NONCE_MAX + 1])
{
	return sigv4_nonce_extract((const uint8_t *)challenge, strlen(challenge), nonce);
}

static void test_nonce_extraction(void **state)
{
	char n[SIGV4_NONCE_MAX + 1];
	char big[SIGV4_NONCE_MAX + 16];

	(void)state;
	assert_int_equal(nonce_of("nonce=" VEC_NONCE, n), 0);
	assert_string_equal(n, VEC_NONCE);
	/* Text around it, as the plugins read it: up to the next ','. */
	assert_int_equal(nonce_of("realm=x,nonce=" VEC_NONCE ",extra=1", n), 0);
	assert_string_equal(n, VEC_NONCE);
	assert_int_equal(nonce_of("xxnonce=abc,nonce=def", n), 0);
	assert_string_equal(n, "abc");
	/* A NUL byte before it does not hide it (lengths, not C strings). */
	assert_int_equal(sigv4_nonce_extract((const uint8_t *)"a\0nonce=q1", 10, n), 0);
	assert_string_equal(n, "q1");

	/* Refusals: no nonce, empty, control bytes, over the limit. */
	assert_int_equal(nonce_of("", n), -1);
	assert_int_equal(nonce_of("hello", n), -1);
	assert_int_equal(nonce_of("nonce", n), -1);
	assert_int_equal(nonce_of("Nonce=abc", n), -1);
	assert_int_equal(nonce_of("nonce=", n), -1);
	assert_int_equal(nonce_of("nonce=,x=1", n), -1);
	assert_int_equal(nonce_of("nonce=ab\ncd", n), -1);
	assert_int_equal(nonce_of("nonce=ab cd", n), -1);
	memcpy(big, "nonce=", 6);
	memset(big + 6, 'a', SIGV4_NONCE_MAX + 1);
	big[6 + SIGV4_NONCE_MAX + 1] = 0;
	assert_int_equal(nonce_of(big, n), -1);
	big[6 + SIGV4_NONCE_MAX] = 0;
	assert_int_equal(nonce_of(big, n), 0);
	assert_int_equal(strlen(n), SIGV4_NONCE_MAX);
}

static void test_bad_inputs_are_refused(void **state)
{
	struct buf out;
	struct sigv4_creds c = { VEC_KEY_ID, VEC_SECRET, NULL };
	struct sigv4_creds comma = { "AKIA,X", VEC_SECRET, NULL };
	struct sigv4_creds nl_token = { VEC_KEY_ID, VEC_SECRET, "abc\ndef" };
	struct sigv4_creds empty = { "", VEC_SECRET, NULL };

	(void)state;
	buf_init(&out);
	assert_int_equal(sigv4_sign(&comma, VEC_REGION, VEC_NONCE, VEC_MS, &out, NULL), -1);
	assert_int_equal(sigv4_sign(&nl_token, VEC_REGION, VEC_NONCE, VEC_MS, &out, NULL), -1);
	assert_int_equal(sigv4_sign(&empty, VEC_REGION, VEC_NONCE, VEC_MS, &out, NULL), -1);
	assert_int_equal(sigv4_sign(&c, "", VEC_NONCE, VEC_MS, &out, NULL), -1);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, "", VEC_MS, &out, NULL), -1);
	assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, -5, &out, NULL), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_response_fields(void **state)
{
	const char *r = "signature=abc,access_key=AKID,amzdate=2020-06-09T22:41:51.000Z,session_token=t=1";
	size_t n;
	const char *v;

	(void)state;
	v = sigv4_response_field((const uint8_t *)r, strlen(r), "access_key", &n);
	assert_non_null(v);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "AKID", 4);
	v = sigv4_response_field((const uint8_t *)r, strlen(r), "session_token", &n);
	assert_non_null(v);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "t=1", 3);
	assert_null(sigv4_response_field((const uint8_t *)r, strlen(r), "access", &n));
	assert_null(sigv4_response_field((const uint8_t *)r, strlen(r), "nonce", &n));
}

static int have_creds;

/* fake_creds - what the daemon's credential chain would hand over */
static int fake_creds(void *arg, struct sigv4_creds *out)
{
	(void)arg;
	if (!have_creds)
		return -1;
	out->access_key_id = VEC_KEY_ID;
	out->secret_access_key = VEC_SECRET;
	out->session_token = "tok";
	return 0;
}

static void test_authenticator(void **state)
{
	struct cql_auth *a = cql_auth_sigv4_new(VEC_REGION, fake_creds, NULL);
	static const char challenge[] = "nonce=" VEC_NONCE;
	struct buf out;
	char err[256], who[64];
	int64_t t;
	size_t n;
	const char *v;

	(void)state;
	assert_non_null(a);
	buf_init(&out);
	assert_int_equal(a->initial(a, "com.amazonaws.cassandra.DefaultAuthenticator", &out,
				    err, sizeof(err)), 0);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, "SigV4\0\0", 7);
	buf_reset(&out);

	/* No credentials yet: refused with a reason, nothing sent. */
	have_creds = 0;
	assert_int_equal(a->challenge(a, (const uint8_t *)challenge, strlen(challenge), &out,
				      err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no AWS credentials"));
	assert_int_equal(out.len, 0);

	/* No nonce: refused. */
	have_creds = 1;
	assert_int_equal(a->challenge(a, (const uint8_t *)"realm=x", 7, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nonce"));

	/* The answer signs the nonce at the current time, with the token. */
	assert_int_equal(a->challenge(a, (const uint8_t *)challenge, strlen(challenge), &out,
				      err, sizeof(err)), 0);
	v = sigv4_response_field(out.data, out.len, "amzdate", &n);
	assert_non_null(v);
	assert_int_equal(sigv4_parse_amzdate(v, n, &t), 0);
	{
		struct sigv4_creds c = { VEC_KEY_ID, VEC_SECRET, "tok" };
		struct buf want;

		buf_init(&want);
		assert_int_equal(sigv4_sign(&c, VEC_REGION, VEC_NONCE, t, &want, NULL), 0);
		assert_int_equal(out.len, want.len);
		assert_memory_equal(out.data, want.data, want.len);
		buf_free(&want);
	}
	assert_non_null(sigv4_response_field(out.data, out.len, "session_token", &n));
	a->identity(a, who, sizeof(who));
	assert_string_equal(who, "access key id " VEC_KEY_ID);
	buf_free(&out);
	cql_auth_free(a);
}

/* http_sign - sigv4_http_sign of the AWS test suite's request at 20150830T123600Z */
static int http_sign(const char *token, const char *method, const char *ctype, const char *body,
		     char *auth, size_t size)
{
	struct sigv4_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token };
	struct sigv4_http_request r = { method, "example.amazonaws.com", "/", ctype, body,
					strlen(body), "us-east-1", "service" };
	char xdate[SIGV4_XAMZDATE_LEN + 1];
	struct buf b;
	int rc;

	buf_init(&b);
	rc = sigv4_http_sign(&c, &r, 1440938160000LL, xdate, &b);
	if (rc == 0) {
		assert_string_equal(xdate, "20150830T123600Z");
		snprintf(auth, size, "%.*s", (int)b.len, (const char *)b.data);
	}
	buf_free(&b);
	return rc;
}

/* The HTTP signer (STS AssumeRole) against AWS's SigV4 test suite vectors. */
static void test_http_request_vectors(void **state)
{
	char auth[512];

	(void)state;
	/* get-vanilla */
	assert_int_equal(http_sign(NULL, "GET", NULL, "", auth, sizeof(auth)), 0);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
			    "aws4_request, SignedHeaders=host;x-amz-date, Signature="
			    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	/* post-x-www-form-urlencoded */
	assert_int_equal(http_sign("", "POST", "application/x-www-form-urlencoded", "Param1=value1",
				   auth, sizeof(auth)), 0);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
			    "aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
			    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
	/* A session token is signed as x-amz-security-token. */
	assert_int_equal(http_sign("tok", "POST", "application/x-www-form-urlencoded", "A=1",
				   auth, sizeof(auth)), 0);
	assert_non_null(strstr(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
	/* Nothing a header could not carry. */
	assert_int_equal(http_sign("t\nx", "POST", NULL, "", auth, sizeof(auth)), -1);
	assert_int_equal(http_sign(NULL, "POST", "a\r\nX-Injected: 1", "", auth, sizeof(auth)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vector),
		cmocka_unit_test(test_session_token_is_appended),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_amzdate_millisecond_edges),
		cmocka_unit_test(test_signature_changes_with_the_millisecond),
		cmocka_unit_test(test_nonce_extraction),
		cmocka_unit_test(test_bad_inputs_are_refused),
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_authenticator),
		cmocka_unit_test(test_http_request_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
