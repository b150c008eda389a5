/*
 * socketmap - Postfix socketmap requests and replies (pure)
 *
 * SYNOPSIS
 *	#include "socketmap.h"
 *
 * DESCRIPTION
 *	Inside the netstring framing (netstring.h), a request is
 *	"<name> <key>" and a reply is "<status> <data>", status one of OK,
 *	NOTFOUND, TEMP, PERM (socketmap_table(5)). This module only parses
 *	and formats; which reply to give is the lookup engine's decision.
 */
#ifndef PAC_SOCKETMAP_H
#define PAC_SOCKETMAP_H

#include <stddef.h>

#include "buf.h"

#define SOCKETMAP_NAME_MAX	64	/* bytes in a map name */
#define SOCKETMAP_REPLY_MAX	100000	/* Postfix's reply size limit */

enum socketmap_status {
	SOCKETMAP_OK,
	SOCKETMAP_NOTFOUND,
	SOCKETMAP_TEMP,
	SOCKETMAP_PERM,
};
#define SOCKETMAP_NSTATUS	4	/* the statuses above, for tables */

/* SOCKETMAP_TEXT - a string literal and its length, as reply data */
#define SOCKETMAP_TEXT(lit)	("" lit), (sizeof(lit) - 1)

struct socketmap_request {
	const char *name;	/* points into the payload, not terminated */
	size_t name_len;
	const char *key;	/* everything after the first space */
	size_t key_len;
};

/*
 * socketmap_parse_request - split "name key". Returns 0, or -1 with a
 * static reason when there is no space, the name is empty, too long or
 * holds a control character.
 */
int socketmap_parse_request(const char *p, size_t len,
			    struct socketmap_request *req, const char **why);

/*
 * socketmap_encode_reply - append the netstring of "<status> <data>".
 * Returns -1 (nothing appended) if the reply would exceed
 * SOCKETMAP_REPLY_MAX; the caller then answers PERM.
 */
int socketmap_encode_reply(struct buf *b, enum socketmap_status st,
			   const char *data, size_t len);

const char *socketmap_status_name(enum socketmap_status st);

#endif
