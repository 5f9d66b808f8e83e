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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <csv.h>
#include <time.h>

#include "../../jobs/invoicing.h"
#include "alert.h"
#include "cli.h"
#include "invoice.h"
#include "journal.h"

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
	cJSON_AddBoolToObject(o, "estimated", strcmp(ln->how, "measured") != 0);
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
	struct askue_ledger *l;
	cJSON *arr;
	int n;
	enum askue_err err;
};

/* With --json each invoice whole (DESIGN.md: an invoice has its lines). */
static int list_one(const struct askue_invoice *inv, void *arg)
{
	struct list_ctx *c = arg;
	c->n++;
	if (c->arr) {
		struct askue_invoice *whole;
		if ((c->err = askue_invoice_get(c->l, inv->number, &whole)))
			return 1;
		cJSON_AddItemToArray(c->arr, cli_json_invoice(whole));
		askue_invoice_free(whole);
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
	struct list_ctx c = {.l = l, .arr = cli->json ? cJSON_CreateArray() : NULL};
	if ((err = askue_invoice_each(l, s.account, list_one, &c)) || (err = c.err)) {
		cJSON_Delete(c.arr);
		return cli_fail(cli, err);
	}
	if (c.arr)
		return cli_print_json(c.arr);
	if (!c.n)
		printf("account %s: no invoices\n", s.account);
	return 0;
}

/* "2026-03-01 00:00" in the utility's zone (the text is for people). */
static char *local_stamp(int64_t utc_s, char *buf, size_t size)
{
	time_t t = (time_t)utc_s;
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, size, "@%lld", (long long)utc_s);
	return buf;
}

static void print_reading(const struct askue_invoice_reading *r)
{
	char a[ASKUE_NUM_BUF], b[ASKUE_NUM_BUF], e[ASKUE_NUM_BUF], ta[32], tb[32];
	static const char *const reg[] = {"1.8.0", "T1 1.8.1", "T2 1.8.2", "T3 1.8.3"};
	printf("  meter %s register %s: %s kWh at %s (%s) -> %s kWh at %s (%s) = %s kWh%s%s\n",
	       r->serial, reg[r->zone_idx & 3], askue_energy_format_kwh(r->start, a),
	       local_stamp(r->start_ts, ta, sizeof ta), r->start_how,
	       askue_energy_format_kwh(r->end, b), local_stamp(r->end_ts, tb, sizeof tb), r->end_how,
	       askue_energy_format_kwh(r->energy, e), r->note[0] ? "; " : "", r->note);
}

static void print_line(const struct askue_invoice_line *ln)
{
	char kwh[ASKUE_NUM_BUF], price[ASKUE_NUM_BUF], amount[ASKUE_NUM_BUF];
	char from[ASKUE_DATE_BUF], to[ASKUE_DATE_BUF], pf[ASKUE_DATE_BUF];
	printf("  %d. %-8s %s..%s  %12s kWh x %s RUB/kWh = %s RUB\n", ln->line_no, ln->zone,
	       askue_date_format(ln->days_from, from), askue_date_format(ln->days_to, to),
	       askue_energy_format_kwh(ln->energy, kwh), askue_price_format(ln->price, price),
	       askue_money_format(ln->amount, amount));
	char band[32] = "";
	if (ln->band > 0)
		snprintf(band, sizeof band, ", volume band %d", ln->band);
	printf("     tariff %s, price from %s%s; %s%s%s\n", ln->tariff,
	       askue_date_format(ln->price_from, pf), band, ln->how, ln->note[0] ? ": " : "",
	       ln->note);
}

static void print_money(const char *what, struct askue_money m)
{
	char buf[ASKUE_NUM_BUF];
	printf("  %-44s %14s RUB\n", what, askue_money_format(m, buf));
}

/* How it was computed and what to check (the invoice's details). */
static void print_details(const char *text)
{
	cJSON *d = text ? cJSON_Parse(text) : NULL;
	const cJSON *how = cJSON_GetObjectItem(d, "how"), *days = cJSON_GetObjectItem(d, "days");
	if (cJSON_IsString(how) && cJSON_IsNumber(days))
		printf("computed: %s, %d days billed\n", how->valuestring, (int)days->valuedouble);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "exceptions"))
	{
		const cJSON *kind = cJSON_GetObjectItem(e, "kind"), *t = cJSON_GetObjectItem(e, "text");
		if (cJSON_IsString(kind) && cJSON_IsString(t))
			printf("  to check: %s: %s\n", kind->valuestring, t->valuestring);
	}
	cJSON_Delete(d);
}

