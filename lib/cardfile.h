/* cardfile — the paper card file as CSV: import and export (libcsv).
 *
 * A file has a header row whose column names are the option names of the
 * matching `add` command (DESIGN.md): subscribers
 * name,address[,district,substation,category,date,phone,email,account];
 * meters serial,model,commissioned,service-life[,zones,warranty-card,
 * warranty-until,verification-interval,verified,capacity]; installations
 * serial,account,date[,reading,removed,removed-reading]. Columns may come in
 * any order; an unknown column is refused. UTF-8, comma or semicolon
 * separated (found from the header), RFC 4180 quoting.
 *
 * Import is all-or-nothing per file: every row is checked and written in
 * one transaction, every bad row is reported with its
 * line and field, and if any row is bad nothing is written. Export writes
 * the same columns, so an export imports again.
 */
#ifndef ASKUE_CARDFILE_H
#define ASKUE_CARDFILE_H

#include <stdint.h>
#include <stdio.h>
#include "err.h"
#include "ledger.h"

enum askue_cardfile_kind {
	ASKUE_CARDFILE_SUBSCRIBERS,
	ASKUE_CARDFILE_METERS,
	ASKUE_CARDFILE_INSTALLATIONS,
};

ASKUE_MUST enum askue_err askue_cardfile_kind_parse(const char *s, enum askue_cardfile_kind *out);

struct askue_cardfile_report {
	int64_t rows;      /* data rows read */
	int64_t written;   /* rows written (0 when any was bad) */
	int64_t bad;       /* bad rows */
	/* Called once per bad row (the first ASKUE_IMPORT_ERRORS_SHOWN_MAX) with
	 * "FILE:LINE: field: what was wrong"; NULL = print on stderr. */
	void (*on_error)(const char *msg, void *arg);
	void *arg;
};

/* Import path into the ledger. Returns ASKUE_ERR_INVALID when rows were bad
 * (nothing written; report says how many), other errors for I/O or the
 * ledger. */
ASKUE_MUST enum askue_err askue_cardfile_import(struct askue_ledger *l,
                                                enum askue_cardfile_kind kind, const char *path,
                                                struct askue_cardfile_report *report);

/* Export the card file of this kind as CSV to out. */
ASKUE_MUST enum askue_err askue_cardfile_export(struct askue_ledger *l,
                                                enum askue_cardfile_kind kind, FILE *out,
                                                int64_t *rows);

#endif
