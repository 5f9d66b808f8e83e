/* debtors [--date D] [--csv FILE] [--restriction] — for accounting: every
 * account with energy charges (invoices, debit corrections) unpaid past
 * their due date on D (default today), the unpaid amounts aged by the days
 * since the due date (0-30, 31-90, over 90), with the account's unpaid
 * penalties, and the totals. Allocations (lib/payment.c) dated up to D say
 * what was paid; a debit correction is due as the period it was made in.
 *
 * --restriction lists only the households whose overdue debt exceeds two
 * months of norm-based charges: the threshold for a restriction notice
 * (ПП 354 п. 117-119, a written notice first). The monthly norm-based
 * charge is the subscriber's norm (lib/norms.h, [billing] rules_dir
 * /norms.csv) times the price of the first zone (first band) of its tariff
 * on D, rounded half up, as billing charges a norm estimate with no zone
 * history; without a norm or a tariff price, the subscriber's average
 * invoiced energy charge stands in. Each row says which basis it used.
 *
 * --csv FILE writes account,name,address,category,days_0_30,days_31_90,
 * days_over_90,debt,penalties,oldest_days,threshold,threshold_basis (money
 * in roubles, threshold empty for non-households) and a last row "total".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "accrual.h"
#include "billing.h"
#include "cli.h"
#include "norms.h"

#define BASIS_NORM "norm"
#define BASIS_AVERAGE "average_invoiced_charge"

struct debtor {
	int64_t id;
	char account[ASKUE_ACCOUNT_BUF];
	char name[ASKUE_NAME_BYTES_MAX + 1];
	char address[ASKUE_ADDRESS_BYTES_MAX + 1];
	char category[16];
	int64_t bucket_kop[3]; /* 0-30, 31-90, over 90 */
	int64_t debt_kop, penalties_kop;
	int32_t oldest_days;
	int64_t invoiced_kop, invoices; /* for the average monthly charge */
	int64_t threshold_kop;          /* households: two months of charges */
	const char *basis;              /* BASIS_NORM | BASIS_AVERAGE */
};

struct debtors {
	struct askue_cli *cli;
	const struct askue_rules *rules;
	struct askue_norms *norms; /* NULL: no norms table */
	struct askue_date date;
	int restriction;
	FILE *csv;
	cJSON *list;
	struct debtor cur, total;
	int64_t accounts;
};

static int bucket_of(int32_t days)
{
	return days <= 30 ? 0 : days <= 90 ? 1 : 2;
}

/* A CSV field, always quoted, quotes doubled (libcsv). */
static void csv_text(FILE *f, const char *s)
{
	csv_fwrite(f, s, strlen(s));
}

/* Two average monthly charges, rounded half up; 0 without invoices. */
static int64_t average_threshold_kop(const struct debtor *d)
{
	if (!d->invoices)
		return 0;
	return (2 * d->invoiced_kop * 2 / d->invoices + 1) / 2;
}

static enum askue_err norm_key(struct debtors *r, int64_t id, struct askue_norm_key *k)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		r->cli->ledger, "SELECT residents, rooms, stove, settlement FROM subscriber WHERE id = ?",
		&st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		k->residents = sqlite3_column_int(st, 0);
		k->rooms = sqlite3_column_int(st, 1);
		if (!(err = askue_norms_stove_parse(askue_column_text(st, 2), &k->electric_stove)))
			err = askue_norms_settlement_parse(askue_column_text(st, 3), &k->rural);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? err : askue_ledger_fail(r->cli->ledger, rc, "subscriber");
}

/* Two months of the norm at the first zone's price on D; *kop = -1 when
 * the subscriber has no norm or no tariff price that day. */
static enum askue_err norm_threshold(struct debtors *r, int64_t id, int64_t *kop)
{
	struct askue_norm_key key;
	struct askue_bill_version v[4];
	int64_t wh;
	int n = 0;
	*kop = -1;
	enum askue_err err = norm_key(r, id, &key);
	if (err || askue_norms_month_wh(r->norms, &key, r->date, &wh) != ASKUE_OK)
		return err;
	err = askue_tariff_load_for_billing(r->cli->ledger, id, r->date,
	                                    askue_date_add_days(r->date, 1), v, 4, &n);
	if (err || n == 0 || v[0].n_zones == 0)
		return err;
	struct askue_money month;
	if ((err = askue_money_of((struct askue_energy){wh}, v[0].price[0][0], ASKUE_ROUND_HALF_UP,
	                          &month)))
		return err;
	*kop = 2 * month.kop;
	return ASKUE_OK;
}

