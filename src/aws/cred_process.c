/*
 * cred_process - run a profile's credential_process on the event loop
 * (see cred_process.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "aws/cred_json.h"
#include "aws/cred_process.h"

#define PROC_ERR_KEEP		512	/* bytes of stderr kept for the reason */
#define PROC_ERR_SHOW		200	/* ... of which the reason shows this many */
#define PROC_REAP_MS		10	/* poll for the exit after both pipes closed */
#define PROC_REASON_MAX		512	/* bytes of a failure reason */
#define PROC_READS_PER_WAKE	16	/* then back to the loop: a chatty command cannot hog it */

enum { OUT, ERR };

struct cred_process {
	struct event_base *base;
	pid_t pid;
	int fd[2];			/* stdout, stderr read ends; -1: closed */
	struct event *ev[2];
	struct event *timer;		/* the deadline, then the reaping polls */
	int64_t deadline_ms;
	long timeout_ms;
	char *out;			/* CRED_JSON_MAX + 1 bytes */
	size_t outlen;
	char err[PROC_ERR_KEEP];
	size_t errlen;
	cred_process_fn done;
	void *arg;
};

/* close_pipe - stop reading one pipe */
static void close_pipe(struct cred_process *cp, int i)
{
	if (cp->ev[i]) {
		event_free(cp->ev[i]);
		cp->ev[i] = NULL;
	}
	if (cp->fd[i] >= 0) {
		close(cp->fd[i]);
		cp->fd[i] = -1;
	}
}

/* kill_and_reap - end the command's process group and collect its status */
static int kill_and_reap(struct cred_process *cp)
{
	int st = 0;

	if (cp->pid <= 0)
		return 0;
	kill(-cp->pid, SIGKILL);
	kill(cp->pid, SIGKILL);
	while (waitpid(cp->pid, &st, 0) < 0 && errno == EINTR)
		;
	cp->pid = 0;
	return st;
}

/* release - free everything; the command is gone */
static void release(struct cred_process *cp)
{
	close_pipe(cp, OUT);
	close_pipe(cp, ERR);
	if (cp->timer)
		event_free(cp->timer);
	if (cp->out) {
		OPENSSL_cleanse(cp->out, CRED_JSON_MAX + 1);
		free(cp->out);
	}
	free(cp);
}

/* finish - tell the caller once, then free */
static void finish(struct cred_process *cp, const struct aws_credentials *c, const char *reason)
{
	cred_process_fn done = cp->done;
	void *arg = cp->arg;

	if (cp->pid > 0)
		kill_and_reap(cp);
	release(cp);
	done(arg, c, reason);
}

/*
 * stderr_line - the first non-blank line of what the command said, at
 * most PROC_ERR_SHOW bytes; control characters become '?' as the logger
 * makes them (the reason is also printed by --check).
 */
