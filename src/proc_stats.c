/*
 * proc_stats - this process's resources from /proc (see proc_stats.h)
 *
 * DESCRIPTION
 *	proc(5): /proc/PID/stat is "pid (comm) state ppid ..." where comm
 *	may hold blanks and parentheses, so the fields are counted from the
 *	last ')'. Field 14 utime, 15 stime (clock ticks), 22 starttime
 *	(clock ticks after boot), 23 vsize (bytes), 24 rss (pages).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "proc_stats.h"

#define PROC_STAT_LINE_MAX	1024	/* bytes of /proc/self/stat */
#define PROC_FIELD_UTIME	14
#define PROC_FIELD_STIME	15
#define PROC_FIELD_STARTTIME	22
#define PROC_FIELD_VSIZE	23
#define PROC_FIELD_RSS		24
#define PROC_FIELD_AFTER_COMM	3	/* the field after ")" */

/* proc_stats_parse - the fields we use of one stat line */
int proc_stats_parse(const char *line, size_t len, unsigned long long *cpu_ticks,
		     unsigned long long *start_ticks, unsigned long long *vsize,
		     long long *rss_pages)
{
	char buf[PROC_STAT_LINE_MAX + 1], *p, *tok, *save = NULL;
	unsigned long long utime = 0;
	int field = PROC_FIELD_AFTER_COMM, seen = 0;

	if (len > PROC_STAT_LINE_MAX)
		return -1;
	memcpy(buf, line, len);
	buf[len] = 0;
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case PROC_FIELD_UTIME:
			utime = strtoull(tok, NULL, 10);
			seen++;
			break;
		case PROC_FIELD_STIME:
			*cpu_ticks = utime + strtoull(tok, NULL, 10);
			seen++;
			break;
		case PROC_FIELD_STARTTIME:
			*start_ticks = strtoull(tok, NULL, 10);
			seen++;
			break;
		case PROC_FIELD_VSIZE:
			*vsize = strtoull(tok, NULL, 10);
			seen++;
			break;
		case PROC_FIELD_RSS:
			*rss_pages = strtoll(tok, NULL, 10);
			return ++seen == 5 ? 0 : -1;
		default:
			break;
		}
	}
	return -1;
}

/* open_fds - entries of /proc/self/fd, less the one reading it; -1 unknown */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* proc_stats_read - this process, now */
int proc_stats_read(struct proc_stats *ps)
{
	char line[PROC_STAT_LINE_MAX];
	unsigned long long cpu, start, vsize;
	long long rss;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct timespec boot, real;
	struct rlimit rl;
	FILE *fp = fopen("/proc/self/stat", "r");
	size_t n;

	if (fp == NULL)
		return -1;
	n = fread(line, 1, sizeof(line), fp);
	fclose(fp);
	if (hz <= 0 || page <= 0 || proc_stats_parse(line, n, &cpu, &start, &vsize, &rss) != 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_REALTIME, &real) != 0)
		return -1;
	/* Started (now since boot - start since boot) seconds ago. */
	ps->start_time_s = (double)real.tv_sec + real.tv_nsec / 1e9 -
			   ((double)boot.tv_sec + boot.tv_nsec / 1e9 - (double)start / (double)hz);
	ps->cpu_s = (double)cpu / (double)hz;
	ps->virtual_bytes = (double)vsize;
	ps->resident_bytes = (double)rss * (double)page;
	ps->open_fds = open_fds();
	ps->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
		      (long)rl.rlim_cur : -1;
	return 0;
}