static void print_invoice(const struct askue_invoice *inv)
{
	char p[16], issued[ASKUE_DATE_BUF], due[ASKUE_DATE_BUF];
	printf("invoice %s (%s)\n", inv->number, inv->status);
	printf("account %s  %s\n  %s\n", inv->account, inv->name, inv->address);
	printf("period %s  issued %s  due %s\n", askue_period_format(inv->period, p),
	       askue_date_format(inv->issued, issued), askue_date_format(inv->due, due));
	printf("readings (start and end of each meter's span in the period, %s time):\n",
	       askue_tz_name());
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
	print_details(inv->details);
}

/* The correction documents of the invoice shown (after it, never in it). */
static int add_correction(const struct askue_correction *c, void *arg)
{
	cJSON *arr = arg;
	if (arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "number", c->number);
		cli_json_add_date(o, "date", 1, c->date);
		cli_json_add_money(o, "amount", c->amount);
		cJSON_AddStringToObject(o, "reason", c->reason);
		cJSON_AddItemToArray(arr, o);
		return 0;
	}
	char d[ASKUE_DATE_BUF], a[ASKUE_NUM_BUF];
	printf("corrected by %s of %s: %s RUB (%s), on the next invoice\n", c->number,
	       askue_date_format(c->date, d), askue_money_format(c->amount, a), c->reason);
	return 0;
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
	cJSON *o = cli->json ? cli_json_invoice(inv) : NULL;
	if (!o)
		print_invoice(inv);
	err = askue_correction_each(l, inv->id, add_correction,
	                            o ? cJSON_AddArrayToObject(o, "correction_documents") : NULL);
	askue_invoice_free(inv);
	if (err) {
		cJSON_Delete(o);
		return cli_fail(cli, err);
	}
	return o ? cli_print_json(o) : 0;
}

/* Options of the correcting commands: --period P --reason TEXT [--date D]
 * [--dry-run]. */
struct correct_opts {
	struct askue_period period;
	const char *reason;
	struct askue_date date;
	int dry_run, has_period;
};

