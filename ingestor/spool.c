/* spool — the durable, bounded queue between on_message and the writer.
 *
 * Files in the spool directory: segments NNNNNNNNNNNNNNNNNNNN.seg, appended
 * to one at a time, and `cursor` ("SEG OFF"), the reader position up to which
 * everything is in InfluxDB. A record is one accepted message:
 *
 *   u32 magic, u32 body_len, u32 crc32 (of the rest of the header and the
 *   body), u32 points, i64 ts_max, i64 arrived, u32 meter_len,
 *   body = meter bytes, then the line protocol of its readings
 *
 * gathered by spool_write in a buffer, written to the file in one write(2)
 * by spool_sync (or when the buffer is full) and, when fsync_each, made
 * durable with fdatasync(2) there, before the PUBACK may leave. The MQTT
 * thread appends every message of a round, then syncs once for all of them
 * (group commit); spool_append does both for one record. Concurrent syncs
 * share: the first to find no sync running syncs everything written so
 * far, the others wait for it and return together.
 * At start the tail of the last segment is checked record by record and a
 * torn record (killed mid-write: never acknowledged) is cut off; appends go
 * to a new segment. The cursor file is replaced by rename after each
 * committed batch and is not synced: after a machine crash it may lag, which
 * only replays points InfluxDB already has (the same points again).
 * The bound is on the bytes not yet written to InfluxDB (from the cursor to
 * the end): an append that would pass it waits for the writer to commit.
 * Spent bytes stay on disk until their segment is deleted (when the cursor
 * leaves it), so the files take at most bytes_max plus one segment
 * (bytes_max / 8, at most 64 MiB) plus one record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ingestor.h"
#include "limits.h"
#include "log.h"

#define REC_MAGIC 0x31515341u /* "ASQ1" */
#define HDR_BYTES 36
/* Appended records gather here and go to the file in one write at the
 * next spool_sync (or when it is full): one system call and one wake-up of
 * the reader a round, not one a message. A bigger record is written alone. */
#define WBUF_BYTES (1024 * 1024)

struct spool {
	char dir[ASKUE_PATH_MAX];
	uint64_t bytes_max, seg_bytes_max;
	int fsync_each;
	pthread_mutex_t mu;
	pthread_cond_t room, data, synced;
	int cancelled;
	/* group commit: appends are counted; one appender at a time runs
	 * fdatasync for all written so far, the others wait for it */
	uint64_t written_n, synced_n, failed_n;
	int syncing;
	/* appended records not yet in the file: wbuf; flushed_n of the
	 * written_n appended are in the file */
	char *wbuf;
	size_t wbuf_len;
	uint64_t flushed_n;
	/* appender */
	int wfd;
	uint64_t wseg, wsize; /* the active segment and its size */
	/* reader */
	int rfd;
	uint64_t rseg, roff;
	/* committed */
	struct spool_pos cursor;
	uint64_t first_seg; /* oldest segment file kept */
	uint64_t disk_bytes;
	uint64_t appended, full_waits;
	int paused_logged;      /* "full" was logged, "resumed" not yet */
	int64_t paused_log_ms;  /* when "full" was last logged */
};

/* CRC-32 (IEEE, as zlib's) by slicing-by-8: eight bytes a step through
 * eight tables, the same value as the byte-wise loop at several times its
 * speed (it runs over every record on append and again on replay). */
