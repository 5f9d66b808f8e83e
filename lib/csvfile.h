/* csvfile — read a CSV file (libcsv) row by row with line numbers.
 *
 * The file is fed to libcsv one physical line at a time, so the line of a
 * record's end is known. Fields are NUL-terminated copies valid during the
 * callback; at most ASKUE_CSV_FIELDS_MAX fields and ASKUE_CSV_ROW_BYTES_MAX
 * bytes a row (a longer row is reported, not truncated). Comma-separated,
 * or semicolon-separated when the first line has semicolons and no commas;
 * a UTF-8 byte-order mark at the start is dropped.
 */
#ifndef ASKUE_CSVFILE_H
#define ASKUE_CSVFILE_H

#include <stdint.h>
#include "err.h"

#define ASKUE_CSV_FIELDS_MAX 16

struct askue_csv_row {
	char **fields;
	int n;
	int64_t line;  /* the line the record ends on (1-based) */
	int overflow;  /* more fields or bytes than the limits: fields incomplete */
};

/* Calls fn for every record (the header too). fn returns ASKUE_OK to go on,
 * or an error to stop (it is returned). A CSV syntax error is
 * ASKUE_ERR_INVALID with "PATH:LINE: ..." in the message. */
ASKUE_MUST enum askue_err askue_csv_each(const char *path,
                                         enum askue_err (*fn)(const struct askue_csv_row *row,
                                                              void *arg),
                                         void *arg);

#endif
