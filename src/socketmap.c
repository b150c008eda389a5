/*
 * socketmap - Postfix socketmap requests and replies (see socketmap.h)
 */
#include <string.h>

#include "netstring.h"
#include "socketmap.h"

/* socketmap_parse_request - split "name key" */
int socketmap_parse_request(const char *p, size_t len,
			    struct socketmap_request *req, const char **why)
{
	const char *sp = memchr(p, ' ', len);
	size_t i;

	if (sp == NULL) {
		*why = "request has no space between name and key";
		return -1;
	}
	req->name = p;
	req->name_len = (size_t)(sp - p);
	req->key = sp + 1;
	req->key_len = len - req->name_len - 1;
	if (req->name_len == 0) {
		*why = "request has an empty map name";
		return -1;
	}
	if (req->name_len > SOCKETMAP_NAME_MAX) {
		*why = "request map name is too long";
		return -1;
	}
	for (i = 0; i < req->name_len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x21 || c == 0x7f) {
			*why = "request map name holds a control character";
			return -1;
		}
	}
	*why = NULL;
	return 0;
}

/* socketmap_status_name - the status word on the wire */
const char *socketmap_status_name(enum socketmap_status st)
{
	switch (st) {
	case SOCKETMAP_OK: return "OK";
	case SOCKETMAP_NOTFOUND: return "NOTFOUND";
	case SOCKETMAP_TEMP: return "TEMP";
	case SOCKETMAP_PERM: return "PERM";
	}
	return "PERM";
}

/* socketmap_encode_reply - append one reply netstring */
int socketmap_encode_reply(struct buf *b, enum socketmap_status st,
			   const char *data, size_t len)
{
	const char *word = socketmap_status_name(st);
	size_t wlen = strlen(word);
	size_t total = wlen + 1 + len;

	if (len > SOCKETMAP_REPLY_MAX || total > SOCKETMAP_REPLY_MAX)
		return -1;
	/* One reservation for the whole frame; a failure sets b->oom. */
	if (buf_reserve(b, NETSTRING_HEAD_MAX + total + 1) != 0)
		return 0;
	netstring_encode_head(b, total);
	buf_append(b, word, wlen);
	buf_append_byte(b, ' ');
	buf_append(b, data, len);
	buf_append_byte(b, ',');
	return 0;
}
