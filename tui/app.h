/* app — the console's screens and the one loop that owns them: sign-in,
 * then a stack of screens (menu, search results, card, invoice, alerts,
 * suspense, debtors, tariffs, completeness), each a table from console.h
 * with its keys in one table of bindings. The loop reads a key, dispatches
 * it, reloads or redraws as the handler says, and redraws everything on a
 * resize. Nothing here touches the ledger except through console.h.
 */
#ifndef ASKUE_TUI_APP_H
#define ASKUE_TUI_APP_H

#include "console.h"

/* Run the console on the terminal until the user quits or a signal asks
 * it to (*stop set by the handler). Returns the exit status. */
int app_run(struct console *c, volatile int *stop);

#endif
