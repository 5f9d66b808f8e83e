/* invoice_pdf — see invoice_pdf.h. The checks and the QR text first, then
 * the pages from the top down: header, invoice, subscriber, readings,
 * lines, account and QR code. A row that does not fit above the bottom
 * margin goes to a new page, which repeats the header and the table's
 * column titles; the account and the QR code go together, on the last
 * page; the page numbers are written on every page at the end, when their
 * count is known. A `struct pdf` carries libharu's handles, the pages, the
 * first error libharu reported and the pen's height on the page. */
#include "invoice_pdf.h"

#include <errno.h>
#include <hpdf.h>
#include <inttypes.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Page geometry, points (A4 portrait). */
#define PAGE_W 595.0f
#define PAGE_H 842.0f
#define LEFT 40.0f
#define RIGHT 555.0f
#define BOTTOM 40.0f
/* The page number's baseline, below the bottom margin. */
#define FOOTER_Y 22.0f
/* The QR code with its quiet zone: 50 mm square (a module of about 0.5 mm
 * still decodes from a 100 dpi raster: a screen at 100 %). */
#define QR_SIDE 142.0f
#define QR_QUIET_MODULES 4

static const char *const months[] = {"январь", "февраль", "март",     "апрель",
                                     "май",    "июнь",    "июль",     "август",
                                     "сентябрь", "октябрь", "ноябрь", "декабрь"};

/* ---- numbers in Russian style: "12 345,67" ----------------------------- */

/* "-12345.67" -> "-12 345,67" (digit groups of three, decimal comma). */
static char *ru_number(const char *plain, char *buf, size_t size)
{
	const char *dot = strchr(plain, '.');
	size_t int_end = dot ? (size_t)(dot - plain) : strlen(plain);
	size_t start = plain[0] == '-' ? 1 : 0, o = 0;
	if (start && o + 1 < size)
		buf[o++] = '-';
	for (size_t i = start; i < int_end && o + 2 < size; i++) {
		if (i > start && (int_end - i) % 3 == 0)
			buf[o++] = ' ';
		buf[o++] = plain[i];
	}
	if (dot && o + 1 < size)
		buf[o++] = ',';
	for (const char *p = dot ? dot + 1 : ""; *p && o + 1 < size; p++)
		buf[o++] = *p;
	buf[o] = '\0';
	return buf;
}

#define RU_BUF 48
static char *ru_money(struct askue_money m, char *buf)
{
	char plain[ASKUE_NUM_BUF];
	return ru_number(askue_money_format(m, plain), buf, RU_BUF);
}

static char *ru_kwh(struct askue_energy e, char *buf)
{
	char plain[ASKUE_NUM_BUF];
	return ru_number(askue_energy_format_kwh(e, plain), buf, RU_BUF);
}

static char *ru_price(struct askue_price p, char *buf)
{
	char plain[ASKUE_NUM_BUF];
	return ru_number(askue_price_format(p, plain), buf, RU_BUF);
}

static char *ru_date(struct askue_date d, char *buf)
{
	int y, m, dd;
	askue_date_ymd(d, &y, &m, &dd);
	snprintf(buf, RU_BUF, "%02d.%02d.%04d", dd, m, y);
	return buf;
}

/* A UTC moment as the utility's local date and time. */
static char *ru_moment(int64_t ts, char *buf)
{
	time_t t = (time_t)ts;
	struct tm tm;
	if (!localtime_r(&t, &tm))
		snprintf(buf, RU_BUF, "?");
	else
		snprintf(buf, RU_BUF, "%02d.%02d.%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1,
		         tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
	return buf;
}

static const char *ru_how(const char *how)
{
	static const char *const map[][2] = {
		{"reading", ""},
		{"measured", ""},
		{"interpolated", "интерполировано"},
		{"estimated", "расчётное"},
		{"last_reading", "последнее показание"},
		{"average", "расчётно, по среднему"},
		{"norm", "расчётно, по нормативу"},
		{"installation", "при установке"},
		{"removal", "при снятии"},
		{"previous", "из предыдущего счёта"},
		{"manual", "передано вручную"},
		{"pro_rata", "пропорционально дням"},
	};
	if (!how)
		return "";
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(how, map[i][0]))
			return map[i][1];
	return how;
}

/* One piece of the billing core's notes (lib/billing.c) in Russian; a
 * piece it does not know is kept as it is. kWh figures get a comma. */