static void stderr_line(const struct cred_process *cp, char *out, size_t size)
{
	const char *p = cp->err, *end = cp->err + cp->errlen;
	size_t n = 0;
	unsigned char c;

	while (p < end && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p != '\n' && *p != '\r' && n + 1 < size && n < PROC_ERR_SHOW; p++) {
		c = (unsigned char)*p;
		out[n++] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = 0;
}

/* exited - the command ended with status st: judge it */
static void exited(struct cred_process *cp, int st)
{
	struct aws_credentials c;
	char line[PROC_ERR_SHOW + 1], why[PROC_REASON_MAX / 2], reason[PROC_REASON_MAX];

	cp->pid = 0;
	stderr_line(cp, line, sizeof(line));
	if (WIFSIGNALED(st)) {
		snprintf(reason, sizeof(reason), "credential_process killed by signal %d%s%s",
			 WTERMSIG(st), line[0] ? ": " : "", line);
		finish(cp, NULL, reason);
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(reason, sizeof(reason), "credential_process exited with status %d%s%s",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, line[0] ? ": " : "", line);
		finish(cp, NULL, reason);
		return;
	}
	if (cred_process_parse(cp->out, cp->outlen, &c, why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "credential_process output: %s", why);
		finish(cp, NULL, reason);
		return;
	}
	finish(cp, &c, NULL);
	aws_credentials_wipe(&c);
}

/* try_reap - both pipes closed: has the command exited? */
static void try_reap(struct cred_process *cp)
{
	struct timeval tv = { 0, PROC_REAP_MS * 1000 };
	int64_t left = cp->deadline_ms - clock_now_ms();
	int st = 0;
	pid_t r;

	while ((r = waitpid(cp->pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == cp->pid) {
		exited(cp, st);
		return;
	}
	if (r < 0) {
		char reason[128];

		snprintf(reason, sizeof(reason), "credential_process: waitpid: %s", strerror(errno));
		cp->pid = 0;
		finish(cp, NULL, reason);
		return;
	}
	/* Closed its output but still running (a daemonized child holds
	 * nothing of ours): poll until it exits or the deadline. */
	if (left < PROC_REAP_MS)
		tv.tv_usec = left > 0 ? (suseconds_t)left * 1000 : 0;
	evtimer_add(cp->timer, &tv);
}

/* read_cb - drain one pipe */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_process *cp = arg;
	int i = fd == cp->fd[OUT] ? OUT : ERR;
	char scratch[4096], reason[128];
	ssize_t n;
	int reads = 0;

	(void)what;
	for (;;) {
		if (reads++ == PROC_READS_PER_WAKE)
			return;		/* EV_PERSIST: called again while there is more */
		if (i == OUT) {
			n = read(fd, cp->out + cp->outlen, CRED_JSON_MAX + 1 - cp->outlen);
			if (n > 0 && (cp->outlen += (size_t)n) > CRED_JSON_MAX) {
				snprintf(reason, sizeof(reason),
					 "credential_process output over %d bytes", CRED_JSON_MAX);
				finish(cp, NULL, reason);
				return;
			}
		} else {
			n = read(fd, scratch, sizeof(scratch));
			if (n > 0 && cp->errlen < sizeof(cp->err)) {
				size_t keep = sizeof(cp->err) - cp->errlen;

				keep = (size_t)n < keep ? (size_t)n : keep;
				memcpy(cp->err + cp->errlen, scratch, keep);
				cp->errlen += keep;
			}
		}
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;			/* EOF or an error: this pipe is done */
	}
	close_pipe(cp, i);
	if (cp->fd[OUT] < 0 && cp->fd[ERR] < 0) {
		evtimer_del(cp->timer);
		try_reap(cp);
	}
}

/* timer_cb - the deadline, or a reaping poll */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_process *cp = arg;
	char reason[128];

	(void)fd;
	(void)what;
	if (clock_now_ms() >= cp->deadline_ms) {
		snprintf(reason, sizeof(reason), "credential_process did not finish in %ld ms",
			 cp->timeout_ms);
		finish(cp, NULL, reason);
		return;
	}
	try_reap(cp);
}

/* child - set up and exec the command (async-signal-safe calls only); never returns */
static void child(const char *command, int out, int err)
{
	char *const argv[] = { "sh", "-c", (char *)command, NULL };
	struct sigaction dfl;
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);	/* ignored dispositions survive exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	closefrom(3);
	execv("/bin/sh", argv);
	_exit(127);
}

/* cred_process_run - start the command */
struct cred_process *cred_process_run(struct event_base *base, const char *command,
				      long timeout_ms, cred_process_fn done, void *arg,
				      char *err, size_t errlen)
{
	struct cred_process *cp = calloc(1, sizeof(*cp));
	struct timeval tv;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, i;

	if (cp == NULL || (cp->out = malloc(CRED_JSON_MAX + 1)) == NULL) {
		snprintf(err, errlen, "credential_process: out of memory");
		free(cp);
		return NULL;
	}
	cp->base = base;
	cp->fd[OUT] = cp->fd[ERR] = -1;
	cp->done = done;
	cp->arg = arg;
	cp->timeout_ms = timeout_ms;
	cp->deadline_ms = clock_now_ms() + timeout_ms;
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "credential_process: pipe: %s", strerror(errno));
		goto fail;
	}
	cp->pid = fork();
	if (cp->pid < 0) {
		snprintf(err, errlen, "credential_process: fork: %s", strerror(errno));
		cp->pid = 0;
		goto fail;
	}
	if (cp->pid == 0)
		child(command, po[1], pe[1]);
	setpgid(cp->pid, cp->pid);	/* also here: no race with an early kill */
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	cp->fd[OUT] = po[0];
	cp->fd[ERR] = pe[0];
	cp->timer = evtimer_new(base, timer_cb, cp);
	for (i = 0; i < 2; i++) {
		evutil_make_socket_nonblocking(cp->fd[i]);
		cp->ev[i] = event_new(base, cp->fd[i], EV_READ | EV_PERSIST, read_cb, cp);
		if (cp->ev[i] == NULL || event_add(cp->ev[i], NULL) != 0)
			break;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (cp->timer == NULL || i < 2 || evtimer_add(cp->timer, &tv) != 0) {
		snprintf(err, errlen, "credential_process: cannot watch its output");
		kill_and_reap(cp);
		release(cp);
		return NULL;
	}
	return cp;
fail:
	for (i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	release(cp);
	return NULL;
}

/* cred_process_cancel - kill, reap, free; done is not called */
void cred_process_cancel(struct cred_process *cp)
{
	if (cp == NULL)
		return;
	kill_and_reap(cp);
	release(cp);
}
