/* Unit tests: ingestor/spool.c — what was appended comes back exactly once
 * in order; a reopened spool replays exactly what was not committed; a
 * record torn by a kill mid-write is cut off; segments rotate and spent
 * ones are deleted; appends from several threads with fdatasync (group
 * commit) all arrive. The spool is compiled into this test (it lives in
 * ingestor/, outside libaskue). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../ingestor/spool.c"

#include <stdlib.h>

int64_t ingestor_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define MIB (1024u * 1024u)

static char dir[256];
static char *buf;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/askue-spool-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	buf = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	return buf ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	free(buf);
	return system(cmd);
}

static void append_n(struct spool *sp, int from, int n, size_t pad)
{
	static _Thread_local char lines[64 * 1024];
	for (int i = from; i < from + n; i++) {
		int len = snprintf(lines, sizeof lines, "reading,meter=M ai_wh=%di %d\n", i, i);
		memset(lines + len, 'x', pad);
		lines[len + pad] = 0;
		assert_int_equal(spool_append(sp, "M", i, 1000 + i, lines, (size_t)len + pad, 1),
		                 ASKUE_OK);
	}
}

/* The next record must be number i. */
static void expect(struct spool *sp, int i, struct spool_pos *after)
{
	struct spool_rec rec;
	assert_int_equal(spool_next(sp, buf, &rec, after, 1000), ASKUE_OK);
	char want[64];
	int len = snprintf(want, sizeof want, "reading,meter=M ai_wh=%di %d\n", i, i);
	assert_true(rec.len >= (size_t)len);
	assert_memory_equal(rec.lines, want, (size_t)len);
	assert_string_equal(rec.meter, "M");
	assert_int_equal(rec.ts_max, i);
	assert_int_equal(rec.arrived, 1000 + i);
	assert_int_equal(rec.points, 1);
}

static void expect_none(struct spool *sp)
{
	struct spool_rec rec;
	struct spool_pos after;
	assert_int_equal(spool_next(sp, buf, &rec, &after, 50), ASKUE_ERR_BUSY);
}

static void replays_what_was_not_committed(void **state)
{
	(void)state;
	struct spool *sp;
	struct spool_pos pos;
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	append_n(sp, 0, 5, 0);
	for (int i = 0; i < 5; i++) {
		expect(sp, i, &pos);
		if (i == 2)
			assert_int_equal(spool_commit(sp, &pos), ASKUE_OK);
	}
	expect_none(sp);
	assert_true(spool_caught_up(sp));
	spool_close(sp); /* as after a SIGKILL: 3 and 4 were read, not committed */
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	expect(sp, 3, &pos);
	expect(sp, 4, &pos);
	append_n(sp, 5, 1, 0);
	expect(sp, 5, &pos);
	assert_int_equal(spool_commit(sp, &pos), ASKUE_OK);
	struct spool_stats st;
	spool_stats(sp, &st);
	assert_int_equal(st.pending_bytes, 0);
	spool_close(sp);
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	expect_none(sp);
	spool_close(sp);
}

static void torn_tail_cut_off(void **state)
{
	(void)state;
	struct spool *sp;
	struct spool_pos pos;
	assert_int_equal(spool_open(dir, 16 * MIB, 1, &sp), ASKUE_OK);
	append_n(sp, 0, 3, 100);
	uint64_t seg = sp->wseg, size = sp->wsize;
	spool_close(sp);
	/* a record cut short: its header and half its body */
	char path[400];
	snprintf(path, sizeof path, "%s/%020" PRIu64 ".seg", dir, seg);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	unsigned char h[HDR_BYTES] = {0};
	put32(h, REC_MAGIC);
	put32(h + 4, 500);
	fwrite(h, 1, sizeof h, f);
	fwrite("reading,meter=M ai_wh=", 1, 22, f);
	fclose(f);
	/* and a damaged one after it would be cut as well */
	assert_int_equal(spool_open(dir, 16 * MIB, 1, &sp), ASKUE_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	for (int i = 0; i < 3; i++)
		expect(sp, i, &pos);
	expect_none(sp);
	append_n(sp, 3, 1, 0);
	expect(sp, 3, &pos);
	spool_close(sp);
}

static void bad_crc_in_an_old_segment_skipped(void **state)
{
	(void)state;
	struct spool *sp;
	struct spool_pos pos;
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	append_n(sp, 0, 2, 0);
	uint64_t seg = sp->wseg;
	spool_close(sp);
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	append_n(sp, 2, 1, 0);
	spool_close(sp);
	/* flip a byte in the second record of the first segment */
	char path[400];
	snprintf(path, sizeof path, "%s/%020" PRIu64 ".seg", dir, seg);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "#", 1, st.st_size - 3), 1);
	close(fd);
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	expect(sp, 0, &pos);
	expect(sp, 2, &pos); /* record 1 is damaged: the rest of its segment skipped */
	expect_none(sp);
	spool_close(sp);
}

