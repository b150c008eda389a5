/*
 * sigv4 - AWS Signature Version 4 for the Amazon Keyspaces CQL handshake
 * (see sigv4.h)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws/sigv4.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define SIGV4_MAX_EPOCH_MS	253402300799999LL	/* 9999-12-31T23:59:59.999Z */

/* hex - lower-case hex of n bytes */
static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* hmac - HMAC-SHA256 of data under key */
static void hmac(const void *key, size_t klen, const void *data, size_t dlen,
		 uint8_t out[SIGV4_KEY_LEN])
{
	unsigned olen = SIGV4_KEY_LEN;

	HMAC(EVP_sha256(), key, (int)klen, data, dlen, out, &olen);
}

/* printable - every byte is printable ASCII and not a ',' */
static int printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (n >= max || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || *s == ',')
			return 0;
	return 1;
}

/* sigv4_amzdate - epoch milliseconds as YYYY-MM-DDTHH:MM:SS.mmmZ */
int sigv4_amzdate(int64_t epoch_ms, char out[SIGV4_AMZDATE_LEN + 1])
{
	time_t secs;
	struct tm tm;
	char tmp[64];		/* room for any int, to keep -Wformat-truncation quiet */

	out[0] = 0;
	if (epoch_ms < 0 || epoch_ms > SIGV4_MAX_EPOCH_MS)
		return -1;
	secs = (time_t)(epoch_ms / 1000);
	if (gmtime_r(&secs, &tm) == NULL)
		return -1;
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(epoch_ms % 1000));
	if (strlen(tmp) != SIGV4_AMZDATE_LEN)
		return -1;
	memcpy(out, tmp, SIGV4_AMZDATE_LEN + 1);
	return 0;
}

