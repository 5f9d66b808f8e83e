/* reports — the screens whose figures the `askue` command line computes
 * (an explained invoice, debtors with aging, data completeness, a tariff's
 * zones and price history): the console runs `askue` beside it with the
 * same configuration and shows what it says, so there is one
 * implementation of each report. Also the list of tariffs. */
#include "console.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "text.h"

extern char **environ;

/* The askue binary: $ASKUE_CLI, else askue beside this program. */
static void askue_path(const struct console *c, char *out, size_t size)
{
	const char *env = getenv("ASKUE_CLI");
	if (c->askue_bin[0]) {
		snprintf(out, size, "%s", c->askue_bin);
	} else if (env && *env) {
		snprintf(out, size, "%s", env);
	} else {
		char self[ASKUE_PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			slash[1] = 0;
		snprintf(out, size, "%saskue", slash ? self : "");
	}
}

struct capture {
	char *buf;
	size_t len, cap, max;
};

static enum askue_err capture_read(int fd, struct capture *c, int *eof)
{
	if (c->len + 65536 + 1 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = realloc(c->buf, cap);
		if (!b)
			return askue_err_set(ASKUE_ERR_NOMEM, "report: out of memory");
		c->buf = b;
		c->cap = cap;
	}
	ssize_t n = read(fd, c->buf + c->len, 65536);
	if (n < 0 && errno == EINTR)
		return ASKUE_OK;
	if (n <= 0) {
		*eof = 1;
		return ASKUE_OK;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	if (c->len > c->max)
		return askue_err_set(ASKUE_ERR_LIMIT, "report: more than %zu bytes", c->max);
	return ASKUE_OK;
}

/* Read both pipes to their ends (or to an error). */
static enum askue_err drain(int out_fd, int err_fd, struct capture *out, struct capture *err)
{
	int eof[2] = {0, 0};
	enum askue_err e = ASKUE_OK;
	while (!e && !(eof[0] && eof[1])) {
		struct pollfd p[2] = {{.fd = eof[0] ? -1 : out_fd, .events = POLLIN},
		                      {.fd = eof[1] ? -1 : err_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return askue_err_set(ASKUE_ERR_IO, "report: poll: %s", strerror(errno));
		}
		if (p[0].revents && !(e = capture_read(out_fd, out, &eof[0])))
			continue;
		if (!e && p[1].revents)
			e = capture_read(err_fd, err, &eof[1]);
	}
	return e;
}

static enum askue_err spawn(const char *path, char *const *argv, int out_fd[2], int err_fd[2],
                            pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd[1], 2);
	posix_spawn_file_actions_addclose(&fa, out_fd[0]);
	posix_spawn_file_actions_addclose(&fa, err_fd[0]);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int rc = posix_spawn(pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return askue_err_set(ASKUE_ERR_IO, "cannot run %s: %s", path, strerror(rc));
	return ASKUE_OK;
}

enum askue_err console_run_askue(const struct console *c, int json, const char *const *args,
                                 char **out)
{
	char path[ASKUE_PATH_MAX];
	askue_path(c, path, sizeof path);
	const char *argv[24];
	int n = 0;
	argv[n++] = path;
	if (c->config_path[0]) {
		argv[n++] = "--config";
		argv[n++] = c->config_path;
	}
	if (json)
		argv[n++] = "--json";
	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	int o[2], e[2];
	if (pipe2(o, O_CLOEXEC))
		return askue_err_set(ASKUE_ERR_IO, "report: pipe: %s", strerror(errno));
	if (pipe2(e, O_CLOEXEC)) {
		close(o[0]), close(o[1]);
		return askue_err_set(ASKUE_ERR_IO, "report: pipe: %s", strerror(errno));
	}
	pid_t pid;
	enum askue_err err = spawn(path, (char *const *)argv, o, e, &pid);
	int spawned = !err;
	close(o[1]);
	close(e[1]);
	struct capture so = {.max = CONSOLE_REPORT_BYTES_MAX}, se = {.max = 4096};
	if (!err)
		err = drain(o[0], e[0], &so, &se);
	close(o[0]);
	close(e[0]);
	int status = 0;
	if (spawned) { /* never a zombie, whatever went wrong */
		if (err)
			kill(pid, SIGTERM);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char *msg = se.buf ? se.buf : "";
		msg[strcspn(msg, "\n")] = 0;
		err = askue_err_set(WIFEXITED(status) && WEXITSTATUS(status) == 66 ? ASKUE_ERR_NOT_FOUND
		                                                                   : ASKUE_ERR_IO,
		                    "%s", *msg ? msg : "askue failed");
	}
	free(se.buf);
	if (err) {
		free(so.buf);
		return err;
	}
	*out = so.buf ? so.buf : calloc(1, 1);
	return *out ? ASKUE_OK : askue_err_set(ASKUE_ERR_NOMEM, "report: out of memory");
}

/* Text output as one row per line. */
static enum askue_err text_rows(struct table *t, char *text)
{
	enum askue_err err = ASKUE_OK;
	for (char *line = text; line && *line && !err;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		const char *cells[] = {line};
		err = table_add(t, ROW_PLAIN, 0, NULL, 1, cells);
		line = nl ? nl + 1 : NULL;
	}
	return err;
}

static enum askue_err pager(struct console *c, struct table *t, const char *title,
                            const char *const *args)
{
	static const char *const heads[] = {""};
	static const int widths[] = {0};
	char *text = NULL;
	enum askue_err err = console_run_askue(c, 0, args, &text);
	if (err)
		return err;
	table_set_heads(t, title, 1, heads, widths);
	err = text_rows(t, text);
	free(text);
	return err;
}

enum askue_err console_invoice(struct console *c, const char *number, struct table *t)
{
	enum askue_err err = console_check(c, ASKUE_ACT_CARD, "see invoices");
	if (err || (err = askue_text_check("invoice number", number, 47, 1)))
		return err;
	char title[120];
	snprintf(title, sizeof title, "Invoice %s explained", number);
	const char *args[] = {"invoice", "show", number, NULL};
	return pager(c, t, title, args);
}

enum askue_err console_tariff(struct console *c, const char *name, struct table *t)
{
	enum askue_err err = console_check(c, ASKUE_ACT_TARIFFS, "see tariffs");
	if (err || (err = askue_text_check("tariff", name, ASKUE_SHORT_TEXT_BYTES_MAX, 1)))
		return err;
	char title[200];
	snprintf(title, sizeof title, "Tariff %s: zones and price history", name);
	const char *args[] = {"tariff", "show", name, NULL};
	if ((err = pager(c, t, title, args)))
		return err;
	const char *bands[] = {"tariff", "band", name, NULL};
	char *text = NULL;
	if (console_run_askue(c, 0, bands, &text) == ASKUE_OK) {
		if (!(err = table_addf(t, ROW_NOTE, 0, NULL, "%s", "")))
			err = text_rows(t, text);
		free(text);
	}
	return err;
}

enum askue_err console_tariffs(struct console *c, struct table *t)
{
	static const char *const heads[] = {"tariff", "zones (hours)"};
	static const int widths[] = {28, 0};
	enum askue_err err = console_check(c, ASKUE_ACT_TARIFFS, "see tariffs");
	if (err)
		return err;
	table_set_heads(t, "Tariffs (Enter: zones and price history)", 2, heads, widths);
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(c->ledger, "SELECT name FROM tariff ORDER BY name", &st)))
		return console_busy(err);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_tariff tf;
		char zones[400] = "";
		char name[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
		snprintf(name, sizeof name, "%s", askue_column_text(st, 0));
		if ((err = askue_tariff_get(c->ledger, name, &tf)))
			break;
		for (int z = 0; z < tf.n_zones; z++) {
			size_t k = strlen(zones);
			snprintf(zones + k, sizeof zones - k, "%s%s (%s)", z ? ", " : "", tf.zones[z].name,
			         tf.zones[z].spans[0] ? tf.zones[z].spans : "all day");
		}
		const char *cells[] = {name, zones};
		err = table_add(t, ROW_PLAIN, tf.id, name, 2, cells);
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(c->ledger, rc, "tariffs");
	sqlite3_reset(st);
	if (!err && !t->n_rows)
		err = table_addf(t, ROW_NOTE, 0, NULL, "no tariffs yet");
	return console_busy(err);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v))
		return v->valuestring;
	return "";
}

