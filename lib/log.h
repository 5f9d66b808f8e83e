/* log — leveled logging to stderr, one line per message:
 *   2026-11-28T05:30:00Z askue-ingestor warn: influx: write failed: ...
 * The component is set once per program; the level threshold comes from the
 * config (log.level) or ASKUE_LOG_LEVEL. log_warn adds errno's text,
 * log_warnx does not (OpenBSD style). */
#ifndef ASKUE_LOG_H
#define ASKUE_LOG_H

enum askue_log_level { ASKUE_LOG_DEBUG, ASKUE_LOG_INFO, ASKUE_LOG_WARN, ASKUE_LOG_ERROR };

void askue_log_init(const char *program);
void askue_log_set_level(enum askue_log_level level);
/* Parses "debug|info|warn|error"; returns -1 when unknown. */
int askue_log_level_parse(const char *s);
/* Reopen stderr onto path (SIGHUP for daemons); NULL keeps stderr. */
int askue_log_reopen(const char *path);

void askue_log(enum askue_log_level level, const char *component, int with_errno,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_debug(comp, ...) askue_log(ASKUE_LOG_DEBUG, comp, 0, __VA_ARGS__)
#define log_info(comp, ...)  askue_log(ASKUE_LOG_INFO, comp, 0, __VA_ARGS__)
#define log_warn(comp, ...)  askue_log(ASKUE_LOG_WARN, comp, 1, __VA_ARGS__)
#define log_warnx(comp, ...) askue_log(ASKUE_LOG_WARN, comp, 0, __VA_ARGS__)
#define log_error(comp, ...) askue_log(ASKUE_LOG_ERROR, comp, 0, __VA_ARGS__)

#endif
