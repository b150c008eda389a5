/*
 * proc_stats - this process's resources, as Prometheus' process collector
 * reports them (Linux /proc)
 *
 * SYNOPSIS
 *	#include "proc_stats.h"
 *
 * DESCRIPTION
 *	proc_stats_read() fills the values behind process_start_time_seconds,
 *	process_cpu_seconds_total, process_open_fds, process_max_fds,
 *	process_virtual_memory_bytes and process_resident_memory_bytes (the
 *	names of client_golang's and client_python's process collectors).
 *	It reads /proc/self/stat and /proc/self/fd only, which the unit's
 *	ProcSubset=pid leaves visible: the start time is derived from the
 *	process's start in clock ticks since boot and CLOCK_BOOTTIME, not
 *	from /proc/stat's btime, which that sandbox hides.
 *	proc_stats_parse() is the pure part: one /proc/PID/stat line.
 *
 * DIAGNOSTICS
 *	0, or -1 when /proc/self/stat cannot be read or parsed (the caller
 *	then leaves the process metrics out). An unreadable /proc/self/fd
 *	gives open_fds -1.
 */
#ifndef PAC_PROC_STATS_H
#define PAC_PROC_STATS_H

#include <stddef.h>

struct proc_stats {
	double start_time_s;		/* since the Unix epoch */
	double cpu_s;			/* user + system */
	double virtual_bytes;
	double resident_bytes;
	long open_fds;			/* -1: unknown */
	long max_fds;			/* soft RLIMIT_NOFILE; -1: unlimited */
};

/* proc_stats_read - this process, now; 0 or -1 */
int proc_stats_read(struct proc_stats *ps);

/*
 * proc_stats_parse - fields of a /proc/PID/stat line: CPU ticks (utime +
 * stime), start time in ticks since boot, virtual size in bytes, resident
 * pages; 0 or -1
 */
int proc_stats_parse(const char *line, size_t len, unsigned long long *cpu_ticks,
		     unsigned long long *start_ticks, unsigned long long *vsize,
		     long long *rss_pages);

#endif
