/* limits — every limit of askue, named, with the reason beside it.
 * Exceeding one is an error, never silent growth. */
#ifndef ASKUE_LIMITS_H
#define ASKUE_LIMITS_H

/* MQTT readings payload, DESIGN.md contract. */
#define ASKUE_PAYLOAD_BYTES_MAX (64 * 1024)
/* JSON nesting in a payload: the contract needs 3 levels. */
#define ASKUE_PAYLOAD_DEPTH_MAX 8
/* Readings in one message: a month of half-hourly readings (1488) fits. */
#define ASKUE_PAYLOAD_READINGS_MAX 4096
/* A reading stamped before 2000-01-01 comes from a meter whose clock was
 * reset: refused (bad_ts). */
#define ASKUE_READING_TS_MIN 946684800
/* A register, power or voltage value: 1e9 kWh is beyond any meter's
 * display; Wh of it (1e12) stay exact in a double and in int64. */
#define ASKUE_REGISTER_VALUE_MAX 1e9
/* One spool record: the line protocol of one message (<= 4096 readings of
 * at most ~450 bytes each with a 64-byte serial escaped three times over). */
#define ASKUE_SPOOL_RECORD_BYTES_MAX (2 * 1024 * 1024)
/* An InfluxDB answer kept for the logs and for parsing its error. */
#define ASKUE_INFLUX_REPLY_BYTES_MAX (64 * 1024)
/* Longest wait between retries of an InfluxDB write or an MQTT reconnect. */
#define ASKUE_RETRY_DELAY_MS_MAX 30000
/* Meters whose last-seen update waits in memory between two flushes to
 * lastseen.db; past this the flush runs at once. */
#define ASKUE_LASTSEEN_PENDING_MAX 65536
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
/* An event's details as the relay publishes them: askue's own events are a
 * few hundred bytes; beyond this the details are left out of the message
 * (marked so; the journal keeps them, `askue events` shows them). */
#define ASKUE_EVENT_DETAILS_BYTES_MAX (256 * 1024)
/* Events the relay has read from the journal and not yet published, in
 * bytes of their messages: one read stops at this, whatever batch_max says. */
#define ASKUE_RELAY_PENDING_BYTES_MAX (8 * 1024 * 1024)

#endif
