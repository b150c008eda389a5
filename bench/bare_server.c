/*
 * bare-server - bare-epoll socketmap reply server: the loopback limit
 *
 * SYNOPSIS
 *	bare-server [--listen 127.0.0.1:PORT] [--port-file PATH] [--trigger edge|level]
 *
 * DESCRIPTION
 *	Answers every socketmap request "name key" at once, with no lookup,
 *	with the reply the daemon gives for the bench's keys ("OK
 *	<domain>/<localpart>/" for a key with an '@', the users map's
 *	result_format %d/%u/; "OK <key>" otherwise), as build/sm-echo does,
 *	but on the bare loop of bench/bare_loop.c: one read() and one write()
 *	per batch, no event library. It is scenario 1's loopback limit: what a
 *	socketmap server costs on this machine when lookups are free and the
 *	server does nothing else.
 */
#include <string.h>

#include "bare_loop.h"

/* echo_answer - "OK d/u/" for user@domain, "OK key" otherwise */
static void echo_answer(const char *req, size_t n, struct buf *out)
{
	const char *key = memchr(req, ' ', n), *at;
	size_t klen;

	if (key == NULL) {
		buf_append_str(out, "PERM malformed request");
		return;
	}
	key++;
	klen = n - (size_t)(key - req);
	buf_append_str(out, "OK ");
	if ((at = memchr(key, '@', klen)) == NULL) {
		buf_append(out, key, klen);
		return;
	}
	buf_append(out, at + 1, klen - (size_t)(at + 1 - key));
	buf_append_byte(out, '/');
	buf_append(out, key, (size_t)(at - key));
	buf_append_byte(out, '/');
}

/* main - serve until SIGTERM */
int main(int argc, char **argv)
{
	return bare_main(argc, argv, "bare-server", echo_answer, NULL, NULL);
}
