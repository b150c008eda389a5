/*
 * test_lookup_engine - the policy proven against a fake backend
 *
 * DESCRIPTION
 *	The engine reads through struct lookup_backend (lookup_backend.h);
 *	here a fake records each read and completes it only when the test
 *	says so, with rows, "not Rows" or a failure of any class, so every
 *	interleaving the policy cares about is reached on purpose. Time comes
 *	from the clock hook (clock.h), so TTLs, stale windows and the
 *	refresh-ahead point are tested at exact milliseconds.
 *
 *	The maps are the seed registry (map_registry.h) with a 100 s TTL, a
 *	10 s negative TTL and a 50 s stale window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "lookup_backend.h"
#include "lookup_engine.h"
#include "map_registry.h"

#define TTL_MS		100000
#define NEG_TTL_MS	10000
#define STALE_MS	50000
#define FAKE_READS_MAX	64
#define FAKE_KEY_MAX	2048

/* ---- the fake backend ------------------------------------------------ */

struct fake_read {
	char key[FAKE_KEY_MAX];
	struct cql_stmt *stmt;
	lookup_read_fn cb;
	void *arg;
	int done;
};

struct fake {
	struct fake_read reads[FAKE_READS_MAX];
	size_t n;
	int ready;			/* is_ready's answer */
	enum cql_status refuse;		/* OK: reads start; else read returns -1 */
	const struct cql_error *refuse_err;
};

static struct fake fk;
static int64_t now_ms;

/* fake_now - the test's clock */
static int64_t fake_now(void)
{
	return now_ms;
}

/* fake_fail_result - a lookup_read for a failure status */
static void fake_fail_result(enum cql_status st, const struct cql_error *err,
			     struct lookup_read *r)
{
	memset(r, 0, sizeof(*r));
	cql_errclass_classify(st, err, &r->fail);
	r->detail = err ? err->message : "";
	r->timed = st != CQL_STATUS_NOT_CONNECTED;
}

/* fake_read - record the read; refuse it when told to */
static int fake_read(void *ctx, struct cql_stmt *stmt, const char *key, size_t len,
		     lookup_read_fn cb, void *arg, struct lookup_read *why)
{
	struct fake *f = ctx;
	struct fake_read *r;

	if (f->refuse != CQL_STATUS_OK) {
		fake_fail_result(f->refuse, f->refuse_err, why);
		return -1;
	}
	assert_true(f->n < FAKE_READS_MAX);
	assert_true(len < FAKE_KEY_MAX);
	r = &f->reads[f->n++];
	memcpy(r->key, key, len);
	r->key[len] = 0;
	r->stmt = stmt;
	r->cb = cb;
	r->arg = arg;
	r->done = 0;
	return 0;
}

/* fake_is_ready - as the test set it */
static int fake_is_ready(void *ctx)
{
	return ((struct fake *)ctx)->ready;
}

/* fake_state - a fixed state line */
static const char *fake_state(void *ctx)
{
	(void)ctx;
	return "fake backend";
}

static const struct lookup_backend_ops fake_ops = {
	.read = fake_read,
	.is_ready = fake_is_ready,
	.state = fake_state,
};

/* Cells of one fake row: the value (NULL: null) and "active". */
struct frow {
	const char *v;
	int active;			/* 1 true, 0 false, -1 null */
};

#define ACTIVE_NONE	-1	/* no active column */

/*
 * fake_rows - complete read i with rows of (v varchar[, active type]);
 * active_type ACTIVE_NONE leaves the column out
 */
static void fake_rows(size_t i, const struct frow *rows, size_t n, int active_type)
{
	static struct cql_rows cr;
	struct lookup_read res;
	struct buf body;
	uint8_t b;
	size_t k;

	assert_true(i < fk.n);
	assert_false(fk.reads[i].done);
	memset(&cr, 0, sizeof(cr));
	cr.meta.ncols = active_type == ACTIVE_NONE ? 1 : 2;
	strcpy(cr.meta.cols[0].name, "v");
	cr.meta.cols[0].type.id = CQL_TYPE_VARCHAR;
	if (active_type != ACTIVE_NONE) {
		strcpy(cr.meta.cols[1].name, "active");
		cr.meta.cols[1].type.id = (uint16_t)active_type;
	}
	buf_init(&body);
	for (k = 0; k < n; k++) {
		cql_wr_bytes(&body, rows[k].v, rows[k].v ? (int32_t)strlen(rows[k].v) : -1);
		if (active_type == ACTIVE_NONE)
			continue;
		b = rows[k].active == 1;
		cql_wr_bytes(&body, &b, rows[k].active < 0 ? -1 : 1);
	}
	cr.nrows = (int32_t)n;
	cql_rd_init(&cr.rd, body.data, body.len);
	memset(&res, 0, sizeof(res));
	cql_errclass_classify(CQL_STATUS_OK, NULL, &res.fail);
	res.rows = &cr;
	res.detail = "";
	res.timed = 1;
	fk.reads[i].done = 1;
	fk.reads[i].cb(&res, fk.reads[i].arg);
	buf_free(&body);
}

/* fake_found - complete read i with one row holding v */
static void fake_found(size_t i, const char *v)
{
	struct frow r = { v, 1 };

	fake_rows(i, &r, 1, ACTIVE_NONE);
}

/* fake_none - complete read i with no row */
static void fake_none(size_t i)
{
	fake_rows(i, NULL, 0, ACTIVE_NONE);
}

/* fake_fail - complete read i with a failure status */
static void fake_fail(size_t i, enum cql_status st, const struct cql_error *err)
{
	struct lookup_read res;

	assert_true(i < fk.n);
	assert_false(fk.reads[i].done);
	fake_fail_result(st, err, &res);
	fk.reads[i].done = 1;
	fk.reads[i].cb(&res, fk.reads[i].arg);
}

