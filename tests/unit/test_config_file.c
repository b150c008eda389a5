/*
 * test_config_file - the map configuration file parser
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "config_file.h"

static const struct map_defaults defaults = {
	.delimiters = "+", .ttl_ms = 300000, .negative_ttl_ms = 30000, .stale_ms = 3600000,
};

/* parse - defaults for keyspace mailion, then the text */
static int parse(const char *text, struct map_registry *reg, char *err, size_t n)
{
	char e[256];

	assert_int_equal(map_registry_defaults(reg, "mailion", &defaults, e, sizeof(e)), 0);
	return config_file_parse(text, strlen(text), reg, &defaults, err, n);
}

static void test_defaults_without_file(void **state)
{
	static struct map_registry reg;
	char err[256];
	struct map_def *m;

	(void)state;
	assert_int_equal(parse("", &reg, err, sizeof(err)), 0);
	assert_int_equal(reg.n, 6);
	m = map_registry_find(&reg, "users", 5);
	assert_non_null(m);
	assert_string_equal(m->query, "SELECT email, active FROM mailion.users WHERE email = ?");
	assert_string_equal(m->result_format, "%d/%u/");
	assert_int_equal(m->search.kind, SEARCH_VIRTUAL);
	assert_int_equal(map_registry_find(&reg, "access_maps", 11)->search.kind, SEARCH_ACCESS);
	assert_int_equal(map_registry_find(&reg, "transport_maps", 14)->search.kind, SEARCH_TRANSPORT);
	assert_null(map_registry_find(&reg, "user", 4));
	/* Postfix's defaults: relay_domains is a domain list matching subdomains
	 * (parent_domain_matches_subdomains), virtual_mailbox_domains a plain
	 * list; virtual_alias_maps propagate an unmatched extension. */
	assert_int_equal(map_registry_find(&reg, "relay_domains", 13)->search.parent_domains,
			 SEARCH_PARENT_PLAIN);
	assert_int_equal(map_registry_find(&reg, "domains", 7)->search.parent_domains,
			 SEARCH_PARENT_DEFAULT);
	assert_int_equal(map_registry_find(&reg, "virtual_aliases", 15)->propagate_ext, 1);
	assert_int_equal(m->propagate_ext, 0);
}

static void test_override_and_new_map(void **state)
{
	static struct map_registry reg;
	char err[256];
	struct map_def *m;

	(void)state;
	assert_int_equal(parse("# comment\n"
			       "[users]\n"
			       "  result_format = %u@%d\n"
			       "cache_ttl = 60\r\n"
			       "\n"
			       "; another comment\n"
			       "[sender_login_maps]\n"
			       "query = SELECT owner FROM mailion.logins WHERE address = ?\n"
			       "search = virtual\n"
			       "negative_ttl = 0\n"
			       "[relay_domains]\n"
			       "parent_domains = yes\n"
			       "fold_case = no\n", &reg, err, sizeof(err)), 0);
	assert_int_equal(reg.n, 7);
	m = map_registry_find(&reg, "users", 5);
	assert_string_equal(m->result_format, "%u@%d");
	assert_int_equal(m->ttl_ms, 60000);
	assert_int_equal(m->negative_ttl_ms, 30000);
	m = map_registry_find(&reg, "sender_login_maps", 17);
	assert_non_null(m);
	assert_int_equal(m->id, 6);
	assert_string_equal(m->result_format, "%s");
	assert_int_equal(m->search.kind, SEARCH_VIRTUAL);
	assert_string_equal(m->search.delimiters, "+");
	assert_int_equal(m->negative_ttl_ms, 0);
	m = map_registry_find(&reg, "relay_domains", 13);
	assert_int_equal(m->search.parent_domains, 1);
	assert_int_equal(m->fold_case, 0);
}

