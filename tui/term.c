/* term — see term.h. ncursesw: text goes out as UTF-8 through
 * mvaddstr, cut beforehand to the columns it may take (table.h
 * text_fit), so a long Cyrillic address never spills into the next column
 * and a character is never split. */
#include "term.h"

#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static int opened;

int term_open(void)
{
	if (!initscr()) {
		fprintf(stderr, "askue-console: cannot start the terminal (is TERM set?)\n");
		return -1;
	}
	opened = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(50);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_WHITE, COLOR_RED);  /* errors */
		init_pair(2, COLOR_BLACK, COLOR_CYAN); /* title, selection */
	}
	return 0;
}

void term_close(void)
{
	if (opened) {
		endwin();
		opened = 0;
	}
}

int term_rows(void)
{
	return LINES;
}

int term_cols(void)
{
	return COLS;
}

int term_body_rows(void)
{
	int n = LINES - 4; /* title, heads, hints, status */
	return n > 1 ? n : 1;
}

int term_key(struct term_key *k, int tick_ms)
{
	wint_t ch;
	timeout(tick_ms);
	int rc = get_wch(&ch);
	if (rc == ERR)
		return 0;
	k->is_key = rc == KEY_CODE_YES;
	k->ch = ch;
	return 1;
}

int term_form_key(const struct term_key *k, enum form_key *fk, wchar_t *ch)
{
	*ch = 0;
	if (k->is_key) {
		switch (k->ch) {
		case KEY_LEFT: *fk = FK_LEFT; return 1;
		case KEY_RIGHT: *fk = FK_RIGHT; return 1;
		case KEY_HOME: *fk = FK_HOME; return 1;
		case KEY_END: *fk = FK_END; return 1;
		case KEY_BACKSPACE: *fk = FK_BACKSPACE; return 1;
		case KEY_DC: *fk = FK_DELETE; return 1;
		case KEY_DOWN: *fk = FK_NEXT; return 1;
		case KEY_UP:
		case KEY_BTAB: *fk = FK_PREV; return 1;
		case KEY_ENTER: *fk = FK_ENTER; return 1;
		default: return 0;
		}
	}
	switch (k->ch) {
	case 27: *fk = FK_CANCEL; return 1;
	case '\r':
	case '\n': *fk = FK_ENTER; return 1;
	case '\t': *fk = FK_NEXT; return 1;
	case 127:
	case 8: *fk = FK_BACKSPACE; return 1;
	case 21: *fk = FK_KILL; return 1; /* ^U */
	case 1: *fk = FK_HOME; return 1;  /* ^A */
	case 5: *fk = FK_END; return 1;   /* ^E */
	default: *fk = FK_CHAR; *ch = (wchar_t)k->ch; return 1;
	}
}

void term_clear(void)
{
	erase();
}

void term_text(int y, int x, const char *s, int bold)
{
	char buf[2048];
	int w = text_fit(s, COLS - (x > 0 ? x : 0), buf, sizeof buf);
	if (x < 0)
		x = (COLS - w) / 2 > 0 ? (COLS - w) / 2 : 0;
	if (bold)
		attron(A_BOLD);
	mvaddstr(y, x, buf);
	if (bold)
		attroff(A_BOLD);
}

/* Column widths for this screen: fixed ones, the rest to the 0 ones. */
static void layout(const struct table *t, int *w)
{
	int fixed = 0, flex = 0;
	for (int c = 0; c < t->n_cols; c++) {
		fixed += t->widths[c] + 1;
		flex += !t->widths[c];
	}
	int rest = COLS - fixed;
	for (int c = 0; c < t->n_cols; c++) {
		w[c] = t->widths[c] ? t->widths[c] : (flex ? rest / flex : 0);
		if (w[c] < 4)
			w[c] = 4;
	}
}

static void draw_cells(int y, const struct table *t, char *const *cells, const int *w)
{
	int x = 0;
	char buf[TABLE_CELL_BYTES_MAX * 2];
	for (int c = 0; c < t->n_cols && x < COLS; c++) {
		int room = c == t->n_cols - 1 ? COLS - x : w[c];
		if (room > COLS - x)
			room = COLS - x;
		text_fit(cells[c] ? cells[c] : "", room, buf, sizeof buf);
		mvaddstr(y, x, buf);
		x += w[c] + 1;
	}
}

/* A heading or a note: its cells as one line across the screen. */
static void draw_line(int y, const struct table *t, const struct table_row *r)
{
	char line[TABLE_CELL_BYTES_MAX * 2] = "";
	for (int c = 0; c < t->n_cols; c++) {
		const char *s = r->cells[c] ? r->cells[c] : "";
		size_t n = strlen(line);
		if (*s)
			snprintf(line + n, sizeof line - n, "%s%s", n ? "  " : "", s);
	}
	term_text(y, r->kind == ROW_NOTE ? 2 : 0, line, 0);
}

