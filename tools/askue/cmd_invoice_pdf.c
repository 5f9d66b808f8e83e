/* invoice pdf NUMBER [--out FILE] | --period P --dir DIR — issued invoices
 * as the PDF documents subscribers pay from (lib/invoice_pdf.h), with the
 * payment QR code of ГОСТ Р 56042-2014.
 *
 * An invoice is read from the ledger whole (lib/invoice.h) and mapped
 * onto the renderer's document; the payee is config [utility], checked
 * first (an error there is a configuration error naming the key). With
 * the demonstration details still configured the documents are marked as
 * samples, and a warning says so.
 *
 * One invoice: prints the file written (default NUMBER.pdf in the current
 * directory); with --json: number, file, bytes and the QR code's text.
 * A whole period: DIR/NUMBER.pdf for each of its invoices in number order,
 * read a page of numbers at a time; an invoice that cannot be rendered is
 * reported on stderr and the rest go on (exit 65 when any failed); prints
 * the counts (--json: period, dir, written, failed, bytes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "invoice.h"
#include "invoice_pdf.h"

/* The document's arrays, beside the invoice they point into. */
struct doc_rows {
	struct askue_invoice_pdf_reading readings[ASKUE_INVOICE_READINGS_MAX];
	struct askue_invoice_pdf_line lines[ASKUE_INVOICE_LINES_MAX];
};

static void utility_of(const struct askue_config *cfg, struct askue_invoice_pdf_utility *u)
{
	*u = (struct askue_invoice_pdf_utility){
		.name = cfg->utility_name, .inn = cfg->utility_inn, .kpp = cfg->utility_kpp,
		.bank = cfg->utility_bank, .bic = cfg->utility_bic,
		.correspondent_account = cfg->utility_correspondent_account,
		.settlement_account = cfg->utility_settlement_account,
		.address = cfg->utility_address, .phone = cfg->utility_phone,
		.demo = !strcmp(cfg->utility_inn, ASKUE_UTILITY_DEMO_INN),
	};
}

/* A bad [utility] detail is the configuration's fault: say which file. */
static enum askue_err check_utility(const struct askue_config *cfg,
                                    const struct askue_invoice_pdf_utility *u)
{
	struct askue_qr_payee payee = {
		.name = u->name, .personal_acc = u->settlement_account, .bank_name = u->bank,
		.bic = u->bic, .corresp_acc = u->correspondent_account, .inn = u->inn, .kpp = u->kpp,
	};
	if (askue_qr_gost_check_payee(&payee) == ASKUE_OK)
		return ASKUE_OK;
	static const char *const keys[][2] = {
		{"Name", "name"}, {"PersonalAcc", "settlement_account"}, {"BankName", "bank"},
		{"BIC", "bic"}, {"CorrespAcc", "correspondent_account"}, {"PayeeINN", "inn"},
		{"KPP", "kpp"},
	};
	char msg[1024];
	const char *key = "";
	snprintf(msg, sizeof msg, "%s", askue_err_msg());
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strncmp(msg, keys[i][0], strlen(keys[i][0])) &&
		    strchr(" :", msg[strlen(keys[i][0])]))
			key = keys[i][1];
	return askue_err_set(ASKUE_ERR_CONFIG, "%s: [utility] %s: %s",
	                     cfg->path[0] ? cfg->path : "defaults", key, msg);
}

/* The zone's name of a register, from the lines billed from it. */
static const char *zone_of(const struct askue_invoice *inv, int zone_idx)
{
	for (int i = 0; i < inv->n_lines; i++)
		if (inv->lines[i].zone_idx == zone_idx)
			return inv->lines[i].zone;
	return zone_idx == 0 ? "all" : "?";
}

static void map_rows(const struct askue_invoice *inv, struct doc_rows *rows)
{
	for (int i = 0; i < inv->n_readings && i < ASKUE_INVOICE_READINGS_MAX; i++) {
		const struct askue_invoice_reading *r = &inv->readings[i];
		rows->readings[i] = (struct askue_invoice_pdf_reading){
			.serial = r->serial, .zone = zone_of(inv, r->zone_idx),
			.start_ts = r->start_ts, .end_ts = r->end_ts, .start = r->start, .end = r->end,
			.energy = r->energy, .start_how = r->start_how, .end_how = r->end_how,
			.note = r->note,
		};
	}
	for (int i = 0; i < inv->n_lines && i < ASKUE_INVOICE_LINES_MAX; i++) {
		const struct askue_invoice_line *l = &inv->lines[i];
		rows->lines[i] = (struct askue_invoice_pdf_line){
			.zone = l->zone, .days_from = l->days_from, .days_to = l->days_to,
			.energy = l->energy, .price = l->price, .amount = l->amount, .how = l->how,
			.note = l->note, .band = l->band,
		};
	}
}

