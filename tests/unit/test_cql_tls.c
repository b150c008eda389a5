/*
 * test_cql_tls - which identity a CQL connection verifies and announces,
 * and how a failed TLS connection is described
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cql/cql_tls.h"

static void test_address_literals(void **state)
{
	(void)state;
	assert_true(cql_tls_is_address("127.0.0.1"));
	assert_true(cql_tls_is_address("::1"));
	assert_true(cql_tls_is_address("2001:db8::7"));
	assert_false(cql_tls_is_address("cassandra.eu-west-1.amazonaws.com"));
	assert_false(cql_tls_is_address("localhost"));
	assert_false(cql_tls_is_address("[::1]"));	/* brackets are CASSANDRA_HOSTS syntax */
	assert_false(cql_tls_is_address("10.0.0"));
	assert_false(cql_tls_is_address(""));
}

static void test_peer_identity(void **state)
{
	(void)state;
	/* Keyspaces: every address of the endpoint presents the endpoint's name. */
	assert_string_equal(cql_tls_peer_identity("cassandra.eu-west-1.amazonaws.com", "3.248.244.41"),
			    "cassandra.eu-west-1.amazonaws.com");
	/* A contact given by address: each node is verified as its own address. */
	assert_string_equal(cql_tls_peer_identity("10.0.0.1", "10.0.0.2"), "10.0.0.2");
	assert_string_equal(cql_tls_peer_identity("fd00::1", "fd00::2"), "fd00::2");
}

/* ssl_for - a verifying connection object for host */
static SSL *ssl_for(SSL_CTX **ctx, const char *host)
{
	struct cql_tls_config cfg;
	char err[256];
	SSL *ssl;

	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = 1;
	cfg.verify = 1;
	*ctx = cql_tls_ctx_new(&cfg, err, sizeof(err));
	assert_non_null(*ctx);
	ssl = cql_tls_new_ssl(*ctx, host, 1);
	assert_non_null(ssl);
	return ssl;
}

static void test_names_get_sni_and_host_check(void **state)
{
	SSL_CTX *ctx;
	SSL *ssl = ssl_for(&ctx, "cassandra.eu-west-1.amazonaws.com");
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

	(void)state;
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
			    "cassandra.eu-west-1.amazonaws.com");
	assert_string_equal(X509_VERIFY_PARAM_get0_host(param, 0),
			    "cassandra.eu-west-1.amazonaws.com");
	assert_null(X509_VERIFY_PARAM_get1_ip_asc(param));
	assert_int_equal(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER, SSL_VERIFY_PEER);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

static void test_addresses_get_ip_check_and_no_sni(void **state)
{
	SSL_CTX *ctx;
	SSL *ssl = ssl_for(&ctx, cql_tls_peer_identity("10.0.0.1", "10.0.0.2"));
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	char *ip;

	(void)state;
	/* RFC 6066: SNI carries names only. */
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	assert_null(X509_VERIFY_PARAM_get0_host(param, 0));
	ip = X509_VERIFY_PARAM_get1_ip_asc(param);
	assert_non_null(ip);
	assert_string_equal(ip, "10.0.0.2");
	OPENSSL_free(ip);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* A socket failing under TLS reads as on plain TCP, not as error:00000005 (issue 14). */
static void test_socket_errors_under_tls_name_the_reason(void **state)
{
	char out[256];

	(void)state;
	errno = ECONNREFUSED;
	cql_tls_error(NULL, SSL_ERROR_SYSCALL, out, sizeof(out));
	assert_string_equal(out, "Connection refused");
	errno = 0;
	cql_tls_error(NULL, SSL_ERROR_SYSCALL, out, sizeof(out));
	assert_string_equal(out, "connection closed during the TLS handshake");
	/* A real OpenSSL error keeps its text. */
	errno = 0;
	cql_tls_error(NULL, ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER), out, sizeof(out));
	assert_non_null(strstr(out, "TLS error: "));
	assert_non_null(strstr(out, "wrong version number"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_literals),
		cmocka_unit_test(test_peer_identity),
		cmocka_unit_test(test_names_get_sni_and_host_check),
		cmocka_unit_test(test_addresses_get_ip_check_and_no_sni),
		cmocka_unit_test(test_socket_errors_under_tls_name_the_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
