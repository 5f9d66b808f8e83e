/* subscriber add | show | find | set */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void set_field(char *dst, size_t size, const char *src, int *too_long)
{
	if (strlen(src) >= size)
		*too_long = 1;
	snprintf(dst, size, "%s", src);
}

/* The card plus the norm determinants (residents, rooms, stove, settlement). */
static cJSON *subscriber_json(const struct askue_subscriber *s)
{
	cJSON *o = cli_json_subscriber(s);
	cJSON_AddNumberToObject(o, "residents", s->residents);
	cJSON_AddNumberToObject(o, "rooms", s->rooms);
	cJSON_AddStringToObject(o, "stove", s->stove);
	cJSON_AddStringToObject(o, "settlement", s->settlement);
	return o;
}

/* --residents N --rooms N --stove gas|electric --settlement urban|rural */
static enum askue_err norm_option(struct askue_subscriber *s, int c, const char *v, int *too_long)
{
	switch (c) {
	case 'R': return cli_int("--residents", v, 0, 99, &s->residents);
	case 'M': return cli_int("--rooms", v, 1, 99, &s->rooms);
	case 'V': set_field(s->stove, sizeof s->stove, v, too_long); return ASKUE_OK;
	case 'T': set_field(s->settlement, sizeof s->settlement, v, too_long); return ASKUE_OK;
	}
	return ASKUE_OK;
}

#define NORM_OPTIONS \
	{"residents", required_argument, 0, 'R'}, {"rooms", required_argument, 0, 'M'}, \
	{"stove", required_argument, 0, 'V'}, {"settlement", required_argument, 0, 'T'}

int cmd_subscriber_add(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, 0, 'n'},       {"address", required_argument, 0, 'a'},
		{"district", required_argument, 0, 'd'},   {"substation", required_argument, 0, 's'},
		{"category", required_argument, 0, 'c'},   {"date", required_argument, 0, 't'},
		{"phone", required_argument, 0, 'p'},      {"email", required_argument, 0, 'e'},
		{"account", required_argument, 0, 'A'},    NORM_OPTIONS,
		{0, 0, 0, 0},
	};
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	const char *date = NULL;
	int too_long = 0, c, residents_given = 0;
	enum askue_err err;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'n': set_field(s.name, sizeof s.name, optarg, &too_long); break;
		case 'a': set_field(s.address, sizeof s.address, optarg, &too_long); break;
		case 'd': set_field(s.district, sizeof s.district, optarg, &too_long); break;
		case 's': set_field(s.substation, sizeof s.substation, optarg, &too_long); break;
		case 'c': set_field(s.category, sizeof s.category, optarg, &too_long); break;
		case 'p': set_field(s.phone, sizeof s.phone, optarg, &too_long); break;
		case 'e': set_field(s.email, sizeof s.email, optarg, &too_long); break;
		case 'A': set_field(s.account, sizeof s.account, optarg, &too_long); break;
		case 't': date = optarg; break;
		case 'R': case 'M': case 'V': case 'T':
			residents_given |= c == 'R';
			if ((err = norm_option(&s, c, optarg, &too_long)))
				return cli_fail(cli, err);
			break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (too_long)
		return cli_usage(cli, "a value is too long");
	if (residents_given && !s.rooms)
		s.rooms = 1; /* rooms 0 would mean neither was given */
	if (s.rooms && !residents_given)
		s.residents = 1;
	if (!s.name[0] || !s.address[0])
		return cli_usage(cli, "--name and --address are required");
	if (date) {
		if ((err = cli_date("--date", date, &s.registered)))
			return cli_fail(cli, err);
	} else {
		s.registered = askue_date_today();
	}
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_subscriber_add(l, &s)))
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(subscriber_json(&s));
	printf("%s\n", s.account);
	return 0;
}

static void print_subscriber(const struct askue_subscriber *s)
{
	char d[ASKUE_DATE_BUF];
	printf("account     %s\nname        %s\naddress     %s\ndistrict    %s\nsubstation  %s\n"
	       "category    %s\nregistered  %s\nphone       %s\nemail       %s\nstatus      %s\n"
	       "residents   %d\nrooms       %d\nstove       %s\nsettlement  %s\n",
	       s->account, s->name, s->address, s->district, s->substation, s->category,
	       askue_date_format(s->registered, d), s->phone, s->email, s->status, s->residents,
	       s->rooms, s->stove, s->settlement);
}

struct show_ctx {
	cJSON *list;
	int n;
};

static int add_installation(const struct askue_installation *in, void *arg)
{
	struct show_ctx *ctx = arg;
	char d[ASKUE_DATE_BUF], r[128];
	if (ctx->list) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "serial", in->serial);
		cli_json_add_date(o, "installed", 1, in->installed);
		cli_json_add_date(o, "removed", in->has_removed, in->removed);
		cJSON_AddStringToObject(o, "reading_in", askue_registers_format(&in->in, r, sizeof r));
		if (in->out.zones)
			cJSON_AddStringToObject(o, "reading_out",
			                        askue_registers_format(&in->out, r, sizeof r));
		else
			cJSON_AddNullToObject(o, "reading_out");
		cJSON_AddItemToArray(ctx->list, o);
	} else {
		if (!ctx->n++)
			printf("meters:\n");
		printf("  %s  from %s (reading %s)", in->serial, askue_date_format(in->installed, d),
		       askue_registers_format(&in->in, r, sizeof r));
		if (in->has_removed)
			printf("  to %s (reading %s)", askue_date_format(in->removed, d),
			       in->out.zones ? askue_registers_format(&in->out, r, sizeof r) : "-");
		printf("\n");
	}
	return 0;
}

