/*
 * sts_xml - the XML answers of AWS STS (see sts_xml.h)
 *
 * The parser keeps, for each open element, what it is (an element this
 * module reads, or one it skips) and collects character data only inside
 * the leaf fields it wants, each into a fixed buffer: nothing the peer
 * sends grows memory beyond expat's own buffers, bounded by STS_XML_MAX.
 */
#include <stdio.h>
#include <string.h>

#include <expat.h>
#include <openssl/crypto.h>

#include "aws/sts_xml.h"

#define NS_SEP			' '	/* namespace separator: URIs hold no blanks */
#define NAME_MAX_LEN		64	/* bytes of an element name we compare */
#define EXPIRATION_MAX		64	/* bytes in an Expiration time */

enum elem {
	E_SKIP, E_ROOT_OK, E_ROOT_ERR, E_RESULT, E_CREDS, E_USER, E_ERROR,
	/* leaves: */
	E_KEY_ID, E_SECRET, E_TOKEN, E_EXPIRATION, E_ARN, E_CODE, E_MESSAGE,
	E_COUNT
};

static const char *const leaf_name[E_COUNT] = {
	[E_KEY_ID] = "AccessKeyId", [E_SECRET] = "SecretAccessKey",
	[E_TOKEN] = "SessionToken", [E_EXPIRATION] = "Expiration",
	[E_ARN] = "Arn", [E_CODE] = "Code", [E_MESSAGE] = "Message",
};

struct sts_parse {
	XML_Parser xp;
	const char *action;
	struct sts_xml_answer *out;
	enum elem stack[STS_XML_DEPTH_MAX];
	int depth;
	enum elem root;
	char expiration[EXPIRATION_MAX + 1];
	char *dst;			/* the leaf collecting text, or NULL */
	size_t dstsize, dstlen;
	unsigned seen;			/* bit per leaf */
	char *err;
	size_t errlen;
	int failed;
};

/* fail - stop the parse with a reason */
static void fail(struct sts_parse *sp, const char *why, const char *what)
{
	if (!sp->failed)
		snprintf(sp->err, sp->errlen, "%s%s%.64s", why, what ? ": " : "", what ? what : "");
	sp->failed = 1;
	XML_StopParser(sp->xp, XML_FALSE);
}

/* local_name - the name without its namespace URI */
static const char *local_name(const XML_Char *name)
{
	const char *sep = strrchr(name, NS_SEP);

	return sep ? sep + 1 : name;
}

/* suffix_is - name == action + suffix */
static int suffix_is(const char *name, const char *action, const char *suffix)
{
	size_t n = strlen(action);

	return strncmp(name, action, n) == 0 && strcmp(name + n, suffix) == 0;
}

/* classify - what element name is, under parent */
static enum elem classify(const struct sts_parse *sp, enum elem parent, const char *name)
{
	switch (parent) {
	case E_ROOT_OK:
		return suffix_is(name, sp->action, "Result") ? E_RESULT : E_SKIP;
	case E_RESULT:
		return strcmp(name, "Credentials") == 0 ? E_CREDS :
		       strcmp(name, "AssumedRoleUser") == 0 ? E_USER : E_SKIP;
	case E_CREDS:
		return strcmp(name, "AccessKeyId") == 0 ? E_KEY_ID :
		       strcmp(name, "SecretAccessKey") == 0 ? E_SECRET :
		       strcmp(name, "SessionToken") == 0 ? E_TOKEN :
		       strcmp(name, "Expiration") == 0 ? E_EXPIRATION : E_SKIP;
	case E_USER:
		return strcmp(name, "Arn") == 0 ? E_ARN : E_SKIP;
	case E_ROOT_ERR:
		return strcmp(name, "Error") == 0 ? E_ERROR : E_SKIP;
	case E_ERROR:
		return strcmp(name, "Code") == 0 ? E_CODE :
		       strcmp(name, "Message") == 0 ? E_MESSAGE : E_SKIP;
	default:
		return E_SKIP;
	}
}

/* leaf_buffer - where a leaf's text goes */
static void leaf_buffer(struct sts_parse *sp, enum elem e)
{
	struct sts_xml_answer *o = sp->out;

	switch (e) {
	case E_KEY_ID:
		sp->dst = o->creds.access_key_id, sp->dstsize = sizeof(o->creds.access_key_id);
		break;
	case E_SECRET:
		sp->dst = o->creds.secret_access_key, sp->dstsize = sizeof(o->creds.secret_access_key);
		break;
	case E_TOKEN:
		sp->dst = o->creds.session_token, sp->dstsize = sizeof(o->creds.session_token);
		break;
	case E_EXPIRATION:
		sp->dst = sp->expiration, sp->dstsize = sizeof(sp->expiration);
		break;
	case E_ARN:
		sp->dst = o->assumed_arn, sp->dstsize = sizeof(o->assumed_arn);
		break;
	case E_CODE:
		sp->dst = o->code, sp->dstsize = sizeof(o->code);
		break;
	case E_MESSAGE:
		sp->dst = o->message, sp->dstsize = sizeof(o->message);
		break;
	default:
		sp->dst = NULL;
		return;
	}
	sp->dstlen = 0;
	sp->dst[0] = 0;
}