static enum askue_err flush_locked(struct spool *sp);

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "slicing-by-8 as written is for "
               "little-endian machines");
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}
static uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	const unsigned char *p = data;
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
		      crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
		      crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
	}
	while (n--)
		crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static void seg_path(const struct spool *sp, uint64_t seg, char *out, size_t size)
{
	snprintf(out, size, "%s/%020" PRIu64 ".seg", sp->dir, seg);
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, int64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static int64_t get64(const unsigned char *p) { int64_t v; memcpy(&v, p, 8); return v; }

/* Read and check the record at off of fd. Returns 1 with *rec filled (body
 * in buf), 0 at a clean end of file, -1 when what is there is no record. */
static int read_record(int fd, uint64_t off, char *buf, struct spool_rec *rec, uint64_t *next)
{
	unsigned char h[HDR_BYTES];
	ssize_t n = pread(fd, h, sizeof h, (off_t)off);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof h)
		return -1;
	uint32_t body_len = get32(h + 4), meter_len = get32(h + 32);
	if (get32(h) != REC_MAGIC || body_len > ASKUE_SPOOL_RECORD_BYTES_MAX ||
	    meter_len > ASKUE_SERIAL_BYTES_MAX || meter_len >= body_len)
		return -1;
	n = pread(fd, buf, body_len, (off_t)(off + HDR_BYTES));
	if (n != (ssize_t)body_len)
		return -1;
	uint32_t crc = crc32_update(0, h + 12, HDR_BYTES - 12);
	crc = crc32_update(crc, buf, body_len);
	if (crc != get32(h + 8))
		return -1;
	/* The meter is copied to the end of the buffer (after the body, where
	 * there is always room) so it can be NUL-terminated. */
	char *meter = buf + ASKUE_SPOOL_RECORD_BYTES_MAX - ASKUE_SERIAL_BYTES_MAX - 1;
	memcpy(meter, buf, meter_len);
	meter[meter_len] = 0;
	rec->meter = meter;
	rec->points = get32(h + 12);
	rec->ts_max = get64(h + 16);
	rec->arrived = get64(h + 24);
	rec->lines = buf + meter_len;
	rec->len = body_len - meter_len;
	*next = off + HDR_BYTES + body_len;
	return 1;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static enum askue_err open_segment_for_append(struct spool *sp, uint64_t seg)
{
	char path[ASKUE_PATH_MAX + 32];
	seg_path(sp, seg, path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return askue_err_set(ASKUE_ERR_IO, "spool: %s: %s", path, strerror(errno));
	if (sp->fsync_each && sync_dir(sp->dir) != 0) {
		close(fd);
		return askue_err_set(ASKUE_ERR_IO, "spool: sync %s: %s", sp->dir, strerror(errno));
	}
	if (sp->wfd >= 0) {
		/* everything written so far is in the old segment: sync it now */
		if (sp->fsync_each) {
			if (fdatasync(sp->wfd) != 0) {
				close(fd);
				return askue_err_set(ASKUE_ERR_IO, "spool: fdatasync: %s", strerror(errno));
			}
			sp->synced_n = sp->flushed_n;
			pthread_cond_broadcast(&sp->synced);
		}
		close(sp->wfd);
	}
	sp->wfd = fd;
	sp->wseg = seg;
	sp->wsize = 0;
	return ASKUE_OK;
}

/* The oldest and newest segment numbers in dir; 0 when none. */
static void list_segments(const char *dir, uint64_t *first, uint64_t *last, uint64_t *bytes)
{
	*first = *last = 0;
	*bytes = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		uint64_t seg = strtoull(e->d_name, &end, 10);
		if (end == e->d_name || strcmp(end, ".seg") != 0 || seg == 0)
			continue;
		if (!*first || seg < *first)
			*first = seg;
		if (seg > *last)
			*last = seg;
		struct stat st;
		char path[ASKUE_PATH_MAX + 300];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0)
			*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
}

static void read_cursor(struct spool *sp, uint64_t first, uint64_t last)
{
	char path[ASKUE_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/cursor", sp->dir);
	FILE *f = fopen(path, "r");
	uint64_t seg = 0, off = 0;
	if (f) {
		if (fscanf(f, "%" SCNu64 " %" SCNu64, &seg, &off) != 2)
			seg = off = 0;
		fclose(f);
	}
	if (seg < first || seg > last || seg == 0) {
		if (f && first)
			log_warnx("spool", "cursor unusable; replaying from segment %" PRIu64
			          " (points already written are written again, harmlessly)", first);
		seg = first, off = 0;
	}
	sp->cursor.seg = seg;
	sp->cursor.off = off;
}

/* Cut a torn record off the end of the newest segment. */
static enum askue_err repair_tail(struct spool *sp, uint64_t seg, char *buf)
{
	char path[ASKUE_PATH_MAX + 32];
	seg_path(sp, seg, path, sizeof path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return askue_err_set(ASKUE_ERR_IO, "spool: %s: %s", path, strerror(errno));
	uint64_t off = seg == sp->cursor.seg ? sp->cursor.off : 0, next;
	struct spool_rec rec;
	int r;
	while ((r = read_record(fd, off, buf, &rec, &next)) == 1)
		off = next;
	struct stat st;
	enum askue_err err = ASKUE_OK;
	if (r < 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size > off) {
		log_warnx("spool", "%s: %" PRIu64 " bytes of a record cut short at offset %" PRIu64
		          " removed (it was never acknowledged)", path, (uint64_t)st.st_size - off, off);
		if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0)
			err = askue_err_set(ASKUE_ERR_IO, "spool: truncate %s: %s", path, strerror(errno));
		sp->disk_bytes -= (uint64_t)st.st_size - off;
	}
	close(fd);
	return err;
}

enum askue_err spool_open(const char *dir, uint64_t bytes_max, int fsync_each,
                          struct spool **out)
{
	pthread_once(&crc_once, crc_init);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return askue_err_set(ASKUE_ERR_IO, "spool: mkdir %s: %s", dir, strerror(errno));
	struct spool *sp = calloc(1, sizeof *sp);
	char *buf = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	if (!sp || !buf) {
		free(sp);
		free(buf);
		return askue_err_set(ASKUE_ERR_NOMEM, "spool: out of memory");
	}
	snprintf(sp->dir, sizeof sp->dir, "%s", dir);
	sp->bytes_max = bytes_max;
	sp->seg_bytes_max = bytes_max / 8;
	if (sp->seg_bytes_max > 64u << 20)
		sp->seg_bytes_max = 64u << 20;
	sp->fsync_each = fsync_each;
	sp->wfd = sp->rfd = -1;
	sp->wbuf = malloc(WBUF_BYTES);
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->room, NULL);
	/* spool_next's deadline is on CLOCK_MONOTONIC (deadline_in): the
	 * condition variable must wait on the same clock, or every wait on an
	 * empty spool times out at once and the writer spins */
	pthread_condattr_t mono;
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->data, &mono);
	pthread_condattr_destroy(&mono);
	pthread_cond_init(&sp->synced, NULL);
	uint64_t first, last;
	list_segments(dir, &first, &last, &sp->disk_bytes);
	read_cursor(sp, first, last);
	enum askue_err err = ASKUE_OK;
	if (last)
		err = repair_tail(sp, last, buf);
	free(buf);
	if (!err && !sp->wbuf)
		err = askue_err_set(ASKUE_ERR_NOMEM, "spool: out of memory");
	if (!err)
		err = open_segment_for_append(sp, last + 1);
	if (err) {
		spool_close(sp);
		return err;
	}
	sp->first_seg = first ? first : sp->wseg;
	if (!last)
		sp->cursor.seg = sp->wseg, sp->cursor.off = 0;
	sp->rseg = sp->cursor.seg;
	sp->roff = sp->cursor.off;
	if (last)
		log_info("spool", "%s: %" PRIu64 " bytes in segments %" PRIu64 "..%" PRIu64
		         ", replaying from %" PRIu64 ":%" PRIu64, dir, sp->disk_bytes, first, last,
		         sp->cursor.seg, sp->cursor.off);
	*out = sp;
	return ASKUE_OK;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->wfd >= 0) {
		/* appended, never synced, so never acknowledged: kept anyway */
		if (sp->wbuf_len && flush_locked(sp) != ASKUE_OK)
			log_warnx("spool", "%s", askue_err_msg());
		close(sp->wfd);
	}
	free(sp->wbuf);
	if (sp->rfd >= 0)
		close(sp->rfd);
	pthread_mutex_destroy(&sp->mu);
	pthread_cond_destroy(&sp->room);
	pthread_cond_destroy(&sp->data);
	pthread_cond_destroy(&sp->synced);
	free(sp);
}

