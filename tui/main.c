/* askue-console — the operators' console (docs/console.md).
 *
 *   askue-console [--config FILE]
 *
 * Reads the configuration as every askue program does (lib/config.h),
 * opens the ledger, asks for a console user's name and password (made
 * with `askue user add`), then shows the screens the user's role allows.
 * SIGTERM, SIGHUP and SIGINT end it cleanly, the terminal restored.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "app.h"
#include "console.h"
#include "log.h"

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: askue-console [--config FILE]\n");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "askue-console: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (!setlocale(LC_ALL, "") || MB_CUR_MAX < 2) {
		/* Names and addresses are Cyrillic: without a UTF-8 locale they
		 * would be drawn as bytes. C.UTF-8 is always there on Debian. */
		if (!setlocale(LC_ALL, "C.UTF-8")) {
			fprintf(stderr, "askue-console: no UTF-8 locale (set LANG=C.UTF-8)\n");
			return EX_CONFIG;
		}
	}
	askue_log_init("askue-console");
	struct console c;
	enum askue_err err = console_open(&c, config_path);
	if (err) {
		fprintf(stderr, "askue-console: %s\n", askue_err_msg());
		console_close(&c);
		return askue_err_exit_code(err);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int rc = app_run(&c, &stop);
	console_close(&c);
	return rc;
}