static int parse_correct(struct askue_cli *cli, int argc, char **argv, struct correct_opts *o)
{
	static const struct option opts[] = {{"period", required_argument, 0, 'p'},
	                                     {"reason", required_argument, 0, 'r'},
	                                     {"date", required_argument, 0, 'd'},
	                                     {"dry-run", no_argument, 0, 'n'},
	                                     {0, 0, 0, 0}};
	int c;
	enum askue_err err = ASKUE_OK;
	o->date = askue_date_today();
	cli_getopt_reset();
	while (!err && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->has_period = 1;
			if ((err = askue_period_parse(optarg, &o->period)))
				askue_err_prefix("--period: ");
			break;
		case 'r': o->reason = optarg; break;
		case 'd': err = cli_date("--date", optarg, &o->date); break;
		case 'n': o->dry_run = 1; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (err)
		return cli_fail(cli, err);
	if (!o->has_period)
		return cli_usage(cli, "--period is required");
	if (!o->dry_run && (!o->reason || !*o->reason))
		return cli_usage(cli, "--reason is required (it is kept with the correction)");
	if (o->reason && strlen(o->reason) > ASKUE_CORRECTION_REASON_BYTES_MAX)
		return cli_usage(cli, "--reason: longer than %d bytes", ASKUE_CORRECTION_REASON_BYTES_MAX);
	return 0;
}

static int64_t now_of(struct askue_date d)
{
	int64_t t = 0;
	if (askue_date_start(askue_date_add_days(d, 1), &t))
		t = 0;
	return t;
}

static void print_difference(const cJSON *d)
{
	const char *keys[] = {"account", "invoice", "issued", "corrected", "recomputed", "difference",
	                      "correction"};
	const char *v[7];
	for (int i = 0; i < 7; i++) {
		const cJSON *it = cJSON_GetObjectItem(d, keys[i]);
		v[i] = cJSON_IsString(it) ? it->valuestring : "";
	}
	printf("%s %s: issued %s, corrections so far %s, recomputed %s, difference %s%s%s\n", v[0],
	       v[1], v[2], v[3], v[4], v[5], v[6][0] ? " -> correction " : "", v[6]);
}

int cmd_invoice_correct(struct askue_cli *cli, int argc, char **argv)
{
	struct correct_opts o = {0};
	int rc = parse_correct(cli, argc, argv, &o);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected ACCOUNT");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_subscriber s;
	struct billing *b = NULL;
	struct askue_money diff = {0};
	cJSON *d = cJSON_CreateObject();
	enum askue_err err = askue_subscriber_get(l, argv[optind], &s);
	if (!err)
		err = billing_open(&cli->cfg, l, &b);
	if (!err)
		err = askue_ledger_begin(l);
	if (!err) {
		err = billing_correct_tx(b, s.id, o.period, o.date, o.reason ? o.reason : "", !o.dry_run,
		                         0, now_of(o.date), &diff, d);
		if (!err && !o.dry_run)
			err = askue_ledger_commit(l);
		else
			askue_ledger_rollback(l);
	}
	billing_close(b);
	if (err) {
		cJSON_Delete(d);
		return cli_fail(cli, err);
	}
	cJSON_AddBoolToObject(d, "dry_run", o.dry_run);
	if (cli->json)
		return cli_print_json(d);
	print_difference(d);
	if (!diff.kop)
		printf("no difference: nothing to correct\n");
	cJSON_Delete(d);
	return 0;
}

struct recalc {
	struct askue_cli *cli;
	struct billing *b;
	const struct correct_opts *o;
	cJSON *list;
	int64_t checked, differ, in_batch, run_id;
	struct askue_money total;
	enum askue_err err;
};

static int recalc_one(int64_t subscriber_id, void *arg)
{
	struct recalc *r = arg;
	struct askue_ledger *l = r->cli->ledger;
	if (r->in_batch == 0 && (r->err = askue_ledger_begin(l)))
		return 1;
	struct askue_money diff = {0};
	cJSON *d = cJSON_CreateObject();
	r->err = billing_correct_tx(r->b, subscriber_id, r->o->period, r->o->date,
	                            r->o->reason ? r->o->reason : "", !r->o->dry_run, r->run_id,
	                            now_of(r->o->date), &diff, d);
	r->checked++;
	if (!r->err && diff.kop) {
		r->differ++;
		r->total.kop += diff.kop;
		if (r->list)
			cJSON_AddItemToArray(r->list, d), d = NULL;
		else
			print_difference(d);
	}
	cJSON_Delete(d);
	if (r->err || ++r->in_batch == BILLING_BATCH_SUBSCRIBERS) {
		r->in_batch = 0;
		if (!r->err && !r->o->dry_run)
			r->err = askue_ledger_commit(l);
		else
			askue_ledger_rollback(l);
	}
	return r->err != ASKUE_OK;
}

/* billing recalculate --period P --reason TEXT [--date D] [--dry-run]:
 * every invoice of the period recomputed from today's ledger and readings;
 * the differences listed, and (without --dry-run) posted as corrections. */
int cmd_billing_recalculate(struct askue_cli *cli, int argc, char **argv)
{
	struct correct_opts o = {0};
	int rc = parse_correct(cli, argc, argv, &o);
	if (rc)
		return rc;
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	struct recalc r = {.cli = cli, .o = &o, .list = cli->json ? cJSON_CreateArray() : NULL};
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = billing_open(&cli->cfg, l, &r.b);
	if (!err && !o.dry_run)
		err = billing_run_start(l, o.period, "recalculation", now_of(o.date), &r.run_id);
	if (!err)
		err = billing_invoiced_each(l, o.period, recalc_one, &r);
	if (!err && (err = r.err) == ASKUE_OK && r.in_batch) {
		if (!o.dry_run)
			err = askue_ledger_commit(l);
		else
			askue_ledger_rollback(l);
	}
	if (!err && r.run_id) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "reason", o.reason);
		askue_json_add_int(d, "checked", r.checked);
		askue_json_add_int(d, "difference_kop", r.total.kop);
		char *text = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		err = billing_run_finish(l, r.run_id, now_of(o.date), r.differ, text);
		cJSON_free(text);
	}
	billing_close(r.b);
	if (err) {
		cJSON_Delete(r.list);
		return cli_fail(cli, err);
	}
	char num[ASKUE_NUM_BUF], p[16];
	if (cli->json) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "period", askue_period_format(o.period, p));
		cJSON_AddBoolToObject(out, "dry_run", o.dry_run);
		cJSON_AddNumberToObject(out, "invoices", (double)r.checked);
		cJSON_AddNumberToObject(out, "differ", (double)r.differ);
		cJSON_AddStringToObject(out, "difference", askue_money_format(r.total, num));
		cJSON_AddItemToObject(out, "differences", r.list);
		return cli_print_json(out);
	}
	printf("period %s: %lld invoices recomputed, %lld differ, difference %s RUB%s\n",
	       askue_period_format(o.period, p), (long long)r.checked, (long long)r.differ,
	       askue_money_format(r.total, num), o.dry_run ? " (dry run: nothing posted)" : "");
	return 0;
}

