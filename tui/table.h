/* table — what a console screen shows: a title, column heads and rows of
 * UTF-8 cells, with the selection and the first row on screen. Plain data,
 * no curses: the loaders of console.c fill tables, the unit tests read
 * them, term.c draws them. Also the display-width arithmetic the drawing
 * needs (a Cyrillic letter is two bytes and one column; a CJK character
 * two columns), so that long names are cut by what fits on the screen,
 * never in the middle of a character.
 */
#ifndef ASKUE_TUI_TABLE_H
#define ASKUE_TUI_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Columns of a table: the widest screen (alerts) has seven. */
#define TABLE_COLS_MAX 8
/* Rows one table holds: a debtors list or a completeness report of a whole
 * fleet is paged by the screen, but a bound keeps a broken ledger from
 * eating the machine; past it the last row says how many were left out. */
#define TABLE_ROWS_MAX 200000
/* One cell: an address is 400 bytes; an alert's outcome 500. */
#define TABLE_CELL_BYTES_MAX 1024

enum row_kind {
	ROW_PLAIN,
	ROW_HEADING, /* a section heading (drawn bold, never selected) */
	ROW_NOTE,    /* a remark (drawn dim) */
};

struct table_row {
	enum row_kind kind;
	int64_t id;        /* an alert, a suspense row ... 0 = none */
	char key[64];      /* an account, an invoice number, a tariff ... "" = none */
	char *cells[TABLE_COLS_MAX];
};

struct table {
	char title[256];
	int n_cols;
	const char *heads[TABLE_COLS_MAX]; /* static strings */
	int widths[TABLE_COLS_MAX];        /* columns; 0 = the rest of the line */
	int n_rows, cap, left_out;
	struct table_row *rows;
	int sel, top; /* the selected row, the first row on screen */
};

/* A new empty table of n_cols columns (heads and widths set by the caller). */
ASKUE_MUST enum askue_err table_new(int n_cols, struct table **out);
void table_free(struct table *t); /* NULL is a no-op */
void table_clear(struct table *t);
/* Clear T and give it TITLE and N columns with these heads and widths. */
void table_set_heads(struct table *t, const char *title, int n, const char *const *heads,
                     const int *widths);
/* Append a row: n cells (at most n_cols, copied; NULL = ""), cut to
 * TABLE_CELL_BYTES_MAX on a character boundary. Past TABLE_ROWS_MAX the
 * row is counted in left_out and ASKUE_OK returned. */
ASKUE_MUST enum askue_err table_add(struct table *t, enum row_kind kind, int64_t id,
                                    const char *key, int n, const char *const *cells);
/* The same with printf-formatted cells joined by '\t' in fmt's output. */
ASKUE_MUST enum askue_err table_addf(struct table *t, enum row_kind kind, int64_t id,
                                     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The selected row, or NULL. */
const struct table_row *table_selected(const struct table *t);
/* Move the selection by delta rows (skipping headings and notes when it
 * can), keeping it on a row and within [top, top + height). */
void table_move(struct table *t, int delta, int height);
/* Select the first selectable row. */
void table_home(struct table *t, int height);

/* Display columns of UTF-8 text (a malformed byte counts one column). */
int text_width(const char *s);
/* Copy into out (size out_size) the longest prefix of s that fits in
 * `width` columns, ending with "…" when s was cut; returns the columns
 * used. Never splits a character. */
int text_fit(const char *s, int width, char *out, size_t out_size);
/* Cut s in place to at most max_bytes on a character boundary. */
void text_cut_bytes(char *s, size_t max_bytes);

#endif
