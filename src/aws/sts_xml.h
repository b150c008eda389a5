/*
 * sts_xml - the XML answers of AWS STS (AssumeRole, AssumeRoleWithWebIdentity)
 *
 * SYNOPSIS
 *	#include "aws/sts_xml.h"
 *
 * DESCRIPTION
 *	sts_xml_parse() is a pure function over (text, length), parsed with
 *	expat: no I/O, no clocks, so it can be unit-tested and fuzzed. It
 *	reads the answer to one action, "<Action>Response" holding
 *	"<Action>Result" with
 *
 *	<Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/>
 *	    <Expiration>2026-11-30T20:00:00Z</Expiration></Credentials>
 *	<AssumedRoleUser><Arn/></AssumedRoleUser>
 *
 *	or STS's error document "<ErrorResponse><Error><Type/><Code/>
 *	<Message/></Error></ErrorResponse>". Element names are matched
 *	without their namespace (STS writes
 *	xmlns="https://sts.amazonaws.com/doc/2011-06-15/"); unknown
 *	elements are skipped. A document type declaration is refused (no
 *	entity expansion, no external anything), as are nesting deeper than
 *	STS_XML_DEPTH_MAX, a field over its limit and a field given twice.
 *
 * DIAGNOSTICS
 *	STS_XML_CREDS: out->creds complete (temporary: all four fields);
 *	STS_XML_ERROR: STS said no, out->code and out->message (may be
 *	empty) say why; -1: not an STS answer, reason in err. Secrets and
 *	tokens never appear in err.
 */
#ifndef PAC_AWS_STS_XML_H
#define PAC_AWS_STS_XML_H

#include <stddef.h>

#include "aws/aws_base.h"

#define STS_XML_MAX		(256 * 1024)	/* bytes in an STS answer */
#define STS_XML_DEPTH_MAX	16		/* element nesting */
#define STS_ARN_MAX		2048		/* bytes in a role ARN */
#define STS_CODE_MAX		128		/* bytes in an error code */
#define STS_MESSAGE_MAX		1024		/* bytes in an error message */

enum sts_xml_result {
	STS_XML_BAD = -1,
	STS_XML_CREDS = 0,
	STS_XML_ERROR = 1,
};

struct sts_xml_answer {
	struct aws_credentials creds;
	char assumed_arn[STS_ARN_MAX + 1];	/* AssumedRoleUser/Arn, may be "" */
	char code[STS_CODE_MAX + 1];		/* STS_XML_ERROR: e.g. AccessDenied */
	char message[STS_MESSAGE_MAX + 1];
};

/* sts_xml_parse - the answer to action ("AssumeRole", ...) */
enum sts_xml_result sts_xml_parse(const char *action, const char *text, size_t len,
				  struct sts_xml_answer *out, char *err, size_t errlen);

#endif
