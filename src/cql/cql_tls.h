/*
 * cql_tls - the TLS client context for CQL connections
 *
 * DESCRIPTION
 *	TLS 1.2 or later through OpenSSL. Certificates are verified against
 *	the system CA bundle or CASSANDRA_TLS_CA_FILE, and the host name (or
 *	IP address) the connection was made to must match the certificate;
 *	SNI carries the name. CASSANDRA_TLS_SERVER_NAME replaces that name
 *	for every node (an Amazon Keyspaces VPC endpoint reached by its own
 *	DNS name presents the regional endpoint's certificate). Verification
 *	can be turned off only explicitly, and the daemon then says so loudly.
 */
#ifndef PAC_CQL_TLS_H
#define PAC_CQL_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define CQL_TLS_PATH_MAX	1024	/* bytes in a certificate or key file name */
#define CQL_TLS_NAME_MAX	256	/* bytes in a server name, with its NUL */

struct cql_tls_config {
	int enabled;
	int verify;			/* certificate and host name */
	char ca_file[CQL_TLS_PATH_MAX];	/* empty: system bundle */
	char cert_file[CQL_TLS_PATH_MAX];	/* client certificate, optional */
	char key_file[CQL_TLS_PATH_MAX];
	char server_name[CQL_TLS_NAME_MAX];	/* SNI and name verified; empty: each node's */
};

/* cql_tls_ctx_new - a client context; NULL with err */
SSL_CTX *cql_tls_ctx_new(const struct cql_tls_config *cfg, char *err, size_t errlen);

/*
 * cql_tls_new_ssl - one connection's SSL object for host (a name or an
 * address literal): SNI for names, and the name or address to verify.
 */
SSL *cql_tls_new_ssl(SSL_CTX *ctx, const char *host, int verify);

/* cql_tls_is_address - is host an IPv4 or IPv6 address literal? */
int cql_tls_is_address(const char *host);

/*
 * cql_tls_peer_identity - what a node found in the peers tables is
 * verified as: the contact's name when the contact was given by name
 * (Amazon Keyspaces lists the endpoint's addresses, which all present the
 * endpoint's certificate), the node's own address when the contact was
 * given as an address (a certificate naming one node's address never
 * names another's).
 */
const char *cql_tls_peer_identity(const char *contact_host, const char *peer_address);

/* cql_tls_error - describe why a TLS connection failed */
void cql_tls_error(SSL *ssl, unsigned long ossl_err, char *out, size_t len);

#endif