/* fake_not_rows - complete read i with a RESULT that is not Rows */
static void fake_not_rows(size_t i)
{
	struct lookup_read res;

	memset(&res, 0, sizeof(res));
	cql_errclass_classify(CQL_STATUS_OK, NULL, &res.fail);
	res.detail = "";
	res.timed = 1;
	fk.reads[i].done = 1;
	fk.reads[i].cb(&res, fk.reads[i].arg);
}

/* server_error - an ERROR body with a code and a message */
static const struct cql_error *server_error(int32_t code, const char *msg)
{
	static struct cql_error err;

	memset(&err, 0, sizeof(err));
	err.code = code;
	snprintf(err.message, sizeof(err.message), "%s", msg);
	return &err;
}

/* ---- the engine under test -------------------------------------------- */

struct reply {
	int called;
	enum socketmap_status st;
	char data[SOCKETMAP_REPLY_MAX + 1];
};

static struct map_registry reg;
static struct cache *cache;
static struct lookup_engine *eng;

/* on_reply - record the one reply */
static void on_reply(void *arg, enum socketmap_status st, const char *data, size_t len)
{
	struct reply *r = arg;

	r->called++;
	r->st = st;
	assert_true(len <= SOCKETMAP_REPLY_MAX);
	memcpy(r->data, data, len);
	r->data[len] = 0;
}

/* ask - start the lookup "map key" into r */
static struct lookup *ask(const char *map, const char *key, struct reply *r)
{
	char req[FAKE_KEY_MAX + 80];
	int n = snprintf(req, sizeof(req), "%s %s", map, key);

	memset(r, 0, sizeof(*r));
	return lookup_start(eng, req, (size_t)n, on_reply, r);
}

/* engine_up - a fresh registry, cache (or none) and engine at time 0 */
static void engine_up(int with_cache)
{
	struct map_defaults d = { "+", TTL_MS, NEG_TTL_MS, STALE_MS };
	struct lookup_backend be = { &fake_ops, &fk };
	char err[256];

	memset(&fk, 0, sizeof(fk));
	fk.ready = 1;
	now_ms = 1000000;
	clock_set_hook(fake_now);
	memset(&reg, 0, sizeof(reg));
	assert_int_equal(map_registry_defaults(&reg, "ks", &d, err, sizeof(err)), 0);
	map_registry_stamp(&reg, NULL);
	cache = with_cache ? cache_new(1000, 42) : NULL;
	assert_non_null(eng = lookup_engine_new(&reg, &be, cache, 7));
}

/* setup - an engine with a cache */
static int setup(void **state)
{
	(void)state;
	engine_up(1);
	return 0;
}

/* setup_nocache - an engine with CACHE=off */
static int setup_nocache(void **state)
{
	(void)state;
	engine_up(0);
	return 0;
}

/* teardown - every read answered, everything freed */
static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < fk.n; i++)
		if (!fk.reads[i].done)
			fake_fail(i, CQL_STATUS_CONN_LOST, NULL);
	lookup_engine_free(eng);
	cache_free(cache);
	clock_set_hook(NULL);
	return 0;
}

/* expect - the reply was given once, with this status and data */
static void expect(const struct reply *r, enum socketmap_status st, const char *data)
{
	assert_int_equal(r->called, 1);
	assert_string_equal(socketmap_status_name(r->st), socketmap_status_name(st));
	if (data)
		assert_string_equal(r->data, data);
}

/* expect_reads - the keys read so far, in order, NULL-terminated */
static void expect_reads(size_t from, const char *const *keys)
{
	size_t i;

	for (i = 0; keys[i]; i++) {
		assert_true(from + i < fk.n);
		assert_string_equal(fk.reads[from + i].key, keys[i]);
	}
	assert_int_equal(fk.n, from + i);
}

/* ---- the reply table ---------------------------------------------------- */

static void test_found_is_ok(void **state)
{
	struct reply r;

	(void)state;
	assert_non_null(ask("virtual_aliases", "alice@example.com", &r));
	assert_int_equal(r.called, 0);
	assert_string_equal(fk.reads[0].key, "alice@example.com");
	assert_ptr_equal(fk.reads[0].stmt, reg.maps[map_registry_find(&reg, "virtual_aliases", 15)->id].stmt);
	fake_found(0, "bob@example.org");
	expect(&r, SOCKETMAP_OK, "bob@example.org");
	assert_int_equal(lookup_engine_stats(eng)->by_status[SOCKETMAP_OK], 1);
}

static void test_no_row_is_notfound(void **state)
{
	static const char *const keys[] = {
		"alice@example.com", "@example.com", NULL,
	};
	struct reply r;

	(void)state;
	ask("virtual_aliases", "alice@example.com", &r);
	expect_reads(0, keys);
	fake_none(0);
	assert_int_equal(r.called, 0);
	fake_none(1);
	expect(&r, SOCKETMAP_NOTFOUND, "");
}

static void test_active_gates_the_row(void **state)
{
	static const struct frow inactive[] = { { "example.com", 0 } };
	static const struct frow null_active[] = { { "example.com", -1 } };
	static const struct frow active[] = { { "example.com", 1 } };
	static const struct frow mixed[] = { { "a@x", 0 }, { "b@x", 1 }, { "c@x", -1 }, { "d@x", 1 } };
	struct reply r;

	(void)state;
	ask("domains", "one.example", &r);
	fake_rows(0, inactive, 1, CQL_TYPE_BOOLEAN);
	expect(&r, SOCKETMAP_NOTFOUND, "");
	ask("domains", "two.example", &r);
	fake_rows(1, null_active, 1, CQL_TYPE_BOOLEAN);
	expect(&r, SOCKETMAP_NOTFOUND, "");
	ask("domains", "three.example", &r);
	fake_rows(2, active, 1, CQL_TYPE_BOOLEAN);
	expect(&r, SOCKETMAP_OK, "example.com");
	/* Several rows: the active ones joined, as Postfix joins rows. */
	ask("domains", "four.example", &r);
	fake_rows(3, mixed, 4, CQL_TYPE_BOOLEAN);
	expect(&r, SOCKETMAP_OK, "b@x, d@x");
}

