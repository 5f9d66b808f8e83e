/* err — see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static _Thread_local char last_msg[1024];

enum askue_err askue_err_set(enum askue_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	return err;
}

void askue_err_prefix(const char *fmt, ...)
{
	char prefix[256], old[sizeof last_msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, last_msg, sizeof old);
	snprintf(last_msg, sizeof last_msg, "%s%s", prefix, old);
}

const char *askue_err_msg(void)
{
	return last_msg[0] ? last_msg : "no further detail";
}

const char *askue_err_name(enum askue_err err)
{
	switch (err) {
	case ASKUE_OK: return "ok";
	case ASKUE_ERR_INVALID: return "invalid";
	case ASKUE_ERR_NOT_FOUND: return "not found";
	case ASKUE_ERR_EXISTS: return "exists";
	case ASKUE_ERR_CONFLICT: return "conflict";
	case ASKUE_ERR_RANGE: return "out of range";
	case ASKUE_ERR_NOMEM: return "out of memory";
	case ASKUE_ERR_IO: return "i/o error";
	case ASKUE_ERR_DB: return "database error";
	case ASKUE_ERR_CONFIG: return "configuration error";
	case ASKUE_ERR_BUSY: return "busy";
	case ASKUE_ERR_LIMIT: return "limit exceeded";
	}
	return "unknown error";
}

int askue_err_exit_code(enum askue_err err)
{
	switch (err) {
	case ASKUE_OK: return EX_OK;
	case ASKUE_ERR_INVALID:
	case ASKUE_ERR_RANGE:
	case ASKUE_ERR_LIMIT: return EX_DATAERR;
	case ASKUE_ERR_NOT_FOUND: return EX_NOINPUT;
	case ASKUE_ERR_EXISTS:
	case ASKUE_ERR_CONFLICT: return EX_DATAERR;
	case ASKUE_ERR_NOMEM: return EX_OSERR;
	case ASKUE_ERR_IO: return EX_IOERR;
	case ASKUE_ERR_DB: return EX_SOFTWARE;
	case ASKUE_ERR_CONFIG: return EX_CONFIG;
	case ASKUE_ERR_BUSY: return EX_TEMPFAIL;
	}
	return EX_SOFTWARE;
}
