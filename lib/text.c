/* text — see text.h. */
#include "text.h"

#include <stdint.h>
#include <string.h>

/* Decode one code point at s (n bytes left); returns its length or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((s[0] & 0xe0) == 0xc0) { len = 2; c = s[0] & 0x1f; min = 0x80; }
	else if ((s[0] & 0xf0) == 0xe0) { len = 3; c = s[0] & 0x0f; min = 0x800; }
	else if ((s[0] & 0xf8) == 0xf0) { len = 4; c = s[0] & 0x07; min = 0x10000; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int askue_text_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);
		if (!len || (cp < 0x20 && cp != '\t') || cp == 0x7f)
			return 0;
		i += len;
	}
	return 1;
}

size_t askue_text_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) { out[0] = (char)c; return 1; }
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static uint32_t fold_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0x410 && c <= 0x42f) /* А..Я */
		return c + 32;
	if (c >= 0x400 && c <= 0x40f) /* Ѐ..Џ */
		c += 80;
	if (c == 0x451) /* ё -> е */
		return 0x435;
	return c;
}

char *askue_text_fold(const char *s, char *out, size_t out_size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0;
	int pending_space = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);
		if (!len) { /* not UTF-8: copy the byte as it is */
			if (o + 1 >= out_size)
				break;
			out[o++] = (char)p[i++];
			continue;
		}
		i += len;
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') {
			pending_space = o > 0;
			continue;
		}
		char enc[4];
		size_t elen = utf8_encode(fold_cp(cp), enc);
		if (o + (size_t)pending_space + elen >= out_size)
			break;
		if (pending_space) {
			out[o++] = ' ';
			pending_space = 0;
		}
		memcpy(out + o, enc, elen);
		o += elen;
	}
	out[o] = '\0';
	return out;
}

enum askue_err askue_text_check(const char *field, const char *s, size_t max_bytes, int required)
{
	if (!s || !*s) {
		if (required)
			return askue_err_set(ASKUE_ERR_INVALID, "%s: must not be empty", field);
		return ASKUE_OK;
	}
	size_t n = strlen(s);
	if (n > max_bytes)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: longer than %zu bytes", field, max_bytes);
	if (!askue_text_valid(s, n))
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "%s: not valid UTF-8 text (or has control characters)", field);
	int blank = 1;
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			blank = 0;
	if (blank && required)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: must not be blank", field);
	return ASKUE_OK;
}
