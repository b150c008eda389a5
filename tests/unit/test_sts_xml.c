/*
 * test_sts_xml - the STS answer parser: credentials of AssumeRole and
 * AssumeRoleWithWebIdentity, STS's error documents, hostile documents
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/sts_xml.h"

#define NS "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""

static const char assume_role[] =
	"<AssumeRoleResponse " NS ">\n"
	"  <AssumeRoleResult>\n"
	"    <SourceIdentity>Alice</SourceIdentity>\n"
	"    <AssumedRoleUser>\n"
	"      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
	"      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
	"    </AssumedRoleUser>\n"
	"    <Credentials>\n"
	"      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
	"      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
	"      <SessionToken>\n   AQoDYXdzEPT//////////wEXAMPLEtc764&amp;end==\n</SessionToken>\n"
	"      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
	"    </Credentials>\n"
	"    <PackedPolicySize>6</PackedPolicySize>\n"
	"  </AssumeRoleResult>\n"
	"  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>\n"
	"</AssumeRoleResponse>\n";

/* parse - sts_xml_parse over a C string */
static enum sts_xml_result parse(const char *action, const char *text,
				 struct sts_xml_answer *a, char *err)
{
	return sts_xml_parse(action, text, strlen(text), a, err, 256);
}

static void test_assume_role_answer(void **state)
{
	static struct sts_xml_answer a;
	char err[256];

	(void)state;
	assert_int_equal(parse("AssumeRole", assume_role, &a, err), STS_XML_CREDS);
	assert_string_equal(a.creds.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(a.creds.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_string_equal(a.creds.session_token, "AQoDYXdzEPT//////////wEXAMPLEtc764&end==");
	assert_true(a.creds.expiration_ms == 1573306481000LL);
	assert_string_equal(a.assumed_arn, "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
	/* The answer to another action is not taken for this one. */
	assert_int_equal(parse("AssumeRoleWithWebIdentity", assume_role, &a, err), STS_XML_BAD);
	assert_non_null(strstr(err, "AssumeRoleResponse"));
	assert_string_equal(a.creds.access_key_id, "");
}

static void test_web_identity_answer_with_prefix_and_fractions(void **state)
{
	static const char doc[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<sts:AssumeRoleWithWebIdentityResponse xmlns:sts=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<sts:AssumeRoleWithWebIdentityResult>"
		"<sts:SubjectFromWebIdentityToken>system:serviceaccount:mail:lookup</sts:SubjectFromWebIdentityToken>"
		"<sts:Credentials><sts:SessionToken>tok</sts:SessionToken>"
		"<sts:SecretAccessKey>sec</sts:SecretAccessKey>"
		"<sts:Expiration>2026-11-30T20:00:00.500+01:00</sts:Expiration>"
		"<sts:AccessKeyId>ASIAWEB</sts:AccessKeyId></sts:Credentials>"
		"</sts:AssumeRoleWithWebIdentityResult></sts:AssumeRoleWithWebIdentityResponse>";
	static struct sts_xml_answer a;
	char err[256];
	int64_t want;

	(void)state;
	assert_int_equal(parse("AssumeRoleWithWebIdentity", doc, &a, err), STS_XML_CREDS);
	assert_string_equal(a.creds.access_key_id, "ASIAWEB");
	assert_string_equal(a.creds.session_token, "tok");
	assert_int_equal(aws_parse_time("2026-11-30T19:00:00.500Z", &want), 0);
	assert_true(a.creds.expiration_ms == want);
	assert_string_equal(a.assumed_arn, "");
}

static void test_error_documents(void **state)
{
	static const char denied[] =
		"<ErrorResponse " NS "><Error><Type>Sender</Type><Code>AccessDenied</Code>"
		"<Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: "
		"sts:AssumeRole</Message></Error><RequestId>4f1a</RequestId></ErrorResponse>";
	static const char no_message[] =
		"<ErrorResponse><Error><Code>InvalidIdentityToken</Code></Error></ErrorResponse>";
	static const char no_code[] =
		"<ErrorResponse><Error><Message>who knows</Message></Error></ErrorResponse>";
	static struct sts_xml_answer a;
	char err[256];

	(void)state;
	assert_int_equal(parse("AssumeRole", denied, &a, err), STS_XML_ERROR);
	assert_string_equal(a.code, "AccessDenied");
	assert_non_null(strstr(a.message, "not authorized to perform: sts:AssumeRole"));
	assert_int_equal(parse("AssumeRoleWithWebIdentity", no_message, &a, err), STS_XML_ERROR);
	assert_string_equal(a.code, "InvalidIdentityToken");
	assert_string_equal(a.message, "");
	assert_int_equal(parse("AssumeRole", no_code, &a, err), STS_XML_BAD);
	assert_non_null(strstr(err, "without a Code"));
}

static void test_incomplete_and_hostile_documents(void **state)
{
	static const char *const bad[][2] = {
		{ "", "not XML" },
		{ "{\"AccessKeyId\": \"x\"}", "not XML" },
		{ "<html><body>502 Bad Gateway</body></html>", "root element: html" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
		  "<SecretAccessKey>S</SecretAccessKey><Expiration>2026-11-30T20:00:00Z</Expiration>"
		  "</Credentials></AssumeRoleResult></AssumeRoleResponse>", "Credentials/SessionToken" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
		  "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
		  "<Expiration>soon</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
		  "not an ISO 8601" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
		  "<AccessKeyId>B</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>",
		  "twice: AccessKeyId" },
		/* Credentials outside the Result are not the answer. */
		{ "<AssumeRoleResponse><Credentials><AccessKeyId>A</AccessKeyId>"
		  "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
		  "<Expiration>2026-11-30T20:00:00Z</Expiration></Credentials></AssumeRoleResponse>",
		  "Credentials/AccessKeyId" },
		{ "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>"
		  "<AssumeRoleResponse>&lol2;</AssumeRoleResponse>", "document type declaration" },
		{ "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><ErrorResponse/>", "document type" },
		{ "<AssumeRoleResponse><AssumeRoleResult><Credentials>", "not XML" },
		{ "<AssumeRoleResponse>\xff\xfe</AssumeRoleResponse>", "not XML" },
	};
	static struct sts_xml_answer a;
	static char big[STS_XML_MAX + 2];
	static char deep[STS_XML_DEPTH_MAX * 8 + 64];
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse("AssumeRole", bad[i][0], &a, err), STS_XML_BAD);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i][1]);
		assert_string_equal(a.creds.access_key_id, "");
		assert_string_equal(a.creds.secret_access_key, "");
	}
	/* A field over its limit. */
	memset(big, 'x', sizeof(big) - 1);
	i = (size_t)snprintf(big, sizeof(big), "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
			     "<AccessKeyId>");
	memset(big + i, 'K', AWS_KEY_ID_MAX + 1);
	strcpy(big + i + AWS_KEY_ID_MAX + 1, "</AccessKeyId></Credentials></AssumeRoleResult>"
	       "</AssumeRoleResponse>");
	assert_int_equal(parse("AssumeRole", big, &a, err), STS_XML_BAD);
	assert_non_null(strstr(err, "over its limit: AccessKeyId"));
	/* Too big as a whole. */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(sts_xml_parse("AssumeRole", big, STS_XML_MAX + 1, &a, err, sizeof(err)),
			 STS_XML_BAD);
	assert_non_null(strstr(err, "over"));
	/* Nesting. */
	deep[0] = 0;
	strcat(deep, "<AssumeRoleResponse>");
	for (i = 0; i < STS_XML_DEPTH_MAX; i++)
		strcat(deep, "<a>");
	assert_int_equal(parse("AssumeRole", deep, &a, err), STS_XML_BAD);
	assert_non_null(strstr(err, "nested too deep"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assume_role_answer),
		cmocka_unit_test(test_web_identity_answer_with_prefix_and_fractions),
		cmocka_unit_test(test_error_documents),
		cmocka_unit_test(test_incomplete_and_hostile_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
