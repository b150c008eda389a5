/*
 * cqld_control - cqld's control port: what tests inject and ask
 *
 * SYNOPSIS
 *	#include "cqld.h"
 *
 *	const struct listener control_listener
 *
 *	void count_request(const char *ks, const char *table)
 *
 *	int fail_inject(const char *ks, const char *table, uint16_t cons,
 *		const uint8_t *id, struct cql_error *err)
 *
 * DESCRIPTION
 *	Tests drive cqld through a second port (--control): delays, held
 *	and dropped answers, injected errors, Keyspaces-style pages, and
 *	the per-table request counts they read back. The commands are one
 *	table (control_cmds), which also words the reply to an unknown
 *	command. count_request() and fail_inject() are how requests meet
 *	what the control port set up (cqld_request.c calls them).
 *
 * CONTROL SOCKET
 *	One command per line, one reply line, "ok ..." or "error ...":
 *
 *	delay MS	hold every response back MS milliseconds (0: off)
 *	counts		"ok ks.t1=N ks.t2=M ..." sorted by name: QUERY and
 *			EXECUTE requests (and BATCH statements) per user
 *			table since the last reset, failed ones included;
 *			system keyspaces are not counted
 *	reset-counts	zero the counts
 *	fail CODE [N]	answer the next N (default: all, until "fail off")
 *			QUERY/EXECUTE requests on user tables with error CODE:
 *			server_error overloaded unavailable read_timeout
 *			write_timeout read_failure write_failure
 *			is_bootstrapping truncate_error unprepared invalid
 *			syntax unauthorized protocol; Unavailable and the
 *			timeouts/failures carry the request's consistency,
 *			required/blockfor 1, alive/received 0, data_present 0,
 *			write type SIMPLE; Unprepared carries the prepared id
 *	fail CODE every N
 *			answer every Nth such request with CODE (the others
 *			as usual) until "fail off": sustained throttling,
 *			as a table over its capacity answers
 *	fail off	stop injecting failures
 *	paging BYTES [empty] | paging off
 *			cut every page of a QUERY/EXECUTE result after the
 *			row that brings its cell data to BYTES (as Keyspaces
 *			cuts at 1 MB read), besides the client's page size;
 *			with "empty", every page with rows is preceded by a
 *			page of zero rows that carries a paging state, as
 *			Keyspaces may return ("Paginating results", Amazon
 *			Keyspaces developer guide). "paging 0 empty": only
 *			the empty pages
 *	stall on|off	read requests and drop them, unanswered
 *	hold on|off	keep back the responses to QUERY/EXECUTE on user
 *			tables (the statement runs and is counted at once,
 *			its answer waits) until "hold off" sends them all
 *			("ok hold off released N"); other frames (PREPARE,
 *			system tables) are answered as usual
 *	held		"ok held N": responses kept back now
 *	drop		close all client connections ("ok dropped N")
 *	refuse on|off	close new client connections at once
 *	exec CQL	run a statement ("ok", "ok N rows" for SELECT, or
 *			"error message"); USE sticks to this control connection
 *	ping		"ok pong"
 *	throttle KS.TABLE SECONDS
 *			refuse every read of the table for SECONDS (may be
 *			fractional; 0 lifts it) as Keyspaces refuses reads
 *			over a table's capacity: see cqld_throttle.c
 *	throttled	"ok throttled connection=N table=M": requests refused
 *			by --rate-limit and by "throttle" so far
 *	mcs-status S	with --schema-mcs, the status every table has in
 *			system_schema_mcs.tables from now on (default ACTIVE)
 *	auth ARGS	a command for the --auth backend (sigv4: "key
 *			KEYID:SECRET[:REGION]" changes the accepted key,
 *			"stats" counts accepted and rejected answers)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cqld.h"
#include "exec.h"

#define CQLD_CONTROL_LINE_MAX	(1024 * 1024)	/* control command, bytes */
#define CQLD_MAX_COUNTED	4096	/* distinct tables in counts */
#define CQLD_STR(x)		CQLD_STR2(x)
#define CQLD_STR2(x)		#x

/* ---- counts and failure injection -------------------------------- */