/* expect_error - the parse fails and the message holds want */
static void expect_error(const char *text, const char *want)
{
	static struct map_registry reg;
	char err[512];

	assert_int_equal(parse(text, &reg, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("[users]\nresult_format = %x\n", "line 2: [users] result_format has an unknown");
	expect_error("query = SELECT a FROM t WHERE k = ?\n", "line 1: parameter outside");
	expect_error("[users]\nbogus = 1\n", "line 2: [users] unknown parameter 'bogus'");
	expect_error("[users]\nquery = DELETE FROM t WHERE k = ?\n", "must be a SELECT");
	expect_error("[users]\nquery = SELECT a FROM t WHERE k = ? AND j = ?\n", "exactly one bind marker");
	expect_error("[users]\nquery = SELECT a FROM t WHERE k = '?'\n", "exactly one bind marker");
	expect_error("[users]\nquery = SELECT a FROM t WHERE k = 'x\n", "unterminated quote");
	expect_error("[users]\nsearch = fuzzy\n", "line 2: [users] search 'fuzzy'");
	expect_error("[users]\ncache_ttl = -1\n", "cache_ttl '-1'");
	expect_error("[users]\nparent_domains = maybe\n", "expected yes, dot or no");
	expect_error("[users]\nfold_case = maybe\n", "expected yes or no");
	expect_error("[bad name]\n", "line 1: bad map name");
	expect_error("[users\n", "line 1: expected [map_name]");
	expect_error("[x]\nsearch = exact\n", "map [x] has no query");
	expect_error("[users]\njust words\n", "line 2: expected 'name = value'");
}

/*
 * The README's own example, verbatim: a '#' after a blank starts a
 * comment, on parameter and section lines alike (issue 11, item 9: the
 * comment had become part of result_format).
 */
static void test_readme_example_inline_comments(void **state)
{
	static struct map_registry reg;
	struct map_def *m;
	char err[512];

	(void)state;
	assert_int_equal(parse(
		"[users]\n"
		"query          = SELECT email, active FROM mailion.users WHERE email = ?\n"
		"result_format  = %d/%u/          # %s value, %u local part, %d domain, %% percent\n"
		"search         = virtual         # exact, virtual, access, transport, domain\n"
		"parent_domains = no\n"
		"fold_case      = yes\n"
		"cache_ttl      = 300             # seconds; 0: never cached\n"
		"negative_ttl   = 30\n"
		"stale_ttl      = 3600\n"
		"\n"
		"[sender_login_maps]              # a new map name: no code change\n"
		"query  = SELECT owner FROM mailion.sender_logins WHERE address = ?\n"
		"search = exact\n", &reg, err, sizeof(err)), 0);
	m = map_registry_find(&reg, "users", 5);
	assert_string_equal(m->result_format, "%d/%u/");
	assert_int_equal(m->search.kind, SEARCH_VIRTUAL);
	assert_int_equal(m->search.parent_domains, SEARCH_PARENT_NONE);
	assert_int_equal(m->ttl_ms, 300000);
	m = map_registry_find(&reg, "sender_login_maps", 17);
	assert_non_null(m);
	assert_int_equal(m->search.kind, SEARCH_EXACT);
	/* Inside quotes, and without a blank before it, '#' is data. */
	assert_int_equal(parse("[x]\nquery = SELECT a FROM t WHERE k = ? AND j = ' #x'\n"
			       "result_format = smtp:[%s]#25  # port\n"
			       "parent_domains = dot\n", &reg, err, sizeof(err)), 0);
	m = map_registry_find(&reg, "x", 1);
	assert_string_equal(m->query, "SELECT a FROM t WHERE k = ? AND j = ' #x'");
	assert_string_equal(m->result_format, "smtp:[%s]#25");
	assert_int_equal(m->search.parent_domains, SEARCH_PARENT_DOT);
}

static void test_query_check(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(config_query_check("select a from t where k = ?", &why), 0);
	assert_int_equal(config_query_check("SELECT a FROM t WHERE k = ?;", &why), 0);
	assert_int_equal(config_query_check("SELECT a FROM t WHERE k = ?; DROP TABLE t", &why), -1);
	assert_int_equal(config_query_check("SELECTa FROM t WHERE k = ?", &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_file),
		cmocka_unit_test(test_override_and_new_map),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_query_check),
		cmocka_unit_test(test_readme_example_inline_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