static enum askue_err write_record(struct spool *sp, const unsigned char *h, const char *meter,
                                   size_t meter_len, const char *lines, size_t len)
{
	struct iovec iov[3] = {
		{(void *)h, HDR_BYTES}, {(void *)meter, meter_len}, {(void *)lines, len}};
	size_t total = HDR_BYTES + meter_len + len;
	ssize_t n = writev(sp->wfd, iov, 3);
	if (n != (ssize_t)total) {
		int e = n < 0 ? errno : ENOSPC;
		/* Cut off what part was written, so the segment stays readable. */
		if (n > 0 && ftruncate(sp->wfd, (off_t)sp->wsize) != 0)
			log_warn("spool", "truncate after a short write");
		return askue_err_set(ASKUE_ERR_IO, "spool: write segment %" PRIu64 ": %s", sp->wseg,
		                     strerror(e));
	}
	return ASKUE_OK;
}

/* Write wbuf to the file. On failure the records in it are lost (never
 * acknowledged: their tickets fail) and the file is cut back. Called with
 * sp->mu held. */
static enum askue_err flush_locked(struct spool *sp)
{
	size_t done = 0;
	while (done < sp->wbuf_len) {
		ssize_t n = write(sp->wfd, sp->wbuf + done, sp->wbuf_len - done);
		if (n <= 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;
			if (done && ftruncate(sp->wfd, (off_t)sp->wsize) != 0)
				log_warn("spool", "truncate after a short write");
			sp->disk_bytes -= sp->wbuf_len;
			sp->wbuf_len = 0;
			sp->failed_n = sp->written_n;
			pthread_cond_broadcast(&sp->synced);
			return askue_err_set(ASKUE_ERR_IO, "spool: write segment %" PRIu64 ": %s",
			                     sp->wseg, strerror(e));
		}
		done += (size_t)n;
	}
	sp->wsize += sp->wbuf_len;
	sp->wbuf_len = 0;
	sp->flushed_n = sp->written_n;
	/* the reader may take them before they are synced: InfluxDB having a
	 * point early does no harm */
	pthread_cond_signal(&sp->data);
	return ASKUE_OK;
}

