/*
 * extension - carry an address extension into an alias result (see .h)
 */
#include "extension.h"

/* element - one address of the list, with the extension put in */
static void element(const char *e, size_t n, const char *ext, size_t ext_len,
		    struct buf *out)
{
	size_t i, end = n, at = n;

	while (end > 0 && (e[end - 1] == ' ' || e[end - 1] == '\t'))
		end--;
	for (i = 0; i < end; i++)
		if (e[i] != ' ' && e[i] != '\t')
			break;
	if (i == end) {				/* blank: nothing to extend */
		buf_append(out, e, n);
		return;
	}
	for (i = end; i > 0; i--)
		if (e[i - 1] == '@') {
			at = i - 1;
			break;
		}
	if (at == n)
		at = end;
	buf_append(out, e, at);
	buf_append(out, ext, ext_len);
	buf_append(out, e + at, n - at);
}

/* extension_propagate - val with ext inserted into each address, onto out */
void extension_propagate(const char *val, size_t len, const char *ext,
			 size_t ext_len, struct buf *out)
{
	size_t i, start = 0;
	int quoted = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && quoted && val[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (i < len && val[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (i < len && (quoted || val[i] != ','))
			continue;
		element(val + start, i - start, ext, ext_len, out);
		if (i < len)
			buf_append_byte(out, ',');
		start = i + 1;
	}
}