static void test_empty_or_null_value_is_notfound(void **state)
{
	static const struct frow null_value[] = { { NULL, 1 } };
	struct reply r;

	(void)state;
	ask("domains", "one.example", &r);
	fake_found(0, "");
	expect(&r, SOCKETMAP_NOTFOUND, "");
	ask("domains", "two.example", &r);
	fake_rows(1, null_value, 1, CQL_TYPE_BOOLEAN);
	expect(&r, SOCKETMAP_NOTFOUND, "");
}

static void test_result_format_of_the_matching_row(void **state)
{
	struct reply r;

	(void)state;
	/* users: %d/%u/ of the row that matched, not of the key asked */
	ask("users", "alice+tag@example.com", &r);
	assert_string_equal(fk.reads[1].key, "alice@example.com");
	fake_none(0);
	fake_found(1, "alice@example.com");
	fake_found(2, "ignored@example.com");
	expect(&r, SOCKETMAP_OK, "example.com/alice/");
}

static void test_key_that_cannot_exist(void **state)
{
	static const char *const domain_only[] = { "@example.com", NULL };
	char key[1200];
	struct reply r;

	(void)state;
	/* No candidate can exist: NOTFOUND without a read. */
	assert_null(ask("virtual_aliases", "a\001b", &r));
	expect(&r, SOCKETMAP_NOTFOUND, "");
	assert_int_equal(fk.n, 0);
	/* An over-long local part hides only the candidates made from it. */
	memset(key, 'x', 1100);
	strcpy(key + 1100, "@example.com");
	ask("virtual_aliases", key, &r);
	expect_reads(0, domain_only);
	fake_found(0, "catchall@example.org");
	expect(&r, SOCKETMAP_OK, "catchall@example.org");
	/* So does a local part that is not UTF-8. */
	ask("access_maps", "x\xe9@spam.example", &r);
	assert_int_equal(fk.n, 3);
	assert_string_equal(fk.reads[1].key, "spam.example");
	assert_string_equal(fk.reads[2].key, "example");
	fake_found(1, "REJECT");
	fake_none(2);
	expect(&r, SOCKETMAP_OK, "REJECT");
}

static void test_backend_trouble_is_temp(void **state)
{
	static const struct { enum cql_status st; int32_t code; const char *reason; int label; } t[] = {
		{ CQL_STATUS_TIMEOUT, 0, "cassandra: request timeout", CQL_LABEL_TIMEOUT },
		{ CQL_STATUS_CONN_LOST, 0, "cassandra: connection lost", CQL_LABEL_CONNECTION_LOST },
		{ CQL_STATUS_PROTOCOL, 0, "cassandra: protocol error", CQL_LABEL_PROTOCOL },
		{ CQL_STATUS_NODE_REFUSED, 0, NULL, CQL_LABEL_SCHEMA_DISAGREEMENT },
		{ CQL_STATUS_TOO_LARGE, 0, "cassandra: result over the paging bound", CQL_LABEL_TOO_LARGE },
		{ CQL_STATUS_SERVER_ERROR, CQL_ERR_UNAVAILABLE, "cassandra: unavailable", CQL_LABEL_UNAVAILABLE },
		{ CQL_STATUS_SERVER_ERROR, CQL_ERR_OVERLOADED, "cassandra: overloaded", CQL_LABEL_OVERLOADED },
		{ CQL_STATUS_SERVER_ERROR, CQL_ERR_READ_TIMEOUT, NULL, CQL_LABEL_READ_TIMEOUT },
		{ CQL_STATUS_SERVER_ERROR, CQL_ERR_UNAUTHORIZED, NULL, CQL_LABEL_UNAUTHORIZED },
	};
	char key[64];
	struct reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(key, sizeof(key), "d%zu.example", i);
		ask("domains", key, &r);
		fake_fail(fk.n - 1, t[i].st, t[i].code ? server_error(t[i].code, "busy") : NULL);
		expect(&r, SOCKETMAP_TEMP, t[i].reason);
		assert_int_equal(lookup_engine_stats(eng)->errors[t[i].label], 1);
		/* A failure is never cached: the next lookup reads again. */
		ask("domains", key, &r);
		assert_int_equal(r.called, 0);
		fake_none(fk.n - 1);
		expect(&r, SOCKETMAP_NOTFOUND, "");
	}
	assert_string_equal(lookup_error_name(CQL_LABEL_TOO_LARGE), "too_large");
}

static void test_not_connected_is_temp(void **state)
{
	struct reply r;

	(void)state;
	fk.refuse = CQL_STATUS_NOT_CONNECTED;
	assert_null(ask("virtual_aliases", "alice@example.com", &r));
	expect(&r, SOCKETMAP_TEMP, "cassandra: not connected");
	assert_int_equal(fk.n, 0);
	/* Each candidate was tried: alice@example.com, @example.com. */
	assert_int_equal(lookup_engine_stats(eng)->errors[CQL_LABEL_NOT_CONNECTED], 2);
	/* No request was sent: no latency to observe. */
	assert_int_equal(lookup_engine_stats(eng)->latency_count, 0);
	/* Nor when the backend says so later. */
	fk.refuse = CQL_STATUS_OK;
	ask("domains", "example.com", &r);
	fake_fail(0, CQL_STATUS_NOT_CONNECTED, NULL);
	expect(&r, SOCKETMAP_TEMP, "cassandra: not connected");
	assert_int_equal(lookup_engine_stats(eng)->latency_count, 0);
}

