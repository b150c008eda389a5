/*
 * aws_base - the AWS credential value, wiping, time and environment
 * helpers (see aws_base.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "aws/aws_base.h"

/* aws_credentials_wipe - erase secrets */
void aws_credentials_wipe(struct aws_credentials *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* aws_now_ms - wall clock in epoch milliseconds */
int64_t aws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* num - n digits at *s, advancing; -1 if not digits */
static int num(const char **s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (*(*s)++ - '0');
	}
	return v;
}

/* aws_parse_time - ISO 8601 as the endpoints write it */
int aws_parse_time(const char *s, int64_t *epoch_ms)
{
	struct tm tm;
	int ms = 0, scale = 100, sign, oh, om;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((tm.tm_year = num(&s, 4)) < 0 || *s++ != '-' || (tm.tm_mon = num(&s, 2)) < 1 ||
	    *s++ != '-' || (tm.tm_mday = num(&s, 2)) < 1 || (*s != 'T' && *s != 't' && *s != ' '))
		return -1;
	s++;
	if ((tm.tm_hour = num(&s, 2)) < 0 || *s++ != ':' || (tm.tm_min = num(&s, 2)) < 0 ||
	    *s++ != ':' || (tm.tm_sec = num(&s, 2)) < 0)
		return -1;
	if (tm.tm_mon > 12 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
			ms += (*s - '0') * scale;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if ((oh = num(&s, 2)) < 0 || oh > 23)
			return -1;
		if (*s == ':')
			s++;
		if ((om = num(&s, 2)) < 0 || om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*s != 0)
		return -1;
	*epoch_ms = (int64_t)t * 1000 + ms;
	return 0;
}

/* cred_env_flag - "true" (any case) or "1" */
int cred_env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* cred_env_number - a positive integer variable, or def when unset/bad */
long cred_env_number(const char *name, long def, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == 0)
		return def;
	n = strtol(v, &end, 10);
	if (*end != 0 || n <= 0 || n > max)
		return def;
	return n;
}
