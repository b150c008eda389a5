/*
 * fuzz_sts_xml - libFuzzer target for the STS answer parser (sts_xml.c)
 *
 * Input: <selector byte> <document>. The selector's low bit picks the
 * action (AssumeRole or AssumeRoleWithWebIdentity). Credentials found
 * have all four fields, NUL-terminated inside their buffers; an error
 * has a code; a refusal leaves a NUL-terminated reason and no secrets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sts_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sts_xml_answer a;
	char err[256];
	const char *action;

	if (size < 1)
		return 0;
	action = data[0] & 1 ? "AssumeRoleWithWebIdentity" : "AssumeRole";
	switch (sts_xml_parse(action, (const char *)data + 1, size - 1, &a, err, sizeof(err))) {
	case STS_XML_CREDS:
		if (memchr(a.creds.access_key_id, 0, sizeof(a.creds.access_key_id)) == NULL ||
		    memchr(a.creds.session_token, 0, sizeof(a.creds.session_token)) == NULL ||
		    memchr(a.assumed_arn, 0, sizeof(a.assumed_arn)) == NULL ||
		    a.creds.access_key_id[0] == 0 || a.creds.secret_access_key[0] == 0 ||
		    a.creds.session_token[0] == 0)
			abort();
		break;
	case STS_XML_ERROR:
		if (a.code[0] == 0 || memchr(a.message, 0, sizeof(a.message)) == NULL)
			abort();
		break;
	default:
		if (memchr(err, 0, sizeof(err)) == NULL || err[0] == 0 ||
		    a.creds.secret_access_key[0] != 0)
			abort();
	}
	return 0;
}