static void test_config_trouble_is_perm(void **state)
{
	static const struct frow row[] = { { "x", 1 } };
	char big[SOCKETMAP_REPLY_MAX + 10];
	struct reply r;

	(void)state;
	assert_null(ask("nosuchmap", "x", &r));
	expect(&r, SOCKETMAP_PERM, "unknown map name 'nosuchmap'");
	/* The server refuses the query: missing table or column. */
	ask("domains", "a.example", &r);
	fake_fail(0, CQL_STATUS_SERVER_ERROR, server_error(CQL_ERR_INVALID, "unconfigured table domains"));
	expect(&r, SOCKETMAP_PERM, NULL);
	assert_string_equal(strstr(r.data, "map domains: "), r.data);
	assert_non_null(strstr(r.data, "unconfigured table domains"));
	assert_int_equal(lookup_engine_stats(eng)->errors[CQL_LABEL_INVALID], 1);
	/* The statement never prepared: read refuses at once. */
	fk.refuse = CQL_STATUS_NOT_PREPARED;
	fk.refuse_err = server_error(CQL_ERR_INVALID, "Undefined column name x");
	ask("domains", "b.example", &r);
	expect(&r, SOCKETMAP_PERM, "map domains: query refused by the server: Undefined column name x");
	fk.refuse = CQL_STATUS_OK;
	/* A column the map cannot read ("active" an int). */
	ask("domains", "c.example", &r);
	fake_rows(1, row, 1, CQL_TYPE_INT);
	expect(&r, SOCKETMAP_PERM, "map domains: column active is int; it must be boolean");
	/* A RESULT that is not Rows. */
	ask("domains", "d.example", &r);
	fake_not_rows(2);
	expect(&r, SOCKETMAP_PERM, "map domains: query is not a SELECT");
	/* A reply over Postfix's limit. */
	memset(big, 'v', SOCKETMAP_REPLY_MAX);
	big[SOCKETMAP_REPLY_MAX] = 0;
	ask("domains", "e.example", &r);
	fake_found(3, big);
	expect(&r, SOCKETMAP_PERM, "reply too long");
	/* Just under it is fine. */
	big[SOCKETMAP_REPLY_MAX - 4] = 0;
	ask("domains", "f.example", &r);
	fake_found(4, big);
	expect(&r, SOCKETMAP_OK, big);
}

static void test_undecodable_value_is_temp(void **state)
{
	static struct cql_rows cr;
	struct lookup_read res;
	struct reply r;

	(void)state;
	ask("domains", "a.example", &r);
	/* One row announced, no bytes: the value cannot be decoded. */
	memset(&cr, 0, sizeof(cr));
	cr.meta.ncols = 1;
	strcpy(cr.meta.cols[0].name, "v");
	cr.meta.cols[0].type.id = CQL_TYPE_VARCHAR;
	cr.nrows = 1;
	cql_rd_init(&cr.rd, "", 0);
	memset(&res, 0, sizeof(res));
	res.rows = &cr;
	res.detail = "";
	fk.reads[0].done = 1;
	fk.reads[0].cb(&res, fk.reads[0].arg);
	expect(&r, SOCKETMAP_TEMP, "cassandra: protocol error");
	assert_int_equal(lookup_engine_stats(eng)->errors[CQL_LABEL_PROTOCOL], 1);
}

/* ---- search order and priority ----------------------------------------- */

/* permute - the next permutation of p[0..n) in lexicographic order; 0 at the end */
static int permute(size_t *p, size_t n)
{
	size_t i, j, t;

	if (n < 2)
		return 0;
	for (i = n - 1; i > 0 && p[i - 1] >= p[i]; i--)
		;
	if (i == 0)
		return 0;
	for (j = n - 1; p[j] <= p[i - 1]; j--)
		;
	t = p[i - 1]; p[i - 1] = p[j]; p[j] = t;
	for (j = n - 1; i < j; i++, j--) {
		t = p[i]; p[i] = p[j]; p[j] = t;
	}
	return 1;
}

/*
 * check_order - the candidates of key in map are read in this order, and
 * for every candidate w, whatever order the reads complete in (every
 * permutation for up to 4 candidates, forward and backward beyond), the
 * answer is w's value when every candidate before it said "no row",
 * and it is given only once those have answered. Candidate k's row holds
 * vK@d.example; want[w] is the reply when w wins (NULL: that value).
 */
static void check_order(const char *map, const char *key, const char *const *keys,
			const char *const *want)
{
	size_t n = 0, w, i, k, base, p[SEARCH_MAX_CANDIDATES], order[SEARCH_MAX_CANDIDATES];
	char val[64];
	struct reply r;
	int pass;

	while (keys[n])
		n++;
	for (w = 0; w < n; w++) {
		for (i = 0; i < n; i++)
			p[i] = i;
		for (pass = 0;; pass++) {
			if (n <= 4 ? pass > 0 && !permute(p, n) : pass > 1)
				break;
			for (i = 0; i < n; i++)
				order[i] = n > 4 && pass == 1 ? n - 1 - i : p[i];
			cache_flush(cache);
			fk.n = 0;	/* every earlier read is answered */
			base = fk.n;
			ask(map, key, &r);
			expect_reads(base, keys);
			for (i = 0; i < n; i++) {
				k = order[i];
				if (k < w) {
					fake_none(base + k);
				} else {
					snprintf(val, sizeof(val), "v%zu@d.example", k);
					fake_found(base + k, val);
				}
				/* Answered exactly when 0..w are all in. */
				for (k = 0; k <= w && fk.reads[base + k].done; k++)
					;
				assert_int_equal(r.called, k > w ? 1 : 0);
			}
			snprintf(val, sizeof(val), "v%zu@d.example", w);
			expect(&r, SOCKETMAP_OK, want ? want[w] : val);
		}
	}
}

