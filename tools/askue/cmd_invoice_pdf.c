/* invoice pdf NUMBER [--out FILE] — an issued invoice as the PDF document
 * a subscriber pays from (lib/invoice_pdf.h), with the payment QR code of
 * ГОСТ Р 56042-2014.
 *
 * The invoice is read from the ledger whole (lib/invoice.h) and mapped
 * onto the renderer's document; the payee is config [utility], checked
 * first (an error there is a configuration error naming the key). With
 * the demonstration details still configured the document is marked as a
 * sample, and a warning says so. Prints the file written (default
 * NUMBER.pdf in the current directory); with --json: number, file, bytes
 * and the QR code's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int report(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u,
                  const struct askue_invoice_pdf *d, const char *path, int64_t bytes)
{
	if (!cli->json) {
		printf("%s\n", path);
		return 0;
	}
	char qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	enum askue_err err = askue_invoice_pdf_qr_text(u, d, qr, sizeof qr);
	if (err)
		return cli_fail(cli, err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "number", d->number);
	cJSON_AddStringToObject(o, "file", path);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddStringToObject(o, "qr", qr);
	return cli_print_json(o);
}

static int render(struct askue_cli *cli, const struct askue_invoice_pdf_utility *u,
                  const struct askue_invoice *inv, const char *out)
{
	enum askue_err err;
	if (inv->n_readings > ASKUE_INVOICE_READINGS_MAX || inv->n_lines > ASKUE_INVOICE_LINES_MAX)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: %d readings, %d lines",
		                                   inv->number, inv->n_readings, inv->n_lines));
	struct doc_rows *rows = calloc(1, sizeof *rows);
	if (!rows)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_NOMEM, "out of memory"));
	map_rows(inv, rows);
	struct askue_invoice_pdf d;
	doc_of(inv, rows, &d);
	if (u->demo)
		fprintf(stderr, "askue: %s: warning: [utility] holds the demonstration details; the "
		        "document is marked as a sample (set the utility's real details in %s)\n",
		        cli->command, cli->cfg.path[0] ? cli->cfg.path : "the configuration");
	int64_t bytes = 0;
	err = askue_invoice_pdf_write(u, &d, NULL, NULL, out, &bytes);
	int rc = err ? cli_fail(cli, err) : report(cli, u, &d, out, bytes);
	free(rows);
	return rc;
}

int cmd_invoice_pdf(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"out", NULL};
	const char *values[1];
	int rc = cli_string_options(cli, argc, argv, names, values);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected NUMBER [--out FILE]");
	const char *number = argv[optind];
	char def[ASKUE_INVOICE_NUMBER_BUF + 8];
	if (!values[0] && (strchr(number, '/') || number[0] == '.'))
		return cli_usage(cli, "invoice number '%s' is no file name: give --out FILE", number);
	snprintf(def, sizeof def, "%s.pdf", number);
	struct askue_invoice_pdf_utility u;
	utility_of(&cli->cfg, &u);
	enum askue_err err = check_utility(&cli->cfg, &u);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_invoice *inv;
	err = askue_invoice_get(l, number, &inv);
	if (err)
		return cli_fail(cli, err);
	rc = render(cli, &u, inv, values[0] ? values[0] : def);
	askue_invoice_free(inv);
	return rc;
}
