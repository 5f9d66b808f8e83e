/* Unit tests: lib/config.c — defaults, the file search order, and errors
 * that name the file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "tmpdir.h"


static const char *write_file(const char *name, const char *text)
{
	static char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void defaults(void **state)
{
	(void)state;
	struct askue_config c;
	setenv("ASKUE_HOME", dir, 1);
	unsetenv("ASKUE_CONFIG");
	assert_int_equal(askue_config_load(NULL, &c), ASKUE_OK); /* no file: fine */
	assert_string_equal(c.timezone, "Europe/Moscow");
	char want[600];
	snprintf(want, sizeof want, "%s/askue.db", dir);
	assert_string_equal(c.ledger_path, want);
	assert_int_equal(c.mqtt_port, 1883);
	assert_string_equal(c.path, "");
}

static void reads_file_and_home(void **state)
{
	(void)state;
	struct askue_config c;
	const char *p = write_file("a.conf", "[askue]\nhome = /srv/askue\ntimezone = Asia/Omsk\n"
	                                     "[mqtt]\nport = 1884\ntls = yes\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_OK);
	assert_string_equal(c.home, "/srv/askue");
	assert_string_equal(c.ledger_path, "/srv/askue/askue.db"); /* ${home} follows */
	assert_string_equal(c.timezone, "Asia/Omsk");
	assert_int_equal(c.mqtt_port, 1884);
	assert_int_equal(c.mqtt_tls, 1);
	/* ASKUE_HOME/askue.conf is found without --config. */
	write_file("askue.conf", "[mqtt]\nport = 1999\n");
	assert_int_equal(askue_config_load(NULL, &c), ASKUE_OK);
	assert_int_equal(c.mqtt_port, 1999);
	/* ASKUE_CONFIG names a file that must exist. */
	setenv("ASKUE_CONFIG", "/nonexistent/askue.conf", 1);
	assert_int_equal(askue_config_load(NULL, &c), ASKUE_ERR_CONFIG);
	unsetenv("ASKUE_CONFIG");
	assert_int_equal(askue_config_load("/nonexistent/x.conf", &c), ASKUE_ERR_CONFIG);
}

static void errors_name_line_and_key(void **state)
{
	(void)state;
	struct askue_config c;
	const char *p = write_file("b.conf", "# comment\n[mqtt]\nhost = h\nprot = 1\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "b.conf:4:"));
	assert_non_null(strstr(askue_err_msg(), "prot"));
	assert_non_null(strstr(askue_err_msg(), "unknown"));
	p = write_file("c.conf", "[mqtt]\nport = 70000\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "c.conf:2:"));
	assert_non_null(strstr(askue_err_msg(), "port"));
	p = write_file("d.conf", "[mqtt]\ntls = maybe\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "tls"));
	p = write_file("e.conf", "[nosuch]\nkey = 1\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "[nosuch] key"));
	p = write_file("f.conf", "this is not ini\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "f.conf:1"));
	p = write_file("g.conf", "[askue]\ntimezone = Nowhere/Special\n");
	assert_int_equal(askue_config_load(p, &c), ASKUE_OK);
	assert_int_equal(askue_config_apply(&c), ASKUE_ERR_CONFIG);
	assert_non_null(strstr(askue_err_msg(), "timezone"));
}

static void example_lists_every_setting(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	askue_config_write_example(f);
	fclose(f);
	assert_non_null(strstr(buf, "[ingestor]"));
	assert_non_null(strstr(buf, ";busy_timeout_ms = 30000"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(reads_file_and_home),
		cmocka_unit_test(errors_name_line_and_key),
		cmocka_unit_test(example_lists_every_setting),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
