/*
 * cred_json - the credential document of the container endpoint and IMDS
 *
 * SYNOPSIS
 *	#include "aws/cred_json.h"
 *
 * DESCRIPTION
 *	Both endpoints answer a JSON object:
 *
 *	{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIA...",
 *	 "SecretAccessKey": "...", "Token": "...",
 *	 "Expiration": "2026-11-25T20:00:00Z", "LastUpdated": "..."}
 *
 *	("Code", "Type" and "LastUpdated" only from IMDS). A profile's
 *	credential_process prints the same with "Version": 1 and the token
 *	as "SessionToken" (cred_process_parse()). Pure functions over
 *	(text, length) parse them with jansson, so they can be fuzzed.
 *
 * DIAGNOSTICS
 *	-1 with a reason in err (never a secret): not JSON, not an object,
 *	"Code" other than "Success" (with its "Message"), a process output
 *	without "Version": 1, a required field
 *	missing, empty, too long or not a string, an Expiration that is not
 *	an ISO 8601 time.
 */
#ifndef PAC_AWS_CRED_JSON_H
#define PAC_AWS_CRED_JSON_H

#include <stddef.h>

#include "aws/aws_base.h"

#define CRED_JSON_MAX		65536	/* bytes in a credential document */

int cred_json_parse(const char *text, size_t len, struct aws_credentials *out,
		    char *err, size_t errlen);
int cred_process_parse(const char *text, size_t len, struct aws_credentials *out,
		       char *err, size_t errlen);

#endif