static void test_candidate_orders(void **state)
{
	static const char *const virt[] = {
		"alice+tag@example.com", "alice@example.com", "@example.com", NULL,
	};
	static const char *const access[] = {
		"alice+tag@sub.example.com", "alice@sub.example.com", "sub.example.com",
		"example.com", "com", "alice+tag@", "alice@", NULL,
	};
	static const char *const transport[] = {
		"alice+tag@sub.example.com", "alice@sub.example.com", "sub.example.com",
		".example.com", ".com", "*", NULL,
	};
	static const char *const relay[] = { "sub.example.com", "example.com", "com", NULL };
	static const char *const client[] = { "10.20.1.5", "10.20.1", "10.20", "10", NULL };
	static const char *const domain[] = { "sub.example.com", NULL };
	static const char *const virt_want[] = {
		"v0@d.example", "v1+Tag@d.example", "v2@d.example",
	};
	static const char *const users_want[] = {
		"d.example/v0/", "d.example/v1/", "d.example/v2/",
	};

	(void)state;
	check_order("virtual_aliases", "Alice+Tag@Example.COM", virt, virt_want);
	check_order("users", "alice+tag@example.com", virt, users_want);
	check_order("access_maps", "alice+tag@sub.example.com", access, NULL);
	check_order("transport_maps", "alice+tag@sub.example.com", transport, NULL);
	check_order("relay_domains", "sub.example.com", relay, NULL);
	check_order("access_maps", "10.20.1.5", client, NULL);
	check_order("domains", "sub.example.com", domain, NULL);
}

static void test_higher_failure_beats_lower_found(void **state)
{
	struct reply r;

	(void)state;
	/* The lower candidate answers first; the higher one then fails. */
	ask("virtual_aliases", "alice@example.com", &r);
	fake_found(1, "catchall@example.org");
	assert_int_equal(r.called, 0);
	fake_fail(0, CQL_STATUS_TIMEOUT, NULL);
	expect(&r, SOCKETMAP_TEMP, "cassandra: request timeout");
	/* And the other way round. */
	cache_flush(cache);
	ask("access_maps", "bob@spam.example", &r);
	assert_string_equal(fk.reads[3].key, "spam.example");
	fake_fail(2, CQL_STATUS_SERVER_ERROR, server_error(CQL_ERR_OVERLOADED, "slow"));
	assert_int_equal(r.called, 1);
	expect(&r, SOCKETMAP_TEMP, "cassandra: overloaded");
	fake_found(3, "REJECT");
	assert_int_equal(r.called, 1);
}

static void test_lower_found_waits_for_higher(void **state)
{
	struct reply r;
	static const char *const keys[] = {
		"bob@spam.example", "spam.example", "example", "bob@", NULL,
	};

	(void)state;
	ask("access_maps", "bob@spam.example", &r);
	expect_reads(0, keys);
	fake_found(1, "REJECT");		/* spam.example */
	fake_none(2);
	fake_found(3, "DUNNO");
	assert_int_equal(r.called, 0);		/* bob@spam.example still pending */
	fake_found(0, "OK");			/* the full address wins */
	expect(&r, SOCKETMAP_OK, "OK");
	/* And when it says "no row", the domain does. */
	cache_flush(cache);
	ask("access_maps", "bob@spam.example", &r);
	expect_reads(4, keys);
	fake_found(5, "REJECT");
	fake_none(6);
	fake_none(7);
	assert_int_equal(r.called, 0);
	fake_none(4);
	expect(&r, SOCKETMAP_OK, "REJECT");
}

/* ---- the cache: hits, stale windows, refresh-ahead ----------------------- */

static void test_cache_hits_and_misses(void **state)
{
	struct reply r;

	(void)state;
	ask("domains", "example.com", &r);
	assert_int_equal(cache_stats(cache)->misses, 1);
	fake_found(0, "example.com");
	assert_null(ask("domains", "EXAMPLE.com", &r));
	expect(&r, SOCKETMAP_OK, "example.com");
	assert_int_equal(fk.n, 1);
	assert_int_equal(cache_stats(cache)->hits, 1);
	assert_int_equal(cache_stats(cache)->misses, 1);
	/* A negative answer is cached for its own, shorter, TTL. */
	ask("domains", "nope.example", &r);
	fake_none(1);
	now_ms += NEG_TTL_MS - 1;
	assert_null(ask("domains", "nope.example", &r));
	expect(&r, SOCKETMAP_NOTFOUND, "");
	now_ms += 1;
	assert_non_null(ask("domains", "nope.example", &r));
	assert_int_equal(fk.n, 3);
	fake_none(2);
	expect(&r, SOCKETMAP_NOTFOUND, "");
	/* A positive one for the map's TTL. */
	now_ms += TTL_MS - NEG_TTL_MS - 1;
	assert_null(ask("domains", "example.com", &r));
	now_ms += 1;
	assert_non_null(ask("domains", "example.com", &r));
	fake_found(3, "example.com");
	expect(&r, SOCKETMAP_OK, "example.com");
}

