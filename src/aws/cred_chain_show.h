/*
 * cred_chain_show - the --credentials mode (see cred_chain_show.c)
 */
#ifndef PAC_AWS_CRED_CHAIN_SHOW_H
#define PAC_AWS_CRED_CHAIN_SHOW_H

/* cred_chain_show - resolve once, print source and access key id; exit code */
int cred_chain_show(const char *progname);

#endif
