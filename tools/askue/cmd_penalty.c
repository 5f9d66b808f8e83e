/* penalty show ACCOUNT [--date D] — the day-by-day penalty (пени) of each
 * period charge of an account through D (default today), as the penalties
 * job computes it (lib/accrual.c, lib/penalty.c): per run of days the base,
 * the dates, the day numbers after the due date, the fraction 1/300 or
 * 1/130 (or grace, moratorium), the rate and the amount; the period's
 * penalty is the exact sum rounded once, beside what was posted so far.
 * Read-only: nothing is posted.
 * A period is cut into parts by what settled it (lib/penalty.c): each part
 * runs from day 1 to the day it was settled, at the rate of that day, so a
 * partial payment shows as its own lines. An invoice's overdue record is
 * shown with it: journaled (the unpaid amount at the due date), withdrawn
 * (a late bank file showed it paid by the due date), or to be withdrawn by
 * the next penalties run. askue debtors is cmd_debtors.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accrual.h"
#include "cli.h"

static void put_rate(char *buf, size_t size, int32_t bp)
{
	snprintf(buf, size, "%d.%02d%%", bp / 100, bp % 100);
}

static void print_line(const struct askue_penalty_line *ln)
{
	char from[ASKUE_DATE_BUF], until[ASKUE_DATE_BUF], base[ASKUE_NUM_BUF], amt[ASKUE_NUM_BUF];
	char days[32], what[80], rate[16], rate_day[ASKUE_DATE_BUF];
	snprintf(days, sizeof days, "%d-%d", ln->day_from, ln->day_until);
	if (ln->divisor) {
		put_rate(rate, sizeof rate, ln->rate_bp);
		snprintf(what, sizeof what, "1/%d x %s (rate of %s)", ln->divisor, rate,
		         askue_date_format(ln->rate_date, rate_day));
	} else {
		snprintf(what, sizeof what, "%s", ln->note ? ln->note : "-");
	}
	printf("  %s..%s  days %-9s base %10s  %-36s %10s\n", askue_date_format(ln->from, from),
	       askue_date_format(ln->until, until), days, askue_money_format(ln->base, base), what,
	       askue_money_format(ln->amount, amt));
}

/* The invoice's overdue record, as text (a line) or JSON (an object). */
static void print_overdue(const struct askue_accrual_charge *c, int paid_by_due)
{
	char on[ASKUE_DATE_BUF], unpaid[ASKUE_NUM_BUF], w[ASKUE_DATE_BUF];
	if (c->overdue == ASKUE_OVERDUE_NONE)
		return;
	printf("  overdue: journaled on %s, %s unpaid at the due date",
	       askue_date_format(c->overdue_date, on), askue_money_format(c->overdue_unpaid, unpaid));
	if (c->overdue == ASKUE_OVERDUE_WITHDRAWN)
		printf("; withdrawn on %s: paid by its due date\n",
		       askue_date_format(c->overdue_withdrawn, w));
	else if (paid_by_due)
		printf("; paid by its due date after all: the next penalties run withdraws it\n");
	else
		printf("\n");
}

static void overdue_json(cJSON *o, const struct askue_accrual_charge *c, int paid_by_due)
{
	if (c->overdue == ASKUE_OVERDUE_NONE) {
		cJSON_AddNullToObject(o, "overdue");
		return;
	}
	cJSON *v = cJSON_AddObjectToObject(o, "overdue");
	cli_json_add_date(v, "date", 1, c->overdue_date);
	cli_json_add_money(v, "unpaid", c->overdue_unpaid);
	cli_json_add_date(v, "withdrawn", c->overdue == ASKUE_OVERDUE_WITHDRAWN,
	                  c->overdue_withdrawn);
	cJSON_AddBoolToObject(v, "paid_by_due", paid_by_due);
}

static void print_charge(const struct askue_accrual_charge *c,
                         const struct askue_penalty_result *res, int paid_by_due)
{
	char per[16], base[ASKUE_NUM_BUF], due[ASKUE_DATE_BUF], day1[ASKUE_DATE_BUF];
	char settled[ASKUE_NUM_BUF], pen[ASKUE_NUM_BUF], posted[ASKUE_NUM_BUF];
	char through[ASKUE_DATE_BUF];
	printf("period %s: charge %s due %s, day 1 = %s, settled %s\n",
	       askue_period_format(c->period, per), askue_money_format(c->base, base),
	       askue_date_format(c->due, due), askue_date_format(res->clock_start, day1),
	       askue_money_format(c->settled, settled));
	print_overdue(c, paid_by_due);
	for (int i = 0; i < res->n_lines; i++)
		print_line(&res->lines[i]);
	printf("  penalty %s (the exact sum, rounded once, half up)", askue_money_format(res->total, pen));
	if (c->has_accrual)
		printf("; posted through %s: %s\n", askue_date_format(c->through, through),
		       askue_money_format(c->posted, posted));
	else
		printf("; nothing posted yet\n");
}