static void test_stale_positive_served_on_failure(void **state)
{
	struct reply r;
	int64_t t0 = now_ms;

	(void)state;
	ask("domains", "example.com", &r);
	fake_found(0, "example.com");
	/* Expired, inside the stale window: a failure answers the old value. */
	now_ms = t0 + TTL_MS + STALE_MS - 1;
	ask("domains", "example.com", &r);
	fake_fail(1, CQL_STATUS_TIMEOUT, NULL);
	expect(&r, SOCKETMAP_OK, "example.com");
	assert_int_equal(lookup_engine_stats(eng)->stale_answers, 1);
	assert_int_equal(cache_stats(cache)->stale_hits, 1);
	/* And when the read cannot even start. */
	fk.refuse = CQL_STATUS_NOT_CONNECTED;
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_OK, "example.com");
	/* Past it: TEMP. */
	fk.refuse = CQL_STATUS_OK;
	now_ms = t0 + TTL_MS + STALE_MS;
	ask("domains", "example.com", &r);
	fake_fail(2, CQL_STATUS_TIMEOUT, NULL);
	expect(&r, SOCKETMAP_TEMP, "cassandra: request timeout");
	/* A configuration error is never hidden behind stale data. */
	now_ms = t0;
	ask("domains", "other.example", &r);
	fake_found(3, "other.example");
	now_ms = t0 + TTL_MS + 1;
	ask("domains", "other.example", &r);
	fake_fail(4, CQL_STATUS_SERVER_ERROR, server_error(CQL_ERR_INVALID, "gone"));
	expect(&r, SOCKETMAP_PERM, NULL);
}

static void test_stale_negative_never_served(void **state)
{
	const struct map_def *m;
	struct reply r;
	int64_t t0 = now_ms;

	(void)state;
	ask("virtual_aliases", "alice@example.com", &r);
	fake_none(0);
	fake_none(1);
	expect(&r, SOCKETMAP_NOTFOUND, "");
	/* Past its TTL a "no row" is not knowledge: TEMP, not NOTFOUND. */
	now_ms = t0 + NEG_TTL_MS;
	/* Nor is it kept for a stale window it could never answer from. */
	m = map_registry_find(&reg, "virtual_aliases", strlen("virtual_aliases"));
	assert_null(cache_get(cache, m->id, "alice@example.com",
			      strlen("alice@example.com"), now_ms));
	ask("virtual_aliases", "alice@example.com", &r);
	assert_int_equal(fk.n, 4);
	fake_fail(2, CQL_STATUS_CONN_LOST, NULL);
	fake_none(3);
	expect(&r, SOCKETMAP_TEMP, "cassandra: connection lost");
	/* Nor does a stale "no row" on a higher candidate let a lower win. */
	now_ms = t0 + 2 * NEG_TTL_MS;
	cache_flush(cache);
	ask("virtual_aliases", "bob@example.com", &r);
	fake_none(4);
	fake_found(5, "catchall@example.org");
	expect(&r, SOCKETMAP_OK, "catchall@example.org");
	now_ms += NEG_TTL_MS + 1;
	ask("virtual_aliases", "bob@example.com", &r);
	assert_int_equal(fk.n, 7);		/* @example.com still fresh */
	assert_string_equal(fk.reads[6].key, "bob@example.com");
	fake_fail(6, CQL_STATUS_TIMEOUT, NULL);
	expect(&r, SOCKETMAP_TEMP, "cassandra: request timeout");
}

static void test_refresh_ahead_at_ninety_percent(void **state)
{
	struct reply r;
	int64_t t0 = now_ms;

	(void)state;
	ask("domains", "example.com", &r);
	fake_found(0, "example.com");
	/* 89%: from the cache, no read at all. */
	now_ms = t0 + TTL_MS * 89 / 100;
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_OK, "example.com");
	now_ms = t0 + TTL_MS * 9 / 10 - 1;
	assert_null(ask("domains", "example.com", &r));
	assert_int_equal(fk.n, 1);
	assert_int_equal(lookup_engine_stats(eng)->refreshes, 0);
	/* Not while the backend is not ready. */
	now_ms = t0 + TTL_MS * 9 / 10;
	fk.ready = 0;
	assert_null(ask("domains", "example.com", &r));
	assert_int_equal(fk.n, 1);
	fk.ready = 1;
	/* Exactly 90%: answered from the cache, and one refresh read. */
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_OK, "example.com");
	assert_int_equal(fk.n, 2);
	assert_int_equal(lookup_engine_stats(eng)->refreshes, 1);
	/* One refresh in flight is enough (and is not a lookup's read). */
	assert_null(ask("domains", "example.com", &r));
	assert_int_equal(fk.n, 2);
	assert_int_equal(lookup_engine_stats(eng)->coalesced, 0);
	/* Its answer renews the entry: fresh again for a whole TTL. */
	fake_found(1, "renewed.example.com");
	now_ms = t0 + TTL_MS * 9 / 10 + TTL_MS * 89 / 100;
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_OK, "renewed.example.com");
	assert_int_equal(fk.n, 2);
}

/* ---- sharing, deadline, reload, flush, cancel ----------------------------- */

static void test_coalescing(void **state)
{
	struct reply a, b, c;

	(void)state;
	ask("domains", "example.com", &a);
	ask("domains", "Example.COM", &b);
	ask("relay_domains", "example.com", &c);	/* another map: its own read */
	assert_int_equal(fk.n, 3);
	assert_int_equal(lookup_engine_stats(eng)->coalesced, 1);
	assert_int_equal(lookup_engine_stats(eng)->queries, 3);
	fake_found(0, "example.com");
	expect(&a, SOCKETMAP_OK, "example.com");
	expect(&b, SOCKETMAP_OK, "example.com");
	assert_int_equal(c.called, 0);
	fake_none(1);
	fake_none(2);
	expect(&c, SOCKETMAP_NOTFOUND, "");
	/* Once finished, a new read (the cache answers here instead). */
	assert_null(ask("domains", "example.com", &a));
	assert_int_equal(fk.n, 3);
}

