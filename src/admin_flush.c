/*
 * admin_flush - --flush: ask one running daemon to empty its cache
 *
 * SYNOPSIS
 *	#include "admin.h"
 *
 *	int admin_flush(const char *progname, const char *pid_arg);
 *
 * DESCRIPTION
 *	Sends SIGUSR1 to exactly one process: the one given by --pid PID,
 *	else the main PID systemd records for ADMIN_FLUSH_UNIT (what
 *	`systemctl kill -s USR1 --kill-whom=main` would pick). It never
 *	signals every process of the same name: other instances (a second
 *	unit, a test, an operator's --query) are none of its business.
 *
 *	Before signalling, the target's command line must name progname,
 *	so a stale or mistyped PID does not deliver SIGUSR1 (whose default
 *	action is to terminate) to an unrelated process.
 *
 * DIAGNOSTICS
 *	Exit 0 when the signal was sent. 1 when no daemon is running (the
 *	unit has no main PID, the PID is gone or is another program) or the
 *	signal was refused: EPERM is reported as such, with the hint to run
 *	as root or as the service's user, never as "not running".
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"

#define ADMIN_FLUSH_UNIT	"postfix-aws-cassandra.service"
#define ADMIN_FLUSH_SYSTEMCTL	"systemctl show --property=MainPID --value " \
				ADMIN_FLUSH_UNIT " 2>/dev/null"
#define FLUSH_PATH_MAX		64	/* "/proc/PID/cmdline" */
#define FLUSH_CMDLINE_MAX	4096	/* bytes of argv[0] read */
#define FLUSH_LINE_MAX		64	/* systemctl's one line */
#define FLUSH_EXIT_OK		0
#define FLUSH_EXIT_FAILED	1
#define FLUSH_EXIT_USAGE	2

/* parse_pid - a positive decimal PID, else 0 */
static pid_t parse_pid(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (end == s || *end != 0 || errno == ERANGE || n <= 0 || n > (long)INT32_MAX)
		return 0;
	return (pid_t)n;
}

/* systemd_main_pid - the unit's MainPID per systemctl; 0 when none or no systemctl */
static pid_t systemd_main_pid(void)
{
	char line[FLUSH_LINE_MAX] = "";
	FILE *fp = popen(ADMIN_FLUSH_SYSTEMCTL, "r");
	int ok;

	if (fp == NULL)
		return 0;
	ok = fgets(line, sizeof(line), fp) != NULL;
	(void)pclose(fp);
	return ok ? parse_pid(line) : 0;
}

/* is_progname - 1 when pid's argv[0] ends in progname; 0 not; -1 gone */
static int is_progname(pid_t pid, const char *progname)
{
	char path[FLUSH_PATH_MAX], argv0[FLUSH_CMDLINE_MAX];
	const char *base;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(argv0, 1, sizeof(argv0) - 1, fp);
	fclose(fp);
	argv0[n] = 0;			/* argv[0] ends at its NUL */
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	return strcmp(base, progname) == 0;
}

/* admin_flush - SIGUSR1 to the daemon named by pid_arg, else the unit's main PID */
int admin_flush(const char *progname, const char *pid_arg)
{
	pid_t pid;
	int is;

	if (pid_arg != NULL) {
		if ((pid = parse_pid(pid_arg)) == 0) {
			fprintf(stderr, "%s: --flush --pid '%s': expected a process id\n",
				progname, pid_arg);
			return FLUSH_EXIT_USAGE;
		}
	} else if ((pid = systemd_main_pid()) == 0) {
		fprintf(stderr, "%s: --flush: %s is not running (systemctl shows no main PID); "
			"for a daemon started by other means give --pid PID\n",
			progname, ADMIN_FLUSH_UNIT);
		return FLUSH_EXIT_FAILED;
	}
	if ((is = is_progname(pid, progname)) != 1) {
		fprintf(stderr, "%s: --flush: pid %d %s\n", progname, (int)pid,
			is < 0 ? "is not running" : "is not a running daemon of this program");
		return FLUSH_EXIT_FAILED;
	}
	if (kill(pid, SIGUSR1) != 0) {
		fprintf(stderr, "%s: --flush: pid %d: %s%s\n", progname, (int)pid, strerror(errno),
			errno == EPERM ? " (run it as root or as the service's user)" : "");
		return FLUSH_EXIT_FAILED;
	}
	printf("%s: cache flush requested from pid %d\n", progname, (int)pid);
	return FLUSH_EXIT_OK;
}
