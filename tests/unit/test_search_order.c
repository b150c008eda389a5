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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