static void segments_rotate_and_spent_ones_go(void **state)
{
	(void)state;
	struct spool *sp;
	struct spool_pos pos;
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	/* 2 MiB segments (16 MiB / 8); 100 records of ~40 KB = 4 MB */
	append_n(sp, 0, 100, 40000);
	assert_true(sp->wseg >= sp->first_seg + 1);
	struct spool_stats st;
	spool_stats(sp, &st);
	assert_true(st.disk_bytes > 4000000);
	for (int i = 0; i < 100; i++)
		expect(sp, i, &pos);
	assert_int_equal(spool_commit(sp, &pos), ASKUE_OK);
	spool_stats(sp, &st);
	assert_int_equal(st.pending_bytes, 0);
	assert_true(st.disk_bytes < 2 * MIB + 100000); /* only the last segment is left */
	spool_close(sp);
}

static void cancelled_appends_are_refused(void **state)
{
	(void)state;
	struct spool *sp;
	assert_int_equal(spool_open(dir, 16 * MIB, 0, &sp), ASKUE_OK);
	/* fill it: ~16 MiB of ~60 KB records, nobody reading */
	append_n(sp, 0, 270, 60000);
	spool_cancel_waits(sp);
	assert_int_equal(spool_append(sp, "M", 1, 1, "x\n", 2, 1), ASKUE_ERR_BUSY);
	spool_close(sp);
}

struct appender {
	struct spool *sp;
	int from;
};

static void *append_thread(void *arg)
{
	struct appender *a = arg;
	append_n(a->sp, a->from, 200, 0);
	return NULL;
}

static void group_commit_from_threads(void **state)
{
	(void)state;
	struct spool *sp;
	assert_int_equal(spool_open(dir, 16 * MIB, 1, &sp), ASKUE_OK);
	pthread_t t[4];
	struct appender a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct appender){sp, i * 1000};
		assert_int_equal(pthread_create(&t[i], NULL, append_thread, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(sp->written_n, 800);
	assert_int_equal(sp->synced_n, 800);
	int seen[4] = {0};
	struct spool_rec rec;
	struct spool_pos pos;
	for (int i = 0; i < 800; i++) {
		assert_int_equal(spool_next(sp, buf, &rec, &pos, 1000), ASKUE_OK);
		int k = (int)rec.ts_max / 1000, n = (int)rec.ts_max % 1000;
		assert_int_equal(n, seen[k]); /* each thread's records in its order */
		seen[k]++;
	}
	expect_none(sp);
	spool_close(sp);
}

/* A round: many spool_write, nothing in the file yet (gathered for one
 * write), then one spool_sync writes and syncs all of them. */
static void writes_then_one_sync(void **state)
{
	(void)state;
	struct spool *sp;
	assert_int_equal(spool_open(dir, 16 * MIB, 1, &sp), ASKUE_OK);
	uint64_t ticket = 0;
	char lines[64];
	for (int i = 0; i < 100; i++) {
		int len = snprintf(lines, sizeof lines, "reading,meter=M ai_wh=%di %d\n", i, i);
		assert_int_equal(spool_write(sp, "M", i, 1000 + i, lines, (size_t)len, 1, &ticket),
		                 ASKUE_OK);
		assert_int_equal(ticket, (uint64_t)i + 1);
	}
	assert_int_equal(sp->synced_n, 0);
	assert_int_equal(sp->flushed_n, 0);
	expect_none(sp);
	assert_int_equal(spool_sync(sp, ticket), ASKUE_OK);
	assert_int_equal(sp->synced_n, 100);
	struct spool_pos after;
	for (int i = 0; i < 100; i++)
		expect(sp, i, &after);
	expect_none(sp);
	spool_close(sp);
}

/* The CRC is zlib's CRC-32, whatever the length and alignment: spools
 * written by earlier versions (byte-wise) must still read. */
static void crc_is_crc32(void **state)
{
	(void)state;
	pthread_once(&crc_once, crc_init);
	assert_int_equal(crc32_update(0, "123456789", 9), 0xCBF43926u);
	unsigned char data[300];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof data; n += 13) {
			uint32_t slow = ~0u;
			for (size_t i = 0; i < n; i++) {
				slow ^= data[off + i];
				for (int k = 0; k < 8; k++)
					slow = slow & 1 ? 0xEDB88320u ^ (slow >> 1) : slow >> 1;
			}
			assert_int_equal(crc32_update(0, data + off, n), ~slow);
			/* and in two pieces, as a record's header and body */
			uint32_t two = crc32_update(crc32_update(0, data + off, n / 3), data + off + n / 3,
			                            n - n / 3);
			assert_int_equal(two, ~slow);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replays_what_was_not_committed, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_tail_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_crc_in_an_old_segment_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(segments_rotate_and_spent_ones_go, setup, teardown),
		cmocka_unit_test_setup_teardown(cancelled_appends_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(group_commit_from_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(writes_then_one_sync, setup, teardown),
		cmocka_unit_test(crc_is_crc32),
	};
	askue_log_init("test_spool");
	askue_log_set_level(ASKUE_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
