/*
 * test_search_order - the Postfix table search orders, quoted from the manuals
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "search_order.h"

/* expect - expand key and compare with a NULL-terminated list */
static void expect(enum search_kind kind, const char *delims, int parents,
		   const char *key, const char *const *want)
{
	struct search_settings s;
	static struct search_candidates c;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	strcpy(s.delimiters, delims);
	s.parent_domains = parents;
	search_order_expand(&s, key, strlen(key), &c);
	for (i = 0; want[i]; i++) {
		assert_true(i < c.n);
		assert_string_equal(c.key[i], want[i]);
		assert_int_equal(c.len[i], strlen(want[i]));
	}
	assert_int_equal(c.n, i);
}

/*
 * virtual(5) TABLE SEARCH ORDER: "user@domain address ... This form has the
 * highest precedence", "@domain address ... This form has the lowest
 * precedence"; ADDRESS EXTENSION: "user+foo@domain ... user@domain ... @domain".
 */
static void test_virtual(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+", 0, "alice+news@example.com",
	       (const char *[]){ "alice+news@example.com", "alice@example.com",
				 "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "+", 0, "alice@example.com",
	       (const char *[]){ "alice@example.com", "@example.com", NULL });
	/* The virtual_alias_domains check asks for a bare domain: as is, only. */
	expect(SEARCH_VIRTUAL, "+", 0, "example.com",
	       (const char *[]){ "example.com", NULL });
	/* No domain after the '@': no catch-all either (never the key "@"). */
	expect(SEARCH_VIRTUAL, "+", 0, "alice@",
	       (const char *[]){ "alice@", NULL });
	/* An empty localpart is the catch-all key itself. */
	expect(SEARCH_VIRTUAL, "+", 0, "@example.com",
	       (const char *[]){ "@example.com", NULL });
	/* Extensions off. */
	expect(SEARCH_VIRTUAL, "", 0, "alice+news@example.com",
	       (const char *[]){ "alice+news@example.com", "@example.com", NULL });
}

/* Multi-character recipient_delimiter: the first of any of them splits. */
static void test_multi_delimiter(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+-", 0, "alice-list+x@example.com",
	       (const char *[]){ "alice-list+x@example.com", "alice@example.com",
				 "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "+-", 0, "bob+a-b@example.com",
	       (const char *[]){ "bob+a-b@example.com", "bob@example.com",
				 "@example.com", NULL });
	/* Never strip to an empty user part. */
	expect(SEARCH_VIRTUAL, "+", 0, "+tag@example.com",
	       (const char *[]){ "+tag@example.com", "@example.com", NULL });
}

/* Several '@': the domain is after the last one, as Postfix splits. */
static void test_several_at(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+", 0, "\"a@b\"@example.com",
	       (const char *[]){ "\"a@b\"@example.com", "@example.com", NULL });
	expect(SEARCH_ACCESS, "+", 0, "a@b@mail.example",
	       (const char *[]){ "a@b@mail.example", "mail.example", "example",
				 "a@b@", NULL });
}

/*
 * access(5) EMAIL ADDRESS EXTENSION: "the lookup order becomes:
 * user+foo@domain, user@domain, domain, user+foo@, and user@", with
 * "domain.tld also matches subdomains" (smtpd_access_maps is in
 * parent_domain_matches_subdomains by default).
 */
static void test_access(void **state)
{
	(void)state;
	expect(SEARCH_ACCESS, "+", 0, "bob+x@mail.spam.test",
	       (const char *[]){ "bob+x@mail.spam.test", "bob@mail.spam.test",
				 "mail.spam.test", "spam.test", "test",
				 "bob+x@", "bob@", NULL });
	expect(SEARCH_ACCESS, "+", 0, "bob@spam.test",
	       (const char *[]){ "bob@spam.test", "spam.test", "test", "bob@", NULL });
	/* A host name or domain: itself, then parents. */
	expect(SEARCH_ACCESS, "+", 0, "sub.example.com",
	       (const char *[]){ "sub.example.com", "example.com", "com", NULL });
	/* The null sender lookup key. */
	expect(SEARCH_ACCESS, "+", 0, "<>", (const char *[]){ "<>", NULL });
}

/*
 * transport(5) TABLE SEARCH ORDER: "user+extension@domain", "user@domain",
 * "domain", ".domain ... any subdomain of domain", "* ... any address".
 */
