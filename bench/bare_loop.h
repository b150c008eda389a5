/*
 * bare_loop - the bare-epoll socketmap server loop of the bench baselines
 *
 * SYNOPSIS
 *	#include "bare_loop.h"
 *
 *	typedef void (*bare_answer_fn)(const char *req, size_t n, struct buf *out);
 *	int bare_main(int argc, char **argv, const char *name, bare_answer_fn answer,
 *		      int (*extra_opt)(const char *opt, const char *val),
 *		      void (*on_hup)(void));
 *
 * DESCRIPTION
 *	bare_main() parses the options every bare server shares (--listen
 *	127.0.0.1:PORT, --port-file PATH, --trigger edge|level), listens, and
 *	serves until SIGTERM or SIGINT. For each connection it makes one read()
 *	per readiness event into a per-connection buffer, decodes every complete
 *	netstring there, calls answer() to append each reply's payload, and
 *	writes the whole batch of replies with one write(). No event library, no
 *	ioctl, no per-request allocation: the fewest system calls a socketmap
 *	server can make (one read, one write per request at one in flight).
 *	Options it does not know go to extra_opt() (returns 0 when it took the
 *	value, -1 when the option is unknown). On SIGHUP the loop calls
 *	on_hup() (when not NULL) between two batches.
 */
#ifndef PAC_BARE_LOOP_H
#define PAC_BARE_LOOP_H

#include <stddef.h>

#include "buf.h"

typedef void (*bare_answer_fn)(const char *req, size_t n, struct buf *out);

/* bare_main - parse options, listen, serve until a signal; exit status */
int bare_main(int argc, char **argv, const char *name, bare_answer_fn answer,
	      int (*extra_opt)(const char *opt, const char *val), void (*on_hup)(void));

#endif
