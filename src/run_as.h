/*
 * run_as - become the service before --check or --query: its user, its
 * environment files, systemd's environment
 *
 * SYNOPSIS
 *	#include "run_as.h"
 *
 * DESCRIPTION
 *	run_as_service() does for this process what systemd does for the
 *	unit's ExecStart= (postfix-aws-cassandra.service): the environment
 *	is replaced by systemd's (PATH, HOME, USER, LOGNAME, SHELL of the
 *	user) plus the assignments of the environment files, read as root
 *	(RUN_AS_ENV_FILES, each optional as the unit's "-" says, later ones
 *	winning; or the one file given, which must exist); then the process
 *	takes the user's groups, group and user id. What the daemon reads
 *	afterwards (a password file, the map file, ~/.aws) it reads with the
 *	service's rights. The unit's sandbox (ProtectSystem=, ProtectHome=,
 *	PrivateTmp=, ...) is not applied: systemd-run does that (README).
 *
 * DIAGNOSTICS
 *	0, or an exit code with a message on stderr: 2 for an unknown user
 *	or an unreadable environment file, 1 when the ids cannot be changed
 *	(not root).
 */
#ifndef PAC_RUN_AS_H
#define PAC_RUN_AS_H

#define RUN_AS_USER		"postfix"	/* the unit's User= and Group= */
#define RUN_AS_ENV_FILES	{ "/etc/default/postfix-aws-cassandra", \
				  "/etc/sysconfig/postfix-aws-cassandra" }
#define RUN_AS_PATH		"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"

/* run_as_service - user (NULL: RUN_AS_USER), env_file (NULL: the unit's) */
int run_as_service(const char *progname, const char *user, const char *env_file);

#endif