static void test_transport(void **state)
{
	(void)state;
	expect(SEARCH_TRANSPORT, "+", 0, "joe+x@mail.example.net",
	       (const char *[]){ "joe+x@mail.example.net", "joe@mail.example.net",
				 "mail.example.net", ".example.net", ".net", "*", NULL });
	expect(SEARCH_TRANSPORT, "+", 0, "example.net",
	       (const char *[]){ "example.net", ".net", "*", NULL });
}

/* domains and relay_domains: the domain, parents only when asked. */
static void test_domain(void **state)
{
	(void)state;
	expect(SEARCH_DOMAIN, "+", 0, "mail.example.com",
	       (const char *[]){ "mail.example.com", NULL });
	expect(SEARCH_DOMAIN, "+", 1, "mail.example.com",
	       (const char *[]){ "mail.example.com", "example.com", "com", NULL });
	expect(SEARCH_EXACT, "+", 1, "a+b@example.com",
	       (const char *[]){ "a+b@example.com", NULL });
}

/* IDN / UTF-8 domains pass through unchanged. */
static void test_utf8(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+", 0, "j\xc3\xb6rg+x@b\xc3\xbc" "cher.example",
	       (const char *[]){ "j\xc3\xb6rg+x@b\xc3\xbc" "cher.example",
				 "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
				 "@b\xc3\xbc" "cher.example", NULL });
}

/* Deep domains are bounded by the candidate limit, never overflow. */
static void test_bounded(void **state)
{
	struct search_settings s = { .kind = SEARCH_TRANSPORT, .delimiters = "+" };
	static struct search_candidates c;
	char key[600];
	size_t i;

	(void)state;
	strcpy(key, "u@");
	for (i = 0; i < 100; i++)
		strcat(key, "a.");
	strcat(key, "com");
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.n, SEARCH_MAX_CANDIDATES);
	assert_string_equal(c.key[0], key);
	assert_int_equal(search_kind_parse("transport"), SEARCH_TRANSPORT);
	assert_int_equal(search_kind_parse("nope"), -1);
}


/*
 * Postfix's split_addr(): postmaster, MAILER-DAEMON and the double-bounce
 * local part are never split, whatever the delimiter and case.
 */
