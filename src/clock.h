/*
 * clock - monotonic and wall time in milliseconds
 */
#ifndef PAC_CLOCK_H
#define PAC_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);	/* CLOCK_MONOTONIC */

#endif
