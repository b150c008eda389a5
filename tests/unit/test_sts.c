/*
 * test_sts - the pure parts of the STS client: the form body of each
 * action, the endpoint and region chosen from the environment, the
 * generated session name
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sts.h"

/* form - sts_form as a C string ("" on failure) */
static const char *form(const struct sts_request *req)
{
	static char out[4096];
	struct buf b;

	buf_init(&b);
	out[0] = 0;
	if (sts_form(req, &b) == 0)
		snprintf(out, sizeof(out), "%.*s", (int)b.len, (const char *)b.data);
	buf_free(&b);
	return out;
}

static void test_form_bodies(void **state)
{
	struct aws_credentials src = { "AKIDEXAMPLE", "secret", "", 0 };
	struct sts_request r = { STS_ASSUME_ROLE, "arn:aws:iam::123456789012:role/x y", "s-1",
				 "ext/id+=&", 1800, NULL, &src };

	(void)state;
	assert_string_equal(form(&r), "Action=AssumeRole&Version=2011-06-15"
			    "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx%20y"
			    "&RoleSessionName=s-1&DurationSeconds=1800&ExternalId=ext%2Fid%2B%3D%26");
	r.external_id = NULL;
	r.duration_s = 0;
	assert_string_equal(form(&r), "Action=AssumeRole&Version=2011-06-15"
			    "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx%20y"
			    "&RoleSessionName=s-1");
	r.source = NULL;		/* AssumeRole without a signer */
	assert_string_equal(form(&r), "");
	r.action = STS_ASSUME_ROLE_WITH_WEB_IDENTITY;
	assert_string_equal(form(&r), "");	/* no token */
	r.web_identity_token = "eyJ.a-b_c.~d";
	assert_string_equal(form(&r), "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
			    "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx%20y"
			    "&RoleSessionName=s-1&WebIdentityToken=eyJ.a-b_c.~d");
	r.session_name = "";
	assert_string_equal(form(&r), "");
}

/* endpoint - sts_endpoint into static buffers */
static const char *endpoint(char *region)
{
	static char url[STS_URL_MAX];

	sts_endpoint(url, sizeof(url), region, AWS_REGION_MAX + 1);
	return url;
}

static void test_endpoint_precedence(void **state)
{
	char region[AWS_REGION_MAX + 1];

	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	assert_string_equal(endpoint(region), "https://sts.us-east-1.amazonaws.com");
	assert_string_equal(region, "us-east-1");
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	assert_string_equal(endpoint(region), "https://sts.eu-west-1.amazonaws.com");
	setenv("AWS_REGION", "cn-north-1", 1);
	assert_string_equal(endpoint(region), "https://sts.cn-north-1.amazonaws.com.cn");
	assert_string_equal(region, "cn-north-1");
	setenv("AWS_REGION", "us-west-2", 1);
	setenv("AWS_ENDPOINT_URL", "https://all.example", 1);
	assert_string_equal(endpoint(region), "https://all.example");
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.vpce.example:8443", 1);
	assert_string_equal(endpoint(region), "https://sts.vpce.example:8443");
	assert_string_equal(region, "us-west-2");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	assert_string_equal(endpoint(region), "https://sts.us-west-2.amazonaws.com");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL");
}

static void test_session_name(void **state)
{
	char name[STS_SESSION_NAME_MAX + 1];

	(void)state;
	sts_session_name(1764531000123LL, name);
	assert_string_equal(name, "postfix-aws-cassandra-1764531000123");
	assert_string_equal(sts_action_name(STS_ASSUME_ROLE), "AssumeRole");
	assert_string_equal(sts_action_name(STS_ASSUME_ROLE_WITH_WEB_IDENTITY),
			    "AssumeRoleWithWebIdentity");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_bodies),
		cmocka_unit_test(test_endpoint_precedence),
		cmocka_unit_test(test_session_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
