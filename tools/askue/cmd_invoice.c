/* invoice list ACCOUNT, invoice show NUMBER — the issued invoices read
 * back from the ledger (lib/invoice.h), and the accountants' commands
 * around them: invoice correct (one subscriber's period recomputed, the
 * difference posted as a correction document) and billing exceptions (who
 * was not billed or billed on estimates, and why), both over the billing
 * job's computation (jobs/billing.h).
 *
 * `invoice show` explains every number: each line's energy from which
 * readings (and how each was obtained), at which price of which tariff
 * version, the amount rounded once; then the previous balance, payments,
 * penalties and corrections since the last invoice, the charges and the
 * total to pay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "cli.h"
#include "invoice.h"

static cJSON *json_header(const struct askue_invoice *inv)
{
	char buf[ASKUE_DATE_BUF];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "number", inv->number);
	cJSON_AddStringToObject(o, "account", inv->account);
	cJSON_AddStringToObject(o, "period", askue_period_format(inv->period, buf));
	cli_json_add_date(o, "issued", 1, inv->issued);
	cli_json_add_date(o, "due", 1, inv->due);
	cli_json_add_money(o, "previous", inv->previous);
	cli_json_add_money(o, "payments", inv->payments);
	cli_json_add_money(o, "penalties", inv->penalties);
	cli_json_add_money(o, "corrections", inv->corrections);
	cli_json_add_money(o, "charges", inv->charges);
	cli_json_add_money(o, "total", inv->total);
	cJSON_AddBoolToObject(o, "estimated", inv->estimated);
	cJSON_AddStringToObject(o, "status", inv->status);
	return o;
}

static cJSON *json_line(const struct askue_invoice_line *ln)
{
	char num[ASKUE_NUM_BUF];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "zone", ln->zone);
	cli_json_add_kwh(o, "kwh", ln->energy);
	cJSON_AddStringToObject(o, "price", askue_price_format(ln->price, num));
	cli_json_add_money(o, "amount", ln->amount);
	cJSON_AddStringToObject(o, "tariff", ln->tariff);
	cli_json_add_date(o, "price_from", 1, ln->price_from);
	cli_json_add_date(o, "from", 1, ln->days_from);
	cli_json_add_date(o, "to", 1, ln->days_to);
	cJSON_AddNumberToObject(o, "band", ln->band);
	cJSON_AddStringToObject(o, "how", ln->how);
	cJSON_AddBoolToObject(o, "estimated", !strcmp(ln->how, "estimated"));
	if (ln->note[0])
		cJSON_AddStringToObject(o, "note", ln->note);
	return o;
}

static cJSON *json_reading(const struct askue_invoice_reading *r)
{
	char stamp[ASKUE_UTC_STAMP_BUF];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "serial", r->serial);
	cJSON_AddNumberToObject(o, "register", r->zone_idx);
	cJSON_AddStringToObject(o, "start_time", askue_utc_stamp(r->start_ts, stamp));
	cli_json_add_kwh(o, "start_kwh", r->start);
	cJSON_AddStringToObject(o, "start_how", r->start_how);
	cJSON_AddStringToObject(o, "end_time", askue_utc_stamp(r->end_ts, stamp));
	cli_json_add_kwh(o, "end_kwh", r->end);
	cJSON_AddStringToObject(o, "end_how", r->end_how);
	cli_json_add_kwh(o, "kwh", r->energy);
	if (r->note[0])
		cJSON_AddStringToObject(o, "note", r->note);
	return o;
}

cJSON *cli_json_invoice(const struct askue_invoice *inv)
{
	cJSON *o = json_header(inv);
	cJSON_AddStringToObject(o, "name", inv->name);
	cJSON_AddStringToObject(o, "address", inv->address);
	cJSON *lines = cJSON_AddArrayToObject(o, "lines");
	for (int i = 0; i < inv->n_lines; i++)
		cJSON_AddItemToArray(lines, json_line(&inv->lines[i]));
	cJSON *readings = cJSON_AddArrayToObject(o, "readings");
	for (int i = 0; i < inv->n_readings; i++)
		cJSON_AddItemToArray(readings, json_reading(&inv->readings[i]));
	cJSON *details = inv->details ? cJSON_Parse(inv->details) : NULL;
	if (details)
		cJSON_AddItemToObject(o, "details", details);
	return o;
}

struct list_ctx {
	cJSON *arr;
	int n;
};

static int list_one(const struct askue_invoice *inv, void *arg)
{
	struct list_ctx *c = arg;
	c->n++;
	if (c->arr) {
		cJSON_AddItemToArray(c->arr, json_header(inv));
		return 0;
	}
	char p[16], due[ASKUE_DATE_BUF], chg[ASKUE_NUM_BUF], tot[ASKUE_NUM_BUF];
	printf("%-24s %s  due %s  charges %12s  total %12s  %s%s\n", inv->number,
	       askue_period_format(inv->period, p), askue_date_format(inv->due, due),
	       askue_money_format(inv->charges, chg), askue_money_format(inv->total, tot),
	       inv->status, inv->estimated ? "  estimated" : "");
	return 0;
}

int cmd_invoice_list(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected ACCOUNT");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_subscriber s;
	enum askue_err err = askue_subscriber_get(l, argv[1], &s);
	if (err)
		return cli_fail(cli, err);
	struct list_ctx c = {.arr = cli->json ? cJSON_CreateArray() : NULL};
	if ((err = askue_invoice_each(l, s.account, list_one, &c))) {
		cJSON_Delete(c.arr);
		return cli_fail(cli, err);
	}
	if (c.arr)
		return cli_print_json(c.arr);
	if (!c.n)
		printf("account %s: no invoices\n", s.account);
	return 0;
}

static void print_reading(const struct askue_invoice_reading *r)
{
	char a[ASKUE_NUM_BUF], b[ASKUE_NUM_BUF], e[ASKUE_NUM_BUF];
	char ta[ASKUE_UTC_STAMP_BUF], tb[ASKUE_UTC_STAMP_BUF];
	static const char *const reg[] = {"1.8.0", "T1 1.8.1", "T2 1.8.2", "T3 1.8.3"};
	printf("  meter %s register %s: %s kWh at %s (%s) -> %s kWh at %s (%s) = %s kWh%s%s\n",
	       r->serial, reg[r->zone_idx & 3], askue_energy_format_kwh(r->start, a),
	       askue_utc_stamp(r->start_ts, ta), r->start_how, askue_energy_format_kwh(r->end, b),
	       askue_utc_stamp(r->end_ts, tb), r->end_how, askue_energy_format_kwh(r->energy, e),
	       r->note[0] ? "; " : "", r->note);
}

static void print_line(const struct askue_invoice_line *ln)
{
	char kwh[ASKUE_NUM_BUF], price[ASKUE_NUM_BUF], amount[ASKUE_NUM_BUF];
	char from[ASKUE_DATE_BUF], to[ASKUE_DATE_BUF], pf[ASKUE_DATE_BUF];
	printf("  %d. %-8s %s..%s  %12s kWh x %s RUB/kWh = %s RUB\n", ln->line_no, ln->zone,
	       askue_date_format(ln->days_from, from), askue_date_format(ln->days_to, to),
	       askue_energy_format_kwh(ln->energy, kwh), askue_price_format(ln->price, price),
	       askue_money_format(ln->amount, amount));
	printf("     tariff %s, price from %s%s%s; %s%s%s\n", ln->tariff,
	       askue_date_format(ln->price_from, pf), ln->band ? ", volume band " : "",
	       ln->band ? (ln->band == 1 ? "2" : "3") : "", ln->how, ln->note[0] ? ": " : "",
	       ln->note);
}

static void print_money(const char *what, struct askue_money m)
{
	char buf[ASKUE_NUM_BUF];
	printf("  %-44s %14s RUB\n", what, askue_money_format(m, buf));
}

static void print_invoice(const struct askue_invoice *inv)
{
	char p[16], issued[ASKUE_DATE_BUF], due[ASKUE_DATE_BUF];
	printf("invoice %s (%s)\n", inv->number, inv->status);
	printf("account %s  %s\n  %s\n", inv->account, inv->name, inv->address);
	printf("period %s  issued %s  due %s\n", askue_period_format(inv->period, p),
	       askue_date_format(inv->issued, issued), askue_date_format(inv->due, due));
	printf("readings (start and end of each meter's span in the period):\n");
	for (int i = 0; i < inv->n_readings; i++)
		print_reading(&inv->readings[i]);
	if (!inv->n_readings)
		printf("  none\n");
	printf("lines (amount = kWh x price, rounded half up to the kopeck once per line):\n");
	for (int i = 0; i < inv->n_lines; i++)
		print_line(&inv->lines[i]);
	printf("account:\n");
	print_money("previous balance (after the last invoice)", inv->previous);
	print_money("payments received since (-)", inv->payments);
	print_money("penalties charged since (+)", inv->penalties);
	print_money("corrections since (+ debit, - credit)", inv->corrections);
	print_money("charges of this period (sum of the lines)", inv->charges);
	print_money("total to pay (negative: credit)", inv->total);
	if (inv->estimated)
		printf("estimated: a line is based on an estimate; the next actual reading trues it"
		       " up\n");
}

int cmd_invoice_show(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected NUMBER");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_invoice *inv;
	enum askue_err err = askue_invoice_get(l, argv[1], &inv);
	if (err)
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *o = cli_json_invoice(inv);
		askue_invoice_free(inv);
		return cli_print_json(o);
	}
	print_invoice(inv);
	askue_invoice_free(inv);
	return 0;
}
