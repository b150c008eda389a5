/*
 * sigv4-sign - print the Keyspaces SigV4 answer computed by src/aws/sigv4
 *
 * SYNOPSIS
 *	sigv4-sign REGION CHALLENGE EPOCH_MS
 *
 * DESCRIPTION
 *	A test tool: the access key id, secret and optional session token come
 *	from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *	AWS_SESSION_TOKEN), never from the command line where ps(1) shows them.
 *	The nonce is taken from CHALLENGE (the server's AUTH_CHALLENGE text,
 *	e.g. "nonce=..."), as the daemon takes it. Prints the AUTH_RESPONSE
 *	text the daemon would send, with no newline added, so tests can compare it byte for byte with AWS's Node plugin.
 *
 * DIAGNOSTICS
 *	Exit 0 on success, 1 when the inputs cannot be signed, 2 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

int main(int argc, char **argv)
{
	struct sigv4_creds c;
	struct buf out;
	char *end, nonce[SIGV4_NONCE_MAX + 1];
	long long ms;

	if (argc != 4) {
		fprintf(stderr, "usage: sigv4-sign REGION CHALLENGE EPOCH_MS\n");
		return 2;
	}
	errno = 0;
	ms = strtoll(argv[3], &end, 10);
	if (errno || *end) {
		fprintf(stderr, "sigv4-sign: EPOCH_MS '%s' is not a number\n", argv[3]);
		return 2;
	}
	if (sigv4_nonce_extract((const uint8_t *)argv[2], strlen(argv[2]), nonce) != 0) {
		fprintf(stderr, "sigv4-sign: no nonce in the challenge\n");
		return 1;
	}
	c.access_key_id = getenv("AWS_ACCESS_KEY_ID");
	c.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
	c.session_token = getenv("AWS_SESSION_TOKEN");
	buf_init(&out);
	if (sigv4_sign(&c, argv[1], nonce, (int64_t)ms, &out, NULL) != 0) {
		fprintf(stderr, "sigv4-sign: cannot sign these inputs\n");
		buf_free(&out);
		return 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	return 0;
}
