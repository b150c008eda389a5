/*
 * aws_creds_show - the --credentials mode (see aws_creds_show.c)
 */
#ifndef PAC_AWS_CREDS_SHOW_H
#define PAC_AWS_CREDS_SHOW_H

/* aws_creds_show - resolve once, print source and access key id; exit code */
int aws_creds_show(const char *progname);

#endif
