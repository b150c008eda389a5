/*
 * cql_tls - the TLS client context for CQL connections (see cql_tls.h)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cql_tls.h"

/* last_error - the newest OpenSSL error as text */
static void last_error(char *out, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, out, len);
	else
		snprintf(out, len, "unknown error");
	ERR_clear_error();
}

/* cql_tls_ctx_new - TLS >= 1.2, peer verification as configured */
SSL_CTX *cql_tls_ctx_new(const struct cql_tls_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (ctx == NULL) {
		last_error(why, sizeof(why));
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (cfg->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (cfg->ca_file[0]) {
			if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
				last_error(why, sizeof(why));
				snprintf(err, errlen, "CASSANDRA_TLS_CA_FILE=%s: %s", cfg->ca_file, why);
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			last_error(why, sizeof(why));
			snprintf(err, errlen, "cannot load the system CA bundle: %s", why);
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (cfg->cert_file[0]) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
			last_error(why, sizeof(why));
			snprintf(err, errlen, "CASSANDRA_TLS_CERT_FILE=%s: %s", cfg->cert_file, why);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file[0] ? cfg->key_file : cfg->cert_file,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			last_error(why, sizeof(why));
			snprintf(err, errlen, "CASSANDRA_TLS_KEY_FILE=%s: %s",
				 cfg->key_file[0] ? cfg->key_file : cfg->cert_file, why);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* cql_tls_is_address - an IPv4 or IPv6 literal */
int cql_tls_is_address(const char *host)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
}

/* cql_tls_peer_identity - the contact's name, or the peer's own address */
const char *cql_tls_peer_identity(const char *contact_host, const char *peer_address)
{
	return cql_tls_is_address(contact_host) ? peer_address : contact_host;
}

/* cql_tls_new_ssl - SNI and the identity to verify */
SSL *cql_tls_new_ssl(SSL_CTX *ctx, const char *host, int verify)
{
	SSL *ssl = SSL_new(ctx);
	int is_ip;

	if (ssl == NULL)
		return NULL;
	is_ip = cql_tls_is_address(host);
	if (!is_ip)
		SSL_set_tlsext_host_name(ssl, host);	/* SNI is for names only */
	if (verify) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
			   : X509_VERIFY_PARAM_set1_host(param, host, 0)) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

/*
 * cql_tls_error - verification result first: it is what operators need.
 * libevent queues SSL_get_error()'s code (SSL_ERROR_SYSCALL, 5), not an
 * OpenSSL error, when the socket under TLS fails; such a code has no
 * library (ERR_GET_LIB 0) and the socket's errno, still set when the
 * caller runs at once, is the reason ("Connection refused"), as on the
 * plain-TCP path.
 */
void cql_tls_error(SSL *ssl, unsigned long ossl_err, char *out, size_t len)
{
	int sys_errno = errno;
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK) {
		snprintf(out, len, "TLS certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
		return;
	}
	if (ossl_err && ERR_GET_LIB(ossl_err) == 0) {
		if (sys_errno != 0)
			snprintf(out, len, "%s", strerror(sys_errno));
		else
			snprintf(out, len, "%s", ossl_err == SSL_ERROR_SYSCALL ?
				 "connection closed during the TLS handshake" : "TLS handshake failed");
		return;
	}
	if (ossl_err) {
		char buf[256];

		ERR_error_string_n(ossl_err, buf, sizeof(buf));
		snprintf(out, len, "TLS error: %s", buf);
		return;
	}
	snprintf(out, len, "TLS handshake failed");
}
