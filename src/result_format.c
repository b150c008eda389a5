/*
 * result_format - Postfix-style result_format expansion (see result_format.h)
 */
#include <string.h>

#include "result_format.h"

/* result_format_check - validate the % sequences */
int result_format_check(const char *fmt, const char **why)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		switch (p[1]) {
		case 's':
		case 'u':
		case 'd':
		case '%':
			p++;
			break;
		case 0:
			*why = "result_format ends with a lone '%'";
			return -1;
		default:
			*why = "result_format has an unknown % sequence (use %s, %u, %d or %%)";
			return -1;
		}
	}
	*why = NULL;
	return 0;
}

/* uses - does fmt contain the sequence %c */
static int uses(const char *fmt, char c)
{
	const char *p;

	for (p = fmt; *p; p++)
		if (*p == '%' && p[1] != 0 && *++p == c)
			return 1;
	return 0;
}

/* result_format_apply - expand fmt for one value */
int result_format_apply(const char *fmt, const char *val, size_t len,
			struct buf *out)
{
	const char *at = NULL, *p;
	size_t i;

	for (i = len; i > 0; i--)
		if (val[i - 1] == '@') {	/* the last '@', as Postfix splits */
			at = val + i - 1;
			break;
		}
	/*
	 * As Postfix's db_common_expand(): a format with %d discards a value
	 * without a domain (no '@', or nothing after it), a format with %u a
	 * value whose local part is empty ("@example.org").
	 */
	if (uses(fmt, 'd') && (at == NULL || at + 1 == val + len))
		return 0;
	if (uses(fmt, 'u') && at == val)
		return 0;
	for (p = fmt; *p; p++) {
		if (*p != '%' || p[1] == 0) {
			buf_append_byte(out, (unsigned char)*p);
			continue;
		}
		switch (*++p) {
		case 's':
			buf_append(out, val, len);
			break;
		case 'u':
			buf_append(out, val, at ? (size_t)(at - val) : len);
			break;
		case 'd':
			buf_append(out, at + 1, len - (size_t)(at - val) - 1);
			break;
		default:
			buf_append_byte(out, (unsigned char)*p);
			break;
		}
	}
	return 1;
}
