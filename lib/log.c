/* log — see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "askue";
static enum askue_log_level log_threshold = ASKUE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void askue_log_init(const char *program)
{
	log_program = program;
	const char *env = getenv("ASKUE_LOG_LEVEL");
	int level = env ? askue_log_level_parse(env) : -1;
	if (level >= 0)
		log_threshold = (enum askue_log_level)level;
}

void askue_log_set_level(enum askue_log_level level)
{
	log_threshold = level;
}

int askue_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int askue_log_reopen(const char *path)
{
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

void askue_log(enum askue_log_level level, const char *component, int with_errno,
               const char *fmt, ...)
{
	if (level < log_threshold)
		return;
	int saved = errno;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (with_errno && saved)
		fprintf(stderr, "%s %s %s: %s: %s: %s\n", stamp, log_program,
		        level_names[level], component, msg, strerror(saved));
	else
		fprintf(stderr, "%s %s %s: %s: %s\n", stamp, log_program,
		        level_names[level], component, msg);
	errno = saved;
}