static enum askue_err threshold_of(struct debtors *r, struct debtor *d)
{
	int64_t kop = -1;
	enum askue_err err = r->norms ? norm_threshold(r, d->id, &kop) : ASKUE_OK;
	if (err)
		return err;
	d->basis = kop >= 0 ? BASIS_NORM : BASIS_AVERAGE;
	d->threshold_kop = kop >= 0 ? kop : average_threshold_kop(d);
	return ASKUE_OK;
}

static void csv_row(FILE *f, const struct debtor *d, int household)
{
	char m[5][ASKUE_NUM_BUF], thr[ASKUE_NUM_BUF] = "";
	csv_text(f, d->account);
	fputc(',', f);
	csv_text(f, d->name);
	fputc(',', f);
	csv_text(f, d->address);
	if (household)
		askue_money_format((struct askue_money){d->threshold_kop}, thr);
	fprintf(f, ",%s,%s,%s,%s,%s,%s,%d,%s,%s\n", d->category,
	        askue_money_format((struct askue_money){d->bucket_kop[0]}, m[0]),
	        askue_money_format((struct askue_money){d->bucket_kop[1]}, m[1]),
	        askue_money_format((struct askue_money){d->bucket_kop[2]}, m[2]),
	        askue_money_format((struct askue_money){d->debt_kop}, m[3]),
	        askue_money_format((struct askue_money){d->penalties_kop}, m[4]), d->oldest_days,
	        thr, household ? d->basis : "");
}

static cJSON *row_json(const struct debtor *d, int household)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "account", d->account);
	if (d->name[0]) {
		cJSON_AddStringToObject(o, "name", d->name);
		cJSON_AddStringToObject(o, "address", d->address);
		cJSON_AddStringToObject(o, "category", d->category);
	}
	cli_json_add_money(o, "days_0_30", (struct askue_money){d->bucket_kop[0]});
	cli_json_add_money(o, "days_31_90", (struct askue_money){d->bucket_kop[1]});
	cli_json_add_money(o, "days_over_90", (struct askue_money){d->bucket_kop[2]});
	cli_json_add_money(o, "debt", (struct askue_money){d->debt_kop});
	cli_json_add_money(o, "penalties", (struct askue_money){d->penalties_kop});
	if (d->name[0])
		cJSON_AddNumberToObject(o, "oldest_days", d->oldest_days);
	if (household) {
		cli_json_add_money(o, "threshold", (struct askue_money){d->threshold_kop});
		cJSON_AddStringToObject(o, "threshold_basis", d->basis);
	}
	return o;
}

static void print_row(const struct debtor *d)
{
	char m[5][ASKUE_NUM_BUF];
	printf("%-12s %12s %12s %12s %12s %11s %6d  %s\n", d->account,
	       askue_money_format((struct askue_money){d->bucket_kop[0]}, m[0]),
	       askue_money_format((struct askue_money){d->bucket_kop[1]}, m[1]),
	       askue_money_format((struct askue_money){d->bucket_kop[2]}, m[2]),
	       askue_money_format((struct askue_money){d->debt_kop}, m[3]),
	       askue_money_format((struct askue_money){d->penalties_kop}, m[4]), d->oldest_days,
	       d->name);
}

static enum askue_err unpaid_penalties(struct debtors *r, struct debtor *d)
{
	static const char sql[] =
		"SELECT coalesce(sum(p.amount_kop - coalesce((SELECT sum(a.amount_kop) FROM allocation a"
		" WHERE a.charge_posting_id = p.id AND a.date <= ?2), 0)), 0) FROM posting p"
		" WHERE p.subscriber_id = ?1 AND p.kind = 'penalty' AND p.amount_kop > 0"
		" AND p.date <= ?2";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->cli->ledger, sql, &st);
	if (err)
		return err;
	char day[ASKUE_DATE_BUF];
	sqlite3_bind_int64(st, 1, d->id);
	askue_bind_text(st, 2, askue_date_format(r->date, day));
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		d->penalties_kop = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(r->cli->ledger, rc, "penalties");
}