static void ru_note_piece(const char *en, size_t n, char *out, size_t size)
{
	static const char *const map[][2] = {
		{"estimated: average of ", "расчётно: по среднему за %s мес."},
		{"estimated: norm", "расчётно: по нормативу%s"},
		{"pro rata by days", "распределено пропорционально дням%s"},
		{"meter past its verification", "истёк межповерочный интервал прибора учёта%s"},
		{"true-up of the estimate: ", "перерасчёт ранее начисленного расчётно: %s кВт·ч"},
		{"rollover at ", "переход счётчика через ноль (разрядность %s кВт·ч)"},
		{"went backwards by ", "показания уменьшились на %s кВт·ч: не начислено"},
	};
	char piece[256], num[64];
	snprintf(piece, sizeof piece, "%.*s", (int)n, en);
	int days, month_days, used = 0;
	if (sscanf(piece, "band limits pro rata: %d of %d days%n", &days, &month_days, &used) == 2 &&
	    used == (int)strlen(piece)) {
		snprintf(out, size, "границы диапазонов объёма пропорционально дням: %d из %d",
		         days, month_days);
		return;
	}
	if (sscanf(piece, "no meter on %d of %d days: norm %63[0-9.] kWh a month%n", &days,
	           &month_days, num, &used) == 3 && used == (int)strlen(piece)) {
		for (char *c = num; *c; c++)
			if (*c == '.')
				*c = ',';
		snprintf(out, size, "без прибора учёта %d из %d дн.: по нормативу %s кВт·ч в месяц",
		         days, month_days, num);
		return;
	}
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		size_t k = strlen(map[i][0]);
		if (strncmp(piece, map[i][0], k) != 0)
			continue;
		size_t d = strspn(piece + k, "-0123456789.");
		snprintf(num, sizeof num, "%.*s", (int)d, piece + k);
		for (char *c = num; *c; c++)
			if (*c == '.')
				*c = ',';
		snprintf(out, size, map[i][1], num);
		return;
	}
	snprintf(out, size, "%s", piece);
}

/* A note of the billing core ("a; b; c", at most 2 x ASKUE_BILL_NOTE_BUF
 * bytes of ASCII) in Russian: Cyrillic takes two bytes a letter. */
#define NOTE_RU_BUF 768

/* A note of the billing core ("a; b; c") in Russian. */
static char *ru_note(const char *en, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	if (!en)
		return out;
	while (*en && o + 1 < size) {
		size_t n = strcspn(en, ";");
		char piece[256];
		ru_note_piece(en, n, piece, sizeof piece);
		o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "; " : "", piece);
		if (o >= size)
			o = size - 1;
		en += n;
		while (*en == ';' || *en == ' ')
			en++;
	}
	return out;
}

static const char *ru_zone(const char *zone)
{
	return zone && !strcmp(zone, "all") ? "круглосуточно" : zone ? zone : "";
}

/* ---- checks and the QR code's text --------------------------------------- */

static enum askue_err check_sums(const struct askue_invoice_pdf *d)
{
	struct askue_money sum = {0}, t = d->previous;
	for (int i = 0; i < d->n_lines; i++)
		if (askue_money_add(sum, d->lines[i].amount, &sum))
			return ASKUE_ERR_RANGE;
	if (sum.kop != d->charges.kop)
		return askue_err_set(ASKUE_ERR_INVALID, "invoice %s: its lines add up to %" PRId64
		                     " kopecks, its charges are %" PRId64, d->number, sum.kop,
		                     d->charges.kop);
	if (askue_money_sub(t, d->payments, &t) || askue_money_add(t, d->penalties, &t) ||
	    askue_money_add(t, d->corrections, &t) || askue_money_add(t, d->charges, &t))
		return ASKUE_ERR_RANGE;
	if (t.kop != d->total.kop)
		return askue_err_set(ASKUE_ERR_INVALID, "invoice %s: previous - payments + penalties + "
		                     "corrections + charges = %" PRId64 " kopecks, its total is %" PRId64,
		                     d->number, t.kop, d->total.kop);
	return ASKUE_OK;
}

