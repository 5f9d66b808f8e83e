/* csvfile — see csvfile.h. */
#include "csvfile.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

struct reader {
	char *fields[ASKUE_CSV_FIELDS_MAX];
	int n;
	size_t bytes;
	int overflow;
	int64_t line;
	int first;
	enum askue_err err;
	enum askue_err (*fn)(const struct askue_csv_row *, void *);
	void *arg;
};

static void clear(struct reader *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->fields[i]);
	r->n = 0;
	r->bytes = 0;
	r->overflow = 0;
}

static void on_field(void *data, size_t len, void *arg)
{
	struct reader *r = arg;
	r->bytes += len + 1;
	if (r->n == ASKUE_CSV_FIELDS_MAX || r->bytes > ASKUE_CSV_ROW_BYTES_MAX) {
		r->overflow = 1;
		return;
	}
	const char *src = data;
	if (r->first && r->n == 0 && len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3)) {
		src += 3; /* byte-order mark */
		len -= 3;
	}
	char *s = malloc(len + 1);
	if (!s) {
		r->err = askue_err_set(ASKUE_ERR_NOMEM, "csv: out of memory");
		return;
	}
	memcpy(s, src, len);
	s[len] = '\0';
	r->fields[r->n++] = s;
}

static void on_record(int terminator, void *arg)
{
	struct reader *r = arg;
	(void)terminator;
	if (!r->err) {
		struct askue_csv_row row = {r->fields, r->n, r->line, r->overflow};
		r->err = r->fn(&row, r->arg);
	}
	r->first = 0;
	clear(r);
}

enum askue_err askue_csv_each(const char *path,
                              enum askue_err (*fn)(const struct askue_csv_row *, void *), void *arg)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		fclose(f);
		return askue_err_set(ASKUE_ERR_NOMEM, "csv: out of memory");
	}
	struct reader r = {.first = 1, .fn = fn, .arg = arg};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!r.err && (n = getline(&line, &cap, f)) > 0) {
		r.line++;
		if (r.line == 1 && strchr(line, ';') && !strchr(line, ','))
			csv_set_delim(&p, ';');
		if (csv_parse(&p, line, (size_t)n, on_field, on_record, &r) != (size_t)n && !r.err)
			r.err = askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: CSV: %s", path,
			                      (long long)r.line, csv_strerror(csv_error(&p)));
	}
	if (!r.err && ferror(f))
		r.err = askue_err_set(ASKUE_ERR_IO, "%s: read error", path);
	if (!r.err && csv_fini(&p, on_field, on_record, &r) != 0 && !r.err)
		r.err = askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: CSV: %s (an unterminated quote?)",
		                      path, (long long)r.line, csv_strerror(csv_error(&p)));
	clear(&r);
	csv_free(&p);
	free(line);
	fclose(f);
	return r.err;
}