/* The account walked so far, when it is a debtor (of the list asked). */
static enum askue_err flush(struct debtors *r)
{
	struct debtor *d = &r->cur;
	int household = !strcmp(d->category, "household");
	if (!d->id || d->debt_kop <= 0)
		return ASKUE_OK;
	enum askue_err err = household ? threshold_of(r, d) : ASKUE_OK;
	if (err)
		return err;
	if (r->restriction && (!household || d->debt_kop <= d->threshold_kop))
		return ASKUE_OK;
	err = unpaid_penalties(r, d);
	if (err)
		return err;
	for (int i = 0; i < 3; i++)
		r->total.bucket_kop[i] += d->bucket_kop[i];
	r->total.debt_kop += d->debt_kop;
	r->total.penalties_kop += d->penalties_kop;
	r->accounts++;
	if (r->csv)
		csv_row(r->csv, d, household);
	if (r->cli->json)
		cJSON_AddItemToArray(r->list, row_json(d, household));
	else
		print_row(d);
	return ASKUE_OK;
}

static void start_account(struct debtors *r, sqlite3_stmt *st)
{
	struct debtor *d = &r->cur;
	memset(d, 0, sizeof *d);
	d->id = sqlite3_column_int64(st, 0);
	snprintf(d->account, sizeof d->account, "%s", askue_column_text(st, 1));
	snprintf(d->name, sizeof d->name, "%s", askue_column_text(st, 2));
	snprintf(d->address, sizeof d->address, "%s", askue_column_text(st, 3));
	snprintf(d->category, sizeof d->category, "%s", askue_column_text(st, 4));
}

static enum askue_err charge_row(struct debtors *r, sqlite3_stmt *st)
{
	struct debtor *d = &r->cur;
	const char *kind = askue_column_text(st, 5);
	int64_t amount = sqlite3_column_int64(st, 8), unpaid = amount - sqlite3_column_int64(st, 9);
	struct askue_date due, made;
	enum askue_err err;
	if (!strcmp(kind, "invoice")) {
		d->invoiced_kop += amount;
		d->invoices++;
		err = askue_date_parse(askue_column_text(st, 7), &due);
	} else if (!(err = askue_date_parse(askue_column_text(st, 6), &made))) {
		err = askue_rules_due_date(r->rules, askue_period_of(made), &due);
	}
	if (err) {
		askue_err_prefix("account %s: ", d->account);
		return err;
	}
	int32_t days = r->date.days - due.days;
	if (unpaid <= 0 || days <= 0)
		return ASKUE_OK;
	d->bucket_kop[bucket_of(days)] += unpaid;
	d->debt_kop += unpaid;
	if (days > d->oldest_days)
		d->oldest_days = days;
	return ASKUE_OK;
}

static enum askue_err walk(struct debtors *r)
{
	static const char sql[] =
		"SELECT s.id, s.account, s.name, s.address, s.category, p.kind, p.date, i.due,"
		" p.amount_kop, coalesce((SELECT sum(a.amount_kop) FROM allocation a"
		"  WHERE a.charge_posting_id = p.id AND a.date <= ?1), 0)"
		" FROM posting p JOIN subscriber s ON s.id = p.subscriber_id"
		" LEFT JOIN invoice i ON i.id = p.invoice_id"
		" WHERE p.kind IN ('invoice','correction') AND p.amount_kop > 0"
		" AND p.period IS NOT NULL AND p.date <= ?1 ORDER BY p.subscriber_id, p.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->cli->ledger, sql, &st);
	if (err)
		return err;
	char day[ASKUE_DATE_BUF];
	askue_bind_text(st, 1, askue_date_format(r->date, day));
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) != r->cur.id) {
			if ((err = flush(r)))
				break;
			start_account(r, st);
		}
		err = charge_row(r, st);
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->cli->ledger, rc, "debtors");
	sqlite3_reset(st);
	return err ? err : flush(r);
}

