/*
 * cred_file - the shared credentials and config files (see cred_file.h)
 *
 * The provider reads AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials) and then AWS_CONFIG_FILE (default ~/.aws/config),
 * profile AWS_PROFILE or "default", as the SDKs do: the credentials file
 * wins. "~" is $HOME, else the home directory of the user the daemon runs
 * as. Local files are read directly: they are small and never block on
 * the network.
 *
 * A profile named by AWS_PROFILE that cannot be had (in neither file, or
 * broken) ends the chain, as the Go SDK and botocore refuse to start with
 * it: the operator chose that identity, and quietly signing with the
 * instance role instead could read another account's tables or hide the
 * mistake until the role changes. Without AWS_PROFILE, a missing
 * [default] lets the chain go on.
 *
 * A profile with credential_process (and no static keys) runs that
 * command on the loop (cred_process.c) each time the chain asks, so
 * credentials with an Expiration are fetched again by running it again.
 *
 * A profile with role_arn (or web_identity_token_file) is handed to
 * cred_role.c, which assumes the role through STS; whatever goes wrong
 * there ends the chain (final), with or without AWS_PROFILE: the operator
 * named a role, and the instance role is someone else.
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
	struct cred_role *role;		/* role assumption (cred_role.c) */
	cred_done_fn done;
	void *arg;
	char profile[CRED_PROFILE_MAX + 1];
};

#define FINAL_NOTE	"; AWS_PROFILE names it, so no later source is tried"

/* trim - strip blanks at both ends of [*s, *e) */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* section_matches - is [name] the wanted profile in this kind of file? */
static int section_matches(const char *s, size_t n, enum cred_file_kind kind,
			   const char *profile)
{
	size_t plen = strlen(profile);

	if (kind == CRED_FILE_CONFIG) {
		if (n == 7 && memcmp(s, "default", 7) == 0 && strcmp(profile, "default") == 0)
			return 1;
		if (n <= 8 || memcmp(s, "profile", 7) != 0 || (s[7] != ' ' && s[7] != '\t'))
			return 0;
		s += 8;
		n -= 8;
		while (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
	}
	return n == plen && memcmp(s, profile, n) == 0;
}

/* set_value - copy a value into a credential field */
static int set_value(char *dst, size_t size, const char *v, size_t n, const char *key,
		     unsigned line, char *err, size_t errlen)
{
	if (n >= size) {
		snprintf(err, errlen, "line %u: %s is too long", line, key);
		return -1;
	}
	memcpy(dst, v, n);
	dst[n] = 0;
	return 0;
}

/* role_key - where a role assumption key goes, or NULL */
static char *role_key(struct cred_profile_role *role, const char *k, size_t n, size_t *size)
{
#define ROLE_KEY(name) \
	if (n == strlen(#name) && strncasecmp(k, #name, n) == 0) { \
		*size = sizeof(role->name); \
		return role->name; \
	}
	ROLE_KEY(role_arn)
	ROLE_KEY(source_profile)
	ROLE_KEY(credential_source)
	ROLE_KEY(external_id)
	ROLE_KEY(role_session_name)
	ROLE_KEY(duration_seconds)
	ROLE_KEY(web_identity_token_file)
#undef ROLE_KEY
	return NULL;
}

/* parse_profile - static keys, credential_process and (role != NULL) role keys */
static int parse_profile(const char *text, size_t len, enum cred_file_kind kind,
			 const char *profile, struct aws_credentials *out,
			 char *process, size_t processlen, struct cred_profile_role *role,
			 char *err, size_t errlen)
{
	static const char *const other_ways[] = {
		"role_arn", "sso_start_url", "sso_session", "web_identity_token_file", NULL,
	};
	char *rdst;
	size_t rsize;
	const char *p = text, *end = text + len, *nl, *s, *e, *eq, *ks, *ke, *vs, *ve;
	const char *other = NULL;
	int in_section = 0, found = 0, rc;
	unsigned line = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (role)
		memset(role, 0, sizeof(*role));
	process[0] = 0;
	err[0] = 0;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		s = p;
		e = nl;
		if (s < e && (*s == ' ' || *s == '\t')) {
			/* Nested setting (s3 =\n  max_concurrent_requests = 20). */
			continue;
		}
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (e[-1] != ']') {
				snprintf(err, errlen, "line %u: section header without ']'", line);
				rc = -1;
				goto fail;
			}
			s++;
			e--;
			trim(&s, &e);
			in_section = section_matches(s, (size_t)(e - s), kind, profile);
			found |= in_section;
			continue;
		}
		if (!in_section)
			continue;
		if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL) {
			snprintf(err, errlen, "line %u: expected 'name = value'", line);
			rc = -1;
			goto fail;
		}
		ks = s;
		ke = eq;
		vs = eq + 1;
		ve = e;
		trim(&ks, &ke);
		trim(&vs, &ve);
#define KEY_IS(k) ((size_t)(ke - ks) == strlen(k) && strncasecmp(ks, k, strlen(k)) == 0)
		if (KEY_IS("aws_access_key_id"))
			rc = set_value(out->access_key_id, sizeof(out->access_key_id), vs,
				       (size_t)(ve - vs), "aws_access_key_id", line, err, errlen);
		else if (KEY_IS("aws_secret_access_key"))
			rc = set_value(out->secret_access_key, sizeof(out->secret_access_key), vs,
				       (size_t)(ve - vs), "aws_secret_access_key", line, err, errlen);
		else if (KEY_IS("aws_session_token") || KEY_IS("aws_security_token"))
			rc = set_value(out->session_token, sizeof(out->session_token), vs,
				       (size_t)(ve - vs), "aws_session_token", line, err, errlen);
		else if (KEY_IS("credential_process"))
			rc = set_value(process, processlen, vs, (size_t)(ve - vs),
				       "credential_process", line, err, errlen);
		else if (role && (rdst = role_key(role, ks, (size_t)(ke - ks), &rsize)) != NULL)
			rc = set_value(rdst, rsize, vs, (size_t)(ve - vs), "a role key", line, err, errlen);
		else {
			rc = 0;
			for (i = 0; other_ways[i]; i++)
				if (KEY_IS(other_ways[i]))
					other = other_ways[i];
		}
#undef KEY_IS
		if (rc != 0)
			goto fail;
	}
	if (!found) {
		if (kind == CRED_FILE_CONFIG && strcmp(profile, "default") != 0)
			snprintf(err, errlen, "no [profile %.*s]", CRED_PROFILE_MAX, profile);
		else
			snprintf(err, errlen, "no [%.*s]", CRED_PROFILE_MAX, profile);
		return 0;
	}
	if (role && (role->role_arn[0] || role->web_identity_token_file[0])) {
		/* Keys of role assumption first, as in every SDK; cred_role.c decides. */
		process[0] = 0;
		return CRED_FILE_ROLE;
	}
	if (out->access_key_id[0] == 0 && out->secret_access_key[0] == 0) {
		if (process[0]) {
			aws_credentials_wipe(out);
			return 2;
		}
		if (other)
			snprintf(err, errlen, "profile %.*s uses %s, which this daemon does not support "
				 "(give it aws_access_key_id and aws_secret_access_key, or use an instance role)",
				 CRED_PROFILE_MAX, profile, other);
		else
			snprintf(err, errlen, "profile %.*s has no aws_access_key_id", CRED_PROFILE_MAX, profile);
		aws_credentials_wipe(out);
		return 0;
	}
	if (out->access_key_id[0] == 0 || out->secret_access_key[0] == 0) {
		snprintf(err, errlen, "profile %.*s has %s without %s", CRED_PROFILE_MAX, profile,
			 out->access_key_id[0] ? "aws_access_key_id" : "aws_secret_access_key",
			 out->access_key_id[0] ? "aws_secret_access_key" : "aws_access_key_id");
		rc = -1;
		goto fail;
	}
	process[0] = 0;		/* static keys win over a command */
	return 1;