static void doc_of(const struct askue_invoice *inv, const struct doc_rows *rows,
                   struct askue_invoice_pdf *d)
{
	*d = (struct askue_invoice_pdf){
		.number = inv->number, .account = inv->account, .name = inv->name,
		.address = inv->address, .period = inv->period, .issued = inv->issued, .due = inv->due,
		.previous = inv->previous, .payments = inv->payments, .penalties = inv->penalties,
		.corrections = inv->corrections, .charges = inv->charges, .total = inv->total,
		.estimated = inv->estimated,
		.n_readings = inv->n_readings, .readings = rows->readings,
		.n_lines = inv->n_lines, .lines = rows->lines,
	};
}

static int report(struct askue_cli *cli, const char *number, const char *path, int64_t bytes,
                  const char *qr)
{
	if (!cli->json) {
		printf("%s\n", path);
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "number", number);
	cJSON_AddStringToObject(o, "file", path);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddStringToObject(o, "qr", qr);
	return cli_print_json(o);
}

/* Render one invoice to out; qr (ASKUE_QR_GOST_BYTES_MAX + 1 bytes) gets
 * the QR code's text. */
static enum askue_err write_one(const struct askue_invoice_pdf_utility *u,
                                const struct askue_invoice *inv, const char *out,
                                int64_t *bytes, char *qr)
{
	if (inv->n_readings > ASKUE_INVOICE_READINGS_MAX || inv->n_lines > ASKUE_INVOICE_LINES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: %d readings, %d lines", inv->number,
		                     inv->n_readings, inv->n_lines);
	struct doc_rows *rows = calloc(1, sizeof *rows);
	if (!rows)
		return askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
	map_rows(inv, rows);
	struct askue_invoice_pdf d;
	doc_of(inv, rows, &d);
	enum askue_err err = askue_invoice_pdf_write(u, &d, NULL, NULL, out, bytes);
	if (!err)
		err = askue_invoice_pdf_qr_text(u, &d, qr, ASKUE_QR_GOST_BYTES_MAX + 1);
	free(rows);
	return err;
}

static void warn_demo(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u)
{
	if (u->demo)
		fprintf(stderr, "askue: %s: warning: [utility] holds the demonstration details; the "
		        "document is marked as a sample (set the utility's real details in %s)\n",
		        cli->command, cli->cfg.path[0] ? cli->cfg.path : "the configuration");
}

static int one(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u,
               const char *number, const char *out)
{
	char def[ASKUE_INVOICE_NUMBER_BUF + 8], qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	if (!out && (strchr(number, '/') || number[0] == '.'))
		return cli_usage(cli, "invoice number '%s' is no file name: give --out FILE", number);
	snprintf(def, sizeof def, "%s.pdf", number);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_invoice *inv;
	enum askue_err err = askue_invoice_get(l, number, &inv);
	if (err)
		return cli_fail(cli, err);
	warn_demo(cli, u);
	int64_t bytes = 0;
	err = write_one(u, inv, out ? out : def, &bytes, qr);
	int rc = err ? cli_fail(cli, err) : report(cli, number, out ? out : def, bytes, qr);
	askue_invoice_free(inv);
	return rc;
}

/* The period's invoice numbers after `after`, a page at a time (memory
 * stays bounded whatever the fleet). */