static enum askue_err check_doc(const struct askue_invoice_pdf *d)
{
	if (!d->number || !*d->number || !d->account || !*d->account || !d->name || !d->address)
		return askue_err_set(ASKUE_ERR_INVALID, "invoice: number, account, name or address "
		                     "missing");
	if (d->n_lines < 0 || d->n_readings < 0 ||
	    d->n_lines + d->n_readings > ASKUE_INVOICE_PDF_ROWS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: %d lines and %d readings, a "
		                     "document holds %d rows", d->number, d->n_lines, d->n_readings,
		                     ASKUE_INVOICE_PDF_ROWS_MAX);
	for (int i = 0; i < d->n_readings; i++)
		if (!d->readings[i].serial || !d->readings[i].zone)
			return askue_err_set(ASKUE_ERR_INVALID, "invoice %s: reading %d without a meter "
			                     "or zone", d->number, i + 1);
	for (int i = 0; i < d->n_lines; i++)
		if (!d->lines[i].zone)
			return askue_err_set(ASKUE_ERR_INVALID, "invoice %s: line %d without a zone",
			                     d->number, i + 1);
	return check_sums(d);
}

enum askue_err askue_invoice_pdf_qr_text(const struct askue_invoice_pdf_utility *u,
                                         const struct askue_invoice_pdf *d, char *buf,
                                         size_t size)
{
	struct askue_qr_payee payee = {
		.name = u->name, .personal_acc = u->settlement_account, .bank_name = u->bank,
		.bic = u->bic, .corresp_acc = u->correspondent_account, .inn = u->inn, .kpp = u->kpp,
	};
	if (d->period.month < 1 || d->period.month > 12)
		return askue_err_set(ASKUE_ERR_INVALID, "invoice %s: period month %d", d->number,
		                     d->period.month);
	/* The address is the card file's: a '|' or a control character in it
	 * must not cost the subscriber the QR code. */
	char address[512];
	snprintf(address, sizeof address, "%s", d->address);
	for (char *c = address; *c; c++)
		if (*c == '|')
			*c = '/';
		else if ((unsigned char)*c < 0x20 || *c == 0x7F)
			*c = ' ';
	char purpose[256];
	snprintf(purpose, sizeof purpose, "Электроэнергия за %s %d, л/с %s, счёт № %s",
	         months[d->period.month - 1], d->period.year, d->account, d->number);
	struct askue_qr_payment pay = {
		.has_sum = d->total.kop > 0, .sum = d->total, .purpose = purpose,
		.pers_acc = d->account, .payer_address = address, .period = d->period,
		.quitt_id = d->number, .quitt_date = d->issued,
	};
	return askue_qr_gost_text(&payee, &pay, buf, size, NULL);
}

/* ---- drawing ------------------------------------------------------------- */

/* The table whose column titles a new page repeats. */
enum table { TABLE_NONE, TABLE_READINGS, TABLE_LINES };

struct pdf {
	HPDF_Doc doc;
	HPDF_Page page;
	HPDF_Page pages[ASKUE_INVOICE_PDF_PAGES_MAX];
	int n_pages;
	int too_many_pages;      /* a row found no page: refused at the end */
	HPDF_Font reg, bold;     /* bold NULL: the regular font, filled and stroked */
	HPDF_STATUS err, detail; /* the first error libharu reported */
	float y;                 /* the baseline of the next line */
	const struct askue_invoice_pdf_utility *u;
	const struct askue_invoice_pdf *d;
	enum table table;
};

static void on_hpdf_error(HPDF_STATUS err, HPDF_STATUS detail, void *user)
{
	struct pdf *p = user;
	if (!p->err) {
		p->err = err;
		p->detail = detail;
	}
}

static float width_of(struct pdf *p, HPDF_Font f, float size, const char *s)
{
	HPDF_Page_SetFontAndSize(p->page, f ? f : p->reg, size);
	return HPDF_Page_TextWidth(p->page, s);
}

/* align: 'l' text starts at x, 'r' text ends at x. */
static void text_at(struct pdf *p, HPDF_Font f, float size, float x, float y, char align,
                    const char *s)
{
	if (!*s)
		return;
	if (align == 'r')
		x -= width_of(p, f, size, s);
	int stroke = !f; /* emulated bold */
	HPDF_Page_BeginText(p->page);
	HPDF_Page_SetFontAndSize(p->page, f ? f : p->reg, size);
	if (stroke) {
		HPDF_Page_SetTextRenderingMode(p->page, HPDF_FILL_THEN_STROKE);
		HPDF_Page_SetLineWidth(p->page, size * 0.06f);
	}
	HPDF_Page_TextOut(p->page, x, y, s);
	if (stroke)
		HPDF_Page_SetTextRenderingMode(p->page, HPDF_FILL);
	HPDF_Page_EndText(p->page);
}