fail:
	aws_credentials_wipe(out);
	process[0] = 0;
	return rc;
}

/* cred_file_parse - a profile's static keys, or its credential_process, from INI text */
int cred_file_parse(const char *text, size_t len, enum cred_file_kind kind,
		    const char *profile, struct aws_credentials *out,
		    char *process, size_t processlen, char *err, size_t errlen)
{
	return parse_profile(text, len, kind, profile, out, process, processlen, NULL, err, errlen);
}

/* cred_file_parse_role - the same, with the keys of role assumption */
int cred_file_parse_role(const char *text, size_t len, enum cred_file_kind kind,
			 const char *profile, struct aws_credentials *out,
			 char *process, size_t processlen, struct cred_profile_role *role,
			 char *err, size_t errlen)
{
	return parse_profile(text, len, kind, profile, out, process, processlen, role, err, errlen);
}

/* home_path - $HOME/rel, else the passwd entry's home */
static void home_path(const char *rel, char *out, size_t size)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == 0) && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	snprintf(out, size, "%s/%s", home ? home : "", rel);
}

/* read_file - the whole file into b; -1 with err */
static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b->len <= CRED_FILE_MAX)
		buf_append(b, chunk, n);
	fclose(fp);
	if (b->oom || b->len > CRED_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CRED_FILE_MAX);
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
	snprintf(why, sizeof(why), "profile %s: %s%s", fc->profile, reason,
		 p->final ? FINAL_NOTE : "");
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

/* file_paths - the credentials file and the config file */
static void file_paths(char paths[2][CRED_PATH_MAX])
{
	const char *v = getenv("AWS_SHARED_CREDENTIALS_FILE");

	if (v && *v)
		snprintf(paths[0], CRED_PATH_MAX, "%s", v);
	else
		home_path(".aws/credentials", paths[0], CRED_PATH_MAX);
	v = getenv("AWS_CONFIG_FILE");
	if (v && *v)
		snprintf(paths[1], CRED_PATH_MAX, "%s", v);
	else
		home_path(".aws/config", paths[1], CRED_PATH_MAX);
}

