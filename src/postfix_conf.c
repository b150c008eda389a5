/*
 * postfix_conf - compare our settings with the local Postfix's (see .h)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postfix_conf.h"

#define POSTCONF_OUTPUT_MAX	512	/* bytes of postconf output kept */
#define POSTCONF_PATH_MAX	1024	/* bytes in a candidate path */
#define POSTCONF_ARGV_MAX	6	/* postconf -c DIR -h NAME, NULL */

static const char *const postconf_fallback[] = {
	"/usr/sbin/postconf", "/usr/local/sbin/postconf",
};

/* delimiter_sets_equal - 1 if a and b hold the same characters */
int delimiter_sets_equal(const char *a, const char *b)
{
	const char *p;

	for (p = a; *p; p++)
		if (strchr(b, *p) == NULL)
			return 0;
	for (p = b; *p; p++)
		if (strchr(a, *p) == NULL)
			return 0;
	return 1;
}

/* find_postconf - the postconf program on PATH or in sbin; 0 if found */
static int find_postconf(char *path, size_t size)
{
	const char *env = getenv("PATH");
	size_t i;

	while (env && *env) {
		size_t n = strcspn(env, ":");

		if (n > 0 && (size_t)snprintf(path, size, "%.*s/postconf", (int)n, env) < size &&
		    access(path, X_OK) == 0)
			return 0;
		env += n + (env[n] == ':');
	}
	for (i = 0; i < sizeof(postconf_fallback) / sizeof(postconf_fallback[0]); i++)
		if (access(postconf_fallback[i], X_OK) == 0) {
			snprintf(path, size, "%s", postconf_fallback[i]);
			return 0;
		}
	return -1;
}

/* read_line - read fd to EOF, keep its first line in out */
static void read_line(int fd, char *out, size_t size)
{
	char sink[POSTCONF_OUTPUT_MAX];
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (len < size - 1)
			n = read(fd, out + len, size - 1 - len);
		else
			n = read(fd, sink, sizeof(sink));	/* drain the rest */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < size - 1)
			len += (size_t)n;
	}
	out[len] = 0;
	out[strcspn(out, "\n")] = 0;
}

/*
 * run_postconf - `postconf [-c DIR] -h NAME`: the first line of its
 * output into out (of its errors when it fails). Returns its exit status,
 * or -1 if it could not be run. No shell: the directory comes from the
 * environment.
 */
static int run_postconf(const char *prog, const char *dir, const char *name,
			char *out, size_t size)
{
	const char *argv[POSTCONF_ARGV_MAX];
	char errs[POSTCONF_OUTPUT_MAX];
	int so[2], se[2], status, argc = 0;
	pid_t pid;

	argv[argc++] = "postconf";
	if (dir) {
		argv[argc++] = "-c";
		argv[argc++] = dir;
	}
	argv[argc++] = "-h";
	argv[argc++] = name;
	argv[argc] = NULL;
	if (pipe(so) != 0)
		return -1;
	if (pipe(se) != 0) {
		close(so[0]);
		close(so[1]);
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(so[0]);
		close(so[1]);
		close(se[0]);
		close(se[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(so[1], STDOUT_FILENO);
		dup2(se[1], STDERR_FILENO);
		close(so[0]);
		close(so[1]);
		close(se[0]);
		close(se[1]);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(so[1]);
	close(se[1]);
	/* postconf writes a line or two: neither pipe can fill while the other is read. */
	read_line(so[0], out, size);
	read_line(se[0], errs, sizeof(errs));
	close(so[0]);
	close(se[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) != 0)
		snprintf(out, size, "%s", errs);
	return WEXITSTATUS(status);
}

/* postfix_delimiter_report - one --check line; returns 1 if they differ */
int postfix_delimiter_report(const char *ours, FILE *fp)
{
	char prog[POSTCONF_PATH_MAX], theirs[POSTCONF_OUTPUT_MAX];
	const char *dir = getenv("MAIL_CONFIG");
	int rc;

	if (dir && *dir == 0)
		dir = NULL;
	if (find_postconf(prog, sizeof(prog)) != 0) {
		fprintf(fp, "  delimiter    '%s'; not compared with Postfix (no postconf here)\n", ours);
		return 0;
	}
	if ((rc = run_postconf(prog, dir, "recipient_delimiter", theirs, sizeof(theirs))) != 0) {
		fprintf(fp, "  delimiter    '%s'; not compared with Postfix (postconf%s%s: %s)\n",
			ours, dir ? " -c " : "", dir ? dir : "",
			rc < 0 ? "cannot run" : theirs);
		return 0;
	}
	if (delimiter_sets_equal(ours, theirs)) {
		fprintf(fp, "  delimiter    '%s', as Postfix's recipient_delimiter\n", ours);
		return 0;
	}
	fprintf(fp, "  delimiter    WARNING: RECIPIENT_DELIMITER '%s' differs from Postfix's "
		"recipient_delimiter '%s' (postconf%s%s): set them the same, or the daemon "
		"accepts or refuses addresses that Postfix's own tables would not\n",
		ours, theirs, dir ? " -c " : "", dir ? dir : "");
	return 1;
}