static void test_coalescing_without_cache(void **state)
{
	struct reply a, b, c, d;

	(void)state;
	ask("domains", "aaaa.example", &a);
	ask("domains", "bbbb.example", &b);	/* same length, another key */
	ask("domains", "aaaa.example", &c);
	assert_int_equal(fk.n, 2);
	assert_int_equal(lookup_engine_stats(eng)->coalesced, 1);
	fake_found(1, "bbbb");
	expect(&b, SOCKETMAP_OK, "bbbb");
	assert_int_equal(a.called + c.called, 0);
	fake_found(0, "aaaa");
	expect(&a, SOCKETMAP_OK, "aaaa");
	expect(&c, SOCKETMAP_OK, "aaaa");
	/* Nothing is cached: the next lookup reads again. */
	ask("domains", "aaaa.example", &d);
	assert_int_equal(fk.n, 3);
	fake_none(2);
	expect(&d, SOCKETMAP_NOTFOUND, "");
}

static void test_deadline(void **state)
{
	struct reply r;

	(void)state;
	/* The backend ends a read at the lookup deadline: TEMP, then. */
	ask("virtual_aliases", "alice@example.com", &r);
	now_ms += 4999;
	fake_none(1);
	assert_int_equal(r.called, 0);
	now_ms += 1;
	fake_fail(0, CQL_STATUS_TIMEOUT, NULL);
	expect(&r, SOCKETMAP_TEMP, "cassandra: request timeout");
	assert_int_equal(lookup_engine_stats(eng)->errors[CQL_LABEL_TIMEOUT], 1);
	assert_int_equal(lookup_engine_stats(eng)->latency_count, 2);
	assert_true(lookup_engine_stats(eng)->latency_sum_s > 9.99);
}

static void test_reload_during_read(void **state)
{
	struct map_registry next;
	struct map_defaults d = { "+", TTL_MS, NEG_TTL_MS, STALE_MS };
	struct map_def *users;
	struct reply r, r2, r3;
	char err[256];

	(void)state;
	ask("users", "alice@example.com", &r);
	/* SIGHUP: the slot of users now holds a map with another format. */
	memset(&next, 0, sizeof(next));
	assert_int_equal(map_registry_defaults(&next, "ks", &d, err, sizeof(err)), 0);
	users = map_registry_find(&next, "users", 5);
	strcpy(users->result_format, "NEW %s");
	map_registry_stamp(&next, &reg);
	reg = next;
	/* A lookup of the new map does not join the old map's reads. */
	ask("users", "alice@example.com", &r2);
	assert_int_equal(fk.n, 4);
	fake_found(0, "alice@example.com");
	fake_none(1);
	/* The old read answers with the map its lookup started with... */
	expect(&r, SOCKETMAP_OK, "example.com/alice/");
	assert_int_equal(r2.called, 0);
	/* ...and is not cached for the new map: this one waits for read 2. */
	ask("users", "alice@example.com", &r3);
	assert_int_equal(r3.called, 0);
	assert_int_equal(fk.n, 4);
	fake_found(2, "carol@example.com");
	expect(&r2, SOCKETMAP_OK, "NEW carol@example.com");
	expect(&r3, SOCKETMAP_OK, "NEW carol@example.com");
	/* The new map's answer is cached. */
	assert_null(ask("users", "alice@example.com", &r3));
	expect(&r3, SOCKETMAP_OK, "NEW carol@example.com");
}

static void test_reload_removes_map_during_read(void **state)
{
	struct map_registry next;
	struct map_defaults d = { "+", TTL_MS, NEG_TTL_MS, STALE_MS };
	struct reply r;
	char err[256];
	size_t slot = map_registry_find(&reg, "transport_maps", 14)->id, n, i;

	(void)state;
	ask("transport_maps", "example.com", &r);
	/* The map is gone; another map takes its slot. */
	memset(&next, 0, sizeof(next));
	assert_int_equal(map_registry_defaults(&next, "ks", &d, err, sizeof(err)), 0);
	strcpy(next.maps[slot].name, "replacement");
	map_registry_stamp(&next, &reg);
	reg = next;
	n = fk.n;
	fake_found(0, "smtp:[relay.example]");
	for (i = 1; i < n; i++)
		fake_none(i);
	expect(&r, SOCKETMAP_OK, "smtp:[relay.example]");
	/* Nothing was cached under the slot's new map. */
	ask("replacement", "example.com", &r);
	assert_int_equal(fk.n, 2 * n);
}

static void test_flush_during_read(void **state)
{
	struct reply r;

	(void)state;
	ask("domains", "example.com", &r);
	cache_flush(cache);		/* SIGUSR1 */
	fake_found(0, "old.example.com");
	expect(&r, SOCKETMAP_OK, "old.example.com");
	/* The pre-flush answer did not come back into the cache. */
	ask("domains", "example.com", &r);
	assert_int_equal(fk.n, 2);
	fake_found(1, "new.example.com");
	expect(&r, SOCKETMAP_OK, "new.example.com");
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_OK, "new.example.com");
}

/*
 * A lookup that starts after a flush does not join a read sent before it,
 * which may carry the row the operator flushed for.
 */
static void test_flush_no_joining_older_read(void **state)
{
	struct reply before, after;

	(void)state;
	ask("domains", "example.com", &before);
	cache_flush(cache);		/* SIGUSR1 */
	ask("domains", "example.com", &after);
	assert_int_equal(fk.n, 2);
	assert_int_equal(lookup_engine_stats(eng)->coalesced, 0);
	fake_none(1);
	expect(&after, SOCKETMAP_NOTFOUND, "");
	fake_found(0, "old.example.com");
	expect(&before, SOCKETMAP_OK, "old.example.com");
}

/* drop_map - the poller saw the map's table change (changes_poll.c) */
static void drop_map(const char *name)
{
	cache_drop_map(cache, map_registry_find(&reg, name, strlen(name))->id);
}

