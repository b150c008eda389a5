/*
 * cred_role - credentials of an assumed IAM role (see cred_role.h)
 *
 * A fetch first plans (reads the profiles, decides where the first
 * credentials come from and which roles to assume from them, innermost
 * first), then runs the plan on the loop: the base credentials (static
 * keys, a provider, a credential_process or a web identity call), then
 * one AssumeRole per role. Every fetch plans again: the files and the
 * token may have changed since the last one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws/cred_process.h"
#include "aws/cred_role.h"
#include "aws/sts.h"

#define ROLE_PROCESS_TIMEOUT_S	60	/* a source profile's credential_process, as cred_file.c */
#define ROLE_PROCESS_TIMEOUT_MAX 3600
#define ROLE_REASON_MAX		(2 * CRED_REASON_MAX)

enum role_base {
	BASE_STATIC,		/* a profile's static keys */
	BASE_PROVIDER,		/* credential_source: env, IMDS, container */
	BASE_PROCESS,		/* a source profile's credential_process */
	BASE_WEB_IDENTITY,	/* web_identity_token_file */
};

struct role_step {
	char role_arn[CRED_SETTING_MAX + 1];
	char external_id[CRED_PROFILE_MAX + 1];
	char session_name[STS_SESSION_NAME_MAX + 1];	/* "": generated */
	long duration_s;
};

struct cred_role {
	struct event_base *base;
	struct evdns_base *dns;
	enum role_base kind;
	struct role_step steps[ROLE_CHAIN_MAX];	/* steps[0]: the profile's own role */
	int nsteps;
	int next;				/* step to run next, counting down */
	struct role_step web;			/* BASE_WEB_IDENTITY: its role */
	char token_file[CRED_PATH_MAX + 1];
	char command[CRED_PROCESS_MAX + 1];	/* BASE_PROCESS */
	struct cred_provider *src[3];		/* Environment, Ec2InstanceMetadata, EcsContainer */
	int which;				/* BASE_PROVIDER: index in src */
	struct aws_credentials cur;		/* base, then each role's */
	struct sts_call *call;
	struct cred_process *proc;
	int asking;				/* a provider of src is fetching */
	char label[CRED_PROFILE_MAX + 64];	/* "profile NAME", "AWS_ROLE_ARN" */
	char *where;				/* the provider's description, for logs */
	size_t wherelen;
	size_t where_base;			/* its length before " as <assumed ARN>" */
	cred_done_fn done;
	void *arg;
};

static const char *const source_names[3] = { "Environment", "Ec2InstanceMetadata", "EcsContainer" };

static void run_steps(struct cred_role *r);

/* finish - report once */
static void finish(struct cred_role *r, const struct aws_credentials *c, const char *reason)
{
	cred_done_fn done = r->done;
	char why[ROLE_REASON_MAX];

	r->done = NULL;
	if (done == NULL)
		return;
	if (c == NULL)
		snprintf(why, sizeof(why), "%s: %.800s", r->label, reason ? reason : "failed");
	done(r->arg, c, c ? NULL : why);
}

/* step_done - STS answered one AssumeRole (or the web identity call) */
static void step_done(void *arg, const struct aws_credentials *c, const char *assumed_arn,
		      const char *reason)
{
	struct cred_role *r = arg;

	r->call = NULL;
	if (c == NULL) {
		aws_credentials_wipe(&r->cur);
		finish(r, NULL, reason);
		return;
	}
	if (r->next < 0 && r->where && assumed_arn && assumed_arn[0] && r->where_base < r->wherelen)
		/* The last role: name the session STS made, as operators see it in CloudTrail. */
		snprintf(r->where + r->where_base, r->wherelen - r->where_base, ", as %.300s",
			 assumed_arn);
	aws_credentials_wipe(&r->cur);
	r->cur = *c;
	run_steps(r);
}

/* call - start one STS call from req */
static void call(struct cred_role *r, struct sts_request *req, const struct role_step *s)
{
	char session[STS_SESSION_NAME_MAX + 1], err[CRED_REASON_MAX];

	if (s->session_name[0])
		snprintf(session, sizeof(session), "%s", s->session_name);
	else
		sts_session_name(aws_now_ms(), session);
	req->role_arn = s->role_arn;
	req->session_name = session;
	req->external_id = s->external_id;
	req->duration_s = s->duration_s;
	r->call = sts_call_start(r->base, r->dns, req, step_done, r, err, sizeof(err));
	if (r->call == NULL) {
		aws_credentials_wipe(&r->cur);
		finish(r, NULL, err);
	}
}

