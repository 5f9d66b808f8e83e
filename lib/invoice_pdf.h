/* invoice_pdf — an invoice as a PDF document a subscriber can pay from.
 *
 * A4 pages (libharu): the utility's details (payee, bank, INN/KPP,
 * address, phone), the invoice's number, date, period and due date, the
 * subscriber (account, name, address), the meter readings the charges come
 * from (start and end value with their moments and how each was obtained),
 * the charge lines (zone, days, kWh, price, amount), the account (debt or
 * credit before, payments, penalties, corrections, charges, total) and the
 * payment QR code of ГОСТ Р 56042-2014 (qr_gost.h; libqrencode, drawn as
 * vector squares with a quiet zone of 4 modules). Rows that do not fit
 * flow onto further pages, each repeating the utility's header, the
 * invoice's number and the table's column titles; the account and the QR
 * code stand together on the last page; every page says "стр. N из M".
 *
 * The text is real text in DejaVu Sans (a TrueType font with Cyrillic,
 * embedded, UTF-8), so that pdftotext and screen readers get the Russian
 * back. Money is formatted from kopecks, energy from Wh: no floating point
 * touches an amount (the page geometry is floating point, nothing else).
 *
 * Nothing to pay (total <= 0, a credit): the document says so and shows
 * the credit; its QR code has no Sum, so a subscriber who scans it anyway
 * types the amount (an advance). The QR code carries no AddAmount: the
 * penalties are already inside Sum, and banks' apps that add AddAmount to
 * Sum would charge them twice.
 *
 * The input is this module's own document struct (filled by the command
 * from the ledger's invoice, lib/invoice.h), so the renderer is tested
 * without a ledger. The same input gives a byte-identical file (no
 * creation date, no random ID). Pure apart from the file it writes:
 * written to PATH.tmp and renamed, so a reader never sees half a file.
 */
#ifndef ASKUE_INVOICE_PDF_H
#define ASKUE_INVOICE_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "err.h"
#include "money.h"
#include "qr_gost.h"

/* Debian's fonts-dejavu-core (the bold face only when asked for). */
#define ASKUE_INVOICE_PDF_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define ASKUE_INVOICE_PDF_FONT_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
/* Rows of one document: readings + lines (about 50 rows fill a page). An
 * invoice has at most ASKUE_INVOICE_LINES_MAX lines and
 * ASKUE_INVOICE_READINGS_MAX readings (128 rows); far more is a mistake,
 * refused, not cut off. */
#define ASKUE_INVOICE_PDF_ROWS_MAX 256
/* Pages of one document: 256 rows with the longest notes (3 lines) take
 * about 14; a safety net. */
#define ASKUE_INVOICE_PDF_PAGES_MAX 32

/* The utility (config [utility]). demo: the configuration still carries
 * the demonstration details, the document is marked as a sample. */
struct askue_invoice_pdf_utility {
	const char *name, *inn, *kpp, *bank, *bic, *correspondent_account,
		*settlement_account, *address, *phone;
	int demo;
};

/* A register at the start and end of the span a meter served in the
 * period. how: "reading", "interpolated", "estimated", "installation",
 * "removal", "previous" ... (shown in Russian; an unknown word as is). */
struct askue_invoice_pdf_reading {
	const char *serial;
	const char *zone; /* the zone's name ("день", "all" ...) */
	int64_t start_ts, end_ts; /* UTC s, shown as local date and time */
	struct askue_energy start, end, energy;
	const char *start_how, *end_how;
	const char *note; /* the billing core's ("rollover at .. kWh"), may be NULL */
};

/* A charge line: one zone at one price over some days. how: "measured",
 * "average", "norm"; band: the volume band 1.. (0: none); note: the
 * billing core's, "; "-separated ("estimated: average of 4 periods",
 * "pro rata by days" ...: shown in Russian), may be NULL. */
struct askue_invoice_pdf_line {
	const char *zone;
	struct askue_date days_from, days_to; /* inclusive */
	struct askue_energy energy;
	struct askue_price price;
	struct askue_money amount;
	const char *how, *note;
	int band;
};

struct askue_invoice_pdf {
	const char *number, *account, *name, *address;
	struct askue_period period;
	struct askue_date issued, due;
	/* previous: the balance after the last invoice (+ debt, - credit);
	 * payments received since (positive); penalties and corrections
	 * posted since; charges: the sum of the lines; total = previous -
	 * payments + penalties + corrections + charges (checked). */
	struct askue_money previous, payments, penalties, corrections, charges, total;
	int estimated;
	int n_readings;
	const struct askue_invoice_pdf_reading *readings;
	int n_lines;
	const struct askue_invoice_pdf_line *lines;
};

/* The payment QR code's text of the document (buf of at least
 * ASKUE_QR_GOST_BYTES_MAX + 1 bytes). Errors name the field. */
ASKUE_MUST enum askue_err askue_invoice_pdf_qr_text(const struct askue_invoice_pdf_utility *u,
                                                    const struct askue_invoice_pdf *doc,
                                                    char *buf, size_t size);

/* Render doc to path. font: a TrueType file with Cyrillic (NULL: DejaVu
 * Sans above); font_bold: its bold face, or NULL to draw bold as the
 * regular font stroked (one embedded font: half the file's size and half
 * the time; the command does this). Checks first: the sums add up, the
 * lines add up to charges, the utility's details and the QR fields are
 * valid; an error says what, and no file is left behind. *bytes_out (may be
 * NULL) gets the file's size. */
ASKUE_MUST enum askue_err askue_invoice_pdf_write(const struct askue_invoice_pdf_utility *u,
                                                  const struct askue_invoice_pdf *doc,
                                                  const char *font, const char *font_bold,
                                                  const char *path, int64_t *bytes_out);

#endif
