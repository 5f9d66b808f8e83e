/* reloader — keeps the plugin's auth table in step with the ledger, off
 * the broker's thread.
 *
 * A thread wakes every reload_s seconds (or at once when forced, on the
 * broker's reload signal), and asks the ledger, read-only, whether anything
 * was committed since the table was built (PRAGMA data_version; a ledger
 * file replaced by another is noticed by its inode). Only then does it build
 * a new table, and leaves it for the broker thread, which takes it with
 * reloader_take on its tick: a try-lock and a pointer swap, never a wait on
 * SQLite. The thread never calls into the broker (its logging is not
 * thread-safe); its news are handed over with the table.
 */
#ifndef ASKUE_RELOADER_H
#define ASKUE_RELOADER_H

#include <stddef.h>

#include "authtable.h"

struct reloader;

/* Load the first table synchronously (an empty one when the ledger cannot
 * be read yet: nobody logs in until it can) and start the thread. msg gets
 * what happened. 0 ok, -1 when the thread or memory failed. */
int reloader_start(const char *ledger_path, int reload_s, struct auth_table **first,
                   char *msg, size_t msg_size, struct reloader **out);
/* Broker thread, never blocks: a newer table (the caller owns its
 * reference) or NULL. msg gets the thread's news ("" when none); revoked
 * gets the usernames whose access the new table took away or changed
 * since the table before (the caller clears it; empty when none). */
struct auth_table *reloader_take(struct reloader *r, char *msg, size_t msg_size,
                                 struct auth_revoked *revoked);
/* Check the ledger now rather than at the next interval. */
void reloader_force(struct reloader *r);
/* Stop and join the thread, free what it holds. NULL is a no-op. */
void reloader_stop(struct reloader *r);

#endif
