/* tmpdir — a temporary directory for a cmocka test group, shared by the
 * unit tests that need files: tmpdir_setup makes it (the path is in
 * `dir`), tmpdir_teardown removes it with everything in it. */
#ifndef ASKUE_TEST_TMPDIR_H
#define ASKUE_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[] = "/tmp/askue-test.XXXXXX";

static int tmpdir_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int tmpdir_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int tmpdir_teardown(void **state)
{
	(void)state;
	return nftw(dir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