/* Wait until append number n is on disk, running the sync when nobody is.
 * Called and returns with sp->mu held. */
static enum askue_err wait_synced(struct spool *sp, uint64_t n)
{
	while (sp->synced_n < n && sp->failed_n < n) {
		if (sp->syncing) {
			pthread_cond_wait(&sp->synced, &sp->mu);
			continue;
		}
		if (sp->flushed_n < n && flush_locked(sp) != ASKUE_OK)
			continue; /* failed_n covers n now */
		sp->syncing = 1;
		uint64_t target = sp->flushed_n;
		int fd = dup(sp->wfd); /* the segment may rotate meanwhile */
		pthread_mutex_unlock(&sp->mu);
		int rc = fd < 0 ? -1 : fdatasync(fd);
		int e = errno;
		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&sp->mu);
		sp->syncing = 0;
		if (rc == 0) {
			if (target > sp->synced_n)
				sp->synced_n = target;
		} else {
			log_warnx("spool", "fdatasync: %s", strerror(e));
			sp->failed_n = target;
		}
		pthread_cond_broadcast(&sp->synced);
	}
	if (sp->synced_n >= n)
		return ASKUE_OK;
	return askue_err_set(ASKUE_ERR_IO, "spool: fdatasync failed");
}

/* Bytes from the cursor to the end (segments before the cursor's are
 * deleted at commit). Called with sp->mu held. */
static uint64_t pending(const struct spool *sp)
{
	return sp->disk_bytes > sp->cursor.off ? sp->disk_bytes - sp->cursor.off : 0;
}

/* One record into wbuf, or, when it is bigger than wbuf, straight to the
 * file (wbuf is empty then). Called with sp->mu held. */
static enum askue_err add_record(struct spool *sp, const unsigned char *h, const char *meter,
                                 size_t meter_len, const char *lines, size_t len)
{
	size_t need = HDR_BYTES + meter_len + len;
	if (need > WBUF_BYTES) {
		/* The writer reads only below wsize, so writing under the lock
		 * keeps it from seeing half a record. */
		enum askue_err err = write_record(sp, h, meter, meter_len, lines, len);
		if (err)
			return err;
		sp->wsize += need;
		sp->flushed_n = ++sp->written_n;
		pthread_cond_signal(&sp->data);
		return ASKUE_OK;
	}
	memcpy(sp->wbuf + sp->wbuf_len, h, HDR_BYTES);
	memcpy(sp->wbuf + sp->wbuf_len + HDR_BYTES, meter, meter_len);
	memcpy(sp->wbuf + sp->wbuf_len + HDR_BYTES + meter_len, lines, len);
	sp->wbuf_len += need;
	sp->written_n++;
	return ASKUE_OK;
}

/* Wait while an append of need bytes would pass the bound; 1 when it had
 * to wait. Called and returns with sp->mu held. */
