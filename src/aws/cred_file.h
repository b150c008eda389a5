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
 *	(sso_*) without static keys is reported, since this daemon does not
 *	implement it.
 *
 *	cred_file_parse_role() reads the same and also the keys of role
 *	assumption (role_arn, source_profile, credential_source,
 *	external_id, role_session_name, duration_seconds,
 *	web_identity_token_file) into role; a profile with role_arn or
 *	web_identity_token_file is CRED_FILE_ROLE, its static keys (if any) left in out for when it is
 *	the source_profile of another (cred_role.c decides).
 *
 *	cred_file_load() reads AWS_SHARED_CREDENTIALS_FILE
 *	(~/.aws/credentials) then AWS_CONFIG_FILE (~/.aws/config) for a
 *	profile and answers as the parser does, with the file it came from.
 *
 * DIAGNOSTICS
 *	cred_file_parse() returns 1 (found, complete), 2 (the profile's
 *	credential_process is in process), 3 (cred_file_parse_role() only:
 *	the profile assumes a role), 0 (no such profile, or no keys in
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
#define CRED_PATH_MAX		4096		/* bytes in a file path */
#define CRED_ROLE_ARN_MAX	2048		/* bytes in role_arn */
#define CRED_ROLE_FIELD_MAX	1224		/* bytes in external_id and the other role keys */

#define CRED_FILE_STATIC	1
#define CRED_FILE_PROCESS	2
#define CRED_FILE_ROLE		3

/* The role assumption keys of a profile, as written ("": absent). */
struct cred_profile_role {
	char role_arn[CRED_ROLE_ARN_MAX + 1];
	char source_profile[CRED_PROFILE_MAX + 1];
	char credential_source[CRED_ROLE_FIELD_MAX + 1];
	char external_id[CRED_ROLE_FIELD_MAX + 1];
	char role_session_name[CRED_ROLE_FIELD_MAX + 1];
	char duration_seconds[CRED_ROLE_FIELD_MAX + 1];
	char web_identity_token_file[CRED_PATH_MAX + 1];
};

enum cred_file_kind {
	CRED_FILE_CREDENTIALS,		/* [NAME] */
	CRED_FILE_CONFIG,		/* [profile NAME], [default] */
};

int cred_file_parse(const char *text, size_t len, enum cred_file_kind kind,
		    const char *profile, struct aws_credentials *out,
		    char *process, size_t processlen, char *err, size_t errlen);

int cred_file_parse_role(const char *text, size_t len, enum cred_file_kind kind,
			 const char *profile, struct aws_credentials *out,
			 char *process, size_t processlen, struct cred_profile_role *role,
			 char *err, size_t errlen);

/*
 * cred_file_load - profile from the credentials file, else the config
 * file: the parser's answer (role may be NULL), the path in path.
 */
int cred_file_load(const char *profile, struct aws_credentials *out, char *process,
		   size_t processlen, struct cred_profile_role *role, char *path, size_t pathlen,
		   char *err, size_t errlen);

#endif