/* Text wrapped on spaces to width w from x, one line per `lead` points
 * down from p->y; a word longer than the line stands alone. draw 0 only
 * counts the lines (p->y stays). Returns the number of lines. */
static int wrap(struct pdf *p, HPDF_Font f, float size, float lead, float x, float w,
                const char *s, int draw)
{
	char line[1024] = "";
	size_t n = 0;
	int lines = 1;
	while (*s) {
		size_t word = strcspn(s, " ");
		char trial[1024];
		snprintf(trial, sizeof trial, "%.*s%s%.*s", (int)n, line, n ? " " : "", (int)word, s);
		if (n && width_of(p, f, size, trial) > w) {
			line[n] = '\0';
			if (draw) {
				text_at(p, f, size, x, p->y, 'l', line);
				p->y -= lead;
			}
			lines++;
			n = 0;
			continue;
		}
		n = (size_t)snprintf(line, sizeof line, "%s", trial);
		s += word;
		while (*s == ' ')
			s++;
	}
	line[n] = '\0';
	if (draw) {
		text_at(p, f, size, x, p->y, 'l', line);
		p->y -= lead;
	}
	return lines;
}

static void text_wrapped(struct pdf *p, HPDF_Font f, float size, float lead, float x, float w,
                         const char *s)
{
	(void)wrap(p, f, size, lead, x, w, s, 1);
}

static void rule(struct pdf *p, float y, float width)
{
	HPDF_Page_SetLineWidth(p->page, width);
	HPDF_Page_MoveTo(p->page, LEFT, y);
	HPDF_Page_LineTo(p->page, RIGHT, y);
	HPDF_Page_Stroke(p->page);
}

/* Text and its (emulated bold) outline in one colour. */
static void colour(struct pdf *p, float r, float g, float b)
{
	HPDF_Page_SetRGBFill(p->page, r, g, b);
	HPDF_Page_SetRGBStroke(p->page, r, g, b);
}

static void grey(struct pdf *p, int on)
{
	float v = on ? 0.35f : 0.0f;
	colour(p, v, v, v);
}

static void draw_header(struct pdf *p, const struct askue_invoice_pdf_utility *u)
{
	char s[1024];
	if (u->demo) {
		colour(p, 0.8f, 0.0f, 0.0f);
		text_wrapped(p, p->bold, 9, 11, LEFT, RIGHT - LEFT,
		             "ОБРАЗЕЦ: демонстрационные реквизиты из настроек по умолчанию "
		             "(раздел [utility] файла askue.conf). Не для оплаты.");
		colour(p, 0, 0, 0);
		p->y -= 2;
	}
	text_wrapped(p, p->bold, 12, 15, LEFT, RIGHT - LEFT, u->name);
	snprintf(s, sizeof s, "ИНН %s, КПП %s. Р/с %s в %s, БИК %s, к/с %s", u->inn, u->kpp,
	         u->settlement_account, u->bank, u->bic, u->correspondent_account);
	text_wrapped(p, p->reg, 8.5f, 11, LEFT, RIGHT - LEFT, s);
	snprintf(s, sizeof s, "%s, тел. %s", u->address, u->phone);
	text_wrapped(p, p->reg, 8.5f, 11, LEFT, RIGHT - LEFT, s);
	rule(p, p->y + 4, 0.8f);
	p->y -= 14;
}

static void draw_title(struct pdf *p, const struct askue_invoice_pdf *d)
{
	char s[512], a[RU_BUF], b[RU_BUF], c[RU_BUF];
	snprintf(s, sizeof s, "Счёт № %s от %s", d->number, ru_date(d->issued, a));
	text_at(p, p->bold, 14, LEFT, p->y, 'l', s);
	p->y -= 16;
	struct askue_date last = askue_date_add_days(askue_period_end(d->period), -1);
	snprintf(s, sizeof s, "за электроэнергию, расчётный период: %s %d г. (%s – %s). "
	         "Оплатить до %s.", months[d->period.month - 1], d->period.year,
	         ru_date(askue_period_first(d->period), a), ru_date(last, b), ru_date(d->due, c));
	text_wrapped(p, p->reg, 10, 13, LEFT, RIGHT - LEFT, s);
	p->y -= 4;
	snprintf(s, sizeof s, "Лицевой счёт: %s", d->account);
	text_at(p, p->bold, 11, LEFT, p->y, 'l', s);
	p->y -= 14;
	snprintf(s, sizeof s, "Абонент: %s", d->name);
	text_wrapped(p, p->reg, 10, 13, LEFT, RIGHT - LEFT, s);
	snprintf(s, sizeof s, "Адрес: %s", d->address);
	text_wrapped(p, p->reg, 10, 13, LEFT, RIGHT - LEFT, s);
	p->y -= 8;
}