/* cred_file_load - the profile from the credentials file, else the config file */
int cred_file_load(const char *profile, struct aws_credentials *out, char *process,
		   size_t processlen, struct cred_profile_role *role, char *path, size_t pathlen,
		   char *err, size_t errlen)
{
	char paths[2][CRED_PATH_MAX], why[2][CRED_REASON_MAX], perr[CRED_REASON_MAX / 2];
	struct buf b;
	int i, rc;

	file_paths(paths);
	for (i = 0; i < 2; i++) {
		snprintf(path, pathlen, "%s", paths[i]);
		buf_init(&b);
		if (read_file(paths[i], &b, perr, sizeof(perr)) != 0) {
			snprintf(why[i], sizeof(why[i]), "%s", perr);
			wipe_buf(&b);
			continue;
		}
		rc = parse_profile((const char *)b.data, b.len,
				   i == 0 ? CRED_FILE_CREDENTIALS : CRED_FILE_CONFIG,
				   profile, out, process, processlen, role, perr, sizeof(perr));
		wipe_buf(&b);
		if (rc > 0)
			return rc;
		snprintf(why[i], sizeof(why[i]), "%.200s: %s", paths[i], perr);
		if (rc < 0) {
			/* A broken profile is reported as it is, not hidden by the next file. */
			snprintf(err, errlen, "%s", why[i]);
			return rc;
		}
	}
	snprintf(err, errlen, "profile %.128s: %s; %s", profile, why[0], why[1]);
	return 0;
}

/* role_done - the profile's role was assumed, or not */
static void role_done(void *arg, const struct aws_credentials *c, const char *reason)
{
	struct cred_provider *p = arg;
	struct file_ctx *fc = p->ctx;

	fc->done(fc->arg, c, reason);
}

/* file_fetch - credentials file, then config file */
static void file_fetch(struct cred_provider *p, cred_done_fn done, void *arg)
{
	static struct aws_credentials c;
	static char command[CRED_PROCESS_MAX + 1];
	static struct cred_profile_role role;
	struct file_ctx *fc = p->ctx;
	char path[CRED_PATH_MAX], perr[2 * CRED_REASON_MAX];
	char reason[3 * CRED_REASON_MAX];
	const char *profile = getenv("AWS_PROFILE");
	int rc;

	file_cancel(p);		/* a command or an STS call still running from an earlier ask */
	p->final = profile != NULL && *profile != 0;
	if (!p->final)
		profile = "default";
	if (strlen(profile) > CRED_PROFILE_MAX) {
		done(arg, NULL, "AWS_PROFILE is too long");
		return;
	}
	snprintf(fc->profile, sizeof(fc->profile), "%s", profile);
	snprintf(p->where, sizeof(p->where), "shared files, profile %s", profile);
	rc = cred_file_load(profile, &c, command, sizeof(command), &role, path, sizeof(path),
			    perr, sizeof(perr));
	if (rc == CRED_FILE_PROCESS) {
		aws_credentials_wipe(&c);
		run_process(p, command, path, done, arg);
		OPENSSL_cleanse(command, sizeof(command));
		return;
	}
	if (rc == CRED_FILE_ROLE) {
		/* The operator named a role: a failure must not fall to another identity. */
		p->final = 1;
		fc->done = done;
		fc->arg = arg;
		cred_role_fetch(fc->role, profile, &role, &c, path, p->where, sizeof(p->where),
				role_done, p);
		aws_credentials_wipe(&c);
		OPENSSL_cleanse(&role, sizeof(role));
		return;
	}
	if (rc == CRED_FILE_STATIC) {
		done(arg, &c, NULL);
		aws_credentials_wipe(&c);
		return;
	}
	snprintf(reason, sizeof(reason), "%s%s", perr, p->final ? FINAL_NOTE : "");
	done(arg, NULL, reason);
}

/* fc_of - the provider's context */
static struct file_ctx *fc_of(struct cred_provider *p)
{
	return p->ctx;
}

/* file_destroy - cancel, free */
static void file_destroy(struct cred_provider *p)
{
	file_cancel(p);
	cred_role_free(fc_of(p)->role);
	free(p->ctx);
	free(p);
}

/* cred_file_new - the shared files provider */
struct cred_provider *cred_file_new(struct event_base *base, struct evdns_base *dns)
{
	struct cred_provider *p = calloc(1, sizeof(*p));
	struct file_ctx *fc = calloc(1, sizeof(*fc));
	const char *profile = getenv("AWS_PROFILE");

	if (p == NULL || fc == NULL || (fc->role = cred_role_new(base, dns)) == NULL) {
		free(p);
		free(fc);
		return NULL;
	}
	fc->base = base;
	p->ctx = fc;
	p->name = "profile";
	snprintf(p->where, sizeof(p->where), "shared files, profile %.128s",
		 profile && *profile ? profile : "default");
	p->fetch = file_fetch;
	p->cancel = file_cancel;
	p->destroy = file_destroy;
	return p;
}
