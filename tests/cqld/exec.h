/*
 * exec - run parsed CQL statements against cqld's store
 *
 * SYNOPSIS
 *	#include "exec.h"
 *
 * DESCRIPTION
 *	ex_execute() runs one statement with its bound values and appends
 *	the body of the RESULT message (Void, Rows, SetKeyspace or
 *	SchemaChange) to a buffer, or fills a struct cql_error the way
 *	Cassandra 3.11 would word it. ex_prepare() checks a statement and
 *	appends a Prepared result body. Both are pure with respect to the
 *	network: cqld_request.c frames what they produce.
 *
 *	The store also holds the system tables drivers read on connect
 *	(system.local, system.peers, system.peers_v2, system_schema.*):
 *	system.local describes this node, the peers tables the other nodes
 *	of an emulated cluster (struct ex_node); system_schema
 *	keyspaces, tables and columns describe the user schema and are
 *	rebuilt after each schema change.
 */
#ifndef CQLD_EXEC_H
#define CQLD_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cql/cql_proto.h"
#include "cql_lang.h"
#include "store.h"

#define EX_UNSET	(-2)	/* value length of a v4 "not set" value */

struct ex_value {
	const uint8_t *p;
	int32_t len;		/* -1 null, EX_UNSET not set */
};

struct ex_name {
	const char *p;
	size_t len;
};

/* QUERY / EXECUTE parameters, as decoded from the request */
struct ex_params {
	uint8_t version;
	uint16_t consistency;
	const struct ex_value *values;
	const struct ex_name *names;	/* with values, or NULL */
	size_t nvalues;
	int32_t page_size;		/* <= 0: no paging */
	const uint8_t *paging_state;	/* NULL when none */
	size_t paging_state_len;
	int skip_metadata;
	/*
	 * Keyspaces-style page cuts (the control command "paging"): a page
	 * ends after the row that brings its cell data to page_budget
	 * bytes (0: only page_size cuts); with empty_pages, a page with
	 * rows is always preceded by one of zero rows that still carries
	 * a paging state, as Keyspaces may return ("Paginating results",
	 * Amazon Keyspaces developer guide). With budget_rows the bytes
	 * are those of every column of the rows read, as Keyspaces counts
	 * them, not only of the columns selected.
	 */
	size_t page_budget;
	int empty_pages;
	int budget_rows;		/* the budget counts whole rows read */
};

#define EX_DC_MAX	64	/* data center name, bytes with the NUL */
#define EX_DEFAULT_DC	"datacenter1"	/* Cassandra's default */
#define EX_DEFAULT_RELEASE "3.11.16"	/* release_version by default */

/* Another node of an emulated cluster, as system.peers lists it */
struct ex_peer {
	uint8_t addr[16];		/* its native (rpc) address */
	size_t addrlen;			/* 4 or 16 */
	int port;			/* its native port */
	char dc[EX_DC_MAX];		/* its data center */
};

/*
 * Facts about this server that system.local reports. host_id and tokens
 * derive from address and port, so that every cqld of a cluster
 * computes the same ones for a node.
 */
struct ex_node {
	uint8_t addr[16];		/* rpc/listen address */
	size_t addrlen;			/* 4 or 16 */
	int port;			/* native port */
	int max_protocol;		/* 3 or 4 */
	const char *dc;			/* data center (NULL: default) */
	const char *release_version;	/* claimed version (NULL: default) */
	const char *rack;		/* rack (NULL: rack1) */
	int no_peers_v2;		/* no system.peers_v2 (Keyspaces) */
	const struct ex_peer *peers;	/* system.peers, system.peers_v2 */
	size_t npeers;
	int schema_mcs;			/* keep Keyspaces' system_schema_mcs.tables */
};

/*
 * ex_init - set up the store with the system keyspaces; -1 on failure.
 * node (and its peers array) must outlive the store.
 */
int ex_init(struct store *s, const struct ex_node *node);

/*
 * ex_view - describe the node as seen through one of its addresses (the
 * one a client connected to): system.local reports it, system.peers every
 * other peer. A peer at that address leaves the peers tables. 0, or -1.
 */
int ex_view(struct store *s, const uint8_t *addr, size_t addrlen);

/*
 * ex_mcs_set_status - the status system_schema_mcs.tables gives every
 * table from now on (ACTIVE, or CREATING to stand for Amazon Keyspaces'
 * asynchronous creation)
 */
void ex_mcs_set_status(struct store *s, const char *status);

/*
 * ex_execute - run st. keyspace is the session keyspace (CL_NAME_MAX
 * bytes, may be empty) and is updated by USE. On success appends a RESULT
 * body to out and returns 0; else -1 with err set.
 */
int ex_execute(struct store *s, char *keyspace, const struct cl_stmt *st,
	       const struct ex_params *pp, struct buf *out,
	       struct cql_error *err);

/*
 * ex_prepare - check st for PREPARE in the session keyspace and append a
 * Prepared result body with the given id to out (protocol version
 * selects the v3 or v4 layout). 0, or -1 with err set.
 */
int ex_prepare(struct store *s, const char *keyspace,
	       const struct cl_stmt *st, const uint8_t *id, size_t idlen,
	       uint8_t version, struct buf *out, struct cql_error *err);

/*
 * ex_target - the keyspace and table a statement works on, after USE
 * resolution (table empty for keyspace statements). 0, or -1 if no
 * keyspace can be determined.
 */
int ex_target(const char *keyspace, const struct cl_stmt *st,
	      char *ks, char *table);

/* ex_is_system_keyspace - a keyspace cqld keeps for drivers */
int ex_is_system_keyspace(const char *ks);

/* ex_set_error - fill a cql_error with code and formatted message */
void ex_set_error(struct cql_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