/* A small grey line under a row: how a value was obtained, a note. */
static void row_note(struct pdf *p, float x, const char *s)
{
	if (!*s)
		return;
	grey(p, 1);
	text_wrapped(p, p->reg, 7, 9, x, RIGHT - x, s);
	grey(p, 0);
}

static void readings_head(struct pdf *p, const char *title)
{
	text_at(p, p->bold, 10, LEFT, p->y, 'l', title);
	p->y -= 13;
	grey(p, 1);
	text_at(p, p->reg, 7.5f, LEFT, p->y, 'l', "Прибор учёта");
	text_at(p, p->reg, 7.5f, 140, p->y, 'l', "Зона");
	text_at(p, p->reg, 7.5f, 265, p->y, 'r', "Начальные, кВт·ч");
	text_at(p, p->reg, 7.5f, 272, p->y, 'l', "на момент");
	text_at(p, p->reg, 7.5f, 410, p->y, 'r', "Конечные, кВт·ч");
	text_at(p, p->reg, 7.5f, 417, p->y, 'l', "на момент");
	text_at(p, p->reg, 7.5f, RIGHT, p->y, 'r', "Расход, кВт·ч");
	grey(p, 0);
	rule(p, p->y - 3, 0.4f);
	p->y -= 13;
}

static void lines_head(struct pdf *p, const char *title)
{
	text_at(p, p->bold, 10, LEFT, p->y, 'l', title);
	p->y -= 13;
	grey(p, 1);
	text_at(p, p->reg, 7.5f, LEFT, p->y, 'l', "Зона");
	text_at(p, p->reg, 7.5f, 140, p->y, 'l', "Дни");
	text_at(p, p->reg, 7.5f, 370, p->y, 'r', "Расход, кВт·ч");
	text_at(p, p->reg, 7.5f, 460, p->y, 'r', "Тариф, руб./кВт·ч");
	text_at(p, p->reg, 7.5f, RIGHT, p->y, 'r', "Сумма, руб.");
	grey(p, 0);
	rule(p, p->y - 3, 0.4f);
	p->y -= 13;
}

/* A new page: the utility's header, the invoice's number, and the column
 * titles of the table being drawn. Past ASKUE_INVOICE_PDF_PAGES_MAX the
 * document is refused at the end (the last page is drawn over). */
