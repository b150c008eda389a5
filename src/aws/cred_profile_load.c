/*
 * cred_profile_load - the profile of the shared files (see cred_profile_load.h)
 *
 * Local files are read directly: they are small and never block on the
 * network. Buffers that held a file are wiped: it may hold secrets.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "aws/cred_profile_load.h"
#include "aws/cred_provider.h"

/* home_path - $HOME/rel, else the passwd entry's home */
static void home_path(const char *rel, char *out, size_t size)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == 0) && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	snprintf(out, size, "%s/%s", home ? home : "", rel);
}

/* cred_file_path - the variable's file ("~" expanded), else ~/.aws/NAME */
void cred_file_path(enum cred_file_kind kind, char *out, size_t size)
{
	const char *v = getenv(kind == CRED_FILE_CREDENTIALS ? "AWS_SHARED_CREDENTIALS_FILE"
				: "AWS_CONFIG_FILE");

	if (v == NULL || *v == 0)
		home_path(kind == CRED_FILE_CREDENTIALS ? ".aws/credentials" : ".aws/config",
			  out, size);
	else if (strcmp(v, "~") == 0)
		home_path("", out, size);
	else if (strncmp(v, "~/", 2) == 0)
		home_path(v + 2, out, size);
	else
		snprintf(out, size, "%s", v);
}

/* cred_profile_name - AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default" */
const char *cred_profile_name(int *named)
{
	const char *v = getenv("AWS_PROFILE");

	if (v == NULL || *v == 0)
		v = getenv("AWS_DEFAULT_PROFILE");
	*named = v != NULL && *v != 0;
	return *named ? v : "default";
}

/* read_file - the whole file into b; -1 with err */
static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		int missing = errno == ENOENT;

		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		return missing ? -2 : -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b->len <= CRED_FILE_MAX)
		buf_append(b, chunk, n);
	fclose(fp);
	if (b->oom || b->len > CRED_FILE_MAX) {
		snprintf(err, errlen, "%.200s: larger than %d bytes", path, CRED_FILE_MAX);
		return -1;
	}
	return 0;
}

/* wipe_buf - erase and free a buffer that held a secret file */
static void wipe_buf(struct buf *b)
{
	if (b->data)
		memset(b->data, 0, b->cap);
	buf_free(b);
}

/* cred_profile_load - both files, merged (credentials file over config file) */
enum cred_profile_kind cred_profile_load(const char *profile, struct cred_profile *out,
					 char *where, size_t wherelen, char *err, size_t errlen)
{
	static struct cred_profile over;
	static const enum cred_file_kind order[2] = { CRED_FILE_CONFIG, CRED_FILE_CREDENTIALS };
	char path[CRED_PATH_MAX], perr[CRED_REASON_MAX / 2], missing[2][CRED_REASON_MAX];
	struct buf b;
	int i, rc, found = 0;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	err[0] = where[0] = 0;
	for (i = 0; i < 2; i++) {
		cred_file_path(order[i], path, sizeof(path));
		buf_init(&b);
		if ((rc = read_file(path, &b, perr, sizeof(perr))) != 0) {
			snprintf(missing[i], sizeof(missing[i]), "%s", perr);
			wipe_buf(&b);
			if (rc == -2)
				continue;	/* a missing file is an empty one */
			snprintf(err, errlen, "%s", perr);
			cred_profile_wipe(out);
			return out->kind = CRED_PROFILE_BROKEN;
		}
		memset(&over, 0, sizeof(over));
		rc = cred_profile_scan((const char *)b.data, b.len, order[i], profile, &over,
				       perr, sizeof(perr));
		wipe_buf(&b);
		if (rc < 0) {
			snprintf(err, errlen, "%.200s: %s", path, perr);
			cred_profile_wipe(&over);
			cred_profile_wipe(out);
			return out->kind = CRED_PROFILE_BROKEN;
		}
		snprintf(missing[i], sizeof(missing[i]), "%.200s: no %s%.*s%s", path,
			 order[i] == CRED_FILE_CONFIG && strcmp(profile, "default") != 0 ?
			 "[profile " : "[", CRED_PROFILE_MAX, profile, "]");
		if (rc == 0)
			continue;
		found = 1;
		cred_profile_merge(out, &over);
		cred_profile_wipe(&over);
		off += (size_t)snprintf(where + off, off < wherelen ? wherelen - off : 0, "%s%.200s",
					off ? " and " : "", path);
	}
	if (!found) {
		snprintf(err, errlen, "%s; %s", missing[1], missing[0]);
		return out->kind = CRED_PROFILE_MISSING;
	}
	return cred_profile_decide(out, profile, err, errlen);
}
