/*
 * exec_system - the system tables cqld keeps for drivers
 *
 * SYNOPSIS
 *	#include "exec_int.h"
 *
 *	int ex_init(struct store *s, const struct ex_node *node)	(exec.h)
 *
 *	int ex_view(struct store *s, const uint8_t *addr, size_t addrlen)
 *
 *	void ex_schema_refresh(struct store *s)
 *
 * DESCRIPTION
 *	ex_init() creates the system and system_schema keyspaces and the
 *	row of system.local that describes this node; the rows of
 *	system.peers and system.peers_v2 describe the other nodes of an
 *	emulated cluster (exec.h, struct ex_node). ex_schema_refresh()
 *	rewrites system_schema.keyspaces, tables and columns after each
 *	schema change and gives system.local and every peer the new schema
 *	version. ex_view() rewrites system.local and the peers for the
 *	address a client reached (Amazon Keyspaces' endpoint has several: a
 *	client sees the one it reached in system.local, the others as
 *	peers). All of it is written as CQL run through ex_execute() with
 *	system writes allowed (ex_internal).
 *
 *	With --schema-mcs it also keeps Amazon Keyspaces' own
 *	system_schema_mcs.tables (keyspace_name, table_name, status): a
 *	client polls it until a new table is ACTIVE ("Check keyspace and
 *	table creation status", Amazon Keyspaces developer guide). Every
 *	user table has the status the control port last set ("mcs-status",
 *	ACTIVE by default), so a test can hold tables in CREATING.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

#define EX_RACK			"rack1"	/* every node's rack */
#define EX_CQL_VERSION		"3.4.4"

#define EX_MCS_STATUS_MAX	32	/* bytes of a system_schema_mcs status */

static const struct ex_node *ex_self;	/* this node and its peers */
static uint8_t ex_view_addr[16];	/* the address system.local reports */
static size_t ex_view_len;		/* 0: the node's own */
static char ex_mcs_status[EX_MCS_STATUS_MAX] = "ACTIVE";

static const char *const ex_mcs_schema[] = {
	"CREATE KEYSPACE system_schema_mcs WITH replication = "
	"{'class': 'org.apache.cassandra.locator.LocalStrategy'}",
	"CREATE TABLE system_schema_mcs.tables (keyspace_name text, "
	"table_name text, status text, PRIMARY KEY (keyspace_name, table_name))",
};
static int ex_booting;		/* ex_init is creating the system tables */

