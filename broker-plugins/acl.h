/* acl — what each MQTT identity may do, decided from the auth table alone
 * (no broker calls, so it can be reasoned about and tested apart).
 *
 *   meter          publish meters/{its serial}/readings and .../status; nothing else
 *   concentrator   publish meters/{S}/readings and .../status for each meter S
 *                  bound to it (and not dismantled)
 *   ingestor       subscribe meters/+/readings or $share/{group}/meters/+/readings
 *                  (any group name; the ingestor's share_group, default
 *                  ingest), or a narrower filter; read meters/{S}/readings
 *   relay          publish askue/events/#
 *   jobs           publish askue/alerts/#
 *   stale          subscribe meters/+/status (or narrower), read meters/{S}/status
 *   events         subscribe askue/events/# (or narrower), read askue/events/{type}:
 *                  another system following askue's business events
 *
 * Unsubscribing is always allowed (it can only take rights away). Anything
 * else is denied, also for an unknown or conflicting username.
 */
#ifndef ASKUE_ACL_H
#define ASKUE_ACL_H

#include "authtable.h"

/* The values of MOSQ_ACL_READ .. MOSQ_ACL_UNSUBSCRIBE. */
enum acl_access { ACL_READ = 0x01, ACL_WRITE = 0x02, ACL_SUBSCRIBE = 0x04, ACL_UNSUBSCRIBE = 0x08 };

/* 1 when allowed. username may be NULL (denied). */
int acl_allows(const struct auth_table *t, const char *username, int access, const char *topic);
/* 1 when every topic that filter matches also matches pattern (MQTT
 * wildcards in both); for a topic without wildcards, plain matching. */
int acl_filter_covers(const char *pattern, const char *filter);
const char *acl_access_name(int access);

#endif
