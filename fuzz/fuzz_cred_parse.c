/*
 * fuzz_cred_parse - libFuzzer target for the AWS credential parsers: the
 * JSON document of the container endpoint and IMDS (or of a
 * credential_process), and the shared credentials and config files
 *
 * Input: <selector byte> <document>. The selector picks the parser (JSON,
 * credentials file, config file), the profile (default or "test") and,
 * for JSON, the endpoint or the credential_process format.
 * Found credentials have a non-empty key id and secret, NUL-terminated
 * inside their fields; a refusal leaves a NUL-terminated reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_base.h"
#include "aws/cred_profile.h"
#include "aws/cred_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_found - the fields of a successful parse */
static void check_found(const struct aws_credentials *c)
{
	if (memchr(c->access_key_id, 0, sizeof(c->access_key_id)) == NULL ||
	    memchr(c->secret_access_key, 0, sizeof(c->secret_access_key)) == NULL ||
	    memchr(c->session_token, 0, sizeof(c->session_token)) == NULL ||
	    c->access_key_id[0] == 0 || c->secret_access_key[0] == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aws_credentials c;
	static struct cred_profile prof;
	enum cred_profile_kind kind;
	char err[256];
	const char *text = (const char *)data + 1;
	const char *profile;
	int rc;

	if (size < 1)
		return 0;
	profile = data[0] & 4 ? "test" : "default";
	memset(&c, 0, sizeof(c));
	memset(err, 'Z', sizeof(err));
	switch (data[0] % 3) {
	case 0:
		rc = data[0] & 8 ? cred_process_parse(text, size - 1, &c, err, sizeof(err))
				 : cred_json_parse(text, size - 1, &c, err, sizeof(err));
		if (rc == 0)
			check_found(&c);
		else if (rc != -1 || memchr(err, 0, sizeof(err)) == NULL)
			abort();
		break;
	default:
		kind = cred_profile_parse(text, size - 1,
					  data[0] % 3 == 1 ? CRED_FILE_CREDENTIALS : CRED_FILE_CONFIG,
					  profile, &prof, err, sizeof(err));
		if (kind == CRED_PROFILE_STATIC)
			check_found(&prof.creds);
		else if ((kind == CRED_PROFILE_ASSUME_ROLE || kind == CRED_PROFILE_WEB_IDENTITY) &&
			 prof.creds.access_key_id[0])
			check_found(&prof.creds);	/* a role keeps complete keys, for cred_role.c */
		else if (prof.creds.access_key_id[0] || prof.creds.secret_access_key[0])
			abort();	/* otherwise keys are kept only for static profiles */
		if (kind == CRED_PROFILE_PROCESS) {
			if (prof.process[0] == 0 || memchr(prof.process, 0, sizeof(prof.process)) == NULL)
				abort();
		} else if (prof.process[0] != 0 ||
			   (kind != CRED_PROFILE_STATIC && memchr(err, 0, sizeof(err)) == NULL))
			abort();
		break;
	}
	return 0;
}