/* count_request - one more request on ks.table (user tables only) */
void count_request(const char *ks, const char *table)
{
	char name[2 * CL_NAME_MAX];
	struct counted *v;
	size_t i;

	if (ex_is_system_keyspace(ks) || table[0] == 0)
		return;
	snprintf(name, sizeof(name), "%s.%s", ks, table);
	for (i = 0; i < srv.ncounts; i++)
		if (strcmp(srv.counts[i].name, name) == 0) {
			srv.counts[i].n++;
			return;
		}
	if (srv.ncounts >= CQLD_MAX_COUNTED)
		return;
	v = realloc(srv.counts, (srv.ncounts + 1) * sizeof(*v));
	if (v == NULL)
		return;
	srv.counts = v;
	snprintf(v[srv.ncounts].name, sizeof(v[0].name), "%s", name);
	v[srv.ncounts++].n = 1;
}

static const struct {
	const char *name;
	int code;
	const char *message;
} fail_codes[] = {
	{"server_error", CQL_ERR_SERVER, "cqld: injected server error"},
	{"overloaded", CQL_ERR_OVERLOADED, "Server is in overloaded state. "
	 "Cannot accept more requests at this point"},
	{"unavailable", CQL_ERR_UNAVAILABLE, "Cannot achieve consistency "
	 "level %s"},
	{"read_timeout", CQL_ERR_READ_TIMEOUT, "Operation timed out - "
	 "received only 0 responses."},
	{"write_timeout", CQL_ERR_WRITE_TIMEOUT, "Operation timed out - "
	 "received only 0 responses."},
	{"read_failure", CQL_ERR_READ_FAILURE, "Operation failed - received "
	 "0 responses and 1 failures"},
	{"write_failure", CQL_ERR_WRITE_FAILURE, "Operation failed - received "
	 "0 responses and 1 failures"},
	{"is_bootstrapping", CQL_ERR_IS_BOOTSTRAPPING, "Cannot read from a "
	 "bootstrapping node"},
	{"truncate_error", CQL_ERR_TRUNCATE, "cqld: injected truncate error"},
	{"unprepared", CQL_ERR_UNPREPARED, CQLD_UNPREPARED_MSG},
	{"invalid", CQL_ERR_INVALID, "cqld: injected invalid request"},
	{"syntax", CQL_ERR_SYNTAX, "cqld: injected syntax error"},
	{"unauthorized", CQL_ERR_UNAUTHORIZED, "cqld: injected unauthorized"},
	{"protocol", CQL_ERR_PROTOCOL, "cqld: injected protocol error"},
};

#define NFAIL_CODES	(sizeof(fail_codes) / sizeof(fail_codes[0]))

/*
 * fail_inject - when failure injection is on, fill err for a request on
 * a user table (id: the prepared id, or NULL for QUERY) and return 1.
 */
int fail_inject(const char *ks, const char *table, uint16_t cons,
		       const uint8_t *id, struct cql_error *err)
{
	char hex[2 * CQLD_ID_LEN + 1];
	size_t i;

	if (srv.fail_code < 0 || ex_is_system_keyspace(ks) || table[0] == 0)
		return 0;
	if (srv.fail_left == 0)
		return 0;
	if (srv.fail_every > 0 && ++srv.fail_seen % srv.fail_every != 0)
		return 0;
	if (srv.fail_left > 0 && --srv.fail_left == 0)
		logmsg("failure injection finished");
	memset(err, 0, sizeof(*err));
	err->code = srv.fail_code;
	for (i = 0; i < NFAIL_CODES; i++)
		if (fail_codes[i].code == srv.fail_code)
			break;
	for (size_t k = 0; k < CQLD_ID_LEN; k++)
		snprintf(hex + 2 * k, 3, "%02x", id ? id[k] : 0);
	if (i == NFAIL_CODES)
		snprintf(err->message, sizeof(err->message),
			 "cqld: injected error 0x%04x", srv.fail_code);
	else if (srv.fail_code == CQL_ERR_UNAVAILABLE)
		snprintf(err->message, sizeof(err->message),
			 fail_codes[i].message, cql_consistency_name(cons));
	else if (srv.fail_code == CQL_ERR_UNPREPARED)
		snprintf(err->message, sizeof(err->message),
			 fail_codes[i].message, hex);
	else
		snprintf(err->message, sizeof(err->message), "%s",
			 fail_codes[i].message);
	err->consistency = cons;
	err->required = 1;
	err->alive = 0;
	err->failures = 1;
	err->data_present = 0;
	snprintf(err->write_type, sizeof(err->write_type), "SIMPLE");
	snprintf(err->keyspace, sizeof(err->keyspace), "%.63s", ks);
	snprintf(err->table, sizeof(err->table), "%.63s", table);
	if (id) {
		memcpy(err->unprepared_id, id, CQLD_ID_LEN);
		err->unprepared_id_len = CQLD_ID_LEN;
	}
	return 1;
}
/* ---- commands ------------------------------------------------------ */