static void new_page(struct pdf *p)
{
	if (p->n_pages == ASKUE_INVOICE_PDF_PAGES_MAX) {
		p->too_many_pages = 1;
		p->y = PAGE_H - 48;
		return;
	}
	p->page = p->pages[p->n_pages++] = HPDF_AddPage(p->doc);
	HPDF_Page_SetSize(p->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
	p->y = PAGE_H - 48;
	draw_header(p, p->u);
	if (p->n_pages == 1)
		return;
	char s[256], a[RU_BUF];
	snprintf(s, sizeof s, "Счёт № %s от %s, лицевой счёт %s (продолжение)", p->d->number,
	         ru_date(p->d->issued, a), p->d->account);
	text_at(p, p->bold, 10, LEFT, p->y, 'l', s);
	p->y -= 18;
	if (p->table == TABLE_READINGS)
		readings_head(p, "Показания приборов учёта (продолжение)");
	else if (p->table == TABLE_LINES)
		lines_head(p, "Начисления за период (продолжение)");
}

/* Room for h points more above the bottom margin, else a new page. */
static void need(struct pdf *p, float h)
{
	if (p->y - h < BOTTOM)
		new_page(p);
}

/* The height of a row of 11 points and its grey note wrapped under it. */
static float row_height(struct pdf *p, const char *note)
{
	return 11.0f + (*note ? 9.0f * (float)wrap(p, p->reg, 7, 9, 140, RIGHT - 140, note, 0) : 0);
}

static void reading_note(const struct askue_invoice_pdf_reading *r, char *note, size_t size)
{
	const char *sh = ru_how(r->start_how), *eh = ru_how(r->end_how);
	char extra[NOTE_RU_BUF];
	ru_note(r->note, extra, sizeof extra);
	snprintf(note, size, "%s%s%s%s%s%s%s", *sh ? "начальные: " : "", sh,
	         *sh && *eh ? "; " : "", *eh ? "конечные: " : "", eh,
	         (*sh || *eh) && *extra ? "; " : "", extra);
}

static void draw_readings(struct pdf *p, const struct askue_invoice_pdf *d)
{
	if (!d->n_readings)
		return;
	for (int i = 0; i < d->n_readings; i++) {
		const struct askue_invoice_pdf_reading *r = &d->readings[i];
		char a[RU_BUF], b[RU_BUF], c[RU_BUF], e[RU_BUF], f[RU_BUF], note[NOTE_RU_BUF + 128];
		reading_note(r, note, sizeof note);
		float h = row_height(p, note);
		if (i == 0) {
			need(p, 26 + h); /* the title and column titles stay with a row */
			readings_head(p, "Показания приборов учёта");
			p->table = TABLE_READINGS;
		} else {
			need(p, h);
		}
		text_at(p, p->reg, 8.5f, LEFT, p->y, 'l', r->serial);
		text_at(p, p->reg, 8.5f, 140, p->y, 'l', ru_zone(r->zone));
		text_at(p, p->reg, 8.5f, 265, p->y, 'r', ru_kwh(r->start, a));
		text_at(p, p->reg, 8.5f, 272, p->y, 'l', ru_moment(r->start_ts, b));
		text_at(p, p->reg, 8.5f, 410, p->y, 'r', ru_kwh(r->end, c));
		text_at(p, p->reg, 8.5f, 417, p->y, 'l', ru_moment(r->end_ts, e));
		text_at(p, p->reg, 8.5f, RIGHT, p->y, 'r', ru_kwh(r->energy, f));
		p->y -= 11;
		row_note(p, 140, note);
	}
	p->table = TABLE_NONE;
	p->y -= 8;
}

/* A charge line's grey note: its band, and how the estimate was made (or
 * the how word). */
static void line_note(const struct askue_invoice_pdf_line *l, char *s, size_t size)
{
	char note[NOTE_RU_BUF];
	ru_note(l->note, note, sizeof note);
	const char *how = ru_how(l->how);
	if (l->band > 0)
		snprintf(s, size, "диапазон объёма %d%s%s", l->band, *note || *how ? "; " : "",
		         *note ? note : how);
	else
		snprintf(s, size, "%s", *note ? note : how);
}

/* The height of the account and the QR code beside it, with the charges'
 * sum row above them: they stand together on the last page. */
#define END_BLOCK_H (22.0f + QR_SIDE + 26.0f)

static void draw_lines(struct pdf *p, const struct askue_invoice_pdf *d)
{
	char a[RU_BUF], b[RU_BUF], c[RU_BUF], s[256], note[NOTE_RU_BUF + 64];
	for (int i = 0; i < d->n_lines; i++) {
		const struct askue_invoice_pdf_line *l = &d->lines[i];
		line_note(l, note, sizeof note);
		float h = row_height(p, note);
		if (i == 0) {
			need(p, 26 + h);
			lines_head(p, "Начисления за период");
			p->table = TABLE_LINES;
		} else {
			need(p, h);
		}
		text_at(p, p->reg, 8.5f, LEFT, p->y, 'l', ru_zone(l->zone));
		snprintf(s, sizeof s, "%s – %s", ru_date(l->days_from, a), ru_date(l->days_to, b));
		text_at(p, p->reg, 8.5f, 140, p->y, 'l', s);
		text_at(p, p->reg, 8.5f, 370, p->y, 'r', ru_kwh(l->energy, a));
		text_at(p, p->reg, 8.5f, 460, p->y, 'r', ru_price(l->price, b));
		text_at(p, p->reg, 8.5f, RIGHT, p->y, 'r', ru_money(l->amount, c));
		p->y -= 11;
		row_note(p, 140, note);
	}
	if (!d->n_lines) {
		need(p, 26 + END_BLOCK_H);
		lines_head(p, "Начисления за период");
	}
	p->table = TABLE_NONE;
	need(p, END_BLOCK_H);
	rule(p, p->y + 7, 0.4f);
	p->y -= 2;
	text_at(p, p->bold, 9, LEFT, p->y, 'l', "Начислено за период");
	text_at(p, p->bold, 9, RIGHT, p->y, 'r', ru_money(d->charges, a));
	p->y -= 20;
}

static void account_row(struct pdf *p, const char *label, const char *value)
{
	text_at(p, p->reg, 9, LEFT, p->y, 'l', label);
	text_at(p, p->reg, 9, 370, p->y, 'r', value);
	p->y -= 12;
}

/* The account, left of the QR code: how the total comes about. */
static void draw_account(struct pdf *p, const struct askue_invoice_pdf *d)
{
	char a[RU_BUF], s[256];
	struct askue_money abs_prev = {d->previous.kop < 0 ? -d->previous.kop : d->previous.kop};
	text_at(p, p->bold, 10, LEFT, p->y, 'l', "Расчёт суммы к оплате, руб.");
	p->y -= 14;
	account_row(p, d->previous.kop < 0 ? "Переплата по предыдущему счёту"
	                                   : "Задолженность по предыдущему счёту",
	            ru_money(abs_prev, a));
	account_row(p, "Оплачено после предыдущего счёта", ru_money(d->payments, a));
	account_row(p, "Пени", ru_money(d->penalties, a));
	account_row(p, "Корректировки", ru_money(d->corrections, a));
	account_row(p, "Начислено за период", ru_money(d->charges, a));
	p->y -= 4;
	if (d->total.kop > 0) {
		snprintf(s, sizeof s, "Итого к оплате: %s руб.", ru_money(d->total, a));
		text_at(p, p->bold, 12, LEFT, p->y, 'l', s);
		p->y -= 15;
		snprintf(s, sizeof s, "Оплатить до %s", ru_date(d->due, a));
		text_at(p, p->reg, 10, LEFT, p->y, 'l', s);
		p->y -= 13;
	} else {
		text_at(p, p->bold, 12, LEFT, p->y, 'l', "К оплате: 0,00 руб. Оплачивать не требуется.");
		p->y -= 15;
		if (d->total.kop < 0) {
			struct askue_money credit = {-d->total.kop};
			snprintf(s, sizeof s, "Переплата %s руб. будет учтена в следующем счёте.",
			         ru_money(credit, a));
			text_at(p, p->reg, 10, LEFT, p->y, 'l', s);
			p->y -= 13;
		}
	}
	if (d->estimated) {
		p->y -= 4;
		text_wrapped(p, p->reg, 7.5f, 9, LEFT, 330,
		             "Часть расхода определена расчётным способом; после получения "
		             "фактических показаний будет сделан перерасчёт.");
	}
}

/* The QR code as black squares (runs of a row merged into one rectangle)
 * inside a white square of QR_SIDE with top edge at top. */
static enum askue_err draw_qr(struct pdf *p, const char *text, float top)
{
	QRcode *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0,
	                              QR_ECLEVEL_M);
	if (!q)
		return askue_err_set(ASKUE_ERR_LIMIT, "QR code: libqrencode could not encode %zu bytes: %s",
		                     strlen(text), strerror(errno));
	int w = q->width;
	float m = QR_SIDE / (float)(w + 2 * QR_QUIET_MODULES);
	float x0 = RIGHT - QR_SIDE + QR_QUIET_MODULES * m, y0 = top - QR_QUIET_MODULES * m;
	HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w;) {
			if (!(q->data[y * w + x] & 1)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < w && (q->data[y * w + x + run] & 1))
				run++;
			HPDF_Page_Rectangle(p->page, x0 + (float)x * m, y0 - (float)(y + 1) * m,
			                    (float)run * m, m);
			x += run;
		}
	HPDF_Page_Fill(p->page);
	QRcode_free(q);
	grey(p, 1);
	text_at(p, p->reg, 7, RIGHT - QR_SIDE / 2 - width_of(p, p->reg, 7, "Оплата по QR-коду") / 2,
	        top - QR_SIDE - 2, 'l', "Оплата по QR-коду");
	text_at(p, p->reg, 7, RIGHT - QR_SIDE / 2 - width_of(p, p->reg, 7, "ГОСТ Р 56042-2014") / 2,
	        top - QR_SIDE - 11, 'l', "ГОСТ Р 56042-2014");
	grey(p, 0);
	return ASKUE_OK;
}

