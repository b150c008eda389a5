/*
 * cred_json - the credential document of the container endpoint and IMDS
 * (see cred_json.h)
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "aws/cred_json.h"

/* copy_field - a string member into dst; -1 with err if bad */
static int copy_field(json_t *obj, const char *name, int required, char *dst,
		      size_t dstsize, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	size_t n;

	dst[0] = 0;
	if (v == NULL || json_is_null(v)) {
		if (required)
			snprintf(err, errlen, "no %s in the credential document", name);
		return required ? -1 : 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s is not a string", name);
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= dstsize || memchr(s, 0, n) != NULL) {
		snprintf(err, errlen, "%s is too long (%zu bytes) or holds a NUL", name, n);
		return -1;
	}
	if (required && n == 0) {
		snprintf(err, errlen, "%s is empty", name);
		return -1;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

/* parse_doc - the fields both documents share; token names the session token's field */
static int parse_doc(const char *text, size_t len, int process, struct aws_credentials *out,
		     char *err, size_t errlen)
{
	const char *token = process ? "SessionToken" : "Token";
	json_error_t jerr;
	json_t *root, *code, *version;
	char when[64];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > CRED_JSON_MAX) {
		snprintf(err, errlen, "credential document over %d bytes", CRED_JSON_MAX);
		return -1;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jerr.text may quote the input: keep only the position. */
		snprintf(err, errlen, "credential document is not JSON (line %d, column %d)",
			 jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "credential document is not a JSON object");
		goto done;
	}
	version = json_object_get(root, "Version");
	if (process && !(json_is_integer(version) && json_integer_value(version) == 1)) {
		snprintf(err, errlen, "%s (expected \"Version\": 1)",
			 version ? "unknown Version" : "no Version");
		goto done;
	}
	code = json_object_get(root, "Code");
	if (!process && code && !(json_is_string(code) && strcmp(json_string_value(code), "Success") == 0)) {
		json_t *msg = json_object_get(root, "Message");

		snprintf(err, errlen, "endpoint says Code=%.64s: %.200s",
			 json_is_string(code) ? json_string_value(code) : "?",
			 json_is_string(msg) ? json_string_value(msg) : "");
		goto done;
	}
	if (copy_field(root, "AccessKeyId", 1, out->access_key_id, sizeof(out->access_key_id),
		       err, errlen) != 0 ||
	    copy_field(root, "SecretAccessKey", 1, out->secret_access_key,
		       sizeof(out->secret_access_key), err, errlen) != 0 ||
	    copy_field(root, token, 0, out->session_token, sizeof(out->session_token),
		       err, errlen) != 0 ||
	    copy_field(root, "Expiration", 0, when, sizeof(when), err, errlen) != 0)
		goto done;
	if (when[0] && aws_parse_time(when, &out->expiration_ms) != 0) {
		snprintf(err, errlen, "Expiration '%s' is not an ISO 8601 time", when);
		goto done;
	}
	rc = 0;
done:
	json_decref(root);
	if (rc != 0)
		aws_credentials_wipe(out);
	return rc;
}

/* cred_json_parse - AccessKeyId, SecretAccessKey, Token, Expiration */
int cred_json_parse(const char *text, size_t len, struct aws_credentials *out,
		    char *err, size_t errlen)
{
	return parse_doc(text, len, 0, out, err, errlen);
}

/* cred_process_parse - Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration */
int cred_process_parse(const char *text, size_t len, struct aws_credentials *out,
		       char *err, size_t errlen)
{
	return parse_doc(text, len, 1, out, err, errlen);
}
