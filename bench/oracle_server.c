/*
 * oracle-server - a socketmap server answering from a precomputed table
 *
 * SYNOPSIS
 *	oracle-server --table PATH [--miss-file PATH] [--listen 127.0.0.1:PORT]
 *		[--port-file PATH] [--trigger edge|level]
 *
 * DESCRIPTION
 *	The best any socketmap implementation could do for scenario 4's mail
 *	flow: the bare loop of bench/bare_loop.c (one read, one write per
 *	batch) answering each request from an in-memory hash table. The
 *	table file has one line per request, "name key<TAB>reply": the
 *	request payload exactly as Postfix sends it and the reply payload the
 *	daemon gives for it (bench/run.py asks the daemon for every key of
 *	the bench rows, so search order and result formats are the daemon's).
 *	A request not in the table is answered "NOTFOUND " (the bench rows
 *	hold every key that exists), and each distinct one is written to
 *	--miss-file at exit, so that the bench can ask the daemon for them too
 *	and check the oracle told Postfix the same thing. On SIGHUP it loads
 *	the table file again and writes the misses of the table it replaces
 *	(the miss file appears when the new table answers): bench/run.py
 *	learns in the oracle's first mail-flow run which requests Postfix
 *	makes outside the bench rows (a transport_maps lookup of a full
 *	address that the daemon answers from the domain's row, say), asks the
 *	daemon for them and adds them, so the measured runs get the daemon's
 *	reply for every request.
 *
 *	Open addressing, FNV-1a, the table sized once at load to at most half
 *	full: one hash and usually one compare per request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bare_loop.h"

#define ORACLE_MAX_LINE	4096	/* bytes of one table line */
#define ORACLE_MIN_SLOTS 1024	/* smallest table, slots */

struct slot {
	char *req;		/* NULL: empty */
	size_t reqlen;
	char *reply;		/* NULL: a miss remembered for --miss-file */
	size_t replylen;
};

static struct slot *slots;
static size_t nslots, nused;
static const char *table_path, *miss_path;

/* fnv1a - 64-bit FNV-1a hash of p[0..n) */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (uint8_t)*p++) * 1099511628211ULL;
	return h;
}

/* find - the slot of req, or the empty slot where it would go */
static struct slot *find(const char *req, size_t n)
{
	size_t i = (size_t)fnv1a(req, n) & (nslots - 1);

	while (slots[i].req != NULL &&
	       (slots[i].reqlen != n || memcmp(slots[i].req, req, n) != 0))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* insert - remember req -> reply (reply NULL: a miss); 0, or -1 when full */
static int insert(const char *req, size_t n, const char *reply, size_t rn)
{
	struct slot *s;

	if (2 * (nused + 1) > nslots)
		return -1;
	s = find(req, n);
	if (s->req != NULL)
		return 0;	/* first line wins, as in a Postfix table */
	if ((s->req = malloc(n + rn + 1)) == NULL)
		return -1;
	memcpy(s->req, req, n);
	s->reqlen = n;
	s->reply = reply != NULL ? memcpy(s->req + n, reply, rn) : NULL;
	s->replylen = rn;
	nused++;
	return 0;
}

/* load - read the table file; 0, or -1 */
static int load(const char *path)
{
	char line[ORACLE_MAX_LINE];
	size_t lines = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	/* Four slots per line: half-full after the misses the run adds. */
	for (nslots = ORACLE_MIN_SLOTS; nslots < 4 * lines; nslots *= 2)
		;
	if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
		return -1;
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");
		char *tab = memchr(line, '\t', n);

		if (tab == NULL)
			continue;
		if (insert(line, (size_t)(tab - line), tab + 1, n - (size_t)(tab + 1 - line)) != 0)
			return -1;
	}
	fclose(f);
	return 0;
}

/* oracle_answer - the table's reply, or NOTFOUND (and remember the miss) */
static void oracle_answer(const char *req, size_t n, struct buf *out)
{
	struct slot *s = find(req, n);

	if (s->req != NULL && s->reply != NULL) {
		buf_append(out, s->reply, s->replylen);
		return;
	}
	if (s->req == NULL)
		insert(req, n, NULL, 0);	/* full: it is simply not listed */
	buf_append_str(out, "NOTFOUND ");
}

/* dump_misses - every distinct request of t[0..n) answered NOTFOUND, one a line */
static void dump_misses(const char *path, const struct slot *t, size_t n)
{
	char tmp[ORACLE_MAX_LINE];
	FILE *f;
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (t[i].req != NULL && t[i].reply == NULL)
			fprintf(f, "%.*s\n", (int)t[i].reqlen, t[i].req);
	fclose(f);
	rename(tmp, path);	/* whole or absent: the bench waits for it */
}

/* free_table - the memory of t[0..n) */
static void free_table(struct slot *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i].req);
	free(t);
}

/* reload - SIGHUP: the table file again; the old table's misses written out */
static void reload(void)
{
	struct slot *old = slots;
	size_t oldn = nslots, oldused = nused;

	slots = NULL;
	nused = 0;
	if (load(table_path) != 0) {
		fprintf(stderr, "oracle-server: cannot reload %s: keeping the old table\n", table_path);
		if (slots != NULL)
			free_table(slots, nslots);
		slots = old;
		nslots = oldn;
		nused = oldused;
		return;
	}
	if (miss_path != NULL)
		dump_misses(miss_path, old, oldn);
	free_table(old, oldn);
}

/* oracle_opt - --table and --miss-file */
static int oracle_opt(const char *opt, const char *val)
{
	if (strcmp(opt, "--table") == 0)
		table_path = val;
	else if (strcmp(opt, "--miss-file") == 0)
		miss_path = val;
	else
		return -1;
	return 0;
}

/* main - load the table, serve until SIGTERM, write the misses */
int main(int argc, char **argv)
{
	int rc;
	size_t i;

	for (i = 1; i + 1 < (size_t)argc; i += 2)	/* --table first: serving needs it */
		oracle_opt(argv[i], argv[i + 1]);
	if (table_path == NULL || load(table_path) != 0) {
		fprintf(stderr, "oracle-server: cannot load --table %s\n",
			table_path ? table_path : "(none)");
		return 2;
	}
	rc = bare_main(argc, argv, "oracle-server", oracle_answer, oracle_opt, reload);
	if (miss_path != NULL)
		dump_misses(miss_path, slots, nslots);
	return rc;
}
