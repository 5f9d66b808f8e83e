/* form — the console's input forms: a few labelled one-line fields of
 * UTF-8 text with a cursor, edited by abstract keys (term.c maps curses'
 * keys to them). No curses, no validation of meaning: a form only keeps
 * what the person typed, character by character (a Cyrillic letter is
 * inserted and erased whole), within each field's byte limit. The action
 * that receives the form validates it and names the field in error; the
 * form keeps every field's text, so a refused entry is corrected in place,
 * nothing retyped.
 */
#ifndef ASKUE_TUI_FORM_H
#define ASKUE_TUI_FORM_H

#include <stddef.h>
#include <wchar.h>

/* Fields of one form: sign-in and assign have two, most have one. */
#define FORM_FIELDS_MAX 4
/* A field's text: an alert outcome (500 bytes) is the longest. */
#define FORM_TEXT_BYTES_MAX 512

enum form_key {
	FK_CHAR, /* ch is the character typed */
	FK_LEFT,
	FK_RIGHT,
	FK_HOME,
	FK_END,
	FK_BACKSPACE,
	FK_DELETE,
	FK_KILL, /* ^U: erase the field */
	FK_NEXT, /* Tab, Down */
	FK_PREV, /* Shift-Tab, Up */
	FK_ENTER,
	FK_CANCEL, /* Esc */
};

enum form_result {
	FORM_EDITING,
	FORM_SUBMIT,
	FORM_CANCEL,
};

struct form_field {
	const char *label; /* static */
	char text[FORM_TEXT_BYTES_MAX + 1];
	size_t len, cur;  /* bytes; cur is on a character boundary */
	size_t max_bytes; /* <= FORM_TEXT_BYTES_MAX */
	int secret;       /* drawn as '*' */
};

struct form {
	char title[128];
	int n, focus;
	struct form_field f[FORM_FIELDS_MAX];
	char note[160]; /* why the last key was refused ("" = it was not) */
};

void form_init(struct form *f, const char *title);
/* Add a field (with its initial text, may be NULL); returns its index, -1
 * when the form is full. */
int form_add(struct form *f, const char *label, size_t max_bytes, int secret, const char *text);
/* Apply a key; FORM_SUBMIT on Enter in the last field. */
enum form_result form_key(struct form *f, enum form_key key, wchar_t ch);
/* Focus a field (the one an action refused). */
void form_focus(struct form *f, int field);
/* The field's text (never NULL). */
const char *form_text(const struct form *f, int field);
/* Wipe the texts (a password). */
void form_wipe(struct form *f);

#endif
