/* user add NAME --role R | user list | user passwd NAME | user disable NAME
 * — the people who sign in to askue-console (lib/user.h, docs/console.md).
 *
 * A password is read from standard input, never from the command line
 * (where ps and the shell's history would keep it): on a terminal twice,
 * without echo; from a pipe, the first line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "alert.h"
#include "cli.h"
#include "user.h"

#define PASSWORD_BUF (ASKUE_USER_PASSWORD_BYTES_MAX + 2)

/* One line from stdin into buf without its newline; echo off on a tty. */
static enum askue_err read_line(const char *prompt, int tty, char buf[PASSWORD_BUF])
{
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(STDIN_FILENO, &old))
			return askue_err_set(ASKUE_ERR_IO, "password: cannot read the terminal");
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *got = fgets(buf, PASSWORD_BUF, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return askue_err_set(ASKUE_ERR_INVALID, "password: nothing on standard input");
	size_t n = strcspn(buf, "\n");
	if (!buf[n] && n == PASSWORD_BUF - 1)
		return askue_err_set(ASKUE_ERR_INVALID, "password: longer than %d bytes",
		                     ASKUE_USER_PASSWORD_BYTES_MAX);
	buf[n] = 0;
	if (n && buf[n - 1] == '\r')
		buf[n - 1] = 0;
	return askue_user_password_check(buf);
}

static enum askue_err read_password(char buf[PASSWORD_BUF])
{
	int tty = isatty(STDIN_FILENO);
	enum askue_err err = read_line("New password: ", tty, buf);
	if (err || !tty)
		return err;
	char again[PASSWORD_BUF];
	if (!(err = read_line("Again: ", tty, again)) && strcmp(buf, again))
		err = askue_err_set(ASKUE_ERR_INVALID, "password: the two entries differ");
	sodium_memzero(again, sizeof again);
	return err;
}

static cJSON *user_json(const struct askue_user *u)
{
	char stamp[ASKUE_UTC_STAMP_BUF];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", u->name);
	cJSON_AddStringToObject(o, "role", askue_user_role_name(u->role));
	cJSON_AddBoolToObject(o, "disabled", u->disabled);
	cJSON_AddBoolToObject(o, "locked", u->failed >= ASKUE_USER_FAILED_MAX);
	cJSON_AddNumberToObject(o, "failed", (double)u->failed);
	cJSON_AddNumberToObject(o, "failed_total", (double)u->failed_total);
	if (u->last_signin)
		cJSON_AddStringToObject(o, "last_signin", askue_utc_stamp(u->last_signin, stamp));
	else
		cJSON_AddNullToObject(o, "last_signin");
	cJSON_AddStringToObject(o, "created", askue_utc_stamp(u->created, stamp));
	return o;
}

static int print_user(const struct askue_user *u, void *arg)
{
	cJSON *list = arg;
	if (list) {
		cJSON_AddItemToArray(list, user_json(u));
		return 0;
	}
	char stamp[ASKUE_UTC_STAMP_BUF];
	printf("%-24s %-11s %-8s failed %lld (%lld in all)  last sign-in %s\n", u->name,
	       askue_user_role_name(u->role),
	       u->disabled ? "disabled" : u->failed >= ASKUE_USER_FAILED_MAX ? "locked" : "active",
	       (long long)u->failed, (long long)u->failed_total,
	       u->last_signin ? askue_utc_stamp(u->last_signin, stamp) : "never");
	return 0;
}

static int show_user(struct askue_cli *cli, struct askue_ledger *l, const char *name,
                     const char *done)
{
	struct askue_user u;
	enum askue_err err = askue_user_get(l, name, &u);
	if (err)
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(user_json(&u));
	printf("user %s %s\n", name, done);
	return 0;
}

static int user_add(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"role", NULL};
	const char *v[1] = {0};
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 1 != argc || !v[0])
		return cli_usage(cli, "expected NAME --role operations|tariff|accounting|admin");
	const char *name = argv[optind];
	enum askue_user_role role;
	char pw[PASSWORD_BUF];
	enum askue_err err;
	struct askue_user u;
	if ((err = askue_user_name_check(name)) || (err = askue_user_role_parse(v[0], &role)))
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if (askue_user_get(l, name, &u) == ASKUE_OK)
		return cli_fail(cli, askue_err_set(ASKUE_ERR_EXISTS, "user %s: exists already", name));
	if (!(err = read_password(pw)))
		err = askue_user_add(l, name, role, pw);
	sodium_memzero(pw, sizeof pw);
	return err ? cli_fail(cli, err) : show_user(cli, l, name, "added");
}

static int user_passwd(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected NAME (the password on standard input)");
	char pw[PASSWORD_BUF];
	struct askue_user u;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = askue_user_get(l, argv[1], &u);
	if (!err && !(err = read_password(pw)))
		err = askue_user_passwd(l, argv[1], pw);
	sodium_memzero(pw, sizeof pw);
	return err ? cli_fail(cli, err) : show_user(cli, l, argv[1], "has a new password");
}

static int user_disable(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected NAME");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = askue_user_disable(l, argv[1]);
	return err ? cli_fail(cli, err) : show_user(cli, l, argv[1], "disabled");
}

static int user_list(struct askue_cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cli_usage(cli, "expected no arguments");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	cJSON *list = cli->json ? cJSON_CreateArray() : NULL;
	enum askue_err err = askue_user_each(l, print_user, list);
	if (err) {
		cJSON_Delete(list);
		return cli_fail(cli, err);
	}
	return list ? cli_print_json(list) : 0;
}

int cmd_user(struct askue_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct askue_cli *, int, char **);
	} subs[] = {{"add", user_add}, {"list", user_list}, {"passwd", user_passwd},
	            {"disable", user_disable}};
	static char command[32];
	if (argc < 2)
		return cli_usage(cli, "expected add|list|passwd|disable");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (!strcmp(argv[1], subs[i].name)) {
			snprintf(command, sizeof command, "user %s", subs[i].name);
			cli->command = command;
			return subs[i].run(cli, argc - 1, argv + 1);
		}
	return cli_usage(cli, "unknown subcommand '%s': expected add|list|passwd|disable", argv[1]);
}
