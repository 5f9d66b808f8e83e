/* account — see account.h. */
#include "account.h"

#include <stdio.h>
#include <string.h>

static const unsigned char damm[10][10] = {
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2}, {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9}, {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8}, {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4}, {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5}, {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
};

int askue_account_check_digit(const char *digits, int n)
{
	int interim = 0;
	for (int i = 0; i < n; i++)
		interim = damm[interim][digits[i] - '0'];
	return interim;
}

enum askue_err askue_account_make(int64_t seq, char *out)
{
	if (seq < 1 || seq > ASKUE_ACCOUNT_SEQ_MAX)
		return askue_err_set(ASKUE_ERR_RANGE, "account sequence %lld exhausted",
		                     (long long)seq);
	snprintf(out, ASKUE_ACCOUNT_BUF, "%09lld", (long long)seq);
	out[9] = (char)('0' + askue_account_check_digit(out, 9));
	out[10] = '\0';
	return ASKUE_OK;
}

int askue_account_well_formed(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int askue_account_checks(const char *s)
{
	return askue_account_well_formed(s) && strlen(s) == ASKUE_ACCOUNT_DIGITS &&
	       askue_account_check_digit(s, ASKUE_ACCOUNT_DIGITS) == 0;
}