/* digits - n decimal digits at s, or -1 */
static long digits(const char *s, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* sigv4_parse_amzdate - YYYY-MM-DDTHH:MM:SS.mmmZ to epoch milliseconds */
int sigv4_parse_amzdate(const char *s, size_t len, int64_t *epoch_ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;
	time_t t;
	size_t i;
	char back[SIGV4_AMZDATE_LEN + 1];

	if (len != SIGV4_AMZDATE_LEN)
		return -1;
	for (i = 0; i < len; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)digits(s, 4) - 1900;
	tm.tm_mon = (int)digits(s + 5, 2) - 1;
	tm.tm_mday = (int)digits(s + 8, 2);
	tm.tm_hour = (int)digits(s + 11, 2);
	tm.tm_min = (int)digits(s + 14, 2);
	tm.tm_sec = (int)digits(s + 17, 2);
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return -1;
	*epoch_ms = (int64_t)t * 1000 + digits(s + 20, 3);
	/* Out-of-range fields (month 13, Feb 30) normalise: refuse them. */
	if (sigv4_amzdate(*epoch_ms, back) != 0 || memcmp(back, s, len) != 0)
		return -1;
	return 0;
}

/* sigv4_nonce_extract - the value after "nonce=" up to ',' or the end */
int sigv4_nonce_extract(const uint8_t *challenge, size_t len,
			char nonce[SIGV4_NONCE_MAX + 1])
{
	static const char tag[] = "nonce=";
	const size_t tlen = sizeof(tag) - 1;
	size_t i, start, n;

	nonce[0] = 0;
	for (i = 0; i + tlen <= len; i++)
		if (memcmp(challenge + i, tag, tlen) == 0)
			break;
	if (i + tlen > len)
		return -1;
	start = i + tlen;
	for (n = 0; start + n < len && challenge[start + n] != ','; n++) {
		if (n >= SIGV4_NONCE_MAX || challenge[start + n] < 0x21 || challenge[start + n] > 0x7e)
			return -1;
	}
	if (n == 0)
		return -1;
	memcpy(nonce, challenge + start, n);
	nonce[n] = 0;
	return 0;
}

/* sigv4_scope - the credential scope for the date of amzdate */
void sigv4_scope(const char *amzdate, const char *region, struct buf *out)
{
	/* YYYY-MM-DD... -> YYYYMMDD */
	buf_append(out, amzdate, 4);
	buf_append(out, amzdate + 5, 2);
	buf_append(out, amzdate + 8, 2);
	buf_printf(out, "/%s/" SIGV4_SERVICE "/" SIGV4_TERMINATOR, region);
}

/* uri_encode - percent-encode all but RFC 3986 unreserved characters */
static void uri_encode(const char *s, struct buf *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~')
			buf_append_byte(out, c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* sigv4_canonical_request - PUT /authenticate, presigned query, host header */
void sigv4_canonical_request(const char *access_key_id, const char *scope,
			     const char *amzdate, const char *nonce,
			     struct buf *out)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char nonce_hash[SIGV4_HEX_LEN + 1];

	SHA256((const unsigned char *)nonce, strlen(nonce), digest);
	hex(digest, sizeof(digest), nonce_hash);
	/*
	 * Query parameters in byte order. The key id goes in as it is, the
	 * scope and the date URI-encoded, as AWS's plugins write them.
	 */
	buf_append_str(out, "PUT\n/authenticate\n"
		       "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
	buf_append_str(out, access_key_id);
	buf_append_str(out, "%2F");
	uri_encode(scope, out);
	buf_append_str(out, "&X-Amz-Date=");
	uri_encode(amzdate, out);
	buf_printf(out, "&X-Amz-Expires=%d\nhost:" SIGV4_SERVICE "\n\nhost\n%s",
		   SIGV4_EXPIRES_S, nonce_hash);
}

/* sigv4_string_to_sign - what the signing key signs */
void sigv4_string_to_sign(const struct buf *canonical, const char *amzdate,
			  const char *scope, struct buf *out)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char dhex[SIGV4_HEX_LEN + 1];

	SHA256(canonical->data ? canonical->data : (const uint8_t *)"", canonical->len, digest);
	hex(digest, sizeof(digest), dhex);
	buf_printf(out, SIGV4_ALGORITHM "\n%s\n%s\n%s", amzdate, scope, dhex);
}

/* derive_key - HMAC chain "AWS4"+secret, YYYYMMDD, region, service, aws4_request */
static void derive_key(const char *secret, const char datestamp[SIGV4_DATESTAMP_LEN],
		       const char *region, const char *service, uint8_t key[SIGV4_KEY_LEN])
{
	uint8_t k[SIGV4_KEY_LEN];
	struct buf seed;

	buf_init(&seed);
	buf_append_str(&seed, "AWS4");
	buf_append_str(&seed, secret);
	hmac(seed.data, seed.len, datestamp, SIGV4_DATESTAMP_LEN, k);
	if (seed.data)
		OPENSSL_cleanse(seed.data, seed.cap);
	buf_free(&seed);
	hmac(k, sizeof(k), region, strlen(region), k);
	hmac(k, sizeof(k), service, strlen(service), k);
	hmac(k, sizeof(k), SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), key);
	OPENSSL_cleanse(k, sizeof(k));
}

/* sigv4_signing_key - derive the day's key for region and service */
void sigv4_signing_key(const char *secret, const char *amzdate, const char *region,
		       uint8_t key[SIGV4_KEY_LEN])
{
	char datestamp[SIGV4_DATESTAMP_LEN];

	memcpy(datestamp, amzdate, 4);
	memcpy(datestamp + 4, amzdate + 5, 2);
	memcpy(datestamp + 6, amzdate + 8, 2);
	derive_key(secret, datestamp, region, SIGV4_SERVICE, key);
}

/* sigv4_signature - hex HMAC-SHA256 of the string to sign */
void sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const struct buf *sts,
		     char out[SIGV4_HEX_LEN + 1])
{
	uint8_t mac[SIGV4_KEY_LEN];

	hmac(key, SIGV4_KEY_LEN, sts->data ? sts->data : (const uint8_t *)"", sts->len, mac);
	hex(mac, sizeof(mac), out);
}

