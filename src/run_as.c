/*
 * run_as - become the service before --check or --query (see run_as.h)
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env_file.h"
#include "run_as.h"

#define RUN_AS_FILE_MAX		(1024 * 1024)	/* bytes of an environment file */
#define RUN_AS_ERR_MAX		1024	/* bytes of a message: a path and the parser's reason */
#define RUN_AS_WHY_MAX		256	/* bytes of the parser's reason */
#define RUN_AS_EXIT_CONFIG	2
#define RUN_AS_EXIT_RUNTIME	1

/* put - env_file_fn: one assignment into the environment */
static int put(void *ctx, const char *name, const char *value)
{
	(void)ctx;
	return setenv(name, value, 1);
}

/* load - one environment file; 1 loaded, 0 absent (allowed), -1 error in err */
static int load(const char *path, int must_exist, char *err, size_t errlen)
{
	static char text[RUN_AS_FILE_MAX + 1];
	char why[RUN_AS_WHY_MAX];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text), fp);
	fclose(fp);
	if (n > RUN_AS_FILE_MAX) {
		snprintf(err, errlen, "%s: over %d bytes", path, RUN_AS_FILE_MAX);
		return -1;
	}
	if (env_file_parse(text, n, put, NULL, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%.512s: %s", path, why);
		return -1;
	}
	return 1;
}

/* run_as_service - systemd's environment, the files, then the user's ids */
int run_as_service(const char *progname, const char *user, const char *env_file)
{
	static const char *const unit_files[] = RUN_AS_ENV_FILES;
	char err[RUN_AS_ERR_MAX];
	struct passwd *pw;
	size_t i;

	if (user == NULL)
		user = RUN_AS_USER;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "%s: --as-service: no user '%s'\n", progname, user);
		return RUN_AS_EXIT_CONFIG;
	}
	/* The service starts from systemd's environment, not the caller's shell. */
	if (clearenv() != 0 || setenv("PATH", RUN_AS_PATH, 1) != 0 ||
	    setenv("HOME", pw->pw_dir, 1) != 0 || setenv("USER", pw->pw_name, 1) != 0 ||
	    setenv("LOGNAME", pw->pw_name, 1) != 0 || setenv("SHELL", pw->pw_shell, 1) != 0) {
		fprintf(stderr, "%s: --as-service: out of memory\n", progname);
		return RUN_AS_EXIT_RUNTIME;
	}
	for (i = 0; i < (env_file ? 1 : sizeof(unit_files) / sizeof(unit_files[0])); i++) {
		const char *path = env_file ? env_file : unit_files[i];

		if (load(path, env_file != NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: --as-service: configuration error: %s\n", progname, err);
			return RUN_AS_EXIT_CONFIG;
		}
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;	/* already the service's user */
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "%s: --as-service: cannot become %s: %s (run it as root)\n",
			progname, user, strerror(errno));
		return RUN_AS_EXIT_RUNTIME;
	}
	return 0;
}
