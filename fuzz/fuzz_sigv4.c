/*
 * fuzz_sigv4 - libFuzzer target for the Keyspaces SigV4 challenge parser
 *
 * The input is an AUTH_CHALLENGE token from a server. A nonce taken from
 * it is printable ASCII of at most SIGV4_NONCE_MAX bytes that follows
 * "nonce=" in the input; signing with it gives an answer whose fields
 * sigv4_response_field finds again. The input is also read as an amzdate
 * (which must print back exactly when accepted) and searched for fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sigv4_creds creds = {
		.access_key_id = "UserID-1", .secret_access_key = "UserSecretKey-1",
		.session_token = "tok",
	};
	char nonce[SIGV4_NONCE_MAX + 1], sig[SIGV4_HEX_LEN + 1];
	char date[SIGV4_AMZDATE_LEN + 1];
	const char *v;
	size_t n, vlen, i;
	int64_t ms;
	struct buf out;

	(void)sigv4_response_field(data, size, "nonce", &vlen);
	if (sigv4_parse_amzdate((const char *)data, size, &ms) == 0) {
		if (sigv4_amzdate(ms, date) != 0 || size != SIGV4_AMZDATE_LEN ||
		    memcmp(date, data, size) != 0)
			abort();
	}
	if (sigv4_nonce_extract(data, size, nonce) != 0)
		return 0;
	n = strlen(nonce);
	if (n == 0 || n > SIGV4_NONCE_MAX || memmem(data, size, "nonce=", 6) == NULL ||
	    memmem(data, size, nonce, n) == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (nonce[i] < 0x21 || nonce[i] > 0x7e)
			abort();
	buf_init(&out);
	if (sigv4_sign(&creds, "us-west-2", nonce, 1591742511000, &out, sig) != 0)
		abort();
	if (strlen(sig) != SIGV4_HEX_LEN ||
	    (v = sigv4_response_field(out.data, out.len, "signature", &vlen)) == NULL ||
	    vlen != SIGV4_HEX_LEN || memcmp(v, sig, vlen) != 0 ||
	    sigv4_response_field(out.data, out.len, "access_key", &vlen) == NULL ||
	    sigv4_response_field(out.data, out.len, "amzdate", &vlen) == NULL ||
	    vlen != SIGV4_AMZDATE_LEN)
		abort();
	buf_free(&out);
	return 0;
}
