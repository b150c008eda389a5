/*
 * cred_file - the shared credentials and config files (~/.aws) as a source
 *
 * The provider (cred_file_new, cred_provider.h) loads the profile
 * (cred_profile_load.c) and acts on its kind in one switch (file_fetch):
 * static keys are given at once; a credential_process is run on the loop
 * (cred_process.c) each time the chain asks; every other role (role_arn)
 * is assumed through STS (cred_role.c); SSO or a broken profile ends the
 * walk with the reason, and so does a role that cannot be assumed, never
 * falling back to another identity.
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/cred_process.h"
#include "aws/cred_profile_load.h"
#include "aws/cred_provider.h"
#include "aws/cred_role.h"

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
	struct cred_provider *p = cred_provider_new("profile", file_fetch, file_cancel, file_destroy);
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
	snprintf(p->where, sizeof(p->where), "shared files, profile %.128s", profile);
	return p;
}
