/* import | export: the card file as CSV (lib/cardfile.c does the work). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_import(struct askue_cli *cli, int argc, char **argv)
{
	(void)argv;
	(void)argc;
	return cli_usage(cli, "not yet built");
}

int cmd_export(struct askue_cli *cli, int argc, char **argv)
{
	(void)argv;
	(void)argc;
	return cli_usage(cli, "not yet built");
}
