/*
 * cred_file - the shared credentials and config files (see cred_file.h)
 *
 * A profile named by AWS_PROFILE or AWS_DEFAULT_PROFILE that cannot be had
 * (in neither file, or broken) ends the chain, as the Go SDK and botocore
 * refuse to start with it: the operator chose that identity, and quietly
 * signing with the instance role instead could read another account's
 * tables or hide the mistake until the role changes. So does the default
 * profile when it is present but unusable: a key id without its secret, a
 * role that cannot be assumed (cred_role.c says why), SSO, a
 * credential_process that fails
 * (botocore, Go and JS return its error rather than go on). Only a default
 * profile that is absent, or gives no credentials at all (region only),
 * lets the chain go on.
 *
 * Local files are read directly: they are small and never block on the
 * network.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../buf.h"
#include "cred_file.h"
#include "cred_process.h"
#include "cred_provider.h"
#include "cred_role.h"

#define CRED_PROCESS_TIMEOUT_S	60	/* as the Go SDK; AWS_CREDENTIAL_PROCESS_TIMEOUT_SECONDS */
#define CRED_PROCESS_TIMEOUT_MAX 3600

struct file_ctx {
	struct event_base *base;
	struct cred_process *running;	/* credential_process in flight */
	struct cred_role *role;		/* role_arn: STS (cred_role.c) */
	cred_done_fn done;
	void *arg;
	char profile[CRED_PROFILE_MAX + 1];
};

#define FINAL_NOTE	", so no later source is tried"

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

/* process_done - the profile's credential_process answered */
static void process_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_provider *p = arg;
	struct file_ctx *fc = p->ctx;
	char why[CRED_REASON_MAX + 256];

	fc->running = NULL;
	if (c) {
		fc->done(fc->arg, c, NULL);
		return;
	}
	snprintf(why, sizeof(why), "profile %s: %s%s", fc->profile, reason, FINAL_NOTE);
	fc->done(fc->arg, NULL, why);
}

/* run_process - start the profile's credential_process */
static void run_process(struct cred_provider *p, const char *command, const char *path,
			cred_done_fn done, void *arg)
{
	struct file_ctx *fc = p->ctx;
	long timeout_s = cred_env_number("AWS_CREDENTIAL_PROCESS_TIMEOUT_SECONDS",
					 CRED_PROCESS_TIMEOUT_S, CRED_PROCESS_TIMEOUT_MAX);
	char err[CRED_REASON_MAX / 2];

	snprintf(p->where, sizeof(p->where), "shared files, profile %s, credential_process in %.200s",
		 fc->profile, path);
	fc->done = done;
	fc->arg = arg;
	fc->running = cred_process_run(fc->base, command, timeout_s * 1000, process_done, p,
				       err, sizeof(err));
	if (fc->running == NULL)
		process_done(p, NULL, err);	/* could not even start it */
}

/* file_cancel - stop a credential_process in flight */
static void file_cancel(struct cred_provider *p)
{
	struct file_ctx *fc = p->ctx;

	cred_process_cancel(fc->running);
	fc->running = NULL;
	cred_role_cancel(fc->role);
}

/* role_done - the profile's role was assumed, or not */
static void role_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_provider *p = arg;
	struct file_ctx *fc = p->ctx;
	char why[2 * CRED_REASON_MAX];

	if (c == NULL)
		snprintf(why, sizeof(why), "%.900s%s", reason ? reason : "failed", FINAL_NOTE);
	fc->done(fc->arg, c, c ? NULL : why);
}

/*
 * file_fetch - the profile, and what its kind asks for. The one switch
 * on the kind: a provider for roles (STS) plugs in at its cases.
 */
static void file_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	static struct cred_profile prof;
	struct file_ctx *fc = p->ctx;
	char where[2 * 210 + 8], err[CRED_REASON_MAX], reason[CRED_REASON_MAX + 64];
	int named;
	const char *profile = cred_profile_name(&named);
	const char *v = getenv("AWS_PROFILE"), *by = v && *v ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE";
	enum cred_profile_kind kind;

	file_cancel(p);		/* a command or an STS call still running from an earlier ask */
	p->final = named;
	p->present = 0;
	if (strlen(profile) > CRED_PROFILE_MAX) {
		done(arg, NULL, "AWS_PROFILE is too long");
		return;
	}
	snprintf(fc->profile, sizeof(fc->profile), "%s", profile);
	snprintf(p->where, sizeof(p->where), "shared files, profile %s", profile);
	kind = cred_profile_load(profile, &prof, where, sizeof(where), err, sizeof(err));
	if (kind != CRED_PROFILE_MISSING && kind != CRED_PROFILE_EMPTY) {
		/* Present: whatever happens, no other identity is used instead. */
		p->final = 1;
		p->present = 1;
	}
	if (where[0])
		snprintf(p->where, sizeof(p->where), "shared files, profile %s in %s", profile, where);
	switch (kind) {
	case CRED_PROFILE_STATIC:
		done(arg, &prof.creds, NULL);
		break;
	case CRED_PROFILE_PROCESS:
		run_process(p, prof.process, where, done, arg);
		break;
	case CRED_PROFILE_ASSUME_ROLE:
	case CRED_PROFILE_WEB_IDENTITY:
		fc->done = done;
		fc->arg = arg;
		cred_role_fetch(fc->role, profile, &prof, where, p->where, sizeof(p->where),
				role_done, p);
		break;
	case CRED_PROFILE_SSO:
		snprintf(reason, sizeof(reason), "profile %s (%s) uses %s, which this build does not "
			 "implement: refused rather than signing as another identity%s", profile,
			 where, cred_profile_kind_name(kind), FINAL_NOTE);
		done(arg, NULL, reason);
		break;
	case CRED_PROFILE_BROKEN:
		snprintf(reason, sizeof(reason), "%s%s", err, FINAL_NOTE);
		done(arg, NULL, reason);
		break;
	case CRED_PROFILE_MISSING:
	case CRED_PROFILE_EMPTY:
		snprintf(reason, sizeof(reason), "%s%s%s%s%s%s", kind == CRED_PROFILE_MISSING ?
			 "profile " : "", kind == CRED_PROFILE_MISSING ? profile : "",
			 kind == CRED_PROFILE_MISSING ? ": " : "", err,
			 named ? "; " : "", named ? by : "");
		if (named)
			snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
				 " names it" FINAL_NOTE);
		done(arg, NULL, reason);
		break;
	}
	cred_profile_wipe(&prof);
}

/* file_destroy - cancel, free */
static void file_destroy(struct cred_provider *p)
{
	file_cancel(p);
	cred_role_free(((struct file_ctx *)p->ctx)->role);
	free(p->ctx);
	free(p);
}

/* cred_file_new - the shared files provider */
struct cred_provider *cred_file_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_provider *p = calloc(1, sizeof(*p));
	struct file_ctx *fc = calloc(1, sizeof(*fc));
	int named;
	const char *profile = cred_profile_name(&named);

	if (p == NULL || fc == NULL || (fc->role = cred_role_new(base, dns)) == NULL) {
		free(p);
		free(fc);
		return NULL;
	}
	fc->base = base;
	p->ctx = fc;
	p->name = "profile";
	snprintf(p->where, sizeof(p->where), "shared files, profile %.128s", profile);
	p->fetch = file_fetch;
	p->cancel = file_cancel;
	p->destroy = file_destroy;
	return p;
}
