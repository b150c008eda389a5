/*
 * aws_base - the AWS credential value and the helpers every source shares
 *
 * SYNOPSIS
 *	#include "aws/aws_base.h"
 *
 * DESCRIPTION
 *	The bottom of src/aws: it includes nothing else of src/aws, and every
 *	other file there may include it, so the sources, the chain
 *	(cred_chain.c), STS and their parsers never import each other in a
 *	circle.
 *
 *	struct aws_credentials is one set of credentials as a source hands it
 *	over; aws_credentials_wipe() erases one (secrets never linger on the
 *	stack or the heap). aws_now_ms() is the wall clock that expirations
 *	are compared with, aws_parse_time() reads the ISO 8601 Expiration the
 *	endpoints write. cred_env_flag() and cred_env_number() read the
 *	AWS-style settings of the environment.
 */
#ifndef PAC_AWS_BASE_H
#define PAC_AWS_BASE_H

#include <stdint.h>

#define AWS_KEY_ID_MAX		128	/* bytes in an access key id */
#define AWS_SECRET_MAX		256	/* bytes in a secret access key */
#define AWS_TOKEN_MAX		8192	/* bytes in a session token */
#define AWS_REGION_MAX		32	/* bytes in a region name */

struct aws_credentials {
	char access_key_id[AWS_KEY_ID_MAX + 1];
	char secret_access_key[AWS_SECRET_MAX + 1];
	char session_token[AWS_TOKEN_MAX + 1];	/* "": long-term credentials */
	int64_t expiration_ms;		/* epoch ms; 0: does not expire */
};

/* aws_credentials_wipe - erase secrets */
void aws_credentials_wipe(struct aws_credentials *c);

/* aws_now_ms - wall clock, epoch milliseconds */
int64_t aws_now_ms(void);

/* aws_parse_time - ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff]Z|±HH:MM" to epoch ms */
int aws_parse_time(const char *s, int64_t *epoch_ms);

/* cred_env_flag - AWS-style boolean variable ("true"/"false", any case) */
int cred_env_flag(const char *name);
/* cred_env_number - a positive integer variable, or def */
long cred_env_number(const char *name, long def, long max);

#endif