static int wait_room(struct spool *sp, uint64_t need)
{
	int waited = 0;
	while (!sp->cancelled && pending(sp) + need > sp->bytes_max) {
		if (!waited++) {
			sp->full_waits++;
			/* logged once per pause, and not more than every 10 s while
			 * intake flaps between full and not (counted in health) */
			int64_t now = ingestor_now_ms();
			if (!sp->paused_logged && now - sp->paused_log_ms >= 10000) {
				sp->paused_logged = 1;
				sp->paused_log_ms = now;
				log_warnx("spool", "full (%" PRIu64 " of %" PRIu64 " bytes): intake paused "
				          "until InfluxDB takes more", pending(sp), sp->bytes_max);
			}
		}
		pthread_cond_wait(&sp->room, &sp->mu);
	}
	return waited > 0;
}

enum askue_err spool_write(struct spool *sp, const char *meter, int64_t ts_max,
                           int64_t arrived, const char *lines, size_t len, uint32_t points,
                           uint64_t *ticket)
{
	size_t meter_len = strlen(meter);
	size_t body = meter_len + len;
	if (body > ASKUE_SPOOL_RECORD_BYTES_MAX - ASKUE_SERIAL_BYTES_MAX - 1 ||
	    meter_len > ASKUE_SERIAL_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "spool: a record of %zu bytes", body);
	unsigned char h[HDR_BYTES];
	put32(h, REC_MAGIC);
	put32(h + 4, (uint32_t)body);
	put32(h + 12, points);
	put64(h + 16, ts_max);
	put64(h + 24, arrived);
	put32(h + 32, (uint32_t)meter_len);
	uint32_t crc = crc32_update(0, h + 12, HDR_BYTES - 12);
	crc = crc32_update(crc, meter, meter_len);
	put32(h + 8, crc32_update(crc, lines, len));

	pthread_mutex_lock(&sp->mu);
	uint64_t need = HDR_BYTES + body;
	enum askue_err err = ASKUE_OK;
	/* what waits in wbuf must reach the file, where the writer can take it
	 * and make room */
	if (pending(sp) + need > sp->bytes_max)
		err = flush_locked(sp);
	int waited = err ? 0 : wait_room(sp, need);
	if (!err && sp->cancelled)
		err = askue_err_set(ASKUE_ERR_BUSY, "spool: stopping");
	if (!err && (sp->wsize + sp->wbuf_len >= sp->seg_bytes_max || need > WBUF_BYTES - sp->wbuf_len))
		err = flush_locked(sp);
	if (!err && sp->wsize >= sp->seg_bytes_max)
		err = open_segment_for_append(sp, sp->wseg + 1);
	if (!err)
		err = add_record(sp, h, meter, meter_len, lines, len);
	if (!err) {
		sp->disk_bytes += need;
		sp->appended++;
		*ticket = sp->written_n;
		if (waited && sp->paused_logged) {
			sp->paused_logged = 0;
			log_info("spool", "room again: intake resumed");
		}
	}
	pthread_mutex_unlock(&sp->mu);
	return err;
}

enum askue_err spool_sync(struct spool *sp, uint64_t ticket)
{
	pthread_mutex_lock(&sp->mu);
	enum askue_err err = ASKUE_OK;
	if (sp->fsync_each)
		err = wait_synced(sp, ticket);
	else if (sp->flushed_n < ticket && sp->failed_n < ticket)
		err = flush_locked(sp);
	if (!err && sp->failed_n >= ticket && sp->flushed_n < ticket)
		err = askue_err_set(ASKUE_ERR_IO, "spool: write failed");
	pthread_mutex_unlock(&sp->mu);
	return err;
}

enum askue_err spool_append(struct spool *sp, const char *meter, int64_t ts_max,
                            int64_t arrived, const char *lines, size_t len, uint32_t points)
{
	uint64_t ticket;
	enum askue_err err = spool_write(sp, meter, ts_max, arrived, lines, len, points, &ticket);
	return err ? err : spool_sync(sp, ticket);
}

void spool_cancel_waits(struct spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	sp->cancelled = 1;
	pthread_cond_broadcast(&sp->room);
	pthread_mutex_unlock(&sp->mu);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L)
		ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

