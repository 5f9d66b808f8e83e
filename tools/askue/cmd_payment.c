/* pay ACCOUNT AMOUNT [--date D] [--ref R]; balance ACCOUNT;
 * payments import FILE.csv | list ACCOUNT | suspense [--all] |
 * assign SUSPENSE_ID ACCOUNT [--amount A] [--date D] | reject SUSPENSE_ID --reason TEXT
 * — payments, the account and the suspense list (lib/payment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "cli.h"
#include "journal.h"
#include "payment.h"

static enum askue_err parse_amount(const char *option, const char *text, struct askue_money *out)
{
	enum askue_err err = askue_money_parse(text, out);
	if (err)
		askue_err_prefix("%s: ", option);
	return err;
}

static void add_opt_string(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_stamp(cJSON *o, const char *key, int64_t utc_s)
{
	char buf[ASKUE_UTC_STAMP_BUF];
	if (utc_s)
		cJSON_AddStringToObject(o, key, askue_utc_stamp(utc_s, buf));
	else
		cJSON_AddNullToObject(o, key);
}

static int add_allocation(const struct askue_allocation *a, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	askue_json_add_int(o, "charge", a->charge_posting_id);
	cJSON_AddStringToObject(o, "kind", a->charge_kind);
	add_opt_string(o, "period", a->period);
	add_opt_string(o, "invoice", a->invoice);
	cli_json_add_money(o, "amount", a->amount);
	cli_json_add_date(o, "date", 1, a->date);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

/* The payment with its allocations. */
static enum askue_err payment_json(struct askue_ledger *l, const struct askue_payment *p,
                                   cJSON **out)
{
	cJSON *o = cJSON_CreateObject();
	askue_json_add_int(o, "id", p->id);
	cJSON_AddStringToObject(o, "account", p->account);
	cli_json_add_money(o, "amount", p->amount);
	cli_json_add_date(o, "date", 1, p->date);
	add_opt_string(o, "ref", p->ref);
	cJSON_AddStringToObject(o, "source", p->source);
	cJSON *allocs = cJSON_AddArrayToObject(o, "allocations");
	enum askue_err err = askue_allocation_each(l, p->posting_id, add_allocation, allocs);
	cli_json_add_money(o, "unallocated", p->unallocated);
	if (err) {
		cJSON_Delete(o);
		return err;
	}
	*out = o;
	return ASKUE_OK;
}

static void print_payment_text(const cJSON *o)
{
	const cJSON *ref = cJSON_GetObjectItem(o, "ref");
	printf("payment %s: %s to %s on %s%s%s\n", cJSON_GetObjectItem(o, "id")->valuestring,
	       cJSON_GetObjectItem(o, "amount")->valuestring,
	       cJSON_GetObjectItem(o, "account")->valuestring,
	       cJSON_GetObjectItem(o, "date")->valuestring, cJSON_IsString(ref) ? ", ref " : "",
	       cJSON_IsString(ref) ? ref->valuestring : "");
	const cJSON *a;
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "allocations"))
	{
		const cJSON *period = cJSON_GetObjectItem(a, "period");
		printf("  %12s  %-10s %s  settled %s\n", cJSON_GetObjectItem(a, "amount")->valuestring,
		       cJSON_GetObjectItem(a, "kind")->valuestring,
		       cJSON_IsString(period) ? period->valuestring : "-",
		       cJSON_GetObjectItem(a, "date")->valuestring);
	}
	printf("  %12s  credit (not yet allocated)\n",
	       cJSON_GetObjectItem(o, "unallocated")->valuestring);
}