static const char *const ex_system_schema[] = {
	"CREATE KEYSPACE system WITH replication = "
	"{'class': 'org.apache.cassandra.locator.LocalStrategy'}",
	"CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, "
	"broadcast_address inet, cluster_name text, cql_version text, "
	"data_center text, gossip_generation int, host_id uuid, "
	"listen_address inet, native_protocol_version text, partitioner text, "
	"rack text, release_version text, rpc_address inet, "
	"schema_version uuid, thrift_version text, tokens set<text>, "
	"truncated_at map<uuid, blob>)",
	"CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, "
	"host_id uuid, preferred_ip inet, rack text, release_version text, "
	"rpc_address inet, schema_version uuid, tokens set<text>)",
	"CREATE TABLE system.peers_v2 (peer inet, peer_port int, "
	"data_center text, host_id uuid, native_address inet, native_port int, "
	"preferred_ip inet, preferred_port int, rack text, "
	"release_version text, schema_version uuid, tokens set<text>, "
	"PRIMARY KEY ((peer), peer_port))",
	"CREATE KEYSPACE system_schema WITH replication = "
	"{'class': 'org.apache.cassandra.locator.LocalStrategy'}",
	"CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, "
	"durable_writes boolean, replication frozen<map<text, text>>)",
	"CREATE TABLE system_schema.tables (keyspace_name text, table_name text, "
	"bloom_filter_fp_chance double, caching frozen<map<text, text>>, "
	"cdc boolean, comment text, compaction frozen<map<text, text>>, "
	"compression frozen<map<text, text>>, crc_check_chance double, "
	"dclocal_read_repair_chance double, default_time_to_live int, "
	"extensions frozen<map<text, blob>>, flags frozen<set<text>>, "
	"gc_grace_seconds int, id uuid, max_index_interval int, "
	"memtable_flush_period_in_ms int, min_index_interval int, "
	"read_repair_chance double, speculative_retry text, "
	"PRIMARY KEY ((keyspace_name), table_name))",
	"CREATE TABLE system_schema.columns (keyspace_name text, "
	"table_name text, column_name text, clustering_order text, "
	"column_name_bytes blob, kind text, position int, type text, "
	"PRIMARY KEY ((keyspace_name), table_name, column_name))",
	"CREATE TABLE system_schema.types (keyspace_name text, type_name text, "
	"field_names frozen<list<text>>, field_types frozen<list<text>>, "
	"PRIMARY KEY ((keyspace_name), type_name))",
	"CREATE TABLE system_schema.functions (keyspace_name text, "
	"function_name text, argument_types frozen<list<text>>, "
	"argument_names frozen<list<text>>, body text, "
	"called_on_null_input boolean, language text, return_type text, "
	"PRIMARY KEY ((keyspace_name), function_name, argument_types))",
	"CREATE TABLE system_schema.aggregates (keyspace_name text, "
	"aggregate_name text, argument_types frozen<list<text>>, "
	"final_func text, initcond text, return_type text, state_func text, "
	"state_type text, "
	"PRIMARY KEY ((keyspace_name), aggregate_name, argument_types))",
	"CREATE TABLE system_schema.triggers (keyspace_name text, "
	"table_name text, trigger_name text, options frozen<map<text, text>>, "
	"PRIMARY KEY ((keyspace_name), table_name, trigger_name))",
	"CREATE TABLE system_schema.indexes (keyspace_name text, "
	"table_name text, index_name text, kind text, "
	"options frozen<map<text, text>>, "
	"PRIMARY KEY ((keyspace_name), table_name, index_name))",
	"CREATE TABLE system_schema.views (keyspace_name text, view_name text, "
	"base_table_id uuid, base_table_name text, bloom_filter_fp_chance "
	"double, caching frozen<map<text, text>>, cdc boolean, comment text, "
	"compaction frozen<map<text, text>>, "
	"compression frozen<map<text, text>>, crc_check_chance double, "
	"dclocal_read_repair_chance double, default_time_to_live int, "
	"extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, "
	"include_all_columns boolean, max_index_interval int, "
	"memtable_flush_period_in_ms int, min_index_interval int, "
	"read_repair_chance double, speculative_retry text, where_clause text, "
	"PRIMARY KEY ((keyspace_name), view_name))",
};

/* run_internal - run one CQL text with system writes allowed */
static int run_internal(struct store *s, const char *cql)
{
	struct cl_stmt *st = calloc(1, sizeof(*st));
	struct cl_error perr;
	struct cql_error err;
	struct buf out;
	int rc = -1;

	if (st == NULL)
		return -1;
	buf_init(&out);
	if (cl_parse(cql, strlen(cql), st, &perr) < 0) {
		fprintf(stderr, "cqld: internal: %s: %s\n", perr.msg, cql);
		free(st);
		return -1;
	}
	ex_internal++;
	rc = ex_execute(s, NULL, st, NULL, &out, &err);
	ex_internal--;
	if (rc < 0)
		fprintf(stderr, "cqld: internal: %s: %.200s\n", err.message, cql);
	cl_stmt_free(st);
	free(st);
	buf_free(&out);
	return rc;
}

/* lit - append a CQL string literal */
static void lit(struct buf *b, const char *s)
{
	buf_append_byte(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_append_byte(b, '\'');
		buf_append_byte(b, (uint8_t)*s);
	}
	buf_append_byte(b, '\'');
}

/* uuid_text - 16 bytes as a UUID literal */
static void uuid_text(struct buf *b, const uint8_t *u)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf_append_byte(b, '-');
		buf_printf(b, "%02x", u[i]);
	}
}