static void test_never_split(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+-", 0, "postmaster@example.com",
	       (const char *[]){ "postmaster@example.com", "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "-", 0, "MAILER-DAEMON@example.com",
	       (const char *[]){ "MAILER-DAEMON@example.com", "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "-", 0, "mailer-daemon@example.com",
	       (const char *[]){ "mailer-daemon@example.com", "@example.com", NULL });
	expect(SEARCH_ACCESS, "-", 0, "double-bounce@example.com",
	       (const char *[]){ "double-bounce@example.com", "example.com", "com",
				 "double-bounce@", NULL });
	/* Only the whole local part is special. */
	expect(SEARCH_VIRTUAL, "-", 0, "mailer-daemons@example.com",
	       (const char *[]){ "mailer-daemons@example.com", "mailer@example.com",
				 "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "+", 0, "postmaster+x@example.com",
	       (const char *[]){ "postmaster+x@example.com", "postmaster@example.com",
				 "@example.com", NULL });
}

/* owner_request_special (default yes): with '-' a delimiter, owner-* and *-request stay whole. */
static void test_owner_request(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "-", 0, "owner-list@example.com",
	       (const char *[]){ "owner-list@example.com", "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "+-", 0, "owner-list+x@example.com",
	       (const char *[]){ "owner-list+x@example.com", "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "-", 0, "list-request@example.com",
	       (const char *[]){ "list-request@example.com", "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "-", 0, "List-Request@example.com",
	       (const char *[]){ "List-Request@example.com", "@example.com", NULL });
	/* "-request" alone is 8 bytes: not special, and starts with a delimiter. */
	expect(SEARCH_VIRTUAL, "-", 0, "-request@example.com",
	       (const char *[]){ "-request@example.com", "@example.com", NULL });
	/* Without '-' among the delimiters they split as any other. */
	expect(SEARCH_VIRTUAL, "+", 0, "owner-list+x@example.com",
	       (const char *[]){ "owner-list+x@example.com", "owner-list@example.com",
				 "@example.com", NULL });
	expect(SEARCH_VIRTUAL, "+", 0, "a+list-request@example.com",
	       (const char *[]){ "a+list-request@example.com", "a@example.com",
				 "@example.com", NULL });
}

/* split_addr(): strcspn() == 0 means no split at all, even with a later delimiter. */
static void test_leading_delimiter(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+", 0, "+a+b@example.com",
	       (const char *[]){ "+a+b@example.com", "@example.com", NULL });
	expect(SEARCH_ACCESS, "+-", 0, "-a+b@example.com",
	       (const char *[]){ "-a+b@example.com", "example.com", "com",
				 "-a+b@", NULL });
	/* A trailing delimiter splits to an empty extension. */
	expect(SEARCH_VIRTUAL, "+", 0, "a+@example.com",
	       (const char *[]){ "a+@example.com", "a@example.com", "@example.com", NULL });
}

/*
 * access(5) and smtpd's check_addr_access(): a client address and its
 * networks, never domain-style suffixes (10.20.1.5 must not match "1.5").
 */
static void test_client_address(void **state)
{
	(void)state;
	expect(SEARCH_ACCESS, "+", 0, "10.20.1.5",
	       (const char *[]){ "10.20.1.5", "10.20.1", "10.20", "10", NULL });
	expect(SEARCH_ACCESS, "+", 0, "2001:db8:1:2::5",
	       (const char *[]){ "2001:db8:1:2::5", "2001:db8:1:2:", "2001:db8:1:2",
				 "2001:db8:1", "2001:db8", "2001", NULL });
	expect(SEARCH_ACCESS, "+", 0, "::1",
	       (const char *[]){ "::1", ":", NULL });
	/* Not an address: a host name, with its parents. */
	expect(SEARCH_ACCESS, "+", 0, "10.20.1.500",
	       (const char *[]){ "10.20.1.500", "20.1.500", "1.500", "500", NULL });
	expect(SEARCH_ACCESS, "+", SEARCH_PARENT_DOT, "10.20.1.5",
	       (const char *[]){ "10.20.1.5", "10.20.1", "10.20", "10", NULL });
	/* Each byte at most 255 (valid_ipv4_hostaddr): 256 makes a host name. */
	expect(SEARCH_ACCESS, "+", 0, "10.0.0.255",
	       (const char *[]){ "10.0.0.255", "10.0.0", "10.0", "10", NULL });
	expect(SEARCH_ACCESS, "+", 0, "10.0.0.256",
	       (const char *[]){ "10.0.0.256", "0.0.256", "0.256", "256", NULL });
	/* One ':' is no IPv6 address (two at least, as in "::"): no networks. */
	expect(SEARCH_ACCESS, "+", 0, "ab:cd",
	       (const char *[]){ "ab:cd", NULL });
}

/* parent_domain_matches_subdomains off for an access map: ".parent" keys. */
static void test_access_dot_parents(void **state)
{
	(void)state;
	expect(SEARCH_ACCESS, "+", SEARCH_PARENT_DOT, "bob+x@mail.spam.test",
	       (const char *[]){ "bob+x@mail.spam.test", "bob@mail.spam.test",
				 "mail.spam.test", ".spam.test", ".test",
				 "bob+x@", "bob@", NULL });
	expect(SEARCH_ACCESS, "+", SEARCH_PARENT_DOT, "host.example.com",
	       (const char *[]){ "host.example.com", ".example.com", ".com", NULL });
	expect(SEARCH_ACCESS, "+", SEARCH_PARENT_NONE, "bob@mail.spam.test",
	       (const char *[]){ "bob@mail.spam.test", "mail.spam.test", "bob@", NULL });
	expect(SEARCH_TRANSPORT, "+", SEARCH_PARENT_PLAIN, "joe@mail.example.net",
	       (const char *[]){ "joe@mail.example.net", "mail.example.net",
				 "example.net", "net", "*", NULL });
	expect(SEARCH_DOMAIN, "+", SEARCH_PARENT_DOT, "mail.example.com",
	       (const char *[]){ "mail.example.com", ".example.com", ".com", NULL });
}

/* Postfix's domain loop over odd domains: trailing and doubled dots. */
static void test_odd_domains(void **state)
{
	(void)state;
	expect(SEARCH_ACCESS, "+", 0, "a@example.com.",
	       (const char *[]){ "a@example.com.", "example.com.", "com.", "a@", NULL });
	expect(SEARCH_ACCESS, "+", SEARCH_PARENT_DOT, "a@example.com.",
	       (const char *[]){ "a@example.com.", "example.com.", ".com.", ".", "a@", NULL });
	expect(SEARCH_ACCESS, "+", 0, "a@x..y",
	       (const char *[]){ "a@x..y", "x..y", ".y", "a@", NULL });
	/* Empty local part: "@" is what Postfix's localpart@ step asks. */
	expect(SEARCH_ACCESS, "+", 0, "@example.com",
	       (const char *[]){ "@example.com", "example.com", "com", "@", NULL });
	/* Empty domain. */
	expect(SEARCH_ACCESS, "+", 0, "a+b@",
	       (const char *[]){ "a+b@", "a@", NULL });
}

/*
 * mail_addr_find(): access and transport lookups (MA_FORM_EXTERNAL_FIRST)
 * ask the quoted (external) form before the internal one, for the full and
 * the extension-stripped local part; virtual alias expansion
 * (MA_FORM_EXTERNAL) the external forms only. The extension is found in
 * the internal form.
 */
static void test_quoted_forms(void **state)
{
	(void)state;
	expect(SEARCH_VIRTUAL, "+", 0, "\"a..b+x\"@beta.test",
	       (const char *[]){ "\"a..b+x\"@beta.test", "\"a..b\"@beta.test",
				 "@beta.test", NULL });
	/* Quotes that were not needed: the external form of the bare part has none. */
	expect(SEARCH_VIRTUAL, "+", 0, "\"team+q\"@beta.test",
	       (const char *[]){ "\"team+q\"@beta.test", "team@beta.test", "@beta.test", NULL });
	/* An unquoted key whose bare part needs quotes ("a." ends with a dot). */
	expect(SEARCH_TRANSPORT, "+", 0, "a.+x@t.example",
	       (const char *[]){ "a.+x@t.example", "\"a.\"@t.example", "a.@t.example",
				 "t.example", ".example", "*", NULL });
	expect(SEARCH_ACCESS, "+", 0, "\"e f+z\"@x.test",
	       (const char *[]){ "\"e f+z\"@x.test", "e f+z@x.test", "\"e f\"@x.test",
				 "e f@x.test", "x.test", "test", "\"e f+z\"@", "e f+z@",
				 "\"e f\"@", "e f@", NULL });
	/* Escapes: a backslash takes the next byte; the special names unquoted. */
	expect(SEARCH_TRANSPORT, "+", 0, "\"x\\\"y+z\"@d.test",
	       (const char *[]){ "\"x\\\"y+z\"@d.test", "x\"y+z@d.test",
				 "\"x\\\"y\"@d.test", "x\"y@d.test", "d.test", ".test", "*", NULL });
	expect(SEARCH_TRANSPORT, "-", 0, "\"owner-x\"@d.test",
	       (const char *[]){ "\"owner-x\"@d.test", "owner-x@d.test", "d.test", ".test",
				 "*", NULL });
}

/* A key or candidate over LOOKUP_KEY_MAX cannot exist: it is left out, the short ones stay. */
static void test_long_local_part(void **state)
{
	struct search_settings s = { .kind = SEARCH_ACCESS, .delimiters = "+" };
	static struct search_candidates c;
	static char key[LOOKUP_KEY_MAX * 3];

	(void)state;
	memset(key, 'x', 1100);
	strcpy(key + 1100, "@spam.example");
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.key[0], "spam.example");
	assert_string_equal(c.key[1], "example");
	key[5] = '+';
	s.kind = SEARCH_VIRTUAL;
	search_order_expand(&s, key, strlen(key), &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.key[0], "xxxxx@spam.example");
	assert_string_equal(c.key[1], "@spam.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual),
		cmocka_unit_test(test_multi_delimiter),
		cmocka_unit_test(test_several_at),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_never_split),
		cmocka_unit_test(test_owner_request),
		cmocka_unit_test(test_leading_delimiter),
		cmocka_unit_test(test_client_address),
		cmocka_unit_test(test_access_dot_parents),
		cmocka_unit_test(test_odd_domains),
		cmocka_unit_test(test_long_local_part),
		cmocka_unit_test(test_quoted_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
