/*
 * lookup_key - key validation and case folding (see lookup_key.h)
 */
#include <stdint.h>

#include "lookup_key.h"

/* utf8_valid - strict UTF-8: no overlongs, surrogates or > U+10FFFF */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* lookup_key_valid - could this key be in the database */
int lookup_key_valid(const char *key, size_t len, const char **why)
{
	size_t i;

	if (len == 0) {
		*why = "empty key";
		return 0;
	}
	if (len > LOOKUP_KEY_MAX) {
		*why = "key too long";
		return 0;
	}
	/* One pass while the key is printable ASCII, as addresses nearly always are. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c < 0x20 || c >= 0x7f)
			break;
	}
	if (i == len) {
		*why = NULL;
		return 1;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c < 0x20 || c == 0x7f) {
			*why = "control character in key";
			return 0;
		}
	}
	if (!utf8_valid((const unsigned char *)key, len)) {
		*why = "key is not valid UTF-8";
		return 0;
	}
	*why = NULL;
	return 1;
}

/* lookup_key_fold - ASCII lower case */
void lookup_key_fold(const char *key, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = key[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	out[len] = 0;
}

/* lookup_utf8_valid - strict UTF-8, for text that is not a key (a table value) */
int lookup_utf8_valid(const char *s, size_t len)
{
	return utf8_valid((const unsigned char *)s, len);
}