/* Print a payment just posted, with the account's new balance. */
static int show_posted(struct askue_cli *cli, struct askue_ledger *l, const struct askue_payment *p)
{
	cJSON *o;
	struct askue_money bal;
	enum askue_err err = payment_json(l, p, &o);
	if (err)
		return cli_fail(cli, err);
	if ((err = askue_account_balance(l, p->subscriber_id, &bal))) {
		cJSON_Delete(o);
		return cli_fail(cli, err);
	}
	cli_json_add_money(o, "balance", bal);
	if (cli->json)
		return cli_print_json(o);
	print_payment_text(o);
	printf("  balance %s\n", cJSON_GetObjectItem(o, "balance")->valuestring);
	cJSON_Delete(o);
	return 0;
}

int cmd_pay(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"date", "ref", NULL};
	const char *v[2] = {0};
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 2 != argc)
		return cli_usage(cli, "expected ACCOUNT AMOUNT [--date D] [--ref R]");
	struct askue_payment_in in = {.account = argv[optind], .today = askue_date_today(),
	                              .ref = v[1], .source = "manual"};
	in.date = in.today;
	enum askue_err err = parse_amount("amount", argv[optind + 1], &in.amount);
	if (!err && v[0])
		err = cli_date("--date", v[0], &in.date);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_payment p;
	if ((err = askue_payment_post(l, &in, &p)))
		return cli_fail(cli, err);
	return show_posted(cli, l, &p);
}