int cmd_subscriber_show(struct askue_cli *cli, int argc, char **argv)
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
	struct show_ctx ctx = {0};
	cJSON *o = NULL;
	if (cli->json) {
		o = subscriber_json(&s);
		ctx.list = cJSON_AddArrayToObject(o, "meters");
	} else {
		print_subscriber(&s);
	}
	if ((err = askue_installation_each(l, NULL, s.account, add_installation, &ctx))) {
		cJSON_Delete(o);
		return cli_fail(cli, err);
	}
	/* The tariff choices, oldest first. */
	static const char tariffs_sql[] =
		"SELECT t.name, st.valid_from FROM subscriber_tariff st JOIN tariff t ON t.id = st.tariff_id"
		" WHERE st.subscriber_id = ? ORDER BY st.valid_from";
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, tariffs_sql, &st))) {
		cJSON_Delete(o);
		return cli_fail(cli, err);
	}
	sqlite3_bind_int64(st, 1, s.id);
	cJSON *tariffs = o ? cJSON_AddArrayToObject(o, "tariffs") : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (tariffs) {
			cJSON *t = cJSON_CreateObject();
			cJSON_AddStringToObject(t, "tariff", askue_column_text(st, 0));
			cJSON_AddStringToObject(t, "from", askue_column_text(st, 1));
			cJSON_AddItemToArray(tariffs, t);
		} else {
			printf("%s  tariff %s from %s\n", n++ ? "           " : "tariffs:   ",
			       askue_column_text(st, 0), askue_column_text(st, 1));
		}
	}
	sqlite3_reset(st);
	return o ? cli_print_json(o) : 0;
}

struct find_ctx {
	cJSON *list;
	int n;
};

static int found(const struct askue_subscriber *s, void *arg)
{
	struct find_ctx *ctx = arg;
	ctx->n++;
	if (ctx->list)
		cJSON_AddItemToArray(ctx->list, cli_json_subscriber(s));
	else
		printf("%s  %s  %s\n", s->account, s->name, s->address);
	return 0;
}

int cmd_subscriber_find(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"limit", required_argument, 0, 'l'}, {0, 0, 0, 0}};
	int limit = ASKUE_FIND_ROWS_DEFAULT, c;
	enum askue_err err;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'l')
			return cli_bad_option(cli, c, argv);
		if ((err = cli_int("--limit", optarg, 1, ASKUE_FIND_ROWS_MAX, &limit)))
			return cli_fail(cli, err);
	}
	if (optind >= argc)
		return cli_usage(cli, "expected TEXT");
	char text[512] = "";
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(text);
		if (n + strlen(argv[i]) + 2 >= sizeof text)
			return cli_usage(cli, "search text too long");
		snprintf(text + n, sizeof text - n, "%s%s", n ? " " : "", argv[i]);
	}
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct find_ctx ctx = {.list = cli->json ? cJSON_CreateArray() : NULL};
	if ((err = askue_subscriber_find(l, text, limit, found, &ctx))) {
		cJSON_Delete(ctx.list);
		return cli_fail(cli, err);
	}
	return ctx.list ? cli_print_json(ctx.list) : 0;
}

int cmd_subscriber_set(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, 0, 'n'},       {"address", required_argument, 0, 'a'},
		{"district", required_argument, 0, 'd'},   {"substation", required_argument, 0, 's'},
		{"category", required_argument, 0, 'c'},   {"phone", required_argument, 0, 'p'},
		{"email", required_argument, 0, 'e'},      {"status", required_argument, 0, 'S'},
		NORM_OPTIONS,                              {0, 0, 0, 0},
	};
	struct {
		int c;
		const char *v;
	} set[16];
	int n = 0, c, too_long = 0;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_bad_option(cli, c, argv);
		if (n < 16) {
			set[n].c = c;
			set[n++].v = optarg;
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected ACCOUNT and the fields to change");
	if (!n)
		return cli_usage(cli, "nothing to change (--name, --address, --phone, --status ...)");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_subscriber s;
	enum askue_err err = askue_subscriber_get(l, argv[optind], &s);
	if (err)
		return cli_fail(cli, err);
	for (int i = 0; i < n; i++) {
		switch (set[i].c) {
		case 'n': set_field(s.name, sizeof s.name, set[i].v, &too_long); break;
		case 'a': set_field(s.address, sizeof s.address, set[i].v, &too_long); break;
		case 'd': set_field(s.district, sizeof s.district, set[i].v, &too_long); break;
		case 's': set_field(s.substation, sizeof s.substation, set[i].v, &too_long); break;
		case 'c': set_field(s.category, sizeof s.category, set[i].v, &too_long); break;
		case 'p': set_field(s.phone, sizeof s.phone, set[i].v, &too_long); break;
		case 'e': set_field(s.email, sizeof s.email, set[i].v, &too_long); break;
		case 'S': set_field(s.status, sizeof s.status, set[i].v, &too_long); break;
		default:
			if ((err = norm_option(&s, set[i].c, set[i].v, &too_long)))
				return cli_fail(cli, err);
		}
	}
	if (too_long)
		return cli_usage(cli, "a value is too long");
	if ((err = askue_subscriber_update(l, &s)) || (err = askue_subscriber_get(l, s.account, &s)))
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(subscriber_json(&s));
	print_subscriber(&s);
	return 0;
}
