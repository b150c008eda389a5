/*
 * result_format - Postfix-style result_format expansion (pure)
 *
 * SYNOPSIS
 *	#include "result_format.h"
 *
 * DESCRIPTION
 *	As in pgsql_table(5) and ldap_table(5): in the format, %s is the
 *	result value, %u its local part (the whole value when it has no '@'),
 *	%d its domain part, %% a percent sign. As Postfix does, a format
 *	with %d discards a value without a domain (no '@' or nothing after
 *	it) and a format with %u one with an empty local part ("@domain"),
 *	so a catch-all row never gives "example.org//". Anything else after % is a
 *	configuration error, found by result_format_check() at startup.
 */
#ifndef PAC_RESULT_FORMAT_H
#define PAC_RESULT_FORMAT_H

#include <stddef.h>

#include "buf.h"

/* result_format_check - 0 if fmt is valid, else -1 with a reason */
int result_format_check(const char *fmt, const char **why);

/*
 * result_format_apply - append the expansion for one value. Returns 1 if
 * appended, 0 if the value is discarded (an empty part that %d or %u needs).
 */
int result_format_apply(const char *fmt, const char *val, size_t len,
			struct buf *out);

#endif
