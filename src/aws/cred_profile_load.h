/*
 * cred_profile_load - a profile of the shared credentials and config files (~/.aws)
 *
 * SYNOPSIS
 *	#include "aws/cred_profile_load.h"
 *
 * DESCRIPTION
 *	The profile is AWS_PROFILE, else AWS_DEFAULT_PROFILE (AWS_PROFILE wins
 *	when both are set, as in the Go SDK and the JS SDK, which reads only
 *	AWS_PROFILE; botocore lets AWS_DEFAULT_PROFILE win), else "default".
 *	The files are AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *	AWS_CONFIG_FILE (~/.aws/config); a leading "~" or "~/" in either
 *	variable is the home directory ($HOME, else the passwd entry), as
 *	botocore and the JS SDK expand it.
 *
 *	cred_profile_load() reads both files (a missing file is an empty one)
 *	and merges the profile's settings, the credentials file winning key
 *	by key as in every SDK; cred_profile.h decides the kind. It is the
 *	entry point for every provider that reads a profile: the shared files
 *	(cred_file.c), web identity (its role_arn and token file) and a role's
 *	source_profile (cred_role.c).
 */
#ifndef PAC_AWS_CRED_PROFILE_LOAD_H
#define PAC_AWS_CRED_PROFILE_LOAD_H

#include <stddef.h>

#include "aws/cred_profile.h"

#define CRED_PATH_MAX		4096	/* bytes in a file path */

/* cred_profile_name - the profile to use; *named: a variable chose it */
const char *cred_profile_name(int *named);

/* cred_file_path - the credentials or config file, "~" expanded */
void cred_file_path(enum cred_file_kind kind, char *out, size_t size);

/*
 * cred_profile_load - the profile from both files, merged, and its kind.
 * where names the file(s) it came from; err says why for every kind but
 * STATIC and PROCESS. Secrets never appear in err.
 */
enum cred_profile_kind cred_profile_load(const char *profile, struct cred_profile *out,
					 char *where, size_t wherelen, char *err, size_t errlen);

#endif