static void draw_title(const char *title, const char *user_line)
{
	char buf[1024];
	attron(has_colors() ? COLOR_PAIR(2) : A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	int uw = text_width(user_line);
	text_fit(title, COLS - uw - 2 > 0 ? COLS - uw - 2 : 0, buf, sizeof buf);
	mvaddstr(0, 0, buf);
	if (COLS - uw > 0)
		mvaddstr(0, COLS - uw, user_line);
	attroff(has_colors() ? COLOR_PAIR(2) : A_REVERSE);
}

void term_table(const struct table *t, const char *user_line)
{
	int w[TABLE_COLS_MAX];
	layout(t, w);
	int body = term_body_rows();
	char right[300];
	if (t->n_rows > body)
		snprintf(right, sizeof right, "%d-%d of %d%s  %s", t->top + 1,
		         t->top + body < t->n_rows ? t->top + body : t->n_rows, t->n_rows,
		         t->left_out ? "+" : "", user_line);
	else
		snprintf(right, sizeof right, "%s", user_line);
	draw_title(t->title, right);
	attron(A_BOLD | A_UNDERLINE);
	draw_cells(1, t, (char *const *)t->heads, w);
	attroff(A_BOLD | A_UNDERLINE);
	for (int i = 0; i < body && t->top + i < t->n_rows; i++) {
		const struct table_row *r = &t->rows[t->top + i];
		int a = r->kind == ROW_HEADING ? A_BOLD : r->kind == ROW_NOTE ? A_DIM : 0;
		if (t->top + i == t->sel && r->kind == ROW_PLAIN)
			a |= A_REVERSE;
		attron(a);
		if (a & A_REVERSE)
			mvhline(2 + i, 0, ' ', COLS);
		if (r->kind == ROW_PLAIN)
			draw_cells(2 + i, t, r->cells, w);
		else
			draw_line(2 + i, t, r);
		attroff(a);
	}
}

void term_hints(const char *hints)
{
	move(LINES - 2, 0);
	clrtoeol();
	attron(A_DIM);
	term_text(LINES - 2, 0, hints, 0);
	attroff(A_DIM);
}

void term_status(const char *msg, int error)
{
	move(LINES - 1, 0);
	clrtoeol();
	int a = error ? (has_colors() ? COLOR_PAIR(1) | A_BOLD : A_REVERSE | A_BOLD) : 0;
	attron(a);
	/* Never the bottom-right cell: writing it would scroll some terminals. */
	char buf[2048];
	text_fit(msg, COLS - 1, buf, sizeof buf);
	mvaddstr(LINES - 1, 0, buf);
	attroff(a);
}

/* A field's text as shown: '*' for a secret, scrolled so the cursor shows. */
static int draw_field(int y, int x, int width, const struct form_field *fl, int focused)
{
	char shown[FORM_TEXT_BYTES_MAX + 1], buf[FORM_TEXT_BYTES_MAX * 2];
	if (fl->secret) {
		size_t n = 0;
		for (size_t i = 0; i < fl->len; i++)
			if (((unsigned char)fl->text[i] & 0xC0) != 0x80)
				shown[n++] = '*';
		shown[n] = 0;
	} else {
		snprintf(shown, sizeof shown, "%s", fl->text);
	}
	int cur_col = 0;
	if (fl->secret) {
		for (size_t i = 0; i < fl->cur; i++)
			cur_col += ((unsigned char)fl->text[i] & 0xC0) != 0x80;
	} else {
		char before[FORM_TEXT_BYTES_MAX + 1];
		snprintf(before, sizeof before, "%.*s", (int)fl->cur, fl->text);
		cur_col = text_width(before);
	}
	/* Skip whole characters from the left until the cursor fits. */
	const char *s = shown;
	int skipped = 0;
	while (cur_col - skipped >= width && *s) {
		int len = 1;
		while (((unsigned char)s[len] & 0xC0) == 0x80)
			len++;
		char one[8];
		snprintf(one, sizeof one, "%.*s", len, s);
		skipped += text_width(one);
		s += len;
	}
	attron(A_UNDERLINE | (focused ? A_BOLD : 0));
	mvhline(y, x, ' ', width);
	text_fit(s, width, buf, sizeof buf);
	mvaddstr(y, x, buf);
	attroff(A_UNDERLINE | A_BOLD);
	return x + cur_col - skipped;
}

void term_form(const struct form *f)
{
	int h = f->n + 4, y0 = LINES - 2 - h;
	if (y0 < 1)
		y0 = 1;
	int label_w = 0;
	for (int i = 0; i < f->n; i++)
		if (text_width(f->f[i].label) > label_w)
			label_w = text_width(f->f[i].label);
	for (int y = y0; y < y0 + h && y < LINES - 2; y++) {
		move(y, 0);
		clrtoeol();
	}
	mvhline(y0, 0, ACS_HLINE, COLS);
	term_text(y0, 2, f->title, 1);
	int cy = y0 + 2, cx = 0;
	for (int i = 0; i < f->n; i++) {
		int y = y0 + 2 + i;
		term_text(y, 2, f->f[i].label, 0);
		int x = 4 + label_w, width = COLS - x - 2;
		if (width < 4)
			width = 4;
		int c = draw_field(y, x, width, &f->f[i], i == f->focus);
		if (i == f->focus)
			cy = y, cx = c;
	}
	term_text(y0 + h - 1, 2,
	          "Enter: next field / done   Tab: next   Esc: cancel   ^U: erase field", 0);
	move(cy, cx);
}

void term_refresh(int show_cursor)
{
	curs_set(show_cursor ? 1 : 0);
	refresh();
}