static enum askue_err load_font(struct pdf *p, const char *file, HPDF_Font *out)
{
	if (access(file, R_OK) != 0)
		return askue_err_set(ASKUE_ERR_IO, "font %s: %s (Debian package fonts-dejavu-core)", file,
		                     strerror(errno));
	const char *name = HPDF_LoadTTFontFromFile(p->doc, file, HPDF_TRUE);
	*out = name ? HPDF_GetFont(p->doc, name, "UTF-8") : NULL;
	if (!*out)
		return askue_err_set(ASKUE_ERR_IO, "font %s: libharu cannot load it (error 0x%04X)", file,
		                     (unsigned)p->err);
	return ASKUE_OK;
}

/* Without a bold file, bold is the regular font stroked: one embedded
 * font, half the file and half the time. */
static enum askue_err load_fonts(struct pdf *p, const char *font, const char *font_bold)
{
	enum askue_err err = load_font(p, font ? font : ASKUE_INVOICE_PDF_FONT, &p->reg);
	if (err || font_bold)
		return err ? err : load_font(p, font_bold, &p->bold);
	p->bold = NULL;
	return ASKUE_OK;
}

/* "стр. N из M" at the foot of every page, once M is known. */
static void number_pages(struct pdf *p)
{
	char s[64];
	for (int i = 0; i < p->n_pages; i++) {
		p->page = p->pages[i];
		snprintf(s, sizeof s, "стр. %d из %d", i + 1, p->n_pages);
		grey(p, 1);
		text_at(p, p->reg, 7.5f, RIGHT, FOOTER_Y, 'r', s);
		grey(p, 0);
	}
}

