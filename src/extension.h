/*
 * extension - carry an address extension into an alias result (pure)
 *
 * SYNOPSIS
 *	#include "extension.h"
 *
 * DESCRIPTION
 *	When Postfix finds user+foo@domain in its own virtual alias table
 *	under the key user@domain, it inserts the unmatched extension "+foo"
 *	into every address of the result (propagate_unmatched_extensions,
 *	default "canonical, virtual"; mail_addr_map() and
 *	mail_addr_crunch()). A socketmap answer cannot tell Postfix which key
 *	matched: to Postfix it is always the full key, and the extension was
 *	lost. So the engine does it for the maps that ask for it
 *	(propagate_extension).
 *
 *	extension_propagate() appends val to out with ext inserted before
 *	the last '@' of each comma-separated element (after the element when
 *	it has no '@'), commas inside double quotes not counting. Blank
 *	elements are copied as they are. A result that starts with '@'
 *	(domain aliasing) is not for this function: Postfix itself puts the
 *	whole local part, extension included, in front of it.
 */
#ifndef PAC_EXTENSION_H
#define PAC_EXTENSION_H

#include <stddef.h>

#include "buf.h"

/* extension_propagate - val with ext inserted into each address, onto out */
void extension_propagate(const char *val, size_t len, const char *ext,
			 size_t ext_len, struct buf *out);

#endif
