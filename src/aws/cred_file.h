/*
 * cred_file - the shared credentials and config files (~/.aws)
 *
 * SYNOPSIS
 *	#include "aws/cred_file.h"
 *
 * DESCRIPTION
 *	cred_file_parse() is a pure function over (text, length): it finds a
 *	profile's aws_access_key_id, aws_secret_access_key and
 *	aws_session_token (or the older aws_security_token) in an INI file.
 *	In the credentials file a profile is "[NAME]"; in the config file it
 *	is "[profile NAME]", and the default profile "[default]" (or
 *	"[profile default]"). Lines starting with '#' or ';' are comments,
 *	indented lines continue a nested setting and are skipped, key names
 *	are case-insensitive, values are trimmed. When a section repeats,
 *	later keys override earlier ones.
 *
 *	A profile without static keys but with credential_process gives that
 *	command in process (static keys win when a profile has both, as in
 *	the Go SDK). A profile naming another way to get credentials
 *	(role_arn, sso_*, web_identity_token_file) without static keys is
 *	reported, since this daemon does not implement those.
 *
 * DIAGNOSTICS
 *	cred_file_parse() returns 1 (found, complete), 2 (the profile's
 *	credential_process is in process), 0 (no such profile, or no keys in
 *	it: reason in err) or -1 (a key id without a secret or the other way
 *	round, a value too long, a line that is not INI: the line number in
 *	err). Secrets never appear in err.
 */
#ifndef PAC_AWS_CRED_FILE_H
#define PAC_AWS_CRED_FILE_H

#include <stddef.h>

#include "aws_creds.h"

#define CRED_FILE_MAX		(1024 * 1024)	/* bytes read from a profile file */
#define CRED_PROFILE_MAX	128		/* bytes in a profile name */
#define CRED_PROCESS_MAX	4096		/* bytes in a credential_process command */

enum cred_file_kind {
	CRED_FILE_CREDENTIALS,		/* [NAME] */
	CRED_FILE_CONFIG,		/* [profile NAME], [default] */
};

int cred_file_parse(const char *text, size_t len, enum cred_file_kind kind,
		    const char *profile, struct aws_credentials *out,
		    char *process, size_t processlen, char *err, size_t errlen);

#endif