static enum askue_err open_csv(const char *path, FILE **out)
{
	if (!path)
		return ASKUE_OK;
	FILE *f = fopen(path, "w");
	if (!f)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	fprintf(f, "account,name,address,category,days_0_30,days_31_90,days_over_90,debt,"
	           "penalties,oldest_days,threshold,threshold_basis\n");
	*out = f;
	return ASKUE_OK;
}

static int output(struct debtors *r)
{
	snprintf(r->total.account, sizeof r->total.account, "total");
	r->total.name[0] = '\0';
	if (!r->cli->json) {
		print_row(&r->total);
		printf("%lld accounts%s\n", (long long)r->accounts,
		       r->restriction ? " over two months of norm-based charges (the norm x the"
		                        " tariff price; the average invoiced charge without them)"
		                      : "");
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cli_json_add_date(o, "date", 1, r->date);
	cJSON_AddBoolToObject(o, "restriction", r->restriction);
	cJSON_AddStringToObject(o, "norms", r->norms ? "loaded" : "none");
	cJSON_AddItemToObject(o, "debtors", r->list);
	r->list = NULL;
	cJSON *t = row_json(&r->total, 0);
	cJSON_DeleteItemFromObject(t, "account");
	cJSON_AddNumberToObject(t, "accounts", (double)r->accounts);
	cJSON_AddItemToObject(o, "totals", t);
	return cli_print_json(o);
}

static int parse(struct askue_cli *cli, int argc, char **argv, struct debtors *r,
                 const char **csv)
{
	static const struct option opts[] = {{"date", required_argument, 0, 'd'},
	                                     {"csv", required_argument, 0, 'c'},
	                                     {"restriction", no_argument, 0, 'r'},
	                                     {0, 0, 0, 0}};
	int c;
	enum askue_err err = ASKUE_OK;
	cli_getopt_reset();
	while (!err && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': err = cli_date("--date", optarg, &r->date); break;
		case 'c': *csv = optarg; break;
		case 'r': r->restriction = 1; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (err)
		return cli_fail(cli, err);
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The rules, and the norms when rules_dir has them (as the billing job). */
static enum askue_err load_rules(struct askue_cli *cli, struct askue_rules **rules,
                                 struct askue_norms **norms)
{
	const char *dir = cli->cfg.billing_rules_dir;
	char path[ASKUE_PATH_MAX + 16];
	enum askue_err err = askue_rules_load(dir, rules);
	if (err) {
		askue_err_prefix("[billing] rules_dir %s: ", dir);
		return err;
	}
	snprintf(path, sizeof path, "%s/norms.csv", dir);
	if (access(path, F_OK) == 0)
		err = askue_norms_load(path, norms);
	return err;
}

int cmd_debtors(struct askue_cli *cli, int argc, char **argv)
{
	static struct debtors r;
	memset(&r, 0, sizeof r);
	r.cli = cli;
	r.date = askue_date_today();
	const char *csv = NULL;
	int rc = parse(cli, argc, argv, &r, &csv);
	if (rc)
		return rc;
	if (!cli_ledger(cli))
		return EX_SOFTWARE;
	struct askue_rules *rules = NULL;
	enum askue_err err = load_rules(cli, &rules, &r.norms);
	r.rules = rules;
	r.list = cJSON_CreateArray();
	if (!err && !(err = open_csv(csv, &r.csv)) && !cli->json)
		printf("%-12s %12s %12s %12s %12s %11s %6s  %s\n", "account", "0-30 days",
		       "31-90 days", "over 90", "debt", "penalties", "oldest", "name");
	if (!err)
		err = walk(&r);
	if (!err && r.csv) {
		snprintf(r.total.account, sizeof r.total.account, "total");
		csv_row(r.csv, &r.total, 0);
	}
	if (r.csv && fclose(r.csv) && !err)
		err = askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", csv, strerror(errno));
	rc = err ? cli_fail(cli, err) : output(&r);
	cJSON_Delete(r.list);
	askue_rules_free(rules);
	askue_norms_free(r.norms);
	return rc;
}
