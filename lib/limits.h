/* limits — every limit of askue, named, with the reason beside it.
 * Exceeding one is an error, never silent growth. */
#ifndef ASKUE_LIMITS_H
#define ASKUE_LIMITS_H

/* MQTT readings payload, DESIGN.md contract. */
#define ASKUE_PAYLOAD_BYTES_MAX (64 * 1024)
/* JSON nesting in a payload: the contract needs 3 levels. */
#define ASKUE_PAYLOAD_DEPTH_MAX 8
/* A meter serial: printed on the meter, 1..64 bytes of UTF-8. */
#define ASKUE_SERIAL_BYTES_MAX 64
/* Names and addresses typed by operators or read from card files. */
#define ASKUE_NAME_BYTES_MAX 200
#define ASKUE_ADDRESS_BYTES_MAX 400
#define ASKUE_SHORT_TEXT_BYTES_MAX 100
/* One CSV row of the card file; a longer one is a broken file. */
#define ASKUE_CSV_ROW_BYTES_MAX 4096
/* Bad rows reported one by one per import; the rest are counted. */
#define ASKUE_IMPORT_ERRORS_SHOWN_MAX 100
/* Tariff zones: the register contract has T1..T4, askue bills 1..3. */
#define ASKUE_ZONES_MAX 3
/* Spans of one zone in a day (peak=07-10+17-21 has two). */
#define ASKUE_ZONE_SPANS_MAX 6
/* Rows a find prints unless --limit says otherwise. */
#define ASKUE_FIND_ROWS_DEFAULT 50
#define ASKUE_FIND_ROWS_MAX 10000
/* A config file line. */
#define ASKUE_CONFIG_VALUE_BYTES_MAX 1024
/* Busy timeout so the console, the jobs and the command line share the
 * ledger: a batch job's transaction may hold the writer lock for seconds. */
#define ASKUE_LEDGER_BUSY_MS_DEFAULT 30000

#endif
