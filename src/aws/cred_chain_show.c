/*
 * cred_chain_show - resolve AWS credentials once and print what was chosen
 *
 * SYNOPSIS
 *	#include "aws/cred_chain_show.h"
 *
 *	int cred_chain_show(const char *progname);
 *
 * DESCRIPTION
 *	The --credentials mode: walks the same chain the daemon signs with
 *	(cred_chain.c), under the same environment, and prints on stdout
 *
 *		source: <where the credentials come from>
 *		access_key_id: <id>
 *		expires: <YYYYMMDDTHHMMSSZ | never>
 *
 *	or "none" when no source gave credentials (the log on stderr says
 *	what was tried and why). The secret and the session token are never
 *	printed. No database is contacted and no other setting is needed, so
 *	an operator can see which identity the daemon would use, and the
 *	tests can compare it with an AWS SDK's choice.
 *
 * DIAGNOSTICS
 *	Exit 0 with credentials, 1 without, 2 when the loop cannot be made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "aws/cred_chain.h"
#include "aws/cred_chain_show.h"
#include "aws/sigv4.h"

#define SHOW_DEADLINE_S		120	/* give up waiting for the chain */

struct show {
	struct event_base *base;
	struct cred_chain *ch;
	int settled;
};

/* show_settled - the first walk ended: stop the loop */
static void show_settled(void *arg)
{
	struct show *s = arg;

	s->settled = 1;
	event_base_loopexit(s->base, NULL);
}

/* cred_chain_show - the --credentials mode */
int cred_chain_show(const char *progname)
{
	struct show s = { NULL, NULL, 0 };
	struct evdns_base *dns;
	struct timeval deadline = { SHOW_DEADLINE_S, 0 };
	const struct aws_credentials *c;
	const char *lv = getenv("LOG_LEVEL");
	char when[SIGV4_AMZDATE_LEN + 1];
	int level, rc = 1;

	log_init(progname, 0);
	level = lv && *lv ? log_level_parse(lv) : -1;
	log_set_level(level >= 0 ? (enum log_level)level : LOG_LEVEL_INFO);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if ((s.base = event_base_new()) == NULL)
		return 2;
	dns = evdns_base_new(s.base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
			     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dns == NULL)
		dns = evdns_base_new(s.base, 0);
	if (dns == NULL || (s.ch = cred_chain_new(s.base, dns)) == NULL) {
		msg_error("cannot create the credential chain");
		return 2;
	}
	cred_chain_on_settled(s.ch, show_settled, &s);
	cred_chain_start(s.ch);
	if (!s.settled) {
		event_base_loopexit(s.base, &deadline);
		event_base_dispatch(s.base);
	}
	if ((c = cred_chain_current(s.ch)) != NULL) {
		if (c->expiration_ms == 0 || sigv4_amzdate(c->expiration_ms, when) != 0)
			snprintf(when, sizeof(when), "never");
		printf("source: %s\naccess_key_id: %s\nexpires: %s\n", cred_chain_describe(s.ch),
		       c->access_key_id, when);
		rc = 0;
	} else {
		printf("none\n");
	}
	fflush(stdout);
	cred_chain_free(s.ch);
	evdns_base_free(dns, 0);
	event_base_free(s.base);
	return rc;
}
