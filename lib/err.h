/* err — the one error enum of askue and the last error's message.
 *
 * Every fallible function returns enum askue_err (0 = ok). The function that
 * decides an error also records, once, a message that says what was wrong and
 * where (askue_err_set); callers that only pass the error on do not touch it.
 * The message lives in thread-local storage, so it is valid until the same
 * thread sets another.
 */
#ifndef ASKUE_ERR_H
#define ASKUE_ERR_H

#define ASKUE_MUST __attribute__((warn_unused_result))

enum askue_err {
	ASKUE_OK = 0,
	ASKUE_ERR_INVALID,   /* bad input: a value, a form, a file row */
	ASKUE_ERR_NOT_FOUND, /* the thing named does not exist */
	ASKUE_ERR_EXISTS,    /* it exists already (unique key) */
	ASKUE_ERR_CONFLICT,  /* a business rule forbids it (meter already installed ...) */
	ASKUE_ERR_RANGE,     /* a number or date out of its range, an overflow */
	ASKUE_ERR_NOMEM,
	ASKUE_ERR_IO,        /* a file, a socket, a server */
	ASKUE_ERR_DB,        /* SQLite said no (not a business rule) */
	ASKUE_ERR_CONFIG,    /* the configuration is wrong */
	ASKUE_ERR_BUSY,      /* try again later */
	ASKUE_ERR_LIMIT,     /* a named limit (lib/limits.h) was exceeded */
};

/* Record the message of the error being decided; returns err for tail calls:
 *   return askue_err_set(ASKUE_ERR_INVALID, "date '%s': month 13", s); */
enum askue_err askue_err_set(enum askue_err err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put context in front of the current message ("line 7: " + message). */
void askue_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *askue_err_msg(void);
const char *askue_err_name(enum askue_err err);
/* sysexits.h code for a command that fails with err. */
int askue_err_exit_code(enum askue_err err);

#endif