static int open_charge_json(const struct askue_open_charge *c, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	askue_json_add_int(o, "charge", c->posting_id);
	cJSON_AddStringToObject(o, "kind", c->kind);
	add_opt_string(o, "period", c->period);
	add_opt_string(o, "invoice", c->invoice);
	cli_json_add_date(o, "due", 1, c->due);
	cli_json_add_money(o, "amount", c->amount);
	cli_json_add_money(o, "open", c->open);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

int cmd_balance(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected ACCOUNT");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_subscriber s;
	struct askue_money bal, credit;
	cJSON *o = cJSON_CreateObject();
	cJSON *open = cJSON_CreateArray();
	enum askue_err err = askue_subscriber_get(l, argv[1], &s);
	if (!err)
		err = askue_account_balance(l, s.id, &bal);
	if (!err)
		err = askue_account_open(l, s.id, open_charge_json, open, &credit);
	if (err) {
		cJSON_Delete(o);
		cJSON_Delete(open);
		return cli_fail(cli, err);
	}
	cJSON_AddStringToObject(o, "account", s.account);
	cli_json_add_money(o, "balance", bal);
	cJSON_AddItemToObject(o, "open_charges", open);
	cli_json_add_money(o, "credit", credit);
	if (cli->json)
		return cli_print_json(o);
	printf("%s: balance %s (positive: owes; negative: credit)\n", s.account,
	       cJSON_GetObjectItem(o, "balance")->valuestring);
	const cJSON *c;
	cJSON_ArrayForEach(c, open)
	{
		const cJSON *period = cJSON_GetObjectItem(c, "period");
		printf("  %-10s %-7s due %s  %12s open of %s\n", cJSON_GetObjectItem(c, "kind")->valuestring,
		       cJSON_IsString(period) ? period->valuestring : "-",
		       cJSON_GetObjectItem(c, "due")->valuestring,
		       cJSON_GetObjectItem(c, "open")->valuestring,
		       cJSON_GetObjectItem(c, "amount")->valuestring);
	}
	printf("  credit not yet allocated: %s\n", cJSON_GetObjectItem(o, "credit")->valuestring);
	cJSON_Delete(o);
	return 0;
}

struct list_ctx {
	struct askue_ledger *l;
	cJSON *list;
	enum askue_err err;
};

static int add_payment(const struct askue_payment *p, void *arg)
{
	struct list_ctx *ctx = arg;
	cJSON *o;
	if ((ctx->err = payment_json(ctx->l, p, &o)))
		return 1;
	cJSON_AddItemToArray(ctx->list, o);
	return 0;
}

int cmd_payments_list(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected ACCOUNT");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_subscriber s;
	struct list_ctx ctx = {.l = l, .list = cJSON_CreateArray()};
	enum askue_err err = askue_subscriber_get(l, argv[1], &s);
	if (!err)
		err = askue_payment_each(l, s.id, add_payment, &ctx);
	if (!err)
		err = ctx.err;
	if (err) {
		cJSON_Delete(ctx.list);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(ctx.list);
	const cJSON *p;
	cJSON_ArrayForEach(p, ctx.list)
		print_payment_text(p);
	if (!cJSON_GetArraySize(ctx.list))
		printf("no payments\n");
	cJSON_Delete(ctx.list);
	return 0;
}

struct import_ctx {
	cJSON *rows; /* --json: the rows not posted, at most ASKUE_PAYMENT_IMPORT_SHOWN_MAX */
	int64_t shown;
};

static const char *const outcome_names[] = {"posted", "duplicate", "suspended",
                                            "already_suspended"};

static void on_import_row(const char *msg, enum askue_import_outcome what, void *arg)
{
	struct import_ctx *ctx = arg;
	if (ctx->shown++ >= ASKUE_PAYMENT_IMPORT_SHOWN_MAX)
		return;
	if (!ctx->rows) {
		printf("%s\n", msg);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "outcome", outcome_names[what]);
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddItemToArray(ctx->rows, o);
}

static cJSON *import_json(const char *file, const struct askue_import_report *r, cJSON *rows)
{
	static const char *const totals[] = {"posted_total", "duplicates_total", "suspended_total",
	                                     "already_suspended_total"};
	static const char *const counts[] = {"posted", "duplicates", "suspended",
	                                     "already_suspended"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", file);
	askue_json_add_int(o, "rows", r->rows);
	for (int i = 0; i < 4; i++)
		askue_json_add_int(o, counts[i], r->count[i]);
	cli_json_add_money(o, "total", r->total);
	for (int i = 0; i < 4; i++)
		cli_json_add_money(o, totals[i], r->amount[i]);
	cJSON_AddItemToObject(o, "not_posted", rows);
	return o;
}

int cmd_payments_import(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected FILE.csv");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct import_ctx ctx = {.rows = cli->json ? cJSON_CreateArray() : NULL};
	struct askue_import_report r = {.on_row = on_import_row, .arg = &ctx};
	enum askue_err err = askue_payments_import(l, argv[1], askue_date_today(), &r);
	if (err) {
		cJSON_Delete(ctx.rows);
		return cli_fail(cli, err);
	}
	if (ctx.shown > ASKUE_PAYMENT_IMPORT_SHOWN_MAX && !cli->json)
		printf("... and %lld more rows not posted (askue payments suspense)\n",
		       (long long)(ctx.shown - ASKUE_PAYMENT_IMPORT_SHOWN_MAX));
	cJSON *o = import_json(argv[1], &r, ctx.rows ? ctx.rows : cJSON_CreateArray());
	if (cli->json)
		return cli_print_json(o);
	printf("%s: %lld rows: %lld posted (%s), %lld duplicates (%s), %lld suspended (%s),"
	       " %lld in suspense already (%s); file total %s\n",
	       argv[1], (long long)r.rows, (long long)r.count[0],
	       cJSON_GetObjectItem(o, "posted_total")->valuestring, (long long)r.count[1],
	       cJSON_GetObjectItem(o, "duplicates_total")->valuestring, (long long)r.count[2],
	       cJSON_GetObjectItem(o, "suspended_total")->valuestring, (long long)r.count[3],
	       cJSON_GetObjectItem(o, "already_suspended_total")->valuestring,
	       cJSON_GetObjectItem(o, "total")->valuestring);
	cJSON_Delete(o);
	return 0;
}

static cJSON *suspense_json(const struct askue_suspense *s)
{
	cJSON *o = cJSON_CreateObject();
	askue_json_add_int(o, "id", s->id);
	cJSON_AddStringToObject(o, "file", s->source);
	askue_json_add_int(o, "line", s->line);
	cJSON_AddStringToObject(o, "raw", s->raw);
	add_opt_string(o, "account", s->account);
	if (s->has_amount)
		cli_json_add_money(o, "amount", s->amount);
	else
		cJSON_AddNullToObject(o, "amount");
	add_opt_string(o, "date", s->date);
	add_opt_string(o, "ref", s->ref);
	cJSON_AddStringToObject(o, "reason", s->reason);
	cJSON_AddStringToObject(o, "status", s->status);
	add_stamp(o, "created", s->created);
	if (s->payment_id)
		askue_json_add_int(o, "payment", s->payment_id);
	else
		cJSON_AddNullToObject(o, "payment");
	add_stamp(o, "resolved", s->resolved);
	add_opt_string(o, "note", s->note);
	return o;
}

static int add_suspense(const struct askue_suspense *s, void *arg)
{
	cJSON_AddItemToArray(arg, suspense_json(s));
	return 0;
}

static const char *str_or_dash(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(v) ? v->valuestring : cJSON_IsRaw(v) ? v->valuestring : "-";
}

static void print_suspense(const cJSON *o)
{
	printf("%-6s %-8s %s:%s  %-12s %12s  %-10s %-20s %s", str_or_dash(o, "id"),
	       str_or_dash(o, "status"), str_or_dash(o, "file"), str_or_dash(o, "line"),
	       str_or_dash(o, "account"), str_or_dash(o, "amount"), str_or_dash(o, "date"),
	       str_or_dash(o, "ref"), str_or_dash(o, "reason"));
	const cJSON *note = cJSON_GetObjectItem(o, "note");
	if (cJSON_IsString(note))
		printf("  // %s", note->valuestring);
	printf("\n");
}

int cmd_payments_suspense(struct askue_cli *cli, int argc, char **argv)
{
	int all = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all"))
			return cli_usage(cli, "unexpected argument '%s' (expected [--all])", argv[i]);
		all = 1;
	}
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	cJSON *list = cJSON_CreateArray();
	enum askue_err err = askue_suspense_each(l, all, add_suspense, list);
	if (err) {
		cJSON_Delete(list);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(list);
	const cJSON *s;
	cJSON_ArrayForEach(s, list)
		print_suspense(s);
	if (!cJSON_GetArraySize(list))
		printf("no payments in suspense%s\n", all ? "" : " (open)");
	cJSON_Delete(list);
	return 0;
}

int cmd_payments_assign(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"amount", "date", NULL};
	const char *v[2] = {0};
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 2 != argc)
		return cli_usage(cli, "expected SUSPENSE_ID ACCOUNT [--amount A] [--date D]");
	struct askue_suspense_assign a = {.account = argv[optind + 1], .today = askue_date_today()};
	enum askue_err err = cli_id("suspense id", argv[optind], &a.id);
	if (!err && v[0] && !(err = parse_amount("--amount", v[0], &a.amount)))
		a.has_amount = 1;
	if (!err && v[1] && !(err = cli_date("--date", v[1], &a.date)))
		a.has_date = 1;
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_payment p;
	if ((err = askue_suspense_assign(l, &a, &p)))
		return cli_fail(cli, err);
	return show_posted(cli, l, &p);
}

int cmd_payments_reject(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"reason", NULL};
	const char *v[1] = {0};
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 1 != argc || !v[0])
		return cli_usage(cli, "expected SUSPENSE_ID --reason TEXT");
	int64_t id;
	enum askue_err err = cli_id("suspense id", argv[optind], &id);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_suspense *s = calloc(1, sizeof *s);
	if (!s)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_NOMEM, "out of memory"));
	if (!(err = askue_suspense_reject(l, id, v[0])))
		err = askue_suspense_get(l, id, s);
	if (err) {
		free(s);
		return cli_fail(cli, err);
	}
	if (cli->json) {
		cJSON *o = suspense_json(s);
		free(s);
		return cli_print_json(o);
	}
	printf("suspense %lld rejected: %s\n", (long long)id, s->note);
	free(s);
	return 0;
}
