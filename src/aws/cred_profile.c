/*
 * cred_profile - one profile of the shared credentials or config file
 * (see cred_profile.h)
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "aws/cred_profile.h"

#define UTF8_BOM		"\xef\xbb\xbf"

/* One setting the profile parser keeps: its key and where it goes. */
struct setting {
	const char *key;
	size_t offset;			/* in struct cred_profile */
	size_t size;
};

#define SETTING(k, field) { k, offsetof(struct cred_profile, field), \
			    sizeof(((struct cred_profile *)0)->field) }

static const struct setting settings[] = {
	SETTING("aws_access_key_id", creds.access_key_id),
	SETTING("aws_secret_access_key", creds.secret_access_key),
	SETTING("aws_session_token", creds.session_token),
	SETTING("aws_security_token", creds.session_token),	/* the older name */
	SETTING("credential_process", process),
	SETTING("role_arn", role_arn),
	SETTING("source_profile", source_profile),
	SETTING("credential_source", credential_source),
	SETTING("web_identity_token_file", web_identity_token_file),
	SETTING("role_session_name", role_session_name),
	SETTING("external_id", external_id),
	SETTING("duration_seconds", duration_seconds),
	SETTING("mfa_serial", mfa_serial),
	SETTING("sso_session", sso),
	SETTING("sso_start_url", sso),
	SETTING("sso_account_id", sso),
	SETTING("sso_role_name", sso),
	{ NULL, 0, 0 },
};