struct control_call;

/*
 * A control command's handler: appends the reply line to k->rep and
 * returns 0, or returns -1 for the reply "error usage: " and the usage.
 */
typedef int control_fn(struct control_call *k);

struct control_cmd {
	const char *name;
	const char *usage;	/* after "error usage: " */
	control_fn *run;
	int *flag;		/* the switch of an on|off command */
	int secret;		/* the argument is not logged */
};

/* One command line being run */
struct control_call {
	const struct control_cmd *cmd;
	struct ccon *cc;		/* the control connection */
	char *arg;			/* after the command's name */
	struct buf *rep;		/* the reply line */
};

/* split_word - end the word s starts with; the rest, blanks skipped */
static char *split_word(char *s)
{
	char *rest = s + strcspn(s, " \t");

	if (*rest)
		*rest++ = 0;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	return rest;
}

/* cmd_ping - ping: "ok pong" */
static int cmd_ping(struct control_call *k)
{
	buf_append_str(k->rep, "ok pong");
	return 0;
}

/* cmd_auth - auth ARGS: handed to the --auth backend */
static int cmd_auth(struct control_call *k)
{
	(void)auth_control(srv.auth, k->arg, k->rep);
	return 0;
}

/* cmd_delay - delay MS */
static int cmd_delay(struct control_call *k)
{
	long v;

	if (parse_long(k->arg, 0, CQLD_MAX_DELAY_MS, &v) < 0)
		return -1;
	srv.delay_ms = (int)v;
	buf_printf(k->rep, "ok delay %ld", v);
	return 0;
}

/* count_cmp - order of counts by name */
static int count_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counted *)a)->name,
		      ((const struct counted *)b)->name);
}

/* cmd_counts - counts: "ok ks.t=N ..." sorted by name */
static int cmd_counts(struct control_call *k)
{
	size_t i;

	if (srv.ncounts > 1)
		qsort(srv.counts, srv.ncounts, sizeof(srv.counts[0]),
		      count_cmp);
	buf_append_str(k->rep, "ok");
	for (i = 0; i < srv.ncounts; i++)
		buf_printf(k->rep, " %s=%lu", srv.counts[i].name,
			   srv.counts[i].n);
	return 0;
}

/* cmd_reset_counts - reset-counts */
static int cmd_reset_counts(struct control_call *k)
{
	free(srv.counts);
	srv.counts = NULL;
	srv.ncounts = 0;
	buf_append_str(k->rep, "ok");
	return 0;
}

/* cmd_fail - fail CODE [N] | fail off */
static int cmd_fail(struct control_call *k)
{
	char *n = split_word(k->arg);
	long left = -1;
	size_t i;

	if (strcmp(k->arg, "off") == 0) {
		srv.fail_code = -1;
		buf_append_str(k->rep, "ok fail off");
		return 0;
	}
	for (i = 0; i < NFAIL_CODES; i++)
		if (strcmp(k->arg, fail_codes[i].name) == 0)
			break;
	if (i == NFAIL_CODES) {
		buf_printf(k->rep, "error usage: %s; CODE is one of",
			   k->cmd->usage);
		for (i = 0; i < NFAIL_CODES; i++)
			buf_printf(k->rep, " %s", fail_codes[i].name);
		return 0;
	}
	srv.fail_every = 0;
	if (strncmp(n, "every ", 6) == 0) {
		if (parse_long(n + 6, 1, LONG_MAX, &srv.fail_every) < 0) {
			buf_append_str(k->rep, "error usage: fail CODE every N, N > 0");
			return 0;
		}
		srv.fail_code = fail_codes[i].code;
		srv.fail_left = -1;
		srv.fail_seen = 0;
		buf_printf(k->rep, "ok fail %s every %ld", fail_codes[i].name, srv.fail_every);
		return 0;
	}
	if (*n && parse_long(n, 1, LONG_MAX, &left) < 0) {
		buf_append_str(k->rep, "error usage: fail CODE [N], N > 0");
		return 0;
	}
	srv.fail_code = fail_codes[i].code;
	srv.fail_left = left;
	if (left > 0)
		buf_printf(k->rep, "ok fail %s %ld", fail_codes[i].name, left);
	else
		buf_printf(k->rep, "ok fail %s", fail_codes[i].name);
	return 0;
}

