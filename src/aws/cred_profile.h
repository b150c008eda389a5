/*
 * cred_profile - one profile of the shared credentials or config file (~/.aws)
 *
 * SYNOPSIS
 *	#include "aws/cred_profile.h"
 *
 * DESCRIPTION
 *	cred_profile_parse() is a pure function over (text, length): it finds
 *	the settings of one profile in an INI file and decides, in one place
 *	(the switch of cred_file.c acts on it), what kind of profile it is.
 *
 *	In the credentials file a profile is "[NAME]"; in the config file it
 *	is "[profile NAME]", and the default profile "[default]" or
 *	"[profile default]". The syntax is what the majority of the SDKs
 *	(botocore, Go v2, JavaScript v3) accept, where they differ:
 *	  - a UTF-8 byte order mark at the start of the file is skipped;
 *	  - lines are ended by LF or CRLF;
 *	  - a line whose first non-blank character is '#' or ';' is a comment;
 *	    so is the rest of a line from a '#' or ';' that follows a blank
 *	    (Go and JS; botocore keeps it in the value), while one inside a
 *	    word is kept ("abc#d": botocore and JS; Go cuts);
 *	  - key names are case-insensitive (botocore, Go; JS is exact);
 *	  - values are trimmed and taken as written, quotes included
 *	    (botocore, JS; Go unquotes);
 *	  - a section that repeats continues the first, and a later key wins
 *	    (Go, JS; botocore refuses the file);
 *	  - indented lines continue a nested setting ("s3 =" then
 *	    "  max_concurrent_requests = 20") and are skipped.
 *
 *	The kind, in the SDKs' order of precedence (a role wins over static
 *	keys in all three):
 *	  ASSUME_ROLE	role_arn with source_profile or credential_source;
 *	  WEB_IDENTITY	role_arn with web_identity_token_file (both roles keep
 *			the profile's static keys, if any, for cred_role.c);
 *	  STATIC	aws_access_key_id and aws_secret_access_key (and
 *			aws_session_token, or the older aws_security_token);
 *	  SSO		sso_session, sso_start_url, sso_account_id or
 *			sso_role_name;
 *	  PROCESS	credential_process;
 *	  BROKEN	a key id without a secret or the other way round,
 *			role_arn alone, web_identity_token_file without role_arn, a value too long, a line that is not
 *			INI in the profile (err says which line);
 *	  EMPTY		the profile exists but gives no credentials (region
 *			only, say): the SDKs go on to the next source;
 *	  MISSING	no such profile in this file.
 *
 * DIAGNOSTICS
 *	err is set for every kind but STATIC and PROCESS; secrets never
 *	appear in it.
 */
#ifndef PAC_AWS_CRED_PROFILE_H
#define PAC_AWS_CRED_PROFILE_H

#include <stddef.h>

#include "aws/aws_base.h"

#define CRED_FILE_MAX		(1024 * 1024)	/* bytes read from a profile file */
#define CRED_PROFILE_MAX	128		/* bytes in a profile name */
#define CRED_PROCESS_MAX	4096		/* bytes in a credential_process command */
#define CRED_SETTING_MAX	2048		/* bytes in role_arn, a path, ... */

enum cred_file_kind {
	CRED_FILE_CREDENTIALS,		/* [NAME] */
	CRED_FILE_CONFIG,		/* [profile NAME], [default] */
};

enum cred_profile_kind {
	CRED_PROFILE_MISSING,
	CRED_PROFILE_EMPTY,
	CRED_PROFILE_STATIC,
	CRED_PROFILE_PROCESS,
	CRED_PROFILE_ASSUME_ROLE,
	CRED_PROFILE_WEB_IDENTITY,
	CRED_PROFILE_SSO,
	CRED_PROFILE_BROKEN,
};

struct cred_profile {
	enum cred_profile_kind kind;
	struct aws_credentials creds;			/* STATIC */
	char process[CRED_PROCESS_MAX + 1];		/* PROCESS */
	char role_arn[CRED_SETTING_MAX + 1];		/* ASSUME_ROLE, WEB_IDENTITY */
	char source_profile[CRED_PROFILE_MAX + 1];
	char credential_source[CRED_PROFILE_MAX + 1];	/* Environment, Ec2InstanceMetadata, EcsContainer */
	char web_identity_token_file[CRED_SETTING_MAX + 1];
	char role_session_name[CRED_PROFILE_MAX + 1];
	char external_id[CRED_PROFILE_MAX + 1];
	char duration_seconds[16];
	char mfa_serial[CRED_PROFILE_MAX + 1];
	char sso[32];					/* the sso_* key seen, for messages */
};

/* cred_profile_parse - scan one file for the profile, then decide its kind */
enum cred_profile_kind cred_profile_parse(const char *text, size_t len, enum cred_file_kind kind,
					  const char *profile, struct cred_profile *out,
					  char *err, size_t errlen);

/*
 * The steps of cred_profile_parse, for a profile spread over both files
 * (the SDKs merge them, the credentials file winning key by key):
 * cred_profile_scan adds one file's settings to out (1 found, 0 not in
 * this file, -1 not INI: err); cred_profile_merge overlays the settings
 * of over on base; cred_profile_decide sets and returns the kind (err for
 * all but STATIC and PROCESS) and wipes what that kind does not use.
 */
int cred_profile_scan(const char *text, size_t len, enum cred_file_kind kind, const char *profile,
		      struct cred_profile *out, char *err, size_t errlen);
void cred_profile_merge(struct cred_profile *base, const struct cred_profile *over);
enum cred_profile_kind cred_profile_decide(struct cred_profile *out, const char *name,
					   char *err, size_t errlen);

/* cred_profile_kind_name - "static keys", "credential_process", ... */
const char *cred_profile_kind_name(enum cred_profile_kind kind);

/* cred_profile_wipe - erase the secrets and the command */
void cred_profile_wipe(struct cred_profile *p);

#endif