static char *jnum(const cJSON *o, const char *key, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v))
		snprintf(buf, size, "%.15g", v->valuedouble);
	else
		snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
	return buf;
}

/* Parse `askue --json args` into *out (caller deletes). */
static enum askue_err run_json(struct console *c, const char *const *args, cJSON **out)
{
	char *text = NULL;
	enum askue_err err = console_run_askue(c, 1, args, &text);
	if (err)
		return err;
	*out = cJSON_Parse(text);
	free(text);
	if (!*out)
		return askue_err_set(ASKUE_ERR_IO, "askue %s %s: its output is not JSON", args[0],
		                     args[1] ? args[1] : "");
	return ASKUE_OK;
}

static enum askue_err debtor_rows(struct table *t, const cJSON *list)
{
	const cJSON *d;
	enum askue_err err = ASKUE_OK;
	cJSON_ArrayForEach(d, list)
	{
		char days[24];
		const char *cells[] = {jstr(d, "account"),   jstr(d, "name"),
		                       jstr(d, "days_0_30"), jstr(d, "days_31_90"),
		                       jstr(d, "days_over_90"), jstr(d, "penalties"),
		                       jnum(d, "oldest_days", days, sizeof days)};
		if ((err = table_add(t, ROW_PLAIN, 0, jstr(d, "account"), 7, cells)))
			break;
	}
	return err;
}

