/*
 * cred_provider - what every source of credentials starts from (see
 * cred_provider.h)
 */
#include <stdlib.h>

#include "aws/cred_provider.h"

/* cred_provider_new - allocate, name and give the methods */
struct cred_provider *cred_provider_new(const char *name,
					void (*fetch)(struct cred_provider *p, cred_done_fn done, void *arg),
					void (*cancel)(struct cred_provider *p),
					void (*destroy)(struct cred_provider *p))
{
	struct cred_provider *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->name = name;
	p->fetch = fetch;
	p->cancel = cancel;
	p->destroy = destroy;
	return p;
}
