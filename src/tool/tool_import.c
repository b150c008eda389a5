/*
 * tool_import - `import MAP FILE|-`: a Postfix table source into a map
 *
 * SYNOPSIS
 *	#include "tool/tool_cmd.h"
 *
 *	int tool_import(struct tool *t, const struct tool_map *m, const char *path,
 *			const struct tool_import_opts *o);
 *
 * DESCRIPTION
 *	Reads the whole source (table_source.c: postmap's format; bad lines
 *	are reported as FILE:LINE and skipped, a repeated key keeps its first
 *	value as postmap does), then reads every row the map has now
 *	(tool_scan), and writes only what differs: a row missing or with
 *	another value (for domains, relay_domains and users: not active).
 *	So running it again writes nothing, and an import of an `export`
 *	is a no-op. With --sync the rows the source no longer has are
 *	deleted, unless a line was skipped or the source is empty (then
 *	nothing is deleted and the exit code is 1); with --dry-run nothing is written and the summary says what
 *	would be. Writes go through tool_write.c (a window in flight,
 *	throttled ones retried with backoff), then pac_changes is bumped.
 *
 *	users rows hold no value: the daemon answers "%d/%u/" of the key.
 *	A source value that format would not give (another mailbox path) is
 *	warned about, once per line, and the row is still written.
 * DIAGNOSTICS
 *	The summary on stdout, always: read, written, unchanged, deleted,
 *	skipped (with reasons), failed, retries. Exit 0 when every write
 *	succeeded, 1 otherwise (the rest were written; run it again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result_format.h"
#include "tool/table_source.h"
#include "tool/tool_cmd.h"

#define IMPORT_MAX_BYTES	(1024L * 1024 * 1024)	/* a source file */
#define IMPORT_MAX_REASONS	8	/* distinct skip reasons in the summary */

struct entry {
	char *key;
	char *value;			/* NULL: a current row with a null cell */
	unsigned line;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

struct skips {
	const char *why[IMPORT_MAX_REASONS];
	size_t count[IMPORT_MAX_REASONS];
	size_t total;
};

/* entries_add - append copies of key and value; -1 when out of memory */
static int entries_add(struct entries *e, const char *key, const char *value, unsigned line)
{
	struct entry *v;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;

		if ((v = realloc(e->v, cap * sizeof(*v))) == NULL)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	v = &e->v[e->n];
	v->key = strdup(key);
	v->value = value ? strdup(value) : NULL;
	v->line = line;
	if (v->key == NULL || (value && v->value == NULL))
		return -1;
	e->n++;
	return 0;
}

/* entries_free - release all */
static void entries_free(struct entries *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].value);
	}
	free(e->v);
}

/* entry_cmp - by key, then by line (the first of a repeated key first) */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* skip - count a skipped line under its reason */
static void skip(struct skips *s, const char *why)
{
	size_t i;

	s->total++;
	for (i = 0; i < IMPORT_MAX_REASONS && s->why[i]; i++)
		if (strcmp(s->why[i], why) == 0)
			break;
	if (i == IMPORT_MAX_REASONS)
		i--;			/* the last slot gathers the rest */
	if (s->why[i] == NULL)
		s->why[i] = why;
	s->count[i]++;
}

