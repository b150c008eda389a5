/*
 * auth - cqld's server-side authenticators (CQL SASL exchange)
 *
 * SYNOPSIS
 *	#include "auth.h"
 *
 *	struct auth *auth_open(const char *spec, char *err, size_t errlen);
 *	const char *auth_class(const struct auth *a);
 *	void *auth_begin(struct auth *a);
 *	void auth_evaluate(struct auth *a, void *sess, const uint8_t *token,
 *			   int32_t len, struct auth_result *res);
 *	void auth_end(struct auth *a, void *sess);
 *	void auth_close(struct auth *a);
 *
 * DESCRIPTION
 *	The native protocol authenticates in a loop: after STARTUP the
 *	server answers AUTHENTICATE <class name>; the client sends
 *	AUTH_RESPONSE <token>; the server answers AUTH_CHALLENGE <bytes>
 *	(and the client another AUTH_RESPONSE), AUTH_SUCCESS <bytes>, or an
 *	ERROR (0x0100 Bad credentials). cqld.c runs that loop; what the
 *	tokens mean is the business of one backend per `--auth` mode.
 *
 *	A backend is a struct of function pointers (as OpenSMTPD's table
 *	backends): open parses the argument after "MODE:", begin makes the
 *	state of one connection's exchange, evaluate answers one client
 *	token. Adding a mode is one new file defining a struct auth_backend
 *	and one line in the registry of auth.c.
 *
 *	auth_open() takes the whole `--auth` argument, MODE:ARG, and
 *	returns NULL with a message in err when the mode is unknown, not
 *	built, or its argument is malformed.
 *
 *	Modes:
 *	password:USER:PASS	org.apache.cassandra.auth.PasswordAuthenticator;
 *				the one token is SASL PLAIN "[authzid]\0user\0pass"
 *	sigv4:KEYID:SECRET[:REGION]
 *				Amazon Keyspaces' SigV4 exchange (auth_sigv4.c:
 *				client "SigV4\0\0", server "nonce=...", client
 *				"signature=...,access_key=...,amzdate=...")
 *
 *	A mode registered with a NULL backend is known but not built in:
 *	auth_open() says "not supported by this build".
 */
#ifndef CQLD_AUTH_H
#define CQLD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define AUTH_MSG_MAX	512	/* error message, bytes */

/* What a backend made of one client token */
enum auth_step {
	AUTH_SUCCESS,		/* authenticated; token: AUTH_SUCCESS bytes */
	AUTH_CHALLENGE,		/* token: AUTH_CHALLENGE bytes, go on */
	AUTH_FAILED,		/* message: the Bad credentials error text */
};

struct auth_result {
	enum auth_step step;
	int null_token;		/* send a null [bytes] (AUTH_SUCCESS) */
	struct buf token;	/* owned by the caller: buf_init/buf_free */
	char message[AUTH_MSG_MAX];
};

/* One authentication mechanism */
struct auth_backend {
	const char *mode;		/* the MODE of --auth MODE:ARG */
	const char *class_name;		/* sent in AUTHENTICATE */
	/* open - parse ARG; NULL with err filled when it is malformed */
	void *(*open)(const char *arg, char *err, size_t errlen);
	/* begin - state of one connection's exchange (NULL: out of memory) */
	void *(*begin)(void *cfg);
	/* evaluate - answer one AUTH_RESPONSE token (len < 0: null) */
	void (*evaluate)(void *cfg, void *sess, const uint8_t *token,
			 int32_t len, struct auth_result *res);
	/* end - forget one exchange */
	void (*end)(void *cfg, void *sess);
	/* close - forget the configuration */
	void (*close)(void *cfg);
	/* control - a run-time command (cqld's "auth ARGS"); may be NULL */
	int (*control)(void *cfg, const char *args, struct buf *reply);
};

/* Backends (one file each) */
extern const struct auth_backend auth_password;
extern const struct auth_backend auth_sigv4;

struct auth;

/* auth_open - the authenticator for --auth MODE:ARG, or NULL and err */
struct auth *auth_open(const char *spec, char *err, size_t errlen);

/* auth_class - the authenticator class name AUTHENTICATE announces */
const char *auth_class(const struct auth *a);

/* auth_begin - state for a new exchange; NULL when out of memory */
void *auth_begin(struct auth *a);

/* auth_evaluate - answer one AUTH_RESPONSE token; res->token initialized */
void auth_evaluate(struct auth *a, void *sess, const uint8_t *token,
		   int32_t len, struct auth_result *res);

/* auth_end - forget an exchange (sess may be NULL) */
void auth_end(struct auth *a, void *sess);

/* auth_close - forget the authenticator (a may be NULL) */
void auth_close(struct auth *a);

/* auth_control - a run-time command for the backend; "ok ..."/"error ..." in reply */
int auth_control(struct auth *a, const char *args, struct buf *reply);

#endif
