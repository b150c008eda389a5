/*
 * postfix_conf - compare our settings with the local Postfix's (postconf)
 *
 * SYNOPSIS
 *	#include "postfix_conf.h"
 *
 * DESCRIPTION
 *	RECIPIENT_DELIMITER must be Postfix's own recipient_delimiter: a
 *	mismatch makes the daemon match user+ext@domain rows that Postfix's
 *	own tables would not, or the reverse. postfix_delimiter_report()
 *	runs `postconf -h recipient_delimiter` (with -c $MAIL_CONFIG when
 *	that is set, as Postfix's own commands do) and prints one line for
 *	--check: the same, different (a warning), or not compared (no
 *	postconf on this machine, or it failed). The delimiters are compared
 *	as sets of characters, as Postfix uses them.
 *
 *	delimiter_sets_equal() is the pure part.
 */
#ifndef PAC_POSTFIX_CONF_H
#define PAC_POSTFIX_CONF_H

#include <stdio.h>

/* delimiter_sets_equal - 1 if a and b hold the same characters */
int delimiter_sets_equal(const char *a, const char *b);

/* postfix_delimiter_report - one --check line; returns 1 if they differ */
int postfix_delimiter_report(const char *ours, FILE *fp);

#endif