static enum askue_err draw_pages(struct pdf *p, const char *qr_text)
{
	const struct askue_invoice_pdf *d = p->d;
	new_page(p);
	draw_title(p, d);
	draw_readings(p, d);
	draw_lines(p, d);
	float top = p->y + 6;
	draw_account(p, d);
	enum askue_err err = draw_qr(p, qr_text, top);
	if (err)
		return err;
	float lowest = p->y < top - QR_SIDE - 14 ? p->y : top - QR_SIDE - 14;
	if (p->too_many_pages || lowest < BOTTOM)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: %d readings and %d lines do not fit "
		                     "on %d pages", d->number, d->n_readings, d->n_lines,
		                     ASKUE_INVOICE_PDF_PAGES_MAX);
	number_pages(p);
	return ASKUE_OK;
}

/* Save to path.tmp, then rename: a reader sees the whole file or none. */
static enum askue_err save(struct pdf *p, const char *path, int64_t *bytes_out)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return askue_err_set(ASKUE_ERR_INVALID, "output path too long: %s", path);
	if (HPDF_SaveToFile(p->doc, tmp) != HPDF_OK || p->err) {
		unlink(tmp);
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot write (libharu error 0x%04X, %u)", path,
		                     (unsigned)p->err, (unsigned)p->detail);
	}
	struct stat st;
	if (stat(tmp, &st) != 0 || rename(tmp, path) != 0) {
		enum askue_err err = askue_err_set(ASKUE_ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return err;
	}
	if (bytes_out)
		*bytes_out = (int64_t)st.st_size;
	return ASKUE_OK;
}

enum askue_err askue_invoice_pdf_write(const struct askue_invoice_pdf_utility *u,
                                       const struct askue_invoice_pdf *d, const char *font,
                                       const char *font_bold, const char *path,
                                       int64_t *bytes_out)
{
	char qr_text[ASKUE_QR_GOST_BYTES_MAX + 1];
	enum askue_err err = check_doc(d);
	if (!err)
		err = askue_invoice_pdf_qr_text(u, d, qr_text, sizeof qr_text);
	if (err)
		return err;
	struct pdf p = {.u = u, .d = d};
	p.doc = HPDF_New(on_hpdf_error, &p);
	if (!p.doc)
		return askue_err_set(ASKUE_ERR_NOMEM, "libharu: cannot make a document");
	HPDF_SetCompressionMode(p.doc, HPDF_COMP_ALL);
	HPDF_UseUTFEncodings(p.doc);
	HPDF_SetCurrentEncoder(p.doc, "UTF-8");
	HPDF_SetInfoAttr(p.doc, HPDF_INFO_TITLE, d->number);
	HPDF_SetInfoAttr(p.doc, HPDF_INFO_CREATOR, "askue");
	err = load_fonts(&p, font, font_bold);
	if (!err)
		err = draw_pages(&p, qr_text);
	if (!err && p.err)
		err = askue_err_set(ASKUE_ERR_IO, "invoice %s: libharu error 0x%04X (%u)", d->number,
		                    (unsigned)p.err, (unsigned)p.detail);
	if (!err)
		err = save(&p, path, bytes_out);
	HPDF_Free(p.doc);
	return err;
}