static void test_drop_map_during_read(void **state)
{
	struct reply r, other;
	size_t n, i;

	(void)state;
	ask("relay_domains", "example.org", &other);	/* and its parent domain */
	for (n = fk.n, i = 0; i < n; i++)
		fake_none(i);
	expect(&other, SOCKETMAP_NOTFOUND, "");
	/* domains' table changes while a read of it is out. */
	ask("domains", "example.com", &r);
	drop_map("domains");
	fake_found(n, "old.example.com");
	expect(&r, SOCKETMAP_OK, "old.example.com");
	/* The answer read before the drop was not stored as fresh. */
	ask("domains", "example.com", &r);
	assert_int_equal(fk.n, n + 2);
	fake_none(n + 1);
	expect(&r, SOCKETMAP_NOTFOUND, "");
	assert_null(ask("domains", "example.com", &r));
	expect(&r, SOCKETMAP_NOTFOUND, "");
	/* Another map kept its cache. */
	assert_null(ask("relay_domains", "example.org", &other));
	expect(&other, SOCKETMAP_NOTFOUND, "");
	assert_int_equal(fk.n, n + 2);
}

static void test_drop_map_no_joining_older_read(void **state)
{
	struct reply before, after;

	(void)state;
	ask("domains", "example.com", &before);
	drop_map("domains");
	/* Started after the drop: its own read, not the one that may hold the old row. */
	ask("domains", "example.com", &after);
	assert_int_equal(fk.n, 2);
	assert_int_equal(lookup_engine_stats(eng)->coalesced, 0);
	fake_none(1);
	expect(&after, SOCKETMAP_NOTFOUND, "");
	fake_found(0, "old.example.com");
	expect(&before, SOCKETMAP_OK, "old.example.com");
	/* The newer answer is the cached one. */
	assert_null(ask("domains", "example.com", &after));
	expect(&after, SOCKETMAP_NOTFOUND, "");
}

static void test_drop_map_drops_stale_answers(void **state)
{
	struct reply r;

	(void)state;
	ask("users", "alice@example.com", &r);
	fake_found(0, "alice@example.com");
	fake_none(1);
	expect(&r, SOCKETMAP_OK, "example.com/alice/");
	drop_map("users");
	/* A dropped answer is not served when the database then fails. */
	ask("users", "alice@example.com", &r);
	assert_int_equal(fk.n, 4);
	fake_fail(2, CQL_STATUS_TIMEOUT, NULL);
	fake_none(3);
	expect(&r, SOCKETMAP_TEMP, "cassandra: request timeout");
}

static void test_cancel(void **state)
{
	struct lookup *lk;
	struct reply r, r2;

	(void)state;
	assert_non_null(lk = ask("domains", "example.com", &r));
	lookup_cancel(lk);
	fake_found(0, "example.com");
	assert_int_equal(r.called, 0);
	/* The read still filled the cache. */
	assert_null(ask("domains", "example.com", &r2));
	expect(&r2, SOCKETMAP_OK, "example.com");
}

/* ---- extensions ------------------------------------------------------------ */

static void test_extension_propagation(void **state)
{
	struct reply r;

	(void)state;
	/* The stripped key matched: the extension goes into each address. */
	ask("virtual_aliases", "team+x@example.com", &r);
	fake_none(0);
	fake_found(1, "alice@example.com, bob@example.org");
	fake_none(2);
	expect(&r, SOCKETMAP_OK, "alice+x@example.com, bob+x@example.org");
	/* The full key matched: nothing to add. */
	cache_flush(cache);
	ask("virtual_aliases", "team+y@example.com", &r);
	fake_found(3, "carol@example.com");
	expect(&r, SOCKETMAP_OK, "carol@example.com");
	fake_none(4);
	fake_none(5);
	/* The domain matched: Postfix does not propagate into a catch-all... */
	cache_flush(cache);
	ask("virtual_aliases", "team+z@example.com", &r);
	fake_none(6);
	fake_none(7);
	fake_found(8, "dave@example.com");
	expect(&r, SOCKETMAP_OK, "dave@example.com");
	/* ...nor does a map that does not propagate (users). */
	ask("users", "erin+x@example.com", &r);
	fake_none(9);
	fake_found(10, "erin@example.com");
	expect(&r, SOCKETMAP_OK, "example.com/erin/");
	/* The client's case of the extension is kept. */
	cache_flush(cache);
	ask("virtual_aliases", "Team+MiXed@example.com", &r);
	fake_none(12);
	fake_found(13, "alice@example.com");
	fake_none(14);
	expect(&r, SOCKETMAP_OK, "alice+MiXed@example.com");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_found_is_ok),
		T(test_no_row_is_notfound),
		T(test_active_gates_the_row),
		T(test_empty_or_null_value_is_notfound),
		T(test_result_format_of_the_matching_row),
		T(test_key_that_cannot_exist),
		T(test_backend_trouble_is_temp),
		T(test_not_connected_is_temp),
		T(test_config_trouble_is_perm),
		T(test_undecodable_value_is_temp),
		T(test_candidate_orders),
		T(test_higher_failure_beats_lower_found),
		T(test_lower_found_waits_for_higher),
		T(test_cache_hits_and_misses),
		T(test_stale_positive_served_on_failure),
		T(test_stale_negative_never_served),
		T(test_refresh_ahead_at_ninety_percent),
		T(test_coalescing),
		cmocka_unit_test_setup_teardown(test_coalescing_without_cache, setup_nocache, teardown),
		T(test_deadline),
		T(test_reload_during_read),
		T(test_reload_removes_map_during_read),
		T(test_flush_during_read),
		T(test_flush_no_joining_older_read),
		T(test_drop_map_during_read),
		T(test_drop_map_no_joining_older_read),
		T(test_drop_map_drops_stale_answers),
		T(test_cancel),
		T(test_extension_propagation),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