/* run_steps - assume the next role with the credentials in hand, or finish */
static void run_steps(struct cred_role *r)
{
	struct sts_request req;

	if (r->next < 0) {
		finish(r, &r->cur, NULL);
		aws_credentials_wipe(&r->cur);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.action = STS_ASSUME_ROLE;
	req.source = &r->cur;
	call(r, &req, &r->steps[r->next--]);
}

/* base_done - the base credentials (a provider or a process) */
static void base_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_role *r = arg;
	char why[ROLE_REASON_MAX];

	r->asking = 0;
	r->proc = NULL;
	if (c == NULL) {
		snprintf(why, sizeof(why), "the source credentials for role %.300s: %s",
			 r->steps[r->nsteps - 1].role_arn, reason ? reason : "failed");
		finish(r, NULL, why);
		return;
	}
	r->cur = *c;
	run_steps(r);
}

/* read_token - the web identity token, whole, from its file */
static int read_token(const char *path, char *tok, size_t size, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "web identity token file %.300s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(tok, 1, size - 1, fp);
	if (n == size - 1 && fgetc(fp) != EOF) {
		fclose(fp);
		snprintf(err, errlen, "web identity token file %.300s: over %zu bytes", path, size - 2);
		return -1;
	}
	fclose(fp);
	tok[n] = 0;
	while (n > 0 && strchr(" \t\r\n", tok[n - 1]))
		tok[--n] = 0;
	if (n == 0 || strlen(tok) != n) {
		snprintf(err, errlen, "web identity token file %.300s is empty or not text", path);
		return -1;
	}
	return 0;
}

/* start_web_identity - AssumeRoleWithWebIdentity, then the steps */
static void start_web_identity(struct cred_role *r)
{
	static char tok[STS_WEB_TOKEN_MAX + 2];
	struct sts_request req;
	char err[CRED_REASON_MAX];

	if (read_token(r->token_file, tok, sizeof(tok), err, sizeof(err)) != 0) {
		finish(r, NULL, err);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.action = STS_ASSUME_ROLE_WITH_WEB_IDENTITY;
	req.web_identity_token = tok;
	call(r, &req, &r->web);
	OPENSSL_cleanse(tok, sizeof(tok));
}

/* start - get the base credentials, then assume each role */
static void start(struct cred_role *r)
{
	char err[CRED_REASON_MAX];

	r->next = r->nsteps - 1;
	switch (r->kind) {
	case BASE_STATIC:
		run_steps(r);
		return;
	case BASE_WEB_IDENTITY:
		start_web_identity(r);
		return;
	case BASE_PROCESS:
		r->proc = cred_process_run(r->base, r->command,
					   cred_env_number("AWS_CREDENTIAL_PROCESS_TIMEOUT_SECONDS",
							   ROLE_PROCESS_TIMEOUT_S,
							   ROLE_PROCESS_TIMEOUT_MAX) * 1000,
					   base_done, r, err, sizeof(err));
		OPENSSL_cleanse(r->command, sizeof(r->command));
		if (r->proc == NULL)
			base_done(r, NULL, err);
		return;
	case BASE_PROVIDER:
		r->asking = 1;
		r->src[r->which]->fetch(r->src[r->which], base_done, r);
		return;
	}
}

/* step_from - a role step from a profile's keys; -1 with err */
static int step_from(struct role_step *s, const char *profile, const struct cred_profile *role,
		     char *err, size_t errlen)
{
	char *end;

	memset(s, 0, sizeof(*s));
	snprintf(s->role_arn, sizeof(s->role_arn), "%s", role->role_arn);
	snprintf(s->external_id, sizeof(s->external_id), "%s", role->external_id);
	if (strlen(role->role_session_name) > STS_SESSION_NAME_MAX) {
		snprintf(err, errlen, "profile %s: role_session_name is over %d characters", profile,
			 STS_SESSION_NAME_MAX);
		return -1;
	}
	snprintf(s->session_name, sizeof(s->session_name), "%.64s", role->role_session_name);
	if (role->duration_seconds[0]) {
		s->duration_s = strtol(role->duration_seconds, &end, 10);
		if (*end != 0 || s->duration_s < STS_DURATION_MIN_S || s->duration_s > STS_DURATION_MAX_S) {
			snprintf(err, errlen, "profile %s: duration_seconds '%.32s' is not a number of "
				 "seconds from %d to %d", profile, role->duration_seconds,
				 STS_DURATION_MIN_S, STS_DURATION_MAX_S);
			return -1;
		}
	}
	return 0;
}

/* provider_for - the credential_source's provider, made once */
static int provider_for(struct cred_role *r, const char *name, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, source_names[i]) == 0)
			break;
	if (i == 3) {
		snprintf(err, errlen, "credential_source '%.64s' is not Environment, "
			 "Ec2InstanceMetadata or EcsContainer", name);
		return -1;
	}
	if (r->src[i] == NULL)
		r->src[i] = i == 0 ? cred_env_new() : i == 1 ? cred_imds_new(r->base, r->dns)
			    : cred_container_new(r->base, r->dns);
	if (r->src[i] == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->which = i;
	return 0;
}