/* Open the reader on rseg; 0 when the file is gone (skipped). */
static int reader_open(struct spool *sp)
{
	if (sp->rfd >= 0)
		return 1;
	char path[ASKUE_PATH_MAX + 32];
	seg_path(sp, sp->rseg, path, sizeof path);
	sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
	return sp->rfd >= 0;
}

static void reader_next_segment(struct spool *sp)
{
	if (sp->rfd >= 0)
		close(sp->rfd);
	sp->rfd = -1;
	sp->rseg++;
	sp->roff = 0;
}

enum askue_err spool_next(struct spool *sp, char *buf, struct spool_rec *rec,
                          struct spool_pos *after, int timeout_ms)
{
	struct timespec until;
	deadline_in(&until, timeout_ms);
	pthread_mutex_lock(&sp->mu);
	for (;;) {
		if (sp->rseg == sp->wseg && sp->roff >= sp->wsize) {
			if (pthread_cond_timedwait(&sp->data, &sp->mu, &until) == ETIMEDOUT) {
				pthread_mutex_unlock(&sp->mu);
				return ASKUE_ERR_BUSY;
			}
			continue;
		}
		int active = sp->rseg == sp->wseg;
		pthread_mutex_unlock(&sp->mu);
		uint64_t next;
		int r = reader_open(sp) ? read_record(sp->rfd, sp->roff, buf, rec, &next) : 0;
		pthread_mutex_lock(&sp->mu);
		if (r == 1) {
			sp->roff = next;
			after->seg = sp->rseg;
			after->off = next;
			pthread_mutex_unlock(&sp->mu);
			return ASKUE_OK;
		}
		if (active) {
			/* below wsize every record is whole: this is damage */
			log_error("spool", "segment %" PRIu64 ": bad record at offset %" PRIu64
			          "; skipping to its end", sp->rseg, sp->roff);
			sp->roff = sp->wsize;
			continue;
		}
		if (r < 0)
			log_warnx("spool", "segment %" PRIu64 ": bad record at offset %" PRIu64
			          " (torn by a crash?); skipping the rest of it", sp->rseg, sp->roff);
		reader_next_segment(sp);
	}
}

static void write_cursor(struct spool *sp, const struct spool_pos *pos)
{
	char path[ASKUE_PATH_MAX + 16], tmp[ASKUE_PATH_MAX + 16], text[64];
	snprintf(path, sizeof path, "%s/cursor", sp->dir);
	snprintf(tmp, sizeof tmp, "%s/cursor.tmp", sp->dir);
	int n = snprintf(text, sizeof text, "%" PRIu64 " %" PRIu64 "\n", pos->seg, pos->off);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, text, (size_t)n) != n || close(fd) != 0 || rename(tmp, path) != 0)
		log_warn("spool", "cannot save the cursor in %s (a restart replays more)", path);
}

enum askue_err spool_commit(struct spool *sp, const struct spool_pos *pos)
{
	write_cursor(sp, pos);
	pthread_mutex_lock(&sp->mu);
	sp->cursor = *pos;
	uint64_t freed = 0;
	while (sp->first_seg < pos->seg) {
		char path[ASKUE_PATH_MAX + 32];
		seg_path(sp, sp->first_seg, path, sizeof path);
		struct stat st;
		if (stat(path, &st) == 0) {
			if (unlink(path) != 0) {
				log_warn("spool", "cannot delete %s", path);
				break;
			}
			freed += (uint64_t)st.st_size;
		}
		sp->first_seg++;
	}
	sp->disk_bytes -= freed < sp->disk_bytes ? freed : sp->disk_bytes;
	pthread_cond_broadcast(&sp->room);
	pthread_mutex_unlock(&sp->mu);
	return ASKUE_OK;
}

int spool_caught_up(struct spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	int r = sp->rseg == sp->wseg && sp->roff >= sp->wsize;
	pthread_mutex_unlock(&sp->mu);
	return r;
}

void spool_stats(struct spool *sp, struct spool_stats *st)
{
	pthread_mutex_lock(&sp->mu);
	st->disk_bytes = sp->disk_bytes;
	st->pending_bytes = pending(sp);
	st->appended_records = sp->appended;
	st->full_waits = sp->full_waits;
	pthread_mutex_unlock(&sp->mu);
}