/* sigv4_sign - the complete answer to a challenge */
int sigv4_sign(const struct sigv4_creds *creds, const char *region,
	       const char *nonce, int64_t epoch_ms, struct buf *out,
	       char sig[SIGV4_HEX_LEN + 1])
{
	char amzdate[SIGV4_AMZDATE_LEN + 1], signature[SIGV4_HEX_LEN + 1];
	uint8_t key[SIGV4_KEY_LEN];
	struct buf scope, canonical, sts;
	const char *tok = creds->session_token;
	int rc = 0;

	if (creds->access_key_id == NULL || creds->secret_access_key == NULL ||
	    region == NULL || nonce == NULL || *creds->access_key_id == 0 ||
	    *region == 0 || *nonce == 0 ||
	    !printable(creds->access_key_id, SIGV4_FIELD_MAX) ||
	    !printable(region, SIGV4_FIELD_MAX) || !printable(nonce, SIGV4_NONCE_MAX) ||
	    strlen(creds->secret_access_key) > SIGV4_FIELD_MAX ||
	    (tok && !printable(tok, SIGV4_TOKEN_MAX)) ||
	    sigv4_amzdate(epoch_ms, amzdate) != 0)
		return -1;
	buf_init(&scope);
	buf_init(&canonical);
	buf_init(&sts);
	sigv4_scope(amzdate, region, &scope);
	buf_append_byte(&scope, 0);
	if (!scope.oom)
		sigv4_canonical_request(creds->access_key_id, (char *)scope.data, amzdate,
					nonce, &canonical);
	if (!canonical.oom)
		sigv4_string_to_sign(&canonical, amzdate, (char *)scope.data, &sts);
	if (scope.oom || canonical.oom || sts.oom) {
		rc = -1;
	} else {
		sigv4_signing_key(creds->secret_access_key, amzdate, region, key);
		sigv4_signature(key, &sts, signature);
		OPENSSL_cleanse(key, sizeof(key));
		buf_printf(out, "signature=%s,access_key=%s,amzdate=%s", signature,
			   creds->access_key_id, amzdate);
		if (tok && *tok)
			buf_printf(out, ",session_token=%s", tok);
		if (sig)
			memcpy(sig, signature, sizeof(signature));
		rc = out->oom ? -1 : 0;
	}
	buf_free(&scope);
	buf_free(&canonical);
	buf_free(&sts);
	return rc;
}

/* sigv4_response_field - the value of name= in a comma-separated answer */
const char *sigv4_response_field(const uint8_t *resp, size_t len,
				 const char *name, size_t *vlen)
{
	size_t nlen = strlen(name), i = 0, end;

	while (i < len) {
		for (end = i; end < len && resp[end] != ','; end++)
			;
		if (end - i > nlen && memcmp(resp + i, name, nlen) == 0 && resp[i + nlen] == '=') {
			*vlen = end - i - nlen - 1;
			return (const char *)resp + i + nlen + 1;
		}
		i = end + 1;
	}
	return NULL;
}

/* sha256_hex - lower-case hex SHA-256 of n bytes */
static void sha256_hex(const void *p, size_t n, char out[SIGV4_HEX_LEN + 1])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(p ? p : (const void *)"", n, digest);
	hex(digest, sizeof(digest), out);
}