struct show {
	struct askue_cli *cli;
	const struct askue_rules *rules;
	struct askue_date date;
	struct askue_accrual_charge charge;
	struct askue_penalty_result res;
	cJSON *charges;
	int64_t total_kop, posted_kop;
	int quiet; /* charges with no penalty and nothing posted (text: counted) */
	enum askue_err err;
};

static int show_one(int64_t posting_id, void *arg)
{
	struct show *s = arg;
	struct askue_accrual_charge *c = &s->charge;
	s->err = askue_accrual_load(s->cli->ledger, s->rules, posting_id, s->date, c);
	if (!s->err)
		s->err = askue_accrual_compute(s->rules, c, s->date, &s->res);
	if (s->err)
		return 1;
	s->total_kop += s->res.total.kop;
	s->posted_kop += c->posted.kop;
	int paid_by_due = askue_accrual_unpaid_at_due(s->rules, c) <= 0;
	if (!s->cli->json) {
		if (s->res.n_lines == 0 && !c->has_accrual && c->overdue == ASKUE_OVERDUE_NONE)
			s->quiet++;
		else
			print_charge(c, &s->res, paid_by_due);
		return 0;
	}
	cJSON *o = askue_accrual_json(c, &s->res);
	overdue_json(o, c, paid_by_due);
	cli_json_add_money(o, "settled", c->settled);
	cli_json_add_money(o, "posted", c->posted);
	cli_json_add_date(o, "posted_through", c->has_accrual, c->through);
	cJSON_AddItemToArray(s->charges, o);
	return 0;
}

static enum askue_err load_rules(struct askue_cli *cli, struct askue_rules **out)
{
	enum askue_err err = askue_rules_load(cli->cfg.billing_rules_dir, out);
	if (err)
		askue_err_prefix("[billing] rules_dir %s: ", cli->cfg.billing_rules_dir);
	return err;
}

static int show_output(struct show *s, const struct askue_subscriber *sub)
{
	char day[ASKUE_DATE_BUF], tot[ASKUE_NUM_BUF], posted[ASKUE_NUM_BUF];
	if (!s->cli->json) {
		if (s->quiet)
			printf("(%d charge%s paid in time or not yet due: no penalty)\n", s->quiet,
			       s->quiet == 1 ? "" : "s");
		printf("total penalty %s through %s; posted %s\n",
		       askue_money_format((struct askue_money){s->total_kop}, tot),
		       askue_date_format(s->date, day),
		       askue_money_format((struct askue_money){s->posted_kop}, posted));
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "account", sub->account);
	cJSON_AddStringToObject(o, "category", sub->category);
	cli_json_add_date(o, "date", 1, s->date);
	cJSON_AddItemToObject(o, "charges", s->charges);
	s->charges = NULL;
	cli_json_add_money(o, "total", (struct askue_money){s->total_kop});
	cli_json_add_money(o, "posted", (struct askue_money){s->posted_kop});
	return cli_print_json(o);
}

int cmd_penalty_show(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"date", NULL};
	const char *v[1];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind != argc - 1)
		return cli_usage(cli, "expected ACCOUNT [--date D]");
	static struct show s; /* a charge and a calculation: not on the stack */
	memset(&s, 0, sizeof s);
	s.cli = cli;
	s.date = askue_date_today();
	struct askue_rules *rules = NULL;
	struct askue_subscriber sub;
	enum askue_err err = v[0] ? cli_date("--date", v[0], &s.date) : ASKUE_OK;
	if (!err && !cli_ledger(cli))
		return EX_SOFTWARE;
	if (!err && !(err = load_rules(cli, &rules)))
		err = askue_subscriber_get(cli->ledger, argv[optind], &sub);
	if (!err && !cli->json) {
		char day[ASKUE_DATE_BUF];
		printf("%s %s (%s), penalties through %s\n", sub.account, sub.name, sub.category,
		       askue_date_format(s.date, day));
	}
	s.rules = rules;
	s.charges = cJSON_CreateArray();
	if (!err && !(err = askue_accrual_charges_of(cli->ledger, sub.id, show_one, &s)))
		err = s.err;
	rc = err ? cli_fail(cli, err) : show_output(&s, &sub);
	cJSON_Delete(s.charges);
	askue_rules_free(rules);
	return rc;
}