static enum askue_err exceptions_of(struct askue_ledger *l, const char *sql, const char *period,
                                    int billed, cJSON *arr)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, period);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "account", askue_column_text(st, 0));
		cJSON_AddBoolToObject(o, "billed", billed);
		if (billed)
			cJSON_AddStringToObject(o, "invoice", askue_column_text(st, 1));
		cJSON_AddStringToObject(o, "kind", askue_column_text(st, 2));
		if (*askue_column_text(st, 3))
			cJSON_AddStringToObject(o, "serial", askue_column_text(st, 3));
		cJSON_AddStringToObject(o, "text", askue_column_text(st, 4));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "exceptions");
}

static void csv_field(FILE *f, const cJSON *o, const char *key, char sep)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	const char *t = cJSON_IsString(v) ? v->valuestring : cJSON_IsTrue(v) ? "yes"
	                                                   : cJSON_IsFalse(v) ? "no" : "";
	csv_fwrite(f, t, strlen(t)); /* quoted, quotes doubled (libcsv) */
	fputc(sep, f);
}

/* The list as CSV for a spreadsheet: account,billed,invoice,kind,serial,text. */
static enum askue_err write_csv(const char *path, const cJSON *arr)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	fprintf(f, "account,billed,invoice,kind,serial,text\n");
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		static const char *const keys[] = {"account", "billed", "invoice", "kind", "serial", "text"};
		for (int i = 0; i < 6; i++)
			csv_field(f, o, keys[i], i < 5 ? ',' : '\n');
	}
	if (fclose(f) != 0)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	return ASKUE_OK;
}

/* billing exceptions --period P [--csv FILE]: for accountants, who was billed on
 * estimates or with something to check (from the invoices), and who was
 * not billed and why (from the period's last billing run, those still
 * without an invoice). */
int cmd_billing_exceptions(struct askue_cli *cli, int argc, char **argv)
{
	static const char billed_sql[] =
		"SELECT s.account, i.number, json_extract(j.value, '$.kind'),"
		" json_extract(j.value, '$.serial'), json_extract(j.value, '$.text')"
		" FROM invoice i JOIN subscriber s ON s.id = i.subscriber_id,"
		" json_each(i.details, '$.exceptions') j WHERE i.period = ?1 ORDER BY s.account, j.key";
	static const char unbilled_sql[] =
		"SELECT json_extract(j.value, '$.account'), '', json_extract(j.value, '$.kind'),"
		" json_extract(j.value, '$.serial'), json_extract(j.value, '$.text')"
		" FROM (SELECT details FROM billing_run WHERE period = ?1 AND kind = 'billing'"
		"  AND finished IS NOT NULL ORDER BY id DESC LIMIT 1) r,"
		" json_each(r.details, '$.not_billed_list') j"
		" WHERE NOT EXISTS (SELECT 1 FROM invoice i JOIN subscriber s ON s.id = i.subscriber_id"
		"  WHERE i.period = ?1 AND s.account = json_extract(j.value, '$.account'))"
		" ORDER BY 1, j.key";
	static const char *const names[] = {"period", "csv", NULL};
	const char *values[2];
	int rc = cli_string_options(cli, argc, argv, names, values);
	if (rc)
		return rc;
	const char *period = values[0], *csv = values[1];
	struct askue_period p;
	if (!period)
		return cli_usage(cli, "--period is required");
	enum askue_err err = askue_period_parse(period, &p);
	if (err) {
		askue_err_prefix("--period: ");
		return cli_fail(cli, err);
	}
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char ps[16];
	askue_period_format(p, ps);
	cJSON *arr = cJSON_CreateArray();
	if ((err = exceptions_of(l, unbilled_sql, ps, 0, arr)) ||
	    (err = exceptions_of(l, billed_sql, ps, 1, arr)) || (csv && (err = write_csv(csv, arr)))) {
		cJSON_Delete(arr);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(arr);
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *inv = cJSON_GetObjectItem(it, "invoice");
		printf("%s %s %s: %s\n", cJSON_GetObjectItem(it, "account")->valuestring,
		       inv ? inv->valuestring : "NOT BILLED", cJSON_GetObjectItem(it, "kind")->valuestring,
		       cJSON_GetObjectItem(it, "text")->valuestring);
	}
	if (!cJSON_GetArraySize(arr))
		printf("period %s: no exceptions\n", ps);
	cJSON_Delete(arr);
	return 0;
}
