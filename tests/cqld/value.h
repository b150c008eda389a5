/*
 * value - CQL values of cqld: literals to bytes, checks, comparison
 *
 * SYNOPSIS
 *	#include "value.h"
 *
 * DESCRIPTION
 *	Values are kept exactly as the protocol carries them (the [bytes] of
 *	a cell, v3/v4 collection format with int lengths). This module turns
 *	parsed literals into that form, checks values bound by clients
 *	against a column type (and puts sets and maps in their canonical
 *	sorted order), compares values of a type the way Cassandra orders
 *	them, and prints them for messages.
 */
#ifndef CQLD_VALUE_H
#define CQLD_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cql_lang.h"

#define VALUE_ERR_MAX	256	/* bytes of an error message */

/* value_is_collection - list, set or map */
int value_is_collection(uint16_t id);

/*
 * value_from_term - encode a literal for a column of type ty into out
 * (replacing its contents). *is_null is set for null (and for empty
 * collections, which CQL treats as null). Returns 0, or -1 with a
 * message naming the column col in err.
 */
int value_from_term(const struct cl_type *ty, const struct cl_term *t,
		    const char *col, struct buf *out, int *is_null,
		    char *err, size_t errlen);

/*
 * value_check - check a bound value of len bytes (len >= 0) against a
 * type and write its canonical form into out (replacing its contents).
 * *is_null is set for empty collections. Returns 0 or -1 with err.
 */
int value_check(const struct cl_type *ty, const uint8_t *p, size_t len,
		const char *col, struct buf *out, int *is_null,
		char *err, size_t errlen);

/* value_compare - order two non-null values of simple type id */
int value_compare(uint16_t id, const uint8_t *a, size_t alen,
		  const uint8_t *b, size_t blen);

/* value_type_name - CQL text of a type, e.g. "set<text>" */
const char *value_type_name(const struct cl_type *ty, char *out, size_t size);

/* value_int_from_bytes - big-endian signed integer of 1..8 bytes */
int64_t value_int_from_bytes(const uint8_t *p, size_t n);

/* value_uuid_parse - 36-char UUID text to 16 bytes; -1 when malformed */
int value_uuid_parse(const char *s, uint8_t out[16]);

#endif