/* read_all - the whole file (or stdin for "-") into b; -1 with a message */
static int read_all(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= IMPORT_MAX_BYTES)
		buf_append(b, chunk, n);
	if (ferror(f) || b->oom || b->len > IMPORT_MAX_BYTES) {
		fprintf(stderr, "%s: %s: %s\n", TOOL_NAME, path,
			ferror(f) ? strerror(errno) : "too large (at most 1 GiB)");
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

/* users_value_check - warn when the daemon would answer another mailbox path */
static void users_value_check(const struct tool_map *m, const char *path,
			      const struct table_record *r)
{
	struct buf want;

	if (strcmp(m->format, "%s") == 0)
		return;
	buf_init(&want);
	if (!result_format_apply(m->format, r->key, r->keylen, &want) ||
	    want.len != r->valuelen || memcmp(want.data, r->value, r->valuelen) != 0)
		fprintf(stderr, "%s:%u: warning: %s: the daemon answers \"%.*s\" (result format "
			"%s), not \"%s\"; set result_format for users in the map file if the "
			"mailbox paths follow another pattern\n", path, r->line, r->key,
			(int)want.len, want.data ? (const char *)want.data : "", m->format, r->value);
	buf_free(&want);
}

/* parse_source - the source's entries, sorted, without repeated keys; -1 on error */
static int parse_source(const struct tool_map *m, const char *path, const struct buf *src,
			struct entries *want, struct skips *sk)
{
	struct table_source ts;
	struct table_record r;
	size_t i, k;
	int rc;

	table_source_init(&ts, (const char *)src->data, src->len);
	while ((rc = table_source_next(&ts, &r)) == 1) {
		if (r.why) {
			fprintf(stderr, "%s:%u: skipped: %s\n", path, r.line, r.why);
			skip(sk, r.why);
			continue;
		}
		if (m->kind == TOOL_MAP_ACTIVE)
			users_value_check(m, path, &r);
		if (entries_add(want, r.key, m->kind == TOOL_MAP_ACTIVE ? "true" : r.value,
				r.line) != 0) {
			rc = -1;
			break;
		}
	}
	table_source_free(&ts);
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", TOOL_NAME);
		return -1;
	}
	if (want->n > 1)
		qsort(want->v, want->n, sizeof(want->v[0]), entry_cmp);
	for (i = k = 0; i < want->n; i++) {
		if (k > 0 && strcmp(want->v[k - 1].key, want->v[i].key) == 0) {
			fprintf(stderr, "%s:%u: skipped: duplicate key %s (first on line %u)\n",
				path, want->v[i].line, want->v[i].key, want->v[k - 1].line);
			skip(sk, "duplicate key");
			free(want->v[i].key);
			free(want->v[i].value);
			continue;
		}
		want->v[k++] = want->v[i];
	}
	want->n = k;
	return 0;
}

/* scan_row - tool_scan's callback: keep a current row */
static int scan_row(void *arg, const char *key, const char *value)
{
	return entries_add(arg, key, value, 0);
}

struct plan {
	size_t write, unchanged, delete;
	unsigned char *do_write;	/* per wanted entry */
	unsigned char *do_delete;	/* per current row */
};

/* make_plan - walk both sorted lists: what to write and delete */
static int make_plan(const struct entries *want, const struct entries *have, int sync,
		     struct plan *p)
{
	size_t i = 0, j = 0;

	memset(p, 0, sizeof(*p));
	p->do_write = calloc(want->n + 1, 1);
	p->do_delete = calloc(have->n + 1, 1);
	if (p->do_write == NULL || p->do_delete == NULL)
		return -1;
	while (i < want->n || j < have->n) {
		int c = i == want->n ? 1 : j == have->n ? -1 : strcmp(want->v[i].key, have->v[j].key);

		if (c < 0) {
			p->do_write[i++] = 1;
			p->write++;
		} else if (c > 0) {
			if (sync) {
				p->do_delete[j] = 1;
				p->delete++;
			}
			j++;
		} else {
			if (have->v[j].value && strcmp(want->v[i].value, have->v[j].value) == 0) {
				p->unchanged++;
			} else {
				p->do_write[i] = 1;
				p->write++;
			}
			i++;
			j++;
		}
	}
	return 0;
}

struct run {
	struct tool_progress bar;
};

/* run_progress - the writer's progress callback */
static void run_progress(void *arg, size_t done)
{
	tool_progress_update(&((struct run *)arg)->bar, done);
}

/* apply_plan - the writes and deletes; the writer's counts */
static int apply_plan(struct tool *t, const struct tool_map *m, const struct tool_import_opts *o,
		      const struct entries *want, const struct entries *have,
		      const struct plan *p, size_t *ok, size_t *failed, size_t *retries,
		      char *err, size_t errlen)
{
	struct cql_stmt *put, *del = NULL;
	struct tool_writer *w;
	struct run run;
	size_t i;

	if ((put = tool_map_stmt(t, m, TOOL_STMT_PUT)) == NULL ||
	    (p->delete > 0 && (del = tool_map_stmt(t, m, TOOL_STMT_DELETE)) == NULL))
		return -1;
	tool_progress_start(&run.bar, "import", p->write + p->delete);
	if ((w = tool_writer_new(t, o->window, run_progress, &run)) == NULL)
		return -1;
	for (i = 0; i < want->n; i++) {
		struct cql_value v[2] = {
			{ want->v[i].key, (int32_t)strlen(want->v[i].key) },
			{ want->v[i].value, (int32_t)strlen(want->v[i].value) },
		};

		if (p->do_write[i])
			tool_writer_add(w, put, v, m->kind == TOOL_MAP_VALUE ? 2 : 1);
	}
	for (i = 0; i < have->n; i++) {
		struct cql_value v = { have->v[i].key, (int32_t)strlen(have->v[i].key) };

		if (p->do_delete[i])
			tool_writer_add(w, del, &v, 1);
	}
	tool_writer_finish(w, ok, failed, retries, err, errlen);
	tool_writer_free(w);
	tool_progress_end(&run.bar);
	return 0;
}

