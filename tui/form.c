/* form — see form.h. */
#include "form.h"

#include <stdio.h>
#include <string.h>
#include <wctype.h>

void form_init(struct form *f, const char *title)
{
	memset(f, 0, sizeof *f);
	snprintf(f->title, sizeof f->title, "%s", title);
}

int form_add(struct form *f, const char *label, size_t max_bytes, int secret, const char *text)
{
	if (f->n >= FORM_FIELDS_MAX)
		return -1;
	struct form_field *x = &f->f[f->n];
	memset(x, 0, sizeof *x);
	x->label = label;
	x->max_bytes = max_bytes && max_bytes < FORM_TEXT_BYTES_MAX ? max_bytes : FORM_TEXT_BYTES_MAX;
	x->secret = secret;
	if (text) {
		snprintf(x->text, x->max_bytes + 1, "%s", text);
		x->len = x->cur = strlen(x->text);
	}
	return f->n++;
}

void form_focus(struct form *f, int field)
{
	if (field >= 0 && field < f->n)
		f->focus = field;
}

const char *form_text(const struct form *f, int field)
{
	return field >= 0 && field < f->n ? f->f[field].text : "";
}

void form_wipe(struct form *f)
{
	for (int i = 0; i < f->n; i++) {
		memset(f->f[i].text, 0, sizeof f->f[i].text);
		f->f[i].len = f->f[i].cur = 0;
	}
}

/* Bytes of the character before / at byte offset i. */
static size_t char_before(const char *s, size_t i)
{
	size_t n = 0;
	while (i > 0) {
		i--;
		n++;
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			break;
	}
	return n;
}

static size_t char_at(const char *s, size_t i, size_t len)
{
	size_t n = i < len ? 1 : 0;
	while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
		n++;
	return n;
}

static void erase(struct form_field *x, size_t at, size_t n)
{
	memmove(x->text + at, x->text + at + n, x->len - at - n + 1);
	x->len -= n;
}

static void insert(struct form *f, struct form_field *x, wchar_t ch)
{
	char mb[16]; /* MB_LEN_MAX of glibc (lib/limits.h hides <limits.h>) */
	mbstate_t st;
	memset(&st, 0, sizeof st);
	if (ch == 0 || iswcntrl((wint_t)ch)) {
		snprintf(f->note, sizeof f->note, "%s: control characters are not taken", x->label);
		return;
	}
	size_t n = wcrtomb(mb, ch, &st);
	if (n == (size_t)-1) {
		snprintf(f->note, sizeof f->note, "%s: that character cannot be written here",
		         x->label);
		return;
	}
	if (x->len + n > x->max_bytes) {
		snprintf(f->note, sizeof f->note, "%s: full (at most %zu bytes)", x->label,
		         x->max_bytes);
		return;
	}
	memmove(x->text + x->cur + n, x->text + x->cur, x->len - x->cur + 1);
	memcpy(x->text + x->cur, mb, n);
	x->len += n;
	x->cur += n;
}

static enum form_result move_focus(struct form *f, int delta)
{
	if (f->n)
		f->focus = (f->focus + delta + f->n) % f->n;
	return FORM_EDITING;
}

enum form_result form_key(struct form *f, enum form_key key, wchar_t ch)
{
	f->note[0] = 0;
	if (!f->n)
		return key == FK_CANCEL ? FORM_CANCEL : key == FK_ENTER ? FORM_SUBMIT : FORM_EDITING;
	struct form_field *x = &f->f[f->focus];
	size_t n;
	switch (key) {
	case FK_CHAR: insert(f, x, ch); break;
	case FK_LEFT: x->cur -= char_before(x->text, x->cur); break;
	case FK_RIGHT: x->cur += char_at(x->text, x->cur, x->len); break;
	case FK_HOME: x->cur = 0; break;
	case FK_END: x->cur = x->len; break;
	case FK_BACKSPACE:
		if ((n = char_before(x->text, x->cur))) {
			x->cur -= n;
			erase(x, x->cur, n);
		}
		break;
	case FK_DELETE:
		if ((n = char_at(x->text, x->cur, x->len)))
			erase(x, x->cur, n);
		break;
	case FK_KILL:
		x->text[0] = 0;
		x->len = x->cur = 0;
		break;
	case FK_NEXT: return move_focus(f, 1);
	case FK_PREV: return move_focus(f, -1);
	case FK_ENTER:
		if (f->focus == f->n - 1)
			return FORM_SUBMIT;
		return move_focus(f, 1);
	case FK_CANCEL: return FORM_CANCEL;
	}
	return FORM_EDITING;
}
