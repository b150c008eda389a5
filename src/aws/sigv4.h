/*
 * sigv4 - AWS Signature Version 4 for the Amazon Keyspaces CQL handshake
 *
 * SYNOPSIS
 *	#include "aws/sigv4.h"
 *
 * DESCRIPTION
 *	Pure functions (no sockets, no clocks, no globals) that compute the
 *	answer Amazon Keyspaces expects to its SigV4 challenge, exactly as
 *	AWS's driver plugins do:
 *
 *	client	AUTH_RESPONSE "SigV4\0\0"
 *	server	AUTH_CHALLENGE "nonce=<32 characters>"
 *	client	AUTH_RESPONSE "signature=<hex>,access_key=<id>,
 *		amzdate=<YYYY-MM-DDTHH:MM:SS.mmmZ>[,session_token=<token>]"
 *
 *	The signed request is "PUT /authenticate" with the presigned-URL
 *	query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires
 *	=900), header "host:cassandra", payload hash SHA-256(nonce), service
 *	"cassandra". Unlike ordinary SigV4, the date in the query and in the
 *	string to sign is the ISO 8601 form with milliseconds (amzdate), and
 *	the credential scope uses its YYYYMMDD prefix.
 *
 *	Each step is exposed for the unit tests and for cqld's verifier;
 *	sigv4_sign() does them all.
 *
 *	sigv4_http_sign() signs an ordinary HTTP request the usual way
 *	(Authorization header, X-Amz-Date YYYYMMDDTHHMMSSZ, any service),
 *	for STS AssumeRole (sts.c); it shares the key derivation. Results hold secrets (signing key) or
 *	grant access (signature): callers never log them.
 *
 * DIAGNOSTICS
 *	Functions returning int give 0 on success and -1 on bad input (a
 *	time outside years 0000-9999, a value with characters the answer's
 *	syntax cannot carry, a field over its limit) or out of memory.
 */
#ifndef PAC_AWS_SIGV4_H
#define PAC_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SIGV4_AMZDATE_LEN	24	/* YYYY-MM-DDTHH:MM:SS.mmmZ */
#define SIGV4_DATESTAMP_LEN	8	/* YYYYMMDD */
#define SIGV4_XAMZDATE_LEN	16	/* YYYYMMDDTHHMMSSZ, X-Amz-Date of HTTP requests */
#define SIGV4_NONCE_MAX		256	/* bytes of nonce accepted in a challenge */
#define SIGV4_HEX_LEN		64	/* SHA-256 as lower-case hex */
#define SIGV4_KEY_LEN		32	/* HMAC-SHA256 output, bytes */
#define SIGV4_FIELD_MAX		4096	/* key id, secret, region; a session token may be longer */
#define SIGV4_TOKEN_MAX		8192	/* bytes in a session token */
#define SIGV4_EXPIRES_S		900	/* X-Amz-Expires, as the plugins send it */
#define SIGV4_SERVICE		"cassandra"
#define SIGV4_INITIAL_RESPONSE	"SigV4\0\0"
#define SIGV4_INITIAL_RESPONSE_LEN 7

struct sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL or "": none */
};

/* sigv4_amzdate - epoch milliseconds as YYYY-MM-DDTHH:MM:SS.mmmZ (UTC) */
int sigv4_amzdate(int64_t epoch_ms, char out[SIGV4_AMZDATE_LEN + 1]);

/* sigv4_parse_amzdate - the inverse of sigv4_amzdate (exact syntax) */
int sigv4_parse_amzdate(const char *s, size_t len, int64_t *epoch_ms);

/*
 * sigv4_nonce_extract - the nonce of a challenge: the bytes after the
 * first "nonce=" up to a ',' or the end, as the plugins read it. -1 when
 * there is none, it is empty, longer than SIGV4_NONCE_MAX or holds bytes
 * outside printable ASCII.
 */
int sigv4_nonce_extract(const uint8_t *challenge, size_t len,
			char nonce[SIGV4_NONCE_MAX + 1]);

/* sigv4_scope - "YYYYMMDD/<region>/cassandra/aws4_request" */
void sigv4_scope(const char *amzdate, const char *region, struct buf *out);

/* sigv4_canonical_request - the canonical request of the handshake */
void sigv4_canonical_request(const char *access_key_id, const char *scope,
			     const char *amzdate, const char *nonce,
			     struct buf *out);

/* sigv4_string_to_sign - algorithm, amzdate, scope, SHA-256(canonical) */
void sigv4_string_to_sign(const struct buf *canonical, const char *amzdate,
			  const char *scope, struct buf *out);

/* sigv4_signing_key - HMAC chain "AWS4"+secret, date, region, service, aws4_request */
void sigv4_signing_key(const char *secret, const char *amzdate, const char *region,
		       uint8_t key[SIGV4_KEY_LEN]);

/* sigv4_signature - hex HMAC-SHA256(key, string to sign) */
void sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const struct buf *sts,
		     char hex[SIGV4_HEX_LEN + 1]);

/*
 * sigv4_sign - the whole answer for this nonce and time: appends
 * "signature=...,access_key=...,amzdate=...[,session_token=...]" to out;
 * sig (may be NULL) receives the hex signature alone.
 */
int sigv4_sign(const struct sigv4_creds *creds, const char *region,
	       const char *nonce, int64_t epoch_ms, struct buf *out,
	       char sig[SIGV4_HEX_LEN + 1]);

/*
 * sigv4_response_field - find "name=value" in an answer (fields split by
 * ','); returns a pointer to the value and its length, or NULL.
 */
const char *sigv4_response_field(const uint8_t *resp, size_t len,
				 const char *name, size_t *vlen);

/* An HTTP request to sign: no query string, the body given whole. */
struct sigv4_http_request {
	const char *method;		/* "POST" */
	const char *host;		/* the Host header as sent: "sts.us-east-1.amazonaws.com[:port]" */
	const char *path;		/* canonical URI, already encoded: "/" */
	const char *content_type;	/* NULL: the request has none */
	const void *body;
	size_t body_len;
	const char *region;
	const char *service;		/* "sts" */
};

/*
 * sigv4_http_sign - the Authorization header value of req at epoch_ms
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...")
 * appended to authorization, and the X-Amz-Date to send with it. The
 * request must carry Host, X-Amz-Date, Content-Type (if given) and, with
 * a session token, X-Amz-Security-Token exactly as signed.
 */
int sigv4_http_sign(const struct sigv4_creds *creds, const struct sigv4_http_request *req,
		    int64_t epoch_ms, char xamzdate[SIGV4_XAMZDATE_LEN + 1],
		    struct buf *authorization);

#endif