/* print_summary - what happened, always */
static void print_summary(const struct tool_map *m, const struct tool_import_opts *o,
			  size_t read, const struct plan *p, const struct skips *sk,
			  size_t failed, size_t retries, const char *err, double secs)
{
	size_t i;

	printf("import %s: %zu records read, %s%zu written, %zu unchanged, %s%zu deleted, "
	       "%zu skipped, %zu failed, %zu retries, %.1f s\n", m->name, read,
	       o->dry_run ? "would be " : "", p->write - (o->dry_run ? 0 : failed), p->unchanged,
	       o->dry_run ? "would be " : "", p->delete, sk->total, failed, retries, secs);
	for (i = 0; i < IMPORT_MAX_REASONS && sk->why[i]; i++)
		printf("  skipped %zu: %s\n", sk->count[i], sk->why[i]);
	if (failed)
		printf("  failed: %s (run the import again: it writes only what is missing)\n", err);
	if (o->dry_run)
		printf("  dry run: nothing was written\n");
}

/* tool_import - the subcommand */
int tool_import(struct tool *t, const struct tool_map *m, const char *path,
		const struct tool_import_opts *o)
{
	struct entries want = { 0 }, have = { 0 };
	struct skips sk;
	struct plan p = { 0 };
	struct tool_progress clock;
	struct buf src;
	size_t ok = 0, failed = 0, retries = 0;
	char err[300] = "";
	int rc = TOOL_EXIT_FAIL, held;

	memset(&sk, 0, sizeof(sk));
	buf_init(&src);
	tool_progress_start(&clock, "import", 0);
	if (read_all(path, &src) != 0 || parse_source(m, path, &src, &want, &sk) != 0)
		goto out;
	if (tool_scan(t, m, scan_row, &have) != 0)
		goto out;
	if (have.n > 1)	/* qsort of a NULL array is undefined, even for 0 items */
		qsort(have.v, have.n, sizeof(have.v[0]), entry_cmp);
	/*
	 * A skipped line may be a row the operator meant to keep, and an empty
	 * source is more likely a mistake than a wish to empty the map: --sync
	 * deletes nothing then.
	 */
	held = o->sync && (sk.total > 0 || want.n == 0);
	if (make_plan(&want, &have, o->sync && !held, &p) != 0) {
		fprintf(stderr, "%s: out of memory\n", TOOL_NAME);
		goto out;
	}
	if (held)
		fprintf(stderr, "%s: --sync: nothing deleted: %s\n", TOOL_NAME, want.n == 0 ?
			"the source has no entries" : "lines were skipped (fix them and run again)");
	if (!o->dry_run && p.write + p.delete > 0) {
		unsigned long long thr0, rt0, thr1, rt1;

		/* Throttled writes are retried by the session (cql_backoff) or by the writer. */
		cql_session_throttled(t->cql, &thr0, &rt0);
		if (apply_plan(t, m, o, &want, &have, &p, &ok, &failed, &retries,
			       err, sizeof(err)) != 0)
			goto out;
		cql_session_throttled(t->cql, &thr1, &rt1);
		retries += (size_t)(rt1 - rt0);
		tool_bump_change(t, m->name);
	}
	print_summary(m, o, want.n + sk.total, &p, &sk, failed, retries, err,
		      tool_progress_seconds(&clock));
	rc = failed || held ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
out:
	free(p.do_write);
	free(p.do_delete);
	entries_free(&want);
	entries_free(&have);
	buf_free(&src);
	return rc;
}
