/* term — every curses call of the console: set-up and tear-down (wide
 * characters, the locale's UTF-8), drawing a table, a form, the key hints
 * and the status line, and reading a key as a form key. The screens in
 * app.c draw only through these.
 */
#ifndef ASKUE_TUI_TERM_H
#define ASKUE_TUI_TERM_H

#include <wchar.h>

#include "form.h"
#include "table.h"

/* A key read: a character (is_key 0) or a curses KEY_* code (is_key 1);
 * TERM_NONE when nothing came within the tick. */
#define TERM_NONE (-1)
struct term_key {
	int is_key;
	wint_t ch;
};

/* 0 on success; on failure says why on stderr. */
int term_open(void);
void term_close(void); /* safe twice */

int term_rows(void);
int term_cols(void);
/* Rows a table's body has on screen. */
int term_body_rows(void);
/* Wait up to tick_ms for a key; returns 0 when none came. */
int term_key(struct term_key *k, int tick_ms);
/* Map a key to a form key; 0 when it is none of them. */
int term_form_key(const struct term_key *k, enum form_key *fk, wchar_t *ch);

void term_clear(void);
void term_table(const struct table *t, const char *user_line);
/* The bottom two lines: key hints, then the status (error: highlighted). */
void term_hints(const char *hints);
void term_status(const char *msg, int error);
/* A form in a box over the lower part of the screen, cursor in place. */
void term_form(const struct form *f);
/* A line of text at row y (centered when x < 0). */
void term_text(int y, int x, const char *s, int bold);
void term_refresh(int show_cursor);

#endif