/* cmd_paging - paging BYTES [empty] | paging off */
static int cmd_paging(struct control_call *k)
{
	char *mode = split_word(k->arg);
	long v;

	if (strcmp(k->arg, "off") == 0 && !*mode) {
		srv.page_budget = 0;
		srv.empty_pages = 0;
		buf_append_str(k->rep, "ok paging off");
		return 0;
	}
	if (parse_long(k->arg, 0, LONG_MAX, &v) < 0 ||
	    (*mode && strcmp(mode, "empty") != 0))
		return -1;
	srv.page_budget = (size_t)v;
	srv.empty_pages = *mode != 0;
	buf_printf(k->rep, "ok paging %ld%s", v, srv.empty_pages ? " empty" : "");
	return 0;
}

/* cmd_switch - stall|refuse on|off */
static int cmd_switch(struct control_call *k)
{
	if (strcmp(k->arg, "on") == 0)
		*k->cmd->flag = 1;
	else if (strcmp(k->arg, "off") == 0)
		*k->cmd->flag = 0;
	else
		return -1;
	buf_printf(k->rep, "ok %s %s", k->cmd->name, k->arg);
	return 0;
}

/* cmd_hold - hold on|off; off sends what was held */
static int cmd_hold(struct control_call *k)
{
	if (strcmp(k->arg, "on") == 0) {
		srv.hold = 1;
		buf_append_str(k->rep, "ok hold on");
	} else if (strcmp(k->arg, "off") == 0) {
		srv.hold = 0;
		buf_printf(k->rep, "ok hold off released %lu", conn_held(1));
	} else {
		return -1;
	}
	return 0;
}

/* cmd_held - held: "ok held N" */
static int cmd_held(struct control_call *k)
{
	buf_printf(k->rep, "ok held %lu", conn_held(0));
	return 0;
}

/* cmd_drop - drop: close every client connection */
static int cmd_drop(struct control_call *k)
{
	unsigned long n = 0;

	while (srv.conns) {
		conn_free(srv.conns);
		n++;
	}
	buf_printf(k->rep, "ok dropped %lu", n);
	return 0;
}

/* exec_reply - the reply to a statement exec ran: a SELECT's row count */
static void exec_reply(const struct cl_stmt *st, const struct buf *out,
		       struct buf *rep)
{
	struct cql_rows_meta *m;
	struct cql_rd rd;

	if (st->kind != CL_SELECT || out->len < 8) {
		buf_append_str(rep, "ok");
		return;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		buf_append_str(rep, "ok");
		return;
	}
	cql_rd_init(&rd, out->data + 4, out->len - 4);
	cql_rd_rows_meta(&rd, m);
	buf_printf(rep, "ok %d rows", rd.err ? -1 : (int)cql_rd_int(&rd));
	free(m);
}

/* cmd_exec - exec CQL: run it in this control connection's keyspace */
static int cmd_exec(struct control_call *k)
{
	struct cql_error err;
	struct cl_stmt *st = malloc(sizeof(*st));
	struct cl_error perr;
	struct buf out;

	if (st == NULL) {
		buf_append_str(k->rep, "error out of memory");
		return 0;
	}
	if (cl_parse(k->arg, strlen(k->arg), st, &perr) < 0) {
		buf_printf(k->rep, "error %s", perr.msg);
		free(st);
		return 0;
	}
	buf_init(&out);
	if (ex_execute(&srv.store, k->cc->keyspace, st, NULL, &out, &err) < 0)
		buf_printf(k->rep, "error %s", err.message);
	else
		exec_reply(st, &out, k->rep);
	buf_free(&out);
	cl_stmt_free(st);
	free(st);
	return 0;
}

/* cmd_throttle - throttle KS.TABLE SECONDS | throttled (cqld_throttle.c) */
static int cmd_throttle(struct control_call *k)
{
	return throttle_command(k->cmd->name, k->arg, k->rep);
}

