/*
 * test_cred_parse - the pure parsers of the AWS credential providers:
 * shared profile files, the credential JSON document, ISO 8601 times
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/aws_base.h"
#include "aws/cred_profile.h"
#include "aws/cred_http.h"
#include "aws/cred_json.h"

/* parse - cred_profile_parse over a C string; the static keys in c */
static enum cred_profile_kind parse(const char *text, enum cred_file_kind kind,
				    const char *profile, struct aws_credentials *c, char *err)
{
	static struct cred_profile p;
	enum cred_profile_kind k;

	k = cred_profile_parse(text, strlen(text), kind, profile, &p, err, 256);
	*c = p.creds;
	return k;
}

/* pparse - cred_profile_parse of a config file, keeping the whole profile */
static enum cred_profile_kind pparse(const char *text, const char *profile,
				     struct cred_profile *p)
{
	char err[256];

	return cred_profile_parse(text, strlen(text), CRED_FILE_CONFIG, profile, p, err,
				  sizeof(err));
}

static void test_credentials_file_profiles(void **state)
{
	static const char text[] =
		"# comment\n"
		"[default]\n"
		"aws_access_key_id = AKIDDEFAULT\n"
		"aws_secret_access_key=secretdefault\n"
		"\n"
		"[work]\r\n"
		"  ; indented comment\r\n"
		"AWS_ACCESS_KEY_ID =  AKIDWORK  \r\n"
		"aws_secret_access_key = s/e+c=\r\n"
		"aws_session_token = tok==\r\n"
		"s3 =\n"
		"  max_concurrent_requests = 20\n"
		"[profile work]\n"
		"aws_access_key_id = NOT_IN_CREDENTIALS_FILE_SYNTAX\n";
	struct aws_credentials c;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "AKIDDEFAULT");
	assert_string_equal(c.secret_access_key, "secretdefault");
	assert_string_equal(c.session_token, "");
	assert_true(c.expiration_ms == 0);
	assert_int_equal(parse(text, CRED_FILE_CREDENTIALS, "work", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "AKIDWORK");
	assert_string_equal(c.secret_access_key, "s/e+c=");
	assert_string_equal(c.session_token, "tok==");
	assert_int_equal(parse(text, CRED_FILE_CREDENTIALS, "nope", &c, err), CRED_PROFILE_MISSING);
	assert_string_equal(err, "no [nope]");
	assert_string_equal(c.access_key_id, "");
}

static void test_config_file_profiles(void **state)
{
	static const char text[] =
		"[default]\n"
		"region = us-east-1\n"
		"aws_access_key_id = AKIDCFGDEFAULT\n"
		"aws_secret_access_key = x\n"
		"[profile  mail]\n"
		"aws_access_key_id = AKIDMAIL\n"
		"aws_secret_access_key = y\n"
		"aws_security_token = legacy\n"
		"[mail]\n"
		"aws_access_key_id = WRONG_SECTION_SYNTAX\n"
		"[profile assumed]\n"
		"role_arn = arn:aws:iam::123:role/x\n"
		"source_profile = default\n";
	struct aws_credentials c;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, CRED_FILE_CONFIG, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "AKIDCFGDEFAULT");
	assert_int_equal(parse(text, CRED_FILE_CONFIG, "mail", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "AKIDMAIL");
	assert_string_equal(c.session_token, "legacy");
	/* A profile that assumes a role is that kind, not half-used. */
	assert_int_equal(parse(text, CRED_FILE_CONFIG, "assumed", &c, err), CRED_PROFILE_ASSUME_ROLE);
	assert_string_equal(c.access_key_id, "");
	assert_int_equal(parse(text, CRED_FILE_CONFIG, "other", &c, err), CRED_PROFILE_MISSING);
	assert_string_equal(err, "no [profile other]");
}

static void test_credential_process_profiles(void **state)
{
	/* aws configure export-credentials, IAM Roles Anywhere's signing helper:
	 * commands with spaces, quotes and '=' survive as written. */
	static const char text[] =
		"[profile helper]\n"
		"credential_process = /usr/bin/aws_signing_helper credential-process "
		"--certificate /etc/pki/c.pem --role-arn arn:aws:iam::1:role/r=x\n"
		"[profile both]\n"
		"credential_process = /bin/false\n"
		"aws_access_key_id = AKIDSTATIC\n"
		"aws_secret_access_key = s\n"
		"[profile empty]\n"
		"credential_process =\n";
	static struct cred_profile p;
	static char big[CRED_PROCESS_MAX + 64];

	(void)state;
	assert_int_equal(pparse(text, "helper", &p), CRED_PROFILE_PROCESS);
	assert_string_equal(p.process, "/usr/bin/aws_signing_helper credential-process "
			    "--certificate /etc/pki/c.pem --role-arn arn:aws:iam::1:role/r=x");
	/* Static keys win over the command (all SDKs); no command given back. */
	assert_int_equal(pparse(text, "both", &p), CRED_PROFILE_STATIC);
	assert_string_equal(p.process, "");
	/* An empty command is no way to get credentials. */
	assert_int_equal(pparse(text, "empty", &p), CRED_PROFILE_EMPTY);
	assert_string_equal(p.process, "");
	/* A command longer than the room for it is refused, never cut short. */
	snprintf(big, sizeof(big), "[default]\ncredential_process = %0*d\n", CRED_PROCESS_MAX + 1, 7);
	assert_int_equal(pparse(big, "default", &p), CRED_PROFILE_BROKEN);
	assert_string_equal(p.process, "");
}