/* header_safe - a header value SigV4 can carry as it is (no trimming needed) */
static int header_safe(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/*
 * sigv4_http_sign - SigV4 for an HTTP request with an empty query: the
 * canonical headers are content-type (when given), host, x-amz-date and
 * x-amz-security-token (with a session token), in that (sorted) order.
 */
int sigv4_http_sign(const struct sigv4_creds *creds, const struct sigv4_http_request *req,
		    int64_t epoch_ms, char xamzdate[SIGV4_XAMZDATE_LEN + 1], struct buf *authorization)
{
	char amzdate[SIGV4_AMZDATE_LEN + 1], body_hash[SIGV4_HEX_LEN + 1], signature[SIGV4_HEX_LEN + 1];
	char datestamp[SIGV4_DATESTAMP_LEN + 1];
	const char *tok = creds->session_token && *creds->session_token ? creds->session_token : NULL;
	uint8_t key[SIGV4_KEY_LEN];
	struct buf canonical, sts, scope, signed_headers;
	int rc = -1;

	if (creds->access_key_id == NULL || creds->secret_access_key == NULL ||
	    !printable(creds->access_key_id, SIGV4_FIELD_MAX) || *creds->access_key_id == 0 ||
	    strlen(creds->secret_access_key) > SIGV4_FIELD_MAX ||
	    (tok && !printable(tok, SIGV4_TOKEN_MAX)) ||
	    !printable(req->region, SIGV4_FIELD_MAX) || !printable(req->service, SIGV4_FIELD_MAX) ||
	    !header_safe(req->host, SIGV4_FIELD_MAX) || !printable(req->method, SIGV4_FIELD_MAX) ||
	    !printable(req->path, SIGV4_FIELD_MAX) ||
	    (req->content_type && !header_safe(req->content_type, SIGV4_FIELD_MAX)) ||
	    sigv4_amzdate(epoch_ms, amzdate) != 0)
		return -1;
	/* YYYY-MM-DDTHH:MM:SS.mmmZ -> YYYYMMDDTHHMMSSZ */
	snprintf(xamzdate, SIGV4_XAMZDATE_LEN + 1, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", amzdate,
		 amzdate + 5, amzdate + 8, amzdate + 11, amzdate + 14, amzdate + 17);
	memcpy(datestamp, xamzdate, SIGV4_DATESTAMP_LEN);
	datestamp[SIGV4_DATESTAMP_LEN] = 0;
	sha256_hex(req->body, req->body_len, body_hash);
	buf_init(&canonical);
	buf_init(&sts);
	buf_init(&scope);
	buf_init(&signed_headers);
	buf_printf(&signed_headers, "%shost;x-amz-date%s", req->content_type ? "content-type;" : "",
		   tok ? ";x-amz-security-token" : "");
	buf_printf(&scope, "%s/%s/%s/" SIGV4_TERMINATOR, datestamp, req->region, req->service);
	buf_printf(&canonical, "%s\n%s\n\n", req->method, req->path);
	if (req->content_type)
		buf_printf(&canonical, "content-type:%s\n", req->content_type);
	buf_printf(&canonical, "host:%s\nx-amz-date:%s\n", req->host, xamzdate);
	if (tok)
		buf_printf(&canonical, "x-amz-security-token:%s\n", tok);
	buf_append_byte(&signed_headers, 0);
	buf_append_byte(&scope, 0);
	if (!signed_headers.oom && !scope.oom)
		buf_printf(&canonical, "\n%s\n%s", (char *)signed_headers.data, body_hash);
	if (!canonical.oom && !scope.oom) {
		char chash[SIGV4_HEX_LEN + 1];

		sha256_hex(canonical.data, canonical.len, chash);
		buf_printf(&sts, SIGV4_ALGORITHM "\n%s\n%s\n%s", xamzdate, (char *)scope.data, chash);
	}
	if (!canonical.oom && !sts.oom && !scope.oom && !signed_headers.oom) {
		derive_key(creds->secret_access_key, datestamp, req->region, req->service, key);
		sigv4_signature(key, &sts, signature);
		OPENSSL_cleanse(key, sizeof(key));
		buf_printf(authorization, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
			   "Signature=%s", creds->access_key_id, (char *)scope.data,
			   (char *)signed_headers.data, signature);
		rc = authorization->oom ? -1 : 0;
	}
	if (canonical.data)
		OPENSSL_cleanse(canonical.data, canonical.cap);	/* holds the session token */
	buf_free(&canonical);
	buf_free(&sts);
	buf_free(&scope);
	buf_free(&signed_headers);
	return rc;
}
