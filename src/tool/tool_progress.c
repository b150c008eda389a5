/*
 * tool_progress - a progress bar on a terminal: done/total, rows/s, ETA
 *
 * SYNOPSIS
 *	#include "tool/tool.h"
 *
 * DESCRIPTION
 *	Drawn on stderr, only when stderr is a terminal (isatty), at most
 *	every TOOL_DRAW_MS, overwriting itself with a carriage return; the
 *	summary lines are the caller's, printed always.
 */
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "tool/tool.h"

#define TOOL_DRAW_MS	200	/* between redraws */
#define TOOL_BAR_WIDTH	30	/* characters of the bar */

/* tool_progress_start - a bar for total items */
void tool_progress_start(struct tool_progress *p, const char *what, size_t total)
{
	p->tty = isatty(2);
	p->total = total;
	p->done = 0;
	p->start_ms = clock_now_ms();
	p->drawn_ms = 0;
	p->what = what;
}

/* tool_progress_seconds - time since the start */
double tool_progress_seconds(const struct tool_progress *p)
{
	return (double)(clock_now_ms() - p->start_ms) / 1000.0;
}

/* tool_progress_rate - n items over the time since the start */
double tool_progress_rate(const struct tool_progress *p, size_t n)
{
	double s = tool_progress_seconds(p);

	return s > 0 ? (double)n / s : 0.0;
}

/* draw - one line of the bar */
static void draw(const struct tool_progress *p)
{
	char bar[TOOL_BAR_WIDTH + 1];
	double rate = tool_progress_rate(p, p->done);
	size_t i, fill = p->total ? p->done * TOOL_BAR_WIDTH / p->total : 0;
	double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0;

	for (i = 0; i < TOOL_BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[TOOL_BAR_WIDTH] = 0;
	fprintf(stderr, "\r%s [%s] %zu/%zu %.0f rows/s ETA %.0f s   ", p->what, bar, p->done,
		p->total, rate, eta);
	fflush(stderr);
}

/* tool_progress_update - done items; redraw now and then */
void tool_progress_update(struct tool_progress *p, size_t done)
{
	int64_t now;

	p->done = done;
	if (!p->tty)
		return;
	now = clock_now_ms();
	if (now - p->drawn_ms < TOOL_DRAW_MS)
		return;
	p->drawn_ms = now;
	draw(p);
}

/* tool_progress_end - the final bar, and a newline */
void tool_progress_end(struct tool_progress *p)
{
	if (!p->tty)
		return;
	draw(p);
	fputc('\n', stderr);
}
