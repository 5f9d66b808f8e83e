/* table — see table.h. */
#include "table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

enum askue_err table_new(int n_cols, struct table **out)
{
	if (n_cols < 1 || n_cols > TABLE_COLS_MAX)
		return askue_err_set(ASKUE_ERR_RANGE, "table: %d columns", n_cols);
	struct table *t = calloc(1, sizeof *t);
	if (!t)
		return askue_err_set(ASKUE_ERR_NOMEM, "table: out of memory");
	t->n_cols = n_cols;
	*out = t;
	return ASKUE_OK;
}

void table_clear(struct table *t)
{
	for (int r = 0; r < t->n_rows; r++)
		for (int c = 0; c < TABLE_COLS_MAX; c++)
			free(t->rows[r].cells[c]);
	t->n_rows = 0;
	t->left_out = 0;
	t->sel = 0;
	t->top = 0;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	table_clear(t);
	free(t->rows);
	free(t);
}

void text_cut_bytes(char *s, size_t max_bytes)
{
	size_t n = strlen(s);
	if (n <= max_bytes)
		return;
	n = max_bytes;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* s[n] is a continuation byte: the character starts before */
	s[n] = 0;
}

static enum askue_err grow(struct table *t)
{
	if (t->n_rows < t->cap)
		return ASKUE_OK;
	int cap = t->cap ? t->cap * 2 : 64;
	struct table_row *rows = realloc(t->rows, (size_t)cap * sizeof *rows);
	if (!rows)
		return askue_err_set(ASKUE_ERR_NOMEM, "table: out of memory");
	t->rows = rows;
	t->cap = cap;
	return ASKUE_OK;
}

enum askue_err table_add(struct table *t, enum row_kind kind, int64_t id, const char *key, int n,
                         const char *const *cells)
{
	if (t->n_rows >= TABLE_ROWS_MAX) {
		t->left_out++;
		return ASKUE_OK;
	}
	enum askue_err err = grow(t);
	if (err)
		return err;
	struct table_row *r = &t->rows[t->n_rows];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->id = id;
	snprintf(r->key, sizeof r->key, "%s", key ? key : "");
	for (int c = 0; c < n && c < t->n_cols; c++) {
		const char *s = cells[c] ? cells[c] : "";
		size_t len = strnlen(s, TABLE_CELL_BYTES_MAX + 1);
		if (!(r->cells[c] = malloc(len + 1))) {
			for (int k = 0; k < c; k++)
				free(r->cells[k]);
			return askue_err_set(ASKUE_ERR_NOMEM, "table: out of memory");
		}
		memcpy(r->cells[c], s, len);
		r->cells[c][len] = 0;
		text_cut_bytes(r->cells[c], TABLE_CELL_BYTES_MAX);
	}
	t->n_rows++;
	return ASKUE_OK;
}

enum askue_err table_addf(struct table *t, enum row_kind kind, int64_t id, const char *key,
                          const char *fmt, ...)
{
	char buf[TABLE_COLS_MAX * 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	const char *cells[TABLE_COLS_MAX] = {0};
	int n = 0;
	for (char *p = buf; n < TABLE_COLS_MAX;) {
		cells[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = 0;
		p = tab + 1;
	}
	return table_add(t, kind, id, key, n, cells);
}

const struct table_row *table_selected(const struct table *t)
{
	if (t->sel < 0 || t->sel >= t->n_rows)
		return NULL;
	return &t->rows[t->sel];
}

static int selectable(const struct table *t, int r)
{
	return t->rows[r].kind == ROW_PLAIN;
}

static void keep_visible(struct table *t, int height)
{
	if (height < 1)
		height = 1;
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + height)
		t->top = t->sel - height + 1;
	if (t->top > t->n_rows - height)
		t->top = t->n_rows - height;
	if (t->top < 0)
		t->top = 0;
}

void table_move(struct table *t, int delta, int height)
{
	if (!t->n_rows)
		return;
	int want = t->sel + delta;
	if (want < 0)
		want = 0;
	if (want >= t->n_rows)
		want = t->n_rows - 1;
	/* Prefer a selectable row in the direction of travel, then back. */
	int step = delta < 0 ? -1 : 1, r = want;
	while (r >= 0 && r < t->n_rows && !selectable(t, r))
		r += step;
	if (r < 0 || r >= t->n_rows)
		for (r = want; r >= 0 && r < t->n_rows && !selectable(t, r); r -= step)
			;
	t->sel = r >= 0 && r < t->n_rows ? r : want;
	keep_visible(t, height);
	/* At the ends, show the headings above or the notes below too. */
	if (delta < 0 && want == 0)
		t->top = 0;
}

void table_home(struct table *t, int height)
{
	t->sel = 0;
	t->top = 0;
	table_move(t, 0, height);
	t->top = 0;
	keep_visible(t, height);
}

/* The next character of s: its bytes (*len) and columns. */
static int next_char(const char *s, size_t *len)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*len = 1;
		return 1;
	}
	*len = n;
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

int text_width(const char *s)
{
	int w = 0;
	size_t len;
	for (; *s; s += len)
		w += next_char(s, &len);
	return w;
}

int text_fit(const char *s, int width, char *out, size_t out_size)
{
	static const char ellipsis[] = "\xe2\x80\xa6"; /* … */
	if (!out_size)
		return 0;
	out[0] = 0;
	if (width <= 0)
		return 0;
	int total = text_width(s);
	if (total <= width && strlen(s) < out_size) {
		memcpy(out, s, strlen(s) + 1);
		return total;
	}
	/* Cut: as many whole characters as leave room for the "…". */
	size_t used = 0, len;
	int w = 0;
	for (const char *p = s; *p; p += len) {
		int cw = next_char(p, &len);
		if (w + cw > width - 1 || used + len + sizeof ellipsis > out_size)
			break;
		memcpy(out + used, p, len);
		used += len;
		w += cw;
	}
	if (used + sizeof ellipsis <= out_size) {
		memcpy(out + used, ellipsis, sizeof ellipsis - 1);
		used += sizeof ellipsis - 1;
		w++;
	}
	out[used] = 0;
	return w;
}

void table_set_heads(struct table *t, const char *title, int n, const char *const *heads,
                     const int *widths)
{
	table_clear(t);
	snprintf(t->title, sizeof t->title, "%s", title);
	t->n_cols = n;
	for (int i = 0; i < n; i++) {
		t->heads[i] = heads[i];
		t->widths[i] = widths[i];
	}
}