/* has_static - both static keys */
static int has_static(const struct aws_credentials *c)
{
	return c->access_key_id[0] && c->secret_access_key[0];
}

/* plan - from the first profile down to where the first credentials come from */
static int plan(struct cred_role *r, const char *profile, const struct cred_profile *first,
		char *desc, size_t desclen, char *err, size_t errlen)
{
	static struct cred_profile role;
	char names[ROLE_CHAIN_MAX + 1][CRED_PROFILE_MAX + 1], where[CRED_PATH_MAX];
	char lerr[CRED_REASON_MAX], loop[ROLE_CHAIN_MAX * (CRED_PROFILE_MAX + 4)];
	const char *next;
	int depth, i, rc = -1;
	size_t off;

	role = *first;
	snprintf(names[0], sizeof(names[0]), "%s", profile);
	r->nsteps = 0;
	for (depth = 0;; depth++) {
		const char *name = names[depth];

		if (role.kind == CRED_PROFILE_WEB_IDENTITY) {
			r->kind = BASE_WEB_IDENTITY;
			snprintf(r->token_file, sizeof(r->token_file), "%s", role.web_identity_token_file);
			if (step_from(&r->web, name, &role, err, errlen) != 0)
				goto done;
			snprintf(desc, desclen, "web identity token file %.300s", r->token_file);
			rc = 0;
			goto done;
		}
		if (role.source_profile[0] && role.credential_source[0]) {
			snprintf(err, errlen, "profile %.128s has both source_profile and "
				 "credential_source", name);
			goto done;
		}
		if (r->nsteps == ROLE_CHAIN_MAX) {
			snprintf(err, errlen, "more than %d roles chained through source_profile",
				 ROLE_CHAIN_MAX);
			goto done;
		}
		if (step_from(&r->steps[r->nsteps++], name, &role, err, errlen) != 0)
			goto done;
		if (role.credential_source[0]) {
			if (provider_for(r, role.credential_source, lerr, sizeof(lerr)) != 0) {
				snprintf(err, errlen, "profile %.128s: %.600s", name, lerr);
				goto done;
			}
			r->kind = BASE_PROVIDER;
			snprintf(desc, desclen, "credential_source %.64s", role.credential_source);
			rc = 0;
			goto done;
		}
		if (strcmp(role.source_profile, name) == 0) {
			/* A profile naming itself: its own static keys are the source. */
			if (!has_static(&role.creds)) {
				snprintf(err, errlen, "profile %.128s is its own source_profile but has no "
					 "aws_access_key_id and aws_secret_access_key", name);
				goto done;
			}
			r->kind = BASE_STATIC;
			r->cur = role.creds;
			snprintf(desc, desclen, "the static keys of profile %.128s", name);
			rc = 0;
			goto done;
		}
		for (i = 0; i <= depth; i++) {
			if (strcmp(names[i], role.source_profile) != 0)
				continue;
			for (off = 0, i = 0; i <= depth && off < sizeof(loop); i++)
				off += (size_t)snprintf(loop + off, sizeof(loop) - off, "%s -> ", names[i]);
			snprintf(err, errlen, "source_profile loop: %.300s%s", loop, role.source_profile);
			goto done;
		}
		snprintf(names[depth + 1], sizeof(names[depth + 1]), "%s", role.source_profile);
		next = names[depth + 1];
		cred_profile_wipe(&role);
		switch (cred_profile_load(next, &role, where, sizeof(where), lerr, sizeof(lerr))) {
		case CRED_PROFILE_STATIC:
			r->kind = BASE_STATIC;
			r->cur = role.creds;
			snprintf(desc, desclen, "source_profile %.128s (static keys)", next);
			rc = 0;
			goto done;
		case CRED_PROFILE_PROCESS:
			r->kind = BASE_PROCESS;
			snprintf(r->command, sizeof(r->command), "%s", role.process);
			snprintf(desc, desclen, "source_profile %.128s (credential_process)", next);
			rc = 0;
			goto done;
		case CRED_PROFILE_ASSUME_ROLE:
		case CRED_PROFILE_WEB_IDENTITY:
			if (has_static(&role.creds)) {
				/* In a source profile, static keys win over its role (all SDKs). */
				r->kind = BASE_STATIC;
				r->cur = role.creds;
				snprintf(desc, desclen, "source_profile %.128s (static keys)", next);
				rc = 0;
				goto done;
			}
			continue;	/* a chained role */
		default:
			snprintf(err, errlen, "source_profile %.128s of profile %.128s: %.600s", next,
				 name, lerr[0] ? lerr : cred_profile_kind_name(role.kind));
			goto done;
		}
	}
done:
	cred_profile_wipe(&role);
	return rc;
}