#define PAGE_NUMBERS 256
static enum askue_err next_numbers(struct askue_ledger *l, const char *period, const char *after,
                                   char (*numbers)[ASKUE_INVOICE_NUMBER_BUF], int *n_out)
{
	static const char sql[] = "SELECT number FROM invoice WHERE period = ?1 AND number > ?2 "
	                          "ORDER BY number LIMIT 256";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, period);
	askue_bind_text(st, 2, after);
	int n = 0, rc;
	while (n < PAGE_NUMBERS && (rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(numbers[n++], ASKUE_INVOICE_NUMBER_BUF, "%s", askue_column_text(st, 0));
	if (n < PAGE_NUMBERS && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "invoices of the period");
	sqlite3_reset(st);
	*n_out = n;
	return err;
}

struct batch {
	int64_t written, failed, bytes;
};

static enum askue_err batch_page(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u,
                                 const char *dir, char (*numbers)[ASKUE_INVOICE_NUMBER_BUF],
                                 int n, struct batch *b)
{
	char path[ASKUE_PATH_MAX + ASKUE_INVOICE_NUMBER_BUF + 8], qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	for (int i = 0; i < n; i++) {
		struct askue_invoice *inv;
		enum askue_err err = askue_invoice_get(cli->ledger, numbers[i], &inv);
		if (err)
			return err; /* the ledger itself: stop */
		int64_t bytes = 0;
		snprintf(path, sizeof path, "%s/%s.pdf", dir, numbers[i]);
		err = write_one(u, inv, path, &bytes, qr);
		askue_invoice_free(inv);
		if (err) {
			fprintf(stderr, "askue: %s: %s: %s\n", cli->command, numbers[i], askue_err_msg());
			b->failed++;
		} else {
			b->written++;
			b->bytes += bytes;
		}
	}
	return ASKUE_OK;
}

static int period_report(struct askue_cli *cli, const char *period, const char *dir,
                         const struct batch *b)
{
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "period", period);
		cJSON_AddStringToObject(o, "dir", dir);
		cJSON_AddNumberToObject(o, "written", (double)b->written);
		cJSON_AddNumberToObject(o, "failed", (double)b->failed);
		cJSON_AddNumberToObject(o, "bytes", (double)b->bytes);
		cli_print_json(o);
	} else {
		printf("%s: %" PRId64 " invoices written to %s, %" PRId64 " failed\n", period,
		       b->written, dir, b->failed);
	}
	return b->failed ? EX_DATAERR : 0;
}

/* --period P --dir DIR: every invoice of the period, DIR/NUMBER.pdf each;
 * one that cannot be rendered is reported and the rest go on. */
static int whole_period(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u,
                        const char *period_text, const char *dir)
{
	struct askue_period period;
	char p[ASKUE_DATE_BUF], last[ASKUE_INVOICE_NUMBER_BUF] = "";
	enum askue_err err = askue_period_parse(period_text, &period);
	if (err)
		return cli_usage(cli, "--period: %s", askue_err_msg());
	askue_period_format(period, p);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_IO, "%s: %s", dir, strerror(errno)));
	if (!cli_ledger(cli))
		return EX_SOFTWARE;
	warn_demo(cli, u);
	char(*numbers)[ASKUE_INVOICE_NUMBER_BUF] = calloc(PAGE_NUMBERS, sizeof *numbers);
	if (!numbers)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_NOMEM, "out of memory"));
	struct batch b = {0};
	int n = PAGE_NUMBERS;
	while (!err && n == PAGE_NUMBERS) {
		err = next_numbers(cli->ledger, p, last, numbers, &n);
		if (!err && n > 0) {
			err = batch_page(cli, u, dir, numbers, n, &b);
			snprintf(last, sizeof last, "%s", numbers[n - 1]);
		}
	}
	free(numbers);
	return err ? cli_fail(cli, err) : period_report(cli, p, dir, &b);
}

int cmd_invoice_pdf(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"out", "period", "dir", NULL};
	const char *values[3];
	int rc = cli_string_options(cli, argc, argv, names, values);
	if (rc)
		return rc;
	int by_period = values[1] || values[2];
	if (by_period && (!values[1] || !values[2] || values[0] || argc - optind != 0))
		return cli_usage(cli, "expected --period P --dir DIR (and no NUMBER or --out)");
	if (!by_period && argc - optind != 1)
		return cli_usage(cli, "expected NUMBER [--out FILE], or --period P --dir DIR");
	struct askue_invoice_pdf_utility u;
	utility_of(&cli->cfg, &u);
	enum askue_err err = check_utility(&cli->cfg, &u);
	if (err)
		return cli_fail(cli, err);
	return by_period ? whole_period(cli, &u, values[1], values[2])
	                 : one(cli, &u, argv[optind], values[0]);
}