enum askue_err console_debtors(struct console *c, const char *date, struct table *t)
{
	static const char *const heads[] = {"account", "name",      "0-30 days", "31-90 days",
	                                    "over 90", "penalties", "oldest, days"};
	static const int widths[] = {12, 0, 12, 12, 12, 11, 12};
	struct askue_date d;
	char ds[ASKUE_DATE_BUF];
	enum askue_err err = console_check(c, ASKUE_ACT_DEBTORS, "see the debtors list");
	if (err || (err = console_date("date", date, askue_date_today(), &d)))
		return err;
	const char *args[] = {"debtors", "--date", askue_date_format(d, ds), NULL};
	cJSON *o;
	if ((err = run_json(c, args, &o)))
		return err;
	char title[200];
	table_set_heads(t, "", 7, heads, widths);
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(o, "totals");
	char n[24];
	snprintf(title, sizeof title,
	         "Debtors on %s: %s accounts; 0-30 %s, 31-90 %s, over 90 %s, penalties %s", ds,
	         jnum(tot, "accounts", n, sizeof n), jstr(tot, "days_0_30"), jstr(tot, "days_31_90"),
	         jstr(tot, "days_over_90"), jstr(tot, "penalties"));
	snprintf(t->title, sizeof t->title, "%s", title);
	err = debtor_rows(t, cJSON_GetObjectItemCaseSensitive(o, "debtors"));
	if (!err && !t->n_rows)
		err = table_addf(t, ROW_NOTE, 0, NULL, "\tnobody owes");
	cJSON_Delete(o);
	return err;
}

static enum askue_err share_rows(struct table *t, const char *heading, const cJSON *list,
                                 const char *key)
{
	const cJSON *d;
	enum askue_err err = table_addf(t, ROW_HEADING, 0, NULL, "%s", heading);
	cJSON_ArrayForEach(d, list)
	{
		char a[24], b[24], p[24];
		const char *cells[] = {jstr(d, key), jnum(d, "installed", a, sizeof a),
		                       jnum(d, "with_reading", b, sizeof b),
		                       jnum(d, "share_pct", p, sizeof p)};
		if (err || (err = table_add(t, ROW_PLAIN, 0, NULL, 4, cells)))
			break;
	}
	return err;
}

enum askue_err console_completeness(struct console *c, const char *date, struct table *t)
{
	static const char *const heads[] = {"", "installed", "with a reading", "share, %"};
	static const int widths[] = {0, 10, 15, 9};
	struct askue_date d;
	char ds[ASKUE_DATE_BUF];
	enum askue_err err = console_check(c, ASKUE_ACT_COMPLETENESS, "see the completeness report");
	if (err || (err = console_date("date", date, askue_date_today(), &d)))
		return err;
	const char *args[] = {"report", "completeness", "--date", askue_date_format(d, ds), NULL};
	cJSON *o;
	if ((err = run_json(c, args, &o)))
		return err;
	char title[200], a[24], b[24], p[24];
	table_set_heads(t, "", 4, heads, widths);
	snprintf(title, sizeof title, "Data completeness on %s: %s of %s meters with a reading (%s%%)",
	         ds, jnum(o, "with_reading", b, sizeof b), jnum(o, "installed", a, sizeof a),
	         jnum(o, "share_pct", p, sizeof p));
	snprintf(t->title, sizeof t->title, "%s", title);
	if (!(err = share_rows(t, "By district", cJSON_GetObjectItemCaseSensitive(o, "districts"),
	                       "district")))
		err = share_rows(t, "By substation", cJSON_GetObjectItemCaseSensitive(o, "substations"),
		                 "substation");
	const cJSON *m;
	if (!err)
		err = table_addf(t, ROW_HEADING, 0, NULL, "Meters without a reading");
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "missing"))
	{
		if (err || (err = table_addf(t, ROW_PLAIN, 0, jstr(m, "account"), "%s  account %s  %s %s",
		                             jstr(m, "serial"), jstr(m, "account"), jstr(m, "district"),
		                             jstr(m, "substation"))))
			break;
	}
	cJSON_Delete(o);
	return err;
}
