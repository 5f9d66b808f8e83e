/* rejects — what the ingestor refused, where operators can read it.
 *
 * One file per UTC day, rejects-YYYY-MM-DD.log in the rejects directory, one
 * line per refusal, tab-separated:
 *   time  reason  topic  index  excerpt  detail
 * index is the reading's position in "readings" (- for the whole message);
 * excerpt is the payload (or the reading, or the refused line) with control
 * characters, backslashes and non-ASCII bytes escaped (\xNN), cut at
 * ASKUE_EXCERPT_BYTES. A file stops growing at REJECTS_FILE_BYTES_MAX (a
 * flood of garbage must not fill the disk); refusals past it are still
 * counted in the `ingest` measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingestor.h"
#include "log.h"

#define REJECTS_FILE_BYTES_MAX (256LL * 1024 * 1024)

struct rejects {
	char dir[ASKUE_PATH_MAX];
	pthread_mutex_t mu;
	int fd;
	char day[16];   /* YYYY-MM-DD of the open file */
	long long size; /* of the open file */
	int warned_full, warned_io;
};

enum askue_err rejects_open(const char *dir, struct rejects **out)
{
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return askue_err_set(ASKUE_ERR_IO, "rejects: mkdir %s: %s", dir, strerror(errno));
	struct rejects *rj = calloc(1, sizeof *rj);
	if (!rj)
		return askue_err_set(ASKUE_ERR_NOMEM, "rejects: out of memory");
	snprintf(rj->dir, sizeof rj->dir, "%s", dir);
	pthread_mutex_init(&rj->mu, NULL);
	rj->fd = -1;
	*out = rj;
	return ASKUE_OK;
}

void rejects_close(struct rejects *rj)
{
	if (!rj)
		return;
	if (rj->fd >= 0)
		close(rj->fd);
	pthread_mutex_destroy(&rj->mu);
	free(rj);
}

/* The file of day (opened when the day changes). */
static int file_for(struct rejects *rj, const char *day)
{
	if (rj->fd >= 0 && !strcmp(rj->day, day))
		return 0;
	if (rj->fd >= 0)
		close(rj->fd);
	char path[ASKUE_PATH_MAX + 40];
	snprintf(path, sizeof path, "%s/rejects-%s.log", rj->dir, day);
	rj->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (rj->fd < 0)
		return -1;
	struct stat st;
	rj->size = fstat(rj->fd, &st) == 0 ? (long long)st.st_size : 0;
	snprintf(rj->day, sizeof rj->day, "%s", day);
	rj->warned_full = 0;
	return 0;
}

void rejects_write(struct rejects *rj, int64_t now_s, enum askue_reason reason,
                   const char *topic, long index, const char *excerpt, size_t excerpt_len,
                   const char *detail)
{
	time_t t = (time_t)now_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	char day[16], stamp[32], topic_esc[3 * ASKUE_EXCERPT_BYTES], ex[ASKUE_EXCERPT_BYTES];
	char det[2 * ASKUE_EXCERPT_BYTES], idx[24];
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	askue_excerpt(topic ? topic : "-", topic ? strlen(topic) : 1, topic_esc, sizeof topic_esc);
	askue_excerpt(excerpt ? excerpt : "", excerpt ? excerpt_len : 0, ex, sizeof ex);
	askue_excerpt(detail ? detail : "-", detail ? strlen(detail) : 1, det, sizeof det);
	if (index < 0)
		snprintf(idx, sizeof idx, "-");
	else
		snprintf(idx, sizeof idx, "%ld", index);
	char line[4096];
	int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp,
	                 askue_reason_name(reason), topic_esc, idx, ex, det);
	if (n < 0 || (size_t)n >= sizeof line)
		n = (int)sizeof line - 1, line[n - 1] = '\n';
	pthread_mutex_lock(&rj->mu);
	if (file_for(rj, day) != 0) {
		if (!rj->warned_io++)
			log_warn("rejects", "cannot open the rejects file in %s", rj->dir);
	} else if (rj->size + n > REJECTS_FILE_BYTES_MAX) {
		if (!rj->warned_full++)
			log_warnx("rejects", "rejects-%s.log reached %lld bytes: further rejects today "
			          "are only counted", day, REJECTS_FILE_BYTES_MAX);
	} else if (write(rj->fd, line, (size_t)n) == n) {
		rj->size += n;
		rj->warned_io = 0;
	} else if (!rj->warned_io++) {
		log_warn("rejects", "cannot write the rejects file in %s", rj->dir);
	}
	pthread_mutex_unlock(&rj->mu);
}