/* cred_role_fetch - plan the profile's roles, then run the plan */
void cred_role_fetch(struct cred_role *r, const char *profile, const struct cred_profile *prof,
		     const char *path, char *where, size_t wherelen, cred_done_fn done, void *arg)
{
	char desc[CRED_PATH_MAX / 8], err[ROLE_REASON_MAX], url[STS_URL_MAX];
	char region[AWS_REGION_MAX + 1];

	cred_role_cancel(r);
	r->done = done;
	r->arg = arg;
	snprintf(r->label, sizeof(r->label), "profile %s", profile);
	sts_endpoint(url, sizeof(url), region, sizeof(region));
	snprintf(where, wherelen, "shared files (%.150s), profile %s: role %.200s", path, profile,
		 prof->role_arn);
	if (plan(r, profile, prof, desc, sizeof(desc), err, sizeof(err)) != 0) {
		aws_credentials_wipe(&r->cur);
		r->done = NULL;
		done(arg, NULL, err);
		return;
	}
	snprintf(where, wherelen, "shared files (%.150s), profile %s: role %.200s assumed with STS "
		 "at %.150s from %.200s%s", path, profile, prof->role_arn, url, desc,
		 r->nsteps > 1 ? " through chained roles" : "");
	r->where = where;
	r->wherelen = wherelen;
	r->where_base = strlen(where);
	start(r);
}

/* cred_role_web_identity - the web identity call alone */
void cred_role_web_identity(struct cred_role *r, const char *role_arn, const char *token_file,
			    const char *session_name, char *where, size_t wherelen,
			    cred_done_fn done, void *arg)
{
	cred_role_cancel(r);
	r->where = where;
	r->wherelen = wherelen;
	r->where_base = strlen(where);
	r->done = done;
	r->arg = arg;
	snprintf(r->label, sizeof(r->label), "AWS_ROLE_ARN");
	r->kind = BASE_WEB_IDENTITY;
	r->nsteps = 0;
	memset(&r->web, 0, sizeof(r->web));
	snprintf(r->web.role_arn, sizeof(r->web.role_arn), "%s", role_arn);
	snprintf(r->web.session_name, sizeof(r->web.session_name), "%s", session_name ? session_name : "");
	snprintf(r->token_file, sizeof(r->token_file), "%s", token_file);
	start(r);
}

/* cred_role_cancel - stop the call, the process or the provider in flight */
void cred_role_cancel(struct cred_role *r)
{
	if (r == NULL)
		return;
	sts_call_cancel(r->call);
	r->call = NULL;
	cred_process_cancel(r->proc);
	r->proc = NULL;
	if (r->asking)
		r->src[r->which]->cancel(r->src[r->which]);
	r->asking = 0;
	r->done = NULL;
	aws_credentials_wipe(&r->cur);
}

/* cred_role_new - nothing in flight yet */
struct cred_role *cred_role_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_role *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->base = base;
	r->dns = dns;
	return r;
}

/* cred_role_free - cancel, release */
void cred_role_free(struct cred_role *r)
{
	int i;

	if (r == NULL)
		return;
	cred_role_cancel(r);
	for (i = 0; i < 3; i++)
		if (r->src[i])
			r->src[i]->destroy(r->src[i]);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}
