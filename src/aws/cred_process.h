/*
 * cred_process - run a profile's credential_process on the event loop
 *
 * SYNOPSIS
 *	#include "aws/cred_process.h"
 *
 * DESCRIPTION
 *	cred_process_run() starts "/bin/sh -c COMMAND" (as the Go and Java
 *	SDKs run it) in a process group of its own, with stdin from
 *	/dev/null, no descriptor of the daemon's, default signal handling
 *	and the daemon's environment. Its standard output (at most
 *	CRED_JSON_MAX bytes) is read on the loop and parsed with
 *	cred_process_parse() once the command has exited with status 0.
 *	done is called exactly once, from the loop, with the credentials or
 *	a reason: the exit status or signal with the first line of the
 *	command's standard error (printable characters only, at most 200),
 *	output too long, output that is not a credential document, or the
 *	timeout, after which the whole process group is killed.
 *
 *	The command itself is never logged: it may carry a secret.
 *
 *	cred_process_cancel() kills the process group, reaps the command and
 *	frees everything without calling done.
 *
 * DIAGNOSTICS
 *	cred_process_run() returns NULL with a reason in err when the pipes
 *	or the process cannot be made; done is then not called.
 */
#ifndef PAC_AWS_CRED_PROCESS_H
#define PAC_AWS_CRED_PROCESS_H

#include <stddef.h>

#include "aws/aws_base.h"

struct event_base;
struct cred_process;

typedef void (*cred_process_fn)(void *arg, const struct aws_credentials *creds,
				const char *reason);

struct cred_process *cred_process_run(struct event_base *base, const char *command,
				      long timeout_ms, cred_process_fn done, void *arg,
				      char *err, size_t errlen);
void cred_process_cancel(struct cred_process *cp);

#endif