/* ppjson - cred_process_parse over a C string */
static int ppjson(const char *text, struct aws_credentials *c, char *err)
{
	return cred_process_parse(text, strlen(text), c, err, 256);
}

static void test_credential_process_output(void **state)
{
	struct aws_credentials c;
	char err[256];

	(void)state;
	/* The documented format: Version 1, SessionToken (not Token). */
	assert_int_equal(ppjson("{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", "
				"\"SecretAccessKey\": \"sec\", \"SessionToken\": \"tok\", "
				"\"Expiration\": \"2020-06-09T22:41:51Z\"}", &c, err), 0);
	assert_string_equal(c.access_key_id, "ASIAPROC");
	assert_string_equal(c.session_token, "tok");
	assert_true(c.expiration_ms == 1591742511000LL);
	/* Long-term keys: no token, no expiry. */
	assert_int_equal(ppjson("{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
				&c, err), 0);
	assert_true(c.expiration_ms == 0);
	assert_int_equal(ppjson("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &c, err), -1);
	assert_non_null(strstr(err, "no Version"));
	assert_int_equal(ppjson("{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
				&c, err), -1);
	assert_non_null(strstr(err, "unknown Version"));
	assert_int_equal(ppjson("{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
				&c, err), -1);
	/* The endpoints' field name is not the process's: the token would be lost. */
	assert_int_equal(ppjson("{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
				"\"Token\":\"t\"}", &c, err), 0);
	assert_string_equal(c.session_token, "");
	assert_int_equal(ppjson("{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"TOPSECRET\","
				"\"Expiration\":\"soon\"}", &c, err), -1);
	assert_null(strstr(err, "TOPSECRET"));
	assert_string_equal(c.secret_access_key, "");
}

static void test_profile_errors(void **state)
{
	struct aws_credentials c;
	char err[256];
	char big[600];

	(void)state;
	assert_int_equal(parse("[default]\naws_access_key_id = A\n", CRED_FILE_CREDENTIALS,
			       "default", &c, err), CRED_PROFILE_BROKEN);
	assert_non_null(strstr(err, "without aws_secret_access_key"));
	assert_int_equal(parse("[default]\naws_secret_access_key = TOPSECRET\n",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_BROKEN);
	assert_null(strstr(err, "TOPSECRET"));
	assert_int_equal(parse("[default\naws_access_key_id = A\n", CRED_FILE_CREDENTIALS,
			       "default", &c, err), CRED_PROFILE_BROKEN);
	assert_string_equal(err, "line 1: section header without ']'");
	assert_int_equal(parse("[default]\nthis is not ini\n", CRED_FILE_CREDENTIALS,
			       "default", &c, err), CRED_PROFILE_BROKEN);
	assert_string_equal(err, "line 2: expected 'name = value'");
	/* Junk outside the wanted profile does not matter. */
	assert_int_equal(parse("[other]\njunk\n[default]\naws_access_key_id=A\naws_secret_access_key=B",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	snprintf(big, sizeof(big), "[default]\naws_access_key_id = %0300d\naws_secret_access_key = B\n", 1);
	assert_int_equal(parse(big, CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_BROKEN);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(parse("", CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_MISSING);
	assert_int_equal(parse("[default]\nregion = x\n", CRED_FILE_CREDENTIALS, "default", &c, err),
			 CRED_PROFILE_EMPTY);
	assert_non_null(strstr(err, "no aws_access_key_id"));
}

/* The corners where the SDKs differ: the majority's reading (cred_profile.h). */
static void test_profile_syntax_corners(void **state)
{
	struct aws_credentials c;
	char err[256];

	(void)state;
	/* A byte order mark does not hide the first section. */
	assert_int_equal(parse("\xef\xbb\xbf[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "A");
	/* '#' or ';' after a blank starts a comment, on sections and keys. */
	assert_int_equal(parse("[default] # x\naws_access_key_id = A # prod\n"
			       "aws_secret_access_key = B\t; rotated\n",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "A");
	assert_string_equal(c.secret_access_key, "B");
	/* ... not inside a word. */
	assert_int_equal(parse("[default]\naws_access_key_id = A#B;C\naws_secret_access_key = S\n",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "A#B;C");
	/* Quotes are part of the value; a repeated section continues, the last key wins. */
	assert_int_equal(parse("[default]\naws_access_key_id = \"A\"\n[x]\n[default]\n"
			       "aws_secret_access_key = S\naws_access_key_id = \"Z\"\n",
			       CRED_FILE_CREDENTIALS, "default", &c, err), CRED_PROFILE_STATIC);
	assert_string_equal(c.access_key_id, "\"Z\"");
	assert_string_equal(c.secret_access_key, "S");
}

/* Kinds the daemon must not mistake for no profile at all. */
static void test_profile_kinds(void **state)
{
	static struct cred_profile p;

	(void)state;
	/* A role wins over static keys in the same profile (all SDKs). */
	assert_int_equal(pparse("[default]\nrole_arn = arn:aws:iam::1:role/r\n"
				"credential_source = Ec2InstanceMetadata\n"
				"aws_access_key_id = A\naws_secret_access_key = B\n", "default", &p),
			 CRED_PROFILE_ASSUME_ROLE);
	assert_string_equal(p.credential_source, "Ec2InstanceMetadata");
	/* ... but its keys are kept: they win when it is another's source_profile. */
	assert_string_equal(p.creds.secret_access_key, "B");
	assert_int_equal(pparse("[default]\nweb_identity_token_file = /var/run/token\n"
				"aws_access_key_id = A\naws_secret_access_key = B\n", "default", &p),
			 CRED_PROFILE_BROKEN);
	assert_int_equal(pparse("[profile w]\nrole_arn = arn:aws:iam::1:role/r\n"
				"web_identity_token_file = /var/run/token\nrole_session_name = s\n",
				"w", &p), CRED_PROFILE_WEB_IDENTITY);
	assert_string_equal(p.web_identity_token_file, "/var/run/token");
	assert_string_equal(p.role_session_name, "s");
	assert_int_equal(pparse("[default]\nrole_arn = arn:aws:iam::1:role/r\n", "default", &p),
			 CRED_PROFILE_BROKEN);
	assert_int_equal(pparse("[default]\nsso_session = corp\n", "default", &p), CRED_PROFILE_SSO);
	assert_int_equal(pparse("[default]\naws_access_key_id =\naws_secret_access_key = S\n",
				"default", &p), CRED_PROFILE_BROKEN);
}

/* The credentials file's settings win over the config file's, key by key. */
static void test_profile_merge(void **state)
{
	static struct cred_profile base, over;
	static const char cfg[] = "[default]\naws_access_key_id = CFG\naws_secret_access_key = S\n";
	static const char cred[] = "[default]\naws_access_key_id = CRED\n";
	char err[256];

	(void)state;
	memset(&base, 0, sizeof(base));
	memset(&over, 0, sizeof(over));
	assert_int_equal(cred_profile_scan(cfg, strlen(cfg), CRED_FILE_CONFIG, "default", &base,
					   err, sizeof(err)), 1);
	assert_int_equal(cred_profile_scan(cred, strlen(cred), CRED_FILE_CREDENTIALS, "default",
					   &over, err, sizeof(err)), 1);
	cred_profile_merge(&base, &over);
	assert_int_equal(cred_profile_decide(&base, "default", err, sizeof(err)), CRED_PROFILE_STATIC);
	assert_string_equal(base.creds.access_key_id, "CRED");
	assert_string_equal(base.creds.secret_access_key, "S");
}

/* jparse - cred_json_parse over a C string */
static int jparse(const char *text, struct aws_credentials *c, char *err)
{
	return cred_json_parse(text, strlen(text), c, err, 256);
}

static void test_credential_json(void **state)
{
	struct aws_credentials c;
	char err[256];

	(void)state;
	assert_int_equal(jparse("{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-25T18:00:00Z\","
				"\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAEXAMPLE\","
				"\"SecretAccessKey\":\"sec\",\"Token\":\"tok\","
				"\"Expiration\":\"2020-06-09T22:41:51Z\"}", &c, err), 0);
	assert_string_equal(c.access_key_id, "ASIAEXAMPLE");
	assert_string_equal(c.secret_access_key, "sec");
	assert_string_equal(c.session_token, "tok");
	assert_true(c.expiration_ms == 1591742511000LL);
	/* Container endpoint: no Code; Expiration may be absent. */
	assert_int_equal(jparse("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &c, err), 0);
	assert_true(c.expiration_ms == 0);
	assert_string_equal(c.session_token, "");

	assert_int_equal(jparse("not json", &c, err), -1);
	assert_int_equal(jparse("[1,2]", &c, err), -1);
	assert_int_equal(jparse("{\"AccessKeyId\":\"A\"}", &c, err), -1);
	assert_string_equal(err, "no SecretAccessKey in the credential document");
	assert_int_equal(jparse("{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"S\"}", &c, err), -1);
	assert_int_equal(jparse("{\"AccessKeyId\":5,\"SecretAccessKey\":\"S\"}", &c, err), -1);
	assert_int_equal(jparse("{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\","
				"\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &c, err), -1);
	assert_non_null(strstr(err, "AssumeRoleUnauthorizedAccess"));
	assert_string_equal(c.access_key_id, "");
	assert_int_equal(jparse("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"TOPSECRET\","
				"\"Expiration\":\"tomorrow\"}", &c, err), -1);
	assert_null(strstr(err, "TOPSECRET"));
	assert_int_equal(jparse("{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\",\"SecretAccessKey\":\"S\"}",
				&c, err), -1);
	assert_int_equal(jparse("{\"AccessKeyId\":\"A\\u0000B\",\"SecretAccessKey\":\"S\"}", &c, err), -1);
}

static void test_iso8601_times(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51Z", &ms), 0);
	assert_true(ms == 1591742511000LL);
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51.25Z", &ms), 0);
	assert_true(ms == 1591742511250LL);
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51.123456Z", &ms), 0);
	assert_true(ms == 1591742511123LL);
	assert_int_equal(aws_parse_time("2020-06-10T00:41:51+02:00", &ms), 0);
	assert_true(ms == 1591742511000LL);
	assert_int_equal(aws_parse_time("2020-06-09T21:41:51-0100", &ms), 0);
	assert_true(ms == 1591742511000LL);
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51", &ms), -1);
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51Zjunk", &ms), -1);
	assert_int_equal(aws_parse_time("2020-13-09T22:41:51Z", &ms), -1);
	assert_int_equal(aws_parse_time("2020-06-09T22:41:51.Z", &ms), -1);
	assert_int_equal(aws_parse_time("", &ms), -1);
}

/* split - cred_http_url_split with or without https */
static int split(const char *url, int allow_https, int *https, char *host, int *port, char *path)
{
	return cred_http_url_split(url, allow_https, https, host, 64, port, path, 128);
}

static void test_url_split(void **state)
{
	char host[64], path[128], hh[CRED_HTTP_HOSTHDR_MAX];
	int port, https;

	(void)state;
	assert_int_equal(split("http://169.254.169.254", 0, &https, host, &port, path), 0);
	assert_string_equal(host, "169.254.169.254");
	assert_int_equal(port, 80);
	assert_int_equal(https, 0);
	assert_string_equal(path, "/");
	assert_int_equal(split("http://127.0.0.1:8080/v1/credentials?a=b", 0, &https, host, &port,
			       path), 0);
	assert_int_equal(port, 8080);
	assert_string_equal(path, "/v1/credentials?a=b");
	assert_int_equal(split("http://[fd00:ec2::254]/latest", 0, &https, host, &port, path), 0);
	assert_string_equal(host, "fd00:ec2::254");
	assert_string_equal(path, "/latest");
	/* https only where the caller allows it (STS), with its own default port */
	assert_int_equal(split("https://example.com/", 0, &https, host, &port, path), -1);
	assert_int_equal(split("https://sts.us-east-1.amazonaws.com", 1, &https, host, &port, path), 0);
	assert_int_equal(https, 1);
	assert_int_equal(port, 443);
	assert_string_equal(path, "/");
	/* user information is refused: it would be sent nowhere, or leak into logs */
	assert_int_equal(split("http://user:pw@127.0.0.1/", 1, &https, host, &port, path), -1);
	assert_int_equal(split("169.254.169.254", 1, &https, host, &port, path), -1);
	assert_int_equal(split("http://", 1, &https, host, &port, path), -1);
	assert_int_equal(split("ftp://example.com/", 1, &https, host, &port, path), -1);

	cred_http_host_header("sts.amazonaws.com", 443, 1, hh);
	assert_string_equal(hh, "sts.amazonaws.com");
	cred_http_host_header("127.0.0.1", 443, 0, hh);
	assert_string_equal(hh, "127.0.0.1:443");
	cred_http_host_header("fd00:ec2::254", 80, 0, hh);
	assert_string_equal(hh, "[fd00:ec2::254]");
	cred_http_host_header("::1", 8443, 1, hh);
	assert_string_equal(hh, "[::1]:8443");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials_file_profiles),
		cmocka_unit_test(test_config_file_profiles),
		cmocka_unit_test(test_credential_process_profiles),
		cmocka_unit_test(test_credential_process_output),
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_profile_syntax_corners),
		cmocka_unit_test(test_profile_kinds),
		cmocka_unit_test(test_profile_merge),
		cmocka_unit_test(test_credential_json),
		cmocka_unit_test(test_iso8601_times),
		cmocka_unit_test(test_url_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