/* cmd_mcs_status - mcs-status STATUS: what system_schema_mcs.tables says (--schema-mcs) */
static int cmd_mcs_status(struct control_call *k)
{
	size_t n = strspn(k->arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

	if (n == 0 || k->arg[n] != 0 || n >= 32)
		return -1;
	ex_mcs_set_status(&srv.store, k->arg);
	buf_printf(k->rep, "ok mcs-status %s", k->arg);
	return 0;
}

/* The commands, in the order the reply to an unknown one lists them */
static const struct control_cmd control_cmds[] = {
	{"delay", "delay MS (0.." CQLD_STR(CQLD_MAX_DELAY_MS) ")", cmd_delay,
	 NULL, 0},
	{"counts", "counts", cmd_counts, NULL, 0},
	{"reset-counts", "reset-counts", cmd_reset_counts, NULL, 0},
	{"fail", "fail CODE [N] | fail CODE every N | fail off", cmd_fail, NULL, 0},
	{"paging", "paging BYTES [empty] | paging off", cmd_paging, NULL, 0},
	{"stall", "stall on|off", cmd_switch, &srv.stall, 0},
	{"hold", "hold on|off", cmd_hold, NULL, 0},
	{"held", "held", cmd_held, NULL, 0},
	{"drop", "drop", cmd_drop, NULL, 0},
	{"refuse", "refuse on|off", cmd_switch, &srv.refuse, 0},
	{"exec", "exec CQL", cmd_exec, NULL, 0},
	{"ping", "ping", cmd_ping, NULL, 0},
	{"throttle", "throttle KS.TABLE SECONDS", cmd_throttle, NULL, 0},
	{"throttled", "throttled", cmd_throttle, NULL, 0},
	{"mcs-status", "mcs-status ACTIVE|CREATING|...", cmd_mcs_status, NULL, 0},
	/* "auth key ID:SECRET" holds a secret */
	{"auth", "auth ARGS", cmd_auth, NULL, 1},
};

#define NCONTROL_CMDS	(sizeof(control_cmds) / sizeof(control_cmds[0]))

/* control_command - run one control line, append the reply line */
static void control_command(struct ccon *cc, char *line, struct buf *rep)
{
	const struct control_cmd *cmd = NULL;
	char *name = line, *arg;
	size_t i;

	while (*name == ' ' || *name == '\t')
		name++;
	arg = split_word(name);
	for (i = 0; i < NCONTROL_CMDS && cmd == NULL; i++)
		if (strcmp(name, control_cmds[i].name) == 0)
			cmd = &control_cmds[i];
	logmsg("control: %s %s", name, cmd && cmd->secret ? "..." : arg);
	if (cmd == NULL) {
		buf_printf(rep, "error unknown command '%.40s' (", name);
		for (i = 0; i < NCONTROL_CMDS; i++)
			buf_printf(rep, "%s%s", i ? ", " : "",
				   control_cmds[i].name);
		buf_append_str(rep, ")");
	} else {
		struct control_call k = { cmd, cc, arg, rep };

		if (cmd->run(&k) < 0)
			buf_printf(rep, "error usage: %s", cmd->usage);
	}
}

/* ---- control connections ------------------------------------------- */

/* control_free - close a control connection */
void control_free(struct ccon *cc)
{
	DLIST_REMOVE(srv.controls, cc);
	bufferevent_free(cc->bev);
	free(cc);
}

/* ccon_read - control lines arrived */
static void ccon_read(struct bufferevent *bev, void *arg)
{
	struct ccon *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct buf rep;
	char *line;
	size_t n;

	buf_init(&rep);
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		buf_reset(&rep);
		control_command(cc, line, &rep);
		free(line);
		buf_append_byte(&rep, '\n');
		if (!rep.oom)
			bufferevent_write(bev, rep.data, rep.len);
	}
	buf_free(&rep);
	if (evbuffer_get_length(in) > CQLD_CONTROL_LINE_MAX) {
		static const char msg[] = "error line too long\n";

		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_write(bev, msg, sizeof(msg) - 1);
	}
}

/* ccon_event - EOF or error on a control connection */
static void ccon_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		control_free(arg);
}

/* control_accept - a new control connection on its bufferevent */
static void *control_accept(struct bufferevent *bev)
{
	struct ccon *cc;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	cc->bev = bev;
	DLIST_INSERT(srv.controls, cc);
	return cc;
}

const struct listener control_listener = {
	control_accept, ccon_read, NULL, ccon_event, 0, NULL,
};