/* on_start - an element opens */
static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct sts_parse *sp = arg;
	const char *local = local_name(name);
	enum elem e;

	(void)attrs;
	if (sp->depth >= STS_XML_DEPTH_MAX) {
		fail(sp, "STS answer nested too deep", NULL);
		return;
	}
	if (sp->depth == 0) {
		if (suffix_is(local, sp->action, "Response"))
			e = E_ROOT_OK;
		else if (strcmp(local, "ErrorResponse") == 0)
			e = E_ROOT_ERR;
		else {
			fail(sp, "not an STS answer to this action, root element", local);
			return;
		}
		sp->root = e;
	} else {
		e = classify(sp, sp->stack[sp->depth - 1], local);
	}
	if (e >= E_KEY_ID) {
		if (sp->seen & (1u << e)) {
			fail(sp, "STS answer gives a field twice", leaf_name[e]);
			return;
		}
		sp->seen |= 1u << e;
	}
	sp->dst = NULL;
	leaf_buffer(sp, e);
	sp->stack[sp->depth++] = e;
}

/* on_end - an element closes */
static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct sts_parse *sp = arg;

	(void)name;
	if (sp->depth > 0)
		sp->depth--;
	sp->dst = NULL;
}

/* on_text - character data, kept only inside a wanted leaf */
static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct sts_parse *sp = arg;

	if (sp->dst == NULL || len <= 0)
		return;
	if ((size_t)len >= sp->dstsize - sp->dstlen) {
		fail(sp, "STS answer has a field over its limit", leaf_name[sp->stack[sp->depth - 1]]);
		return;
	}
	memcpy(sp->dst + sp->dstlen, s, (size_t)len);
	sp->dstlen += (size_t)len;
	sp->dst[sp->dstlen] = 0;
}

/* on_doctype - DTDs are refused: no entities, nothing external */
static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	fail(arg, "STS answer has a document type declaration", NULL);
}

/* trim_field - strip blanks the pretty-printer may have put around a value */
static void trim_field(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	while (s[i] && strchr(" \t\r\n", s[i]))
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
}

/* finish - check what the document gave */
static enum sts_xml_result finish(struct sts_parse *sp)
{
	static const enum elem need[] = { E_KEY_ID, E_SECRET, E_TOKEN, E_EXPIRATION };
	struct sts_xml_answer *o = sp->out;
	size_t i;

	trim_field(o->creds.access_key_id);
	trim_field(o->creds.secret_access_key);
	trim_field(o->creds.session_token);
	trim_field(sp->expiration);
	trim_field(o->assumed_arn);
	trim_field(o->code);
	trim_field(o->message);
	if (sp->root == E_ROOT_ERR) {
		if (o->code[0] == 0) {
			snprintf(sp->err, sp->errlen, "STS error document without a Code");
			return STS_XML_BAD;
		}
		return STS_XML_ERROR;
	}
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(sp->seen & (1u << need[i])) || *(need[i] == E_EXPIRATION ? sp->expiration :
			need[i] == E_KEY_ID ? o->creds.access_key_id :
			need[i] == E_SECRET ? o->creds.secret_access_key : o->creds.session_token) == 0) {
			snprintf(sp->err, sp->errlen, "STS answer without Credentials/%s", leaf_name[need[i]]);
			return STS_XML_BAD;
		}
	}
	if (aws_parse_time(sp->expiration, &o->creds.expiration_ms) != 0) {
		snprintf(sp->err, sp->errlen, "STS answer: Expiration '%.40s' is not an ISO 8601 time",
			 sp->expiration);
		return STS_XML_BAD;
	}
	return STS_XML_CREDS;
}

/* sts_xml_parse - credentials or STS's error from an answer */
enum sts_xml_result sts_xml_parse(const char *action, const char *text, size_t len,
				  struct sts_xml_answer *out, char *err, size_t errlen)
{
	struct sts_parse sp;
	enum sts_xml_result rc = STS_XML_BAD;

	memset(out, 0, sizeof(*out));
	memset(&sp, 0, sizeof(sp));
	err[0] = 0;
	if (len > STS_XML_MAX) {
		snprintf(err, errlen, "STS answer over %d bytes", STS_XML_MAX);
		return STS_XML_BAD;
	}
	if ((sp.xp = XML_ParserCreateNS("UTF-8", NS_SEP)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return STS_XML_BAD;
	}
	sp.action = action;
	sp.out = out;
	sp.err = err;
	sp.errlen = errlen;
	XML_SetUserData(sp.xp, &sp);
	XML_SetElementHandler(sp.xp, on_start, on_end);
	XML_SetCharacterDataHandler(sp.xp, on_text);
	XML_SetStartDoctypeDeclHandler(sp.xp, on_doctype);
	if (XML_Parse(sp.xp, text, (int)len, XML_TRUE) != XML_STATUS_OK || sp.failed) {
		if (!sp.failed)
			snprintf(err, errlen, "STS answer is not XML: %s (line %lu)",
				 XML_ErrorString(XML_GetErrorCode(sp.xp)),
				 (unsigned long)XML_GetCurrentLineNumber(sp.xp));
	} else {
		rc = finish(&sp);
	}
	XML_ParserFree(sp.xp);
	OPENSSL_cleanse(sp.expiration, sizeof(sp.expiration));
	if (rc != STS_XML_CREDS)
		aws_credentials_wipe(&out->creds);
	return rc;
}