/* is_blank - space or tab */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* trim - strip blanks (and the CR of CRLF) at both ends of [*s, *e) */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (is_blank(**s) || **s == '\r'))
		(*s)++;
	while (*e > *s && (is_blank((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
}

/* cut_comment - end the line at a '#' or ';' that follows a blank */
static const char *cut_comment(const char *s, const char *e)
{
	const char *p;

	for (p = s + 1; p < e; p++)
		if ((*p == '#' || *p == ';') && is_blank(p[-1]))
			return p;
	return e;
}

/* section_matches - is [name] the wanted profile in this kind of file? */
static int section_matches(const char *s, size_t n, enum cred_file_kind kind,
			   const char *profile)
{
	size_t plen = strlen(profile);

	if (kind == CRED_FILE_CONFIG) {
		if (n == 7 && memcmp(s, "default", 7) == 0 && strcmp(profile, "default") == 0)
			return 1;
		if (n <= 8 || memcmp(s, "profile", 7) != 0 || !is_blank(s[7]))
			return 0;
		s += 8;
		n -= 8;
		while (n > 0 && is_blank(*s))
			s++, n--;
	}
	return n == plen && memcmp(s, profile, n) == 0;
}

/* keep - store a setting of the wanted profile; -1 when too long */
static int keep(struct cred_profile *out, const char *ks, size_t kn, const char *vs, size_t vn,
		unsigned line, char *err, size_t errlen)
{
	const struct setting *st;
	char *dst;

	for (st = settings; st->key; st++) {
		if (strlen(st->key) != kn || strncasecmp(ks, st->key, kn) != 0)
			continue;
		dst = (char *)out + st->offset;
		if (st->offset == offsetof(struct cred_profile, sso)) {
			if (vn > 0)
				snprintf(dst, st->size, "%s", st->key);
			return 0;
		}
		if (vn >= st->size) {
			snprintf(err, errlen, "line %u: %s is too long", line, st->key);
			return -1;
		}
		memcpy(dst, vs, vn);
		dst[vn] = 0;
		return 0;
	}
	return 0;
}

/* cred_profile_scan - add the wanted profile's settings to out; 1 found, 0 not, -1 error */
int cred_profile_scan(const char *text, size_t len, enum cred_file_kind kind, const char *profile,
		      struct cred_profile *out, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl, *s, *e, *eq, *ks, *ke, *vs, *ve;
	int in_section = 0, found = 0;
	unsigned line = 0;

	if (len >= 3 && memcmp(p, UTF8_BOM, 3) == 0)
		p += 3;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		s = p;
		e = nl;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (is_blank(*p))
			continue;	/* nested setting (s3 =\n  max_concurrent_requests = 20) */
		e = cut_comment(s, e);
		trim(&s, &e);
		if (*s == '[') {
			if (e[-1] != ']') {
				snprintf(err, errlen, "line %u: section header without ']'", line);
				return -1;
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
			return -1;
		}
		ks = s;
		ke = eq;
		vs = eq + 1;
		ve = e;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (keep(out, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs), line, err, errlen) != 0)
			return -1;
	}
	return found;
}

/* profile_name - "[NAME]" or "[profile NAME]", for messages */
static void profile_name(enum cred_file_kind kind, const char *profile, char *out, size_t size)
{
	if (kind == CRED_FILE_CONFIG && strcmp(profile, "default") != 0)
		snprintf(out, size, "[profile %.*s]", CRED_PROFILE_MAX, profile);
	else
		snprintf(out, size, "[%.*s]", CRED_PROFILE_MAX, profile);
}

/* cred_profile_merge - settings of over replace those of base (credentials over config) */
void cred_profile_merge(struct cred_profile *base, const struct cred_profile *over)
{
	const struct setting *st;

	for (st = settings; st->key; st++)
		if (((const char *)over)[st->offset] != 0)
			memcpy((char *)base + st->offset, (const char *)over + st->offset, st->size);
}

/*
 * cred_profile_decide - what kind of profile the settings make. This is
 * the one place the kind is decided, in the SDKs' order of precedence: a
 * role first (botocore's AssumeRoleProvider comes before its shared
 * credentials provider; Go's resolveCredsFromProfile and JS's
 * resolveProfileData test a role before static keys), then static keys,
 * SSO, a command.
 */
enum cred_profile_kind cred_profile_decide(struct cred_profile *out, const char *name,
					   char *err, size_t errlen)
{
	const struct aws_credentials *c = &out->creds;

	if (out->role_arn[0] && (out->source_profile[0] || out->credential_source[0]))
		out->kind = CRED_PROFILE_ASSUME_ROLE;
	else if (out->role_arn[0] && out->web_identity_token_file[0])
		out->kind = CRED_PROFILE_WEB_IDENTITY;
	else if (out->web_identity_token_file[0] && !out->role_arn[0]) {
		/* botocore (InvalidConfigError) and Go (validateCredentialsRequireARN) refuse it. */
		snprintf(err, errlen, "profile %.*s has web_identity_token_file without role_arn",
			 CRED_PROFILE_MAX, name);
		out->kind = CRED_PROFILE_BROKEN;
	} else if (c->access_key_id[0] && c->secret_access_key[0])
		out->kind = CRED_PROFILE_STATIC;
	else if (c->access_key_id[0] || c->secret_access_key[0]) {
		snprintf(err, errlen, "profile %.*s has %s without %s", CRED_PROFILE_MAX, name,
			 c->access_key_id[0] ? "aws_access_key_id" : "aws_secret_access_key",
			 c->access_key_id[0] ? "aws_secret_access_key" : "aws_access_key_id");
		out->kind = CRED_PROFILE_BROKEN;
	} else if (out->sso[0])
		out->kind = CRED_PROFILE_SSO;
	else if (out->process[0])
		out->kind = CRED_PROFILE_PROCESS;
	else if (out->role_arn[0]) {
		snprintf(err, errlen, "profile %.*s has role_arn without source_profile, "
			 "credential_source or web_identity_token_file", CRED_PROFILE_MAX, name);
		out->kind = CRED_PROFILE_BROKEN;
	} else {
		snprintf(err, errlen, "profile %.*s has no aws_access_key_id", CRED_PROFILE_MAX, name);
		out->kind = CRED_PROFILE_EMPTY;
	}
	/*
	 * A role keeps the profile's static keys: they sign its AssumeRole when
	 * it names itself as source_profile, and win over its role when it is
	 * another's source_profile (cred_role.c).
	 */
	if (out->kind != CRED_PROFILE_STATIC &&
	    !((out->kind == CRED_PROFILE_ASSUME_ROLE || out->kind == CRED_PROFILE_WEB_IDENTITY) &&
	      c->access_key_id[0] && c->secret_access_key[0]))
		aws_credentials_wipe(&out->creds);
	if (out->kind != CRED_PROFILE_PROCESS)
		OPENSSL_cleanse(out->process, sizeof(out->process));
	return out->kind;
}

/* cred_profile_parse - a profile's settings and kind, from the text of one file */
enum cred_profile_kind cred_profile_parse(const char *text, size_t len, enum cred_file_kind kind,
					  const char *profile, struct cred_profile *out,
					  char *err, size_t errlen)
{
	char name[CRED_PROFILE_MAX + 16];
	int rc;

	memset(out, 0, sizeof(*out));
	err[0] = 0;
	rc = cred_profile_scan(text, len, kind, profile, out, err, errlen);
	if (rc <= 0) {
		cred_profile_wipe(out);
		if (rc == 0) {
			profile_name(kind, profile, name, sizeof(name));
			snprintf(err, errlen, "no %s", name);
		}
		return out->kind = rc < 0 ? CRED_PROFILE_BROKEN : CRED_PROFILE_MISSING;
	}
	return cred_profile_decide(out, profile, err, errlen);
}

/* cred_profile_kind_name - for messages */
const char *cred_profile_kind_name(enum cred_profile_kind kind)
{
	switch (kind) {
	case CRED_PROFILE_MISSING:
		return "missing";
	case CRED_PROFILE_EMPTY:
		return "no credentials";
	case CRED_PROFILE_STATIC:
		return "static keys";
	case CRED_PROFILE_PROCESS:
		return "credential_process";
	case CRED_PROFILE_ASSUME_ROLE:
		return "role_arn (AssumeRole)";
	case CRED_PROFILE_WEB_IDENTITY:
		return "role_arn with web_identity_token_file (AssumeRoleWithWebIdentity)";
	case CRED_PROFILE_SSO:
		return "IAM Identity Center (sso_*)";
	case CRED_PROFILE_BROKEN:
		return "broken";
	}
	return "?";
}

/* cred_profile_wipe - erase the secrets and the command */
void cred_profile_wipe(struct cred_profile *p)
{
	aws_credentials_wipe(&p->creds);
	OPENSSL_cleanse(p->process, sizeof(p->process));
}