/* schema_uuid - the schema version: changes with every schema change */
static void schema_uuid(const struct store *s, uint8_t u[16])
{
	static const uint8_t base[16] = {
		0x5c, 0x9d, 0x1e, 0x40, 0x8f, 0x3a, 0x3b, 0x6e,
		0x9a, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	int i;

	memcpy(u, base, 16);
	for (i = 0; i < 4; i++)
		u[12 + i] = (uint8_t)(s->generation >> (24 - 8 * i));
}

/* node_hash - FNV-1a 64 of an address and port, with a seed */
static uint64_t node_hash(const uint8_t *addr, size_t addrlen, int port,
			  uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < addrlen; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	h = (h ^ (uint8_t)(port >> 8)) * 0x100000001b3ULL;
	h = (h ^ (uint8_t)port) * 0x100000001b3ULL;
	/* splitmix64's finalizer: nearby ports give unrelated ids and tokens */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* node_host_id - a node's host_id: a version 4 UUID from address, port */
static void node_host_id(const uint8_t *addr, size_t addrlen, int port,
			 uint8_t u[16])
{
	uint64_t h[2];
	int i;

	h[0] = node_hash(addr, addrlen, port, 0x686f73745f6964ULL);
	h[1] = node_hash(addr, addrlen, port, 0x686f73745f697e2ULL);
	for (i = 0; i < 8; i++) {
		u[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		u[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

/* node_token - a node's one Murmur3 token, never the reserved minimum */
static void node_token(struct buf *b, const uint8_t *addr, size_t addrlen,
		       int port)
{
	int64_t t = (int64_t)node_hash(addr, addrlen, port,
				       0x746f6b656eULL);

	if (t == INT64_MIN)
		t++;
	buf_printf(b, "{'%lld'}", (long long)t);
}

/*
 * is_viewed - p is the address system.local reports (the node's own until
 * ex_view): not a peer of itself. Only a Keyspaces endpoint lists its own
 * address among the peers it may be viewed through.
 */
static int is_viewed(const struct ex_peer *p)
{
	const uint8_t *a = ex_view_len ? ex_view_addr : ex_self->addr;
	size_t n = ex_view_len ? ex_view_len : ex_self->addrlen;

	return p->addrlen == n && memcmp(p->addr, a, n) == 0;
}

/* run_buf - run the CQL text built in b, unless building it ran out of memory */
static void run_buf(struct store *s, struct buf *b)
{
	if (!b->oom)
		(void)run_internal(s, (const char *)b->data);
}

/*
 * peers_write - (re)write the rows of system.peers and system.peers_v2.
 * Every peer reports this node's schema version: writes are not
 * replicated, but drivers that wait for schema agreement must get it.
 * system.peers is keyed by address alone, so of several peers on one
 * address it keeps the last; only peers_v2 (keyed by address and port)
 * lists them all, with their ports. cqld has no storage port: peer_port
 * (the gossip port in Cassandra, which would tell peers on one address
 * apart) is the native port too.
 */
static void peers_write(struct store *s, const uint8_t schema[16])
{
	char addr[INET6_ADDRSTRLEN];
	struct buf b;
	uint8_t u[16];
	size_t i;
	int v2;

	if (ex_self == NULL)
		return;
	buf_init(&b);
	for (i = 0; i < ex_self->npeers; i++) {
		const struct ex_peer *p = &ex_self->peers[i];

		if (inet_ntop(p->addrlen == 16 ? AF_INET6 : AF_INET, p->addr,
			      addr, sizeof(addr)) == NULL ||
		    (ex_self->no_peers_v2 && is_viewed(p)))
			continue;
		node_host_id(p->addr, p->addrlen, p->port, u);
		for (v2 = 0; v2 < (ex_self->no_peers_v2 ? 1 : 2); v2++) {
			buf_reset(&b);
			buf_printf(&b, "INSERT INTO system.%s (peer, %s "
				   "data_center, host_id, rack, "
				   "release_version, schema_version, tokens) "
				   "VALUES (", v2 ? "peers_v2" : "peers",
				   v2 ? "peer_port, native_address, "
				   "native_port," : "rpc_address,");
			lit(&b, addr);
			if (v2)
				buf_printf(&b, ", %d, '%s', %d", p->port,
					   addr, p->port);
			else
				buf_printf(&b, ", '%s'", addr);
			buf_append_str(&b, ", ");
			lit(&b, p->dc);
			buf_append_str(&b, ", ");
			uuid_text(&b, u);
			buf_append_str(&b, ", ");
			lit(&b, ex_self->rack ? ex_self->rack : EX_RACK);
			buf_append_str(&b, ", ");
			lit(&b, ex_self->release_version ?
			    ex_self->release_version : EX_DEFAULT_RELEASE);
			buf_append_str(&b, ", ");
			uuid_text(&b, schema);
			buf_append_str(&b, ", ");
			node_token(&b, p->addr, p->addrlen, p->port);
			buf_append_str(&b, ")");
			run_buf(s, &b);
		}
	}
	buf_free(&b);
}

/* schema_keyspace_row - the system_schema.keyspaces row of k */
static void schema_keyspace_row(struct store *s, struct buf *b,
				const struct st_keyspace *k)
{
	size_t j;

	buf_reset(b);
	buf_append_str(b, "INSERT INTO system_schema.keyspaces "
		       "(keyspace_name, durable_writes, replication) "
		       "VALUES (");
	lit(b, k->name);
	buf_printf(b, ", %s, {", k->durable_writes ? "true" : "false");
	for (j = 0; j + 1 < k->nrepl; j += 2) {
		const char *v = k->repl[j + 1];

		if (j)
			buf_append_str(b, ", ");
		lit(b, k->repl[j]);
		buf_append_str(b, ": ");
		/* Cassandra reports the full class name */
		if (strcmp(k->repl[j], "class") == 0 &&
		    strchr(v, '.') == NULL) {
			char full[CL_NAME_MAX + 64];

			snprintf(full, sizeof(full),
				 "org.apache.cassandra.locator.%s", v);
			lit(b, full);
		} else {
			lit(b, v);
		}
	}
	buf_append_str(b, "})");
	run_buf(s, b);
}

/* schema_row_begin - INSERT INTO system_schema.X (...) VALUES ('ks', 'table' */
static void schema_row_begin(struct buf *b, const char *insert,
			     const struct st_keyspace *k,
			     const struct st_table *tb)
{
	buf_reset(b);
	buf_append_str(b, insert);
	lit(b, k->name);
	buf_append_str(b, ", ");
	lit(b, tb->name);
}

/* schema_table_rows - the system_schema.tables and .columns rows of tb */
static void schema_table_rows(struct store *s, struct buf *b,
			      const struct st_keyspace *k,
			      const struct st_table *tb)
{
	size_t c;

	schema_row_begin(b, "INSERT INTO system_schema.tables "
			 "(keyspace_name, table_name, "
			 "bloom_filter_fp_chance, caching, comment, compaction, "
			 "compression, crc_check_chance, "
			 "dclocal_read_repair_chance, default_time_to_live, "
			 "flags, gc_grace_seconds, id, max_index_interval, "
			 "memtable_flush_period_in_ms, min_index_interval, "
			 "read_repair_chance, speculative_retry) VALUES (",
			 k, tb);
	buf_append_str(b, ", 0.01, {'keys': 'ALL', "
		       "'rows_per_partition': 'NONE'}, '', "
		       "{'class': 'org.apache.cassandra.db."
		       "compaction.SizeTieredCompactionStrategy'"
		       ", 'max_threshold': '32', "
		       "'min_threshold': '4'}, {'chunk_length_in_"
		       "kb': '64', 'class': 'org.apache."
		       "cassandra.io.compress.LZ4Compressor'}, "
		       "1.0, 0.1, 0, {'compound'}, 864000, ");
	uuid_text(b, tb->id);
	buf_append_str(b, ", 2048, 0, 128, 0.0, '99PERCENTILE')");
	run_buf(s, b);
	for (c = 0; c < tb->ncols; c++) {
		const struct st_column *col = &tb->cols[c];
		char tn[64];
		const char *p;

		schema_row_begin(b, "INSERT INTO system_schema.columns "
				 "(keyspace_name, table_name, column_name, "
				 "clustering_order, column_name_bytes, kind, "
				 "position, type) VALUES (", k, tb);
		buf_append_str(b, ", ");
		lit(b, col->name);
		buf_printf(b, ", '%s', 0x", col->kind != ST_CLUSTERING ?
			   "none" : col->desc ? "desc" : "asc");
		for (p = col->name; *p; p++)
			buf_printf(b, "%02x", (unsigned char)*p);
		buf_printf(b, ", '%s', %d, ", col->kind == ST_PARTITION ?
			   "partition_key" : col->kind == ST_CLUSTERING ?
			   "clustering" : "regular", col->kind == ST_REGULAR ?
			   -1 : col->kind == ST_PARTITION ? col->position :
			   col->position - (int)tb->npartition);
		lit(b, value_type_name(&col->type, tn, sizeof(tn)));
		buf_append_str(b, ")");
		run_buf(s, b);
	}
}

/* mcs_rows - system_schema_mcs.tables: every user table, with the status set */
static void mcs_rows(struct store *s, struct buf *b)
{
	struct st_keyspace *mk = st_keyspace_find(s, "system_schema_mcs");
	struct st_table *t;
	size_t i, j;

	if (mk == NULL || (t = st_table_find(mk, "tables")) == NULL)
		return;
	st_table_truncate(t);
	for (i = 0; i < s->nks; i++)
		for (j = 0; !s->ks[i]->system && j < s->ks[i]->ntables; j++) {
			schema_row_begin(b, "INSERT INTO system_schema_mcs.tables (keyspace_name, "
					 "table_name, status) VALUES (", s->ks[i], s->ks[i]->tables[j]);
			buf_append_str(b, ", ");
			lit(b, ex_mcs_status);
			buf_append_str(b, ")");
			run_buf(s, b);
		}
}

/* ex_mcs_set_status - the status of every table from now on */
void ex_mcs_set_status(struct store *s, const char *status)
{
	snprintf(ex_mcs_status, sizeof(ex_mcs_status), "%s", status);
	ex_schema_refresh(s);
}

/* ex_schema_refresh - rebuild system_schema rows and the schema version */
void ex_schema_refresh(struct store *s)
{
	static const char *const rebuilt[] = { "keyspaces", "tables",
					       "columns" };
	struct st_keyspace *sk;
	struct st_table *t;
	struct buf b;
	uint8_t u[16];
	size_t i, j;
	unsigned gen;

	if (ex_booting || (sk = st_keyspace_find(s, "system_schema")) == NULL)
		return;
	gen = s->generation;
	for (i = 0; i < sizeof(rebuilt) / sizeof(rebuilt[0]); i++)
		if ((t = st_table_find(sk, rebuilt[i])) != NULL)
			st_table_truncate(t);
	buf_init(&b);
	for (i = 0; i < s->nks; i++) {
		schema_keyspace_row(s, &b, s->ks[i]);
		for (j = 0; j < s->ks[i]->ntables; j++)
			schema_table_rows(s, &b, s->ks[i], s->ks[i]->tables[j]);
	}
	mcs_rows(s, &b);
	/* the rows above are data, not schema: keep the version stable */
	s->generation = gen;
	schema_uuid(s, u);
	buf_reset(&b);
	buf_append_str(&b, "UPDATE system.local SET schema_version = ");
	uuid_text(&b, u);
	buf_append_str(&b, " WHERE key = 'local'");
	if (st_keyspace_find(s, "system"))
		run_buf(s, &b);
	buf_free(&b);
	peers_write(s, u);
}

/* ex_init - set up the system keyspaces and this node's system.local */
int ex_init(struct store *s, const struct ex_node *node)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t u[16];
	struct buf b;
	size_t i;
	int rc;

	ex_self = node;
	ex_view_len = 0;
	ex_booting = 1;
	for (i = 0; i < sizeof(ex_system_schema) / sizeof(ex_system_schema[0]);
	     i++)
		if ((!node->no_peers_v2 ||
		     strstr(ex_system_schema[i], "peers_v2") == NULL) &&
		    run_internal(s, ex_system_schema[i]) < 0) {
			ex_booting = 0;
			return -1;
		}
	for (i = 0; node->schema_mcs && i < sizeof(ex_mcs_schema) / sizeof(ex_mcs_schema[0]); i++)
		if (run_internal(s, ex_mcs_schema[i]) < 0) {
			ex_booting = 0;
			return -1;
		}
	ex_booting = 0;
	st_keyspace_find(s, "system")->system = 1;
	st_keyspace_find(s, "system_schema")->system = 1;
	if (node->schema_mcs)
		st_keyspace_find(s, "system_schema_mcs")->system = 1;
	if (inet_ntop(node->addrlen == 16 ? AF_INET6 : AF_INET, node->addr,
		      addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "127.0.0.1");
	buf_init(&b);
	buf_append_str(&b, "INSERT INTO system.local (key, bootstrapped, "
		       "broadcast_address, cluster_name, cql_version, "
		       "data_center, gossip_generation, host_id, "
		       "listen_address, native_protocol_version, partitioner, "
		       "rack, release_version, rpc_address, schema_version, "
		       "thrift_version, tokens) VALUES ('local', 'COMPLETED', ");
	lit(&b, addr);
	buf_append_str(&b, ", 'cqld', '" EX_CQL_VERSION "', ");
	lit(&b, node->dc ? node->dc : EX_DEFAULT_DC);
	buf_append_str(&b, ", 1700000000, ");
	node_host_id(node->addr, node->addrlen, node->port, u);
	uuid_text(&b, u);
	buf_append_str(&b, ", ");
	lit(&b, addr);
	buf_printf(&b, ", '%d', 'org.apache.cassandra.dht.Murmur3Partitioner', ",
		   node->max_protocol);
	lit(&b, node->rack ? node->rack : EX_RACK);
	buf_append_str(&b, ", ");
	lit(&b, node->release_version ? node->release_version :
	    EX_DEFAULT_RELEASE);
	buf_append_str(&b, ", ");
	lit(&b, addr);
	buf_append_str(&b, ", ");
	schema_uuid(s, u);
	uuid_text(&b, u);
	buf_append_str(&b, ", '20.1.0', ");
	node_token(&b, node->addr, node->addrlen, node->port);
	buf_append_str(&b, ")");
	rc = b.oom ? -1 : run_internal(s, (const char *)b.data);
	buf_free(&b);
	if (rc == 0)
		ex_schema_refresh(s);
	return rc;
}

/* ex_view - system.local and the peers as seen through addr */
int ex_view(struct store *s, const uint8_t *addr, size_t addrlen)
{
	const uint8_t *cur = ex_view_len ? ex_view_addr : ex_self->addr;
	size_t curlen = ex_view_len ? ex_view_len : ex_self->addrlen;
	char text[INET6_ADDRSTRLEN];
	struct st_keyspace *k;
	struct st_table *t;
	unsigned gen = s->generation;
	uint8_t u[16], schema[16];
	struct buf b;
	int rc;

	if (ex_self == NULL || (addrlen != 4 && addrlen != 16))
		return -1;
	if (addrlen == curlen && memcmp(addr, cur, addrlen) == 0)
		return 0;
	if (inet_ntop(addrlen == 16 ? AF_INET6 : AF_INET, addr, text,
		      sizeof(text)) == NULL ||
	    (k = st_keyspace_find(s, "system")) == NULL ||
	    (t = st_table_find(k, "peers")) == NULL)
		return -1;
	memcpy(ex_view_addr, addr, addrlen);
	ex_view_len = addrlen;
	buf_init(&b);
	buf_append_str(&b, "UPDATE system.local SET rpc_address = ");
	lit(&b, text);
	buf_append_str(&b, ", broadcast_address = ");
	lit(&b, text);
	buf_append_str(&b, ", listen_address = ");
	lit(&b, text);
	buf_append_str(&b, ", host_id = ");
	node_host_id(addr, addrlen, ex_self->port, u);
	uuid_text(&b, u);
	buf_append_str(&b, ", tokens = ");
	node_token(&b, addr, addrlen, ex_self->port);
	buf_append_str(&b, " WHERE key = 'local'");
	rc = b.oom ? -1 : run_internal(s, (const char *)b.data);
	buf_free(&b);
	st_table_truncate(t);
	/* rows, not schema: the schema version stays */
	s->generation = gen;
	schema_uuid(s, schema);
	peers_write(s, schema);
	s->generation = gen;
	return rc;
}
