/* text — UTF-8 checks and the search folding of names and addresses. */
#ifndef ASKUE_TEXT_H
#define ASKUE_TEXT_H

#include <stddef.h>
#include "err.h"

/* 1 when s[0..n) is well-formed UTF-8 without NUL and control characters
 * (tab excepted). */
int askue_text_valid(const char *s, size_t n);
/* Number of characters (code points) of valid UTF-8. */
size_t askue_text_chars(const char *s);
/* Fold for search into out (size out_size >= strlen(s) + 1): lower case for
 * ASCII and Cyrillic, ё -> е, runs of white space -> one space, trimmed.
 * Returns out. Folding never makes text longer. */
char *askue_text_fold(const char *s, char *out, size_t out_size);
/* Check a field typed by a person or read from a file: valid UTF-8, no
 * control characters, not empty when required, at most max_bytes. The
 * message names the field. */
ASKUE_MUST enum askue_err askue_text_check(const char *field, const char *s, size_t max_bytes,
                                           int required);

#endif
