/* schema — the ledger's numbered migrations. Migration n (1-based) is
 * askue_schema_migrations[n - 1]; a migration, once landed, is never edited:
 * a change is a new migration at the end.
 *
 * Conventions: dates are TEXT 'YYYY-MM-DD' (local business dates), instants
 * are INTEGER Unix seconds (UTC), money INTEGER kopecks, energy INTEGER Wh,
 * prices INTEGER micro-roubles per kWh.
 */
#include "ledger.h"

const char *const askue_schema_migrations[] = {
	/* 1: the registry and the journal */
	"CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;\n"
	"INSERT INTO counter VALUES ('account', 0);\n"

	/* The event journal: append-only. */
	"CREATE TABLE event (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  type TEXT NOT NULL,\n"
	"  time INTEGER NOT NULL,\n"
	"  subject TEXT NOT NULL,\n"
	"  operator TEXT NOT NULL,\n"
	"  details TEXT NOT NULL CHECK (json_valid(details))\n"
	") STRICT;\n"
	"CREATE INDEX event_type_time ON event(type, time);\n"
	"CREATE INDEX event_subject ON event(subject, id);\n"
	"CREATE TRIGGER event_no_update BEFORE UPDATE ON event\n"
	"  BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;\n"
	"CREATE TRIGGER event_no_delete BEFORE DELETE ON event\n"
	"  BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;\n"
	/* What each reader of the journal (the MQTT relay ...) has taken. */
	"CREATE TABLE outbox_cursor (reader TEXT PRIMARY KEY, event_id INTEGER NOT NULL) STRICT;\n"

	"CREATE TABLE subscriber (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  account TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL CHECK (length(name) > 0),\n"
	"  address TEXT NOT NULL CHECK (length(address) > 0),\n"
	"  district TEXT NOT NULL DEFAULT '',\n"
	"  substation TEXT NOT NULL DEFAULT '',\n"
	"  category TEXT NOT NULL DEFAULT 'household' CHECK (category IN ('household','other')),\n"
	"  registered TEXT NOT NULL,\n"
	"  phone TEXT,\n"
	"  email TEXT,\n"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended','closed'))\n"
	") STRICT;\n"
	"CREATE INDEX subscriber_district ON subscriber(district, substation);\n"
	"CREATE INDEX subscriber_substation ON subscriber(substation);\n"
	/* Folded (lower case, yo->ye) copies of name and address for find; rowid
	 * = subscriber.id; kept by subscriber.c in the same transaction. Without
	 * positions (detail none: a third smaller and faster to build): find
	 * asks for every trigram of a word and checks the word with instr(). */
	"CREATE VIRTUAL TABLE subscriber_fts USING fts5(name, address,"
	" tokenize = 'trigram case_sensitive 0', detail = 'none');\n"

	"CREATE TABLE concentrator (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ident TEXT NOT NULL UNIQUE,\n"
	"  substation TEXT NOT NULL DEFAULT '',\n"
	"  secret_salt BLOB,\n"
	"  secret_hash BLOB,\n"
	"  created TEXT NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE meter (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  serial TEXT NOT NULL UNIQUE CHECK (length(serial) BETWEEN 1 AND 64),\n"
	"  model TEXT NOT NULL CHECK (length(model) > 0),\n"
	"  commissioned TEXT NOT NULL,\n"
	"  service_life_years INTEGER NOT NULL CHECK (service_life_years BETWEEN 1 AND 60),\n"
	"  decommissioned TEXT,\n"
	"  warranty_card TEXT,\n"
	"  warranty_until TEXT,\n"
	"  verification_interval_years INTEGER NOT NULL DEFAULT 16\n"
	"    CHECK (verification_interval_years BETWEEN 1 AND 60),\n"
	"  last_verified TEXT,\n"
	"  zones INTEGER NOT NULL DEFAULT 1 CHECK (zones BETWEEN 1 AND 3),\n"
	"  capacity_wh INTEGER NOT NULL DEFAULT 1000000000 CHECK (capacity_wh > 0),\n"
	"  status TEXT NOT NULL DEFAULT 'stock' CHECK (status IN ('stock','installed','dismantled')),\n"
	"  concentrator_id INTEGER REFERENCES concentrator(id),\n"
	"  secret_salt BLOB,\n"
	"  secret_hash BLOB,\n"
	"  secret_issued INTEGER,\n"
	"  CHECK (decommissioned IS NULL OR decommissioned >= commissioned)\n"
	") STRICT;\n"
	"CREATE INDEX meter_concentrator ON meter(concentrator_id);\n"

	/* Which meter measures which subscriber, [installed, removed). Register
	 * values per zone: r0 = 1.8.0 total, r1..r3 = T1..T3 (NULL when the
	 * meter has fewer zones). */
	"CREATE TABLE installation (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  meter_id INTEGER NOT NULL REFERENCES meter(id),\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  installed TEXT NOT NULL,\n"
	"  removed TEXT,\n"
	"  in_r0_wh INTEGER NOT NULL DEFAULT 0 CHECK (in_r0_wh >= 0),\n"
	"  in_r1_wh INTEGER, in_r2_wh INTEGER, in_r3_wh INTEGER,\n"
	"  out_r0_wh INTEGER, out_r1_wh INTEGER, out_r2_wh INTEGER, out_r3_wh INTEGER,\n"
	"  CHECK (removed IS NULL OR removed >= installed)\n"
	") STRICT;\n"
	"CREATE UNIQUE INDEX installation_meter_active ON installation(meter_id) WHERE removed IS NULL;\n"
	"CREATE UNIQUE INDEX installation_subscriber_active ON installation(subscriber_id)\n"
	"  WHERE removed IS NULL;\n"
	"CREATE INDEX installation_meter ON installation(meter_id, installed);\n"
	"CREATE INDEX installation_subscriber ON installation(subscriber_id, installed);\n"

	"CREATE TABLE tariff (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),\n"
	"  created TEXT NOT NULL\n"
	") STRICT;\n"
	/* zone idx 0 = the one zone 'all' (register 1.8.0); 1..3 = T1..T3.
	 * spans: hour ranges of the day, '07-23' or '07-10+17-21'. */
	"CREATE TABLE tariff_zone (\n"
	"  tariff_id INTEGER NOT NULL REFERENCES tariff(id),\n"
	"  idx INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 3),\n"
	"  name TEXT NOT NULL,\n"
	"  spans TEXT NOT NULL,\n"
	"  PRIMARY KEY (tariff_id, idx),\n"
	"  UNIQUE (tariff_id, name)\n"
	") STRICT;\n"
	"CREATE TABLE tariff_price (\n"
	"  tariff_id INTEGER NOT NULL,\n"
	"  zone_idx INTEGER NOT NULL,\n"
	"  valid_from TEXT NOT NULL,\n"
	"  price_micro_rub INTEGER NOT NULL CHECK (price_micro_rub >= 0),\n"
	"  PRIMARY KEY (tariff_id, zone_idx, valid_from),\n"
	"  FOREIGN KEY (tariff_id, zone_idx) REFERENCES tariff_zone(tariff_id, idx)\n"
	") STRICT;\n"
	"CREATE TABLE subscriber_tariff (\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  tariff_id INTEGER NOT NULL REFERENCES tariff(id),\n"
	"  valid_from TEXT NOT NULL,\n"
	"  PRIMARY KEY (subscriber_id, valid_from)\n"
	") STRICT;\n"
	"CREATE INDEX subscriber_tariff_tariff ON subscriber_tariff(tariff_id);\n",

	/* 2: MQTT credentials of askue's own services (roles of the broker
	 * plugin's ACL), and when a concentrator's secret was issued. A secret
	 * is kept only as a random salt and a BLAKE2b hash (credentials.h). */
	"ALTER TABLE concentrator ADD COLUMN secret_issued INTEGER;\n"
	"CREATE TABLE service_account (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),\n"
	"  role TEXT NOT NULL CHECK (role IN ('ingestor','relay','jobs','stale')),\n"
	"  secret_salt BLOB NOT NULL CHECK (length(secret_salt) = 16),\n"
	"  secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),\n"
	"  secret_issued INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n",

	/* 3: the role 'events' (subscribe askue/events/#, for the systems that
	 * follow askue's business events). SQLite cannot change a CHECK in
	 * place: the table is rebuilt with the same columns and rows. */
	"CREATE TABLE service_account_new (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),\n"
	"  role TEXT NOT NULL CHECK (role IN ('ingestor','relay','jobs','stale','events')),\n"
	"  secret_salt BLOB NOT NULL CHECK (length(secret_salt) = 16),\n"
	"  secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),\n"
	"  secret_issued INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n"
	"INSERT INTO service_account_new SELECT id, name, role, secret_salt, secret_hash,"
	" secret_issued, created FROM service_account;\n"
	"DROP TABLE service_account;\n"
	"ALTER TABLE service_account_new RENAME TO service_account;\n",

	/* 4: alerts — work items for operations (silent meters, outages, due
	 * verifications, field checks ...): open -> assigned -> resolved. An
	 * alert is active while not resolved; one active alert per (kind,
	 * subject). ref tells occurrences of one kind apart where that matters
	 * (a lifecycle alert's due date), '' otherwise. closed_by: 'operator'
	 * (alert resolve) or 'job' (closed by itself). publish_pending: the
	 * alert changed (opened, closed) since it was last published on
	 * askue/alerts/{kind}. */
	"CREATE TABLE alert (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),\n"
	"  subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),\n"
	"  ref TEXT NOT NULL DEFAULT '',\n"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','assigned','resolved')),\n"
	"  opened INTEGER NOT NULL,\n"
	"  closed INTEGER,\n"
	"  closed_by TEXT CHECK (closed_by IN ('operator','job')),\n"
	"  assignee TEXT,\n"
	"  outcome TEXT,\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),\n"
	"  publish_pending INTEGER NOT NULL DEFAULT 1 CHECK (publish_pending IN (0,1)),\n"
	"  published INTEGER,\n"
	"  CHECK ((status = 'resolved') = (closed IS NOT NULL)),\n"
	"  CHECK (status != 'assigned' OR assignee IS NOT NULL)\n"
	") STRICT;\n"
	"CREATE UNIQUE INDEX alert_active ON alert(kind, subject) WHERE status != 'resolved';\n"
	"CREATE INDEX alert_kind_subject ON alert(kind, subject, ref);\n"
	"CREATE INDEX alert_status ON alert(status, kind);\n"
	"CREATE INDEX alert_unpublished ON alert(id) WHERE publish_pending = 1;\n"
	"CREATE TABLE alert_meter (\n"
	"  alert_id INTEGER NOT NULL REFERENCES alert(id),\n"
	"  meter TEXT NOT NULL,\n"
	"  PRIMARY KEY (alert_id, meter)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX alert_meter_meter ON alert_meter(meter);\n",

	/* 5: billing (docs/billing.md). The subscriber's norm determinants; the
	 * rollup's per meter-day cache of InfluxDB readings (rebuilt from
	 * InfluxDB by `job rollup`, pruned after [rollup] keep_days); invoices,
	 * their lines and the readings behind each line (billing determinants);
	 * the account's postings, whose sum is the balance. Postings are
	 * immutable: a mistake is corrected by a new posting. Amounts: + is what
	 * the subscriber owes, - what was paid or credited. */
	"ALTER TABLE subscriber ADD COLUMN residents INTEGER NOT NULL DEFAULT 1\n"
	"  CHECK (residents BETWEEN 0 AND 99);\n"
	"ALTER TABLE subscriber ADD COLUMN rooms INTEGER NOT NULL DEFAULT 1\n"
	"  CHECK (rooms BETWEEN 1 AND 99);\n"
	"ALTER TABLE subscriber ADD COLUMN stove TEXT NOT NULL DEFAULT 'gas'\n"
	"  CHECK (stove IN ('gas','electric'));\n"
	"ALTER TABLE subscriber ADD COLUMN settlement TEXT NOT NULL DEFAULT 'urban'\n"
	"  CHECK (settlement IN ('urban','rural'));\n"
	/* Volume bands of a tariff (household ranges 1 <= 3,900 kWh a month,
	 * 2 <= 6,000, 3 above): a band set from a date on, with the monthly
	 * upper limits of bands 1 and 2 (bands = 0 ends the bands from that
	 * date), and per band and zone a price. While a set with bands is in
	 * force its prices replace the tariff_price of those days. */
	"CREATE TABLE tariff_band_set (\n"
	"  tariff_id INTEGER NOT NULL REFERENCES tariff(id),\n"
	"  valid_from TEXT NOT NULL,\n"
	"  bands INTEGER NOT NULL CHECK (bands = 0 OR bands BETWEEN 2 AND 3),\n"
	"  upto1_wh INTEGER CHECK (upto1_wh > 0),\n"
	"  upto2_wh INTEGER CHECK (upto2_wh > upto1_wh),\n"
	"  CHECK ((bands = 0 AND upto1_wh IS NULL AND upto2_wh IS NULL)\n"
	"      OR (bands = 2 AND upto1_wh IS NOT NULL AND upto2_wh IS NULL)\n"
	"      OR (bands = 3 AND upto1_wh IS NOT NULL AND upto2_wh IS NOT NULL)),\n"
	"  PRIMARY KEY (tariff_id, valid_from)\n"
	") STRICT;\n"
	"CREATE TABLE tariff_band_price (\n"
	"  tariff_id INTEGER NOT NULL,\n"
	"  valid_from TEXT NOT NULL,\n"
	"  band INTEGER NOT NULL CHECK (band BETWEEN 1 AND 3),\n"
	"  zone_idx INTEGER NOT NULL,\n"
	"  price_micro_rub INTEGER NOT NULL CHECK (price_micro_rub >= 0),\n"
	"  PRIMARY KEY (tariff_id, valid_from, band, zone_idx),\n"
	"  FOREIGN KEY (tariff_id, valid_from) REFERENCES tariff_band_set(tariff_id, valid_from),\n"
	"  FOREIGN KEY (tariff_id, zone_idx) REFERENCES tariff_zone(tariff_id, idx)\n"
	") STRICT, WITHOUT ROWID;\n"

	/* day: local date 'YYYY-MM-DD'; first/last: the earliest and newest
	 * reading of that local day (ts UTC s, registers Wh: r0 = 1.8.0,
	 * r1..r3 = T1..T3, NULL when absent). */
	"CREATE TABLE meter_day (\n"
	"  serial TEXT NOT NULL,\n"
	"  day TEXT NOT NULL,\n"
	"  readings INTEGER NOT NULL CHECK (readings > 0),\n"
	"  first_ts INTEGER NOT NULL,\n"
	"  first_r0_wh INTEGER NOT NULL, first_r1_wh INTEGER, first_r2_wh INTEGER,"
	" first_r3_wh INTEGER,\n"
	"  last_ts INTEGER NOT NULL,\n"
	"  last_r0_wh INTEGER NOT NULL, last_r1_wh INTEGER, last_r2_wh INTEGER,"
	" last_r3_wh INTEGER,\n"
	"  CHECK (last_ts >= first_ts),\n"
	"  PRIMARY KEY (serial, day)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX meter_day_day ON meter_day(day);\n"
	/* Which local days the rollup has done, and when (a rerun redoes). */
	"CREATE TABLE rollup_day (\n"
	"  day TEXT PRIMARY KEY,\n"
	"  done INTEGER NOT NULL,\n"
	"  meters INTEGER NOT NULL,\n"
	"  readings INTEGER NOT NULL\n"
	") STRICT;\n"

	/* One billing run of a period (a dry run writes nothing). */
	"CREATE TABLE billing_run (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  period TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL DEFAULT 'billing' CHECK (kind IN ('billing','recalculation')),\n"
	"  started INTEGER NOT NULL,\n"
	"  finished INTEGER,\n"
	"  issued INTEGER NOT NULL DEFAULT 0,\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))\n"
	") STRICT;\n"

	/* An invoice: one per subscriber and period, never edited except its
	 * status (current -> paid | superseded, journaled). Money fields are
	 * what the document shows: previous_kop = balance before it (debt +,
	 * credit -) net of payments_kop, penalties_kop and corrections_kop
	 * posted since the last invoice; charges_kop = sum of its energy
	 * lines; total_kop = what to pay = the balance after it. */
	"CREATE TABLE invoice (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  number TEXT NOT NULL UNIQUE,\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  period TEXT NOT NULL,\n"
	"  issued TEXT NOT NULL,\n"
	"  due TEXT NOT NULL,\n"
	"  run_id INTEGER REFERENCES billing_run(id),\n"
	"  previous_kop INTEGER NOT NULL,\n"
	"  payments_kop INTEGER NOT NULL DEFAULT 0,\n"
	"  penalties_kop INTEGER NOT NULL DEFAULT 0,\n"
	"  corrections_kop INTEGER NOT NULL DEFAULT 0,\n"
	"  charges_kop INTEGER NOT NULL,\n"
	"  total_kop INTEGER NOT NULL,\n"
	"  estimated INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0,1)),\n"
	"  status TEXT NOT NULL DEFAULT 'current' CHECK (status IN ('current','paid','superseded')),\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),\n"
	"  UNIQUE (subscriber_id, period)\n"
	") STRICT;\n"
	"CREATE INDEX invoice_period ON invoice(period);\n"
	"CREATE INDEX invoice_status ON invoice(status, due);\n"
	/* A line: one zone at one price (a price change inside the period, or a
	 * volume band, splits a zone into several lines). */
	"CREATE TABLE invoice_line (\n"
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),\n"
	"  line_no INTEGER NOT NULL,\n"
	"  zone TEXT NOT NULL,\n"
	"  zone_idx INTEGER NOT NULL CHECK (zone_idx BETWEEN 0 AND 3),\n"
	"  wh INTEGER NOT NULL,\n"
	"  price_micro_rub INTEGER NOT NULL,\n"
	"  amount_kop INTEGER NOT NULL,\n"
	"  tariff TEXT NOT NULL,\n"
	"  price_from TEXT NOT NULL,\n"
	"  days_from TEXT NOT NULL,\n"
	"  days_to TEXT NOT NULL,\n"
	"  band INTEGER NOT NULL DEFAULT 0,\n"
	"  how TEXT NOT NULL DEFAULT 'measured',\n"
	"  note TEXT NOT NULL DEFAULT '',\n"
	"  PRIMARY KEY (invoice_id, line_no)\n"
	") STRICT, WITHOUT ROWID;\n"
	/* The register values behind an invoice: per meter and zone, the value
	 * at the start and the end of the span the meter served in the period,
	 * each with its moment and how it was obtained (reading, interpolated,
	 * installation, removal, previous invoice, estimated). */
	"CREATE TABLE invoice_reading (\n"
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),\n"
	"  seq INTEGER NOT NULL,\n"
	"  serial TEXT NOT NULL,\n"
	"  zone_idx INTEGER NOT NULL CHECK (zone_idx BETWEEN 0 AND 3),\n"
	"  start_ts INTEGER NOT NULL,\n"
	"  start_wh INTEGER NOT NULL,\n"
	"  start_how TEXT NOT NULL,\n"
	"  end_ts INTEGER NOT NULL,\n"
	"  end_wh INTEGER NOT NULL,\n"
	"  end_how TEXT NOT NULL,\n"
	"  wh INTEGER NOT NULL,\n"
	"  note TEXT NOT NULL DEFAULT '',\n"
	"  PRIMARY KEY (invoice_id, seq)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX invoice_reading_serial ON invoice_reading(serial, end_ts);\n"

	/* Correction documents (credit or debit) for an issued period. */
	"CREATE TABLE correction (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  number TEXT NOT NULL UNIQUE,\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  invoice_id INTEGER NOT NULL REFERENCES invoice(id),\n"
	"  period TEXT NOT NULL,\n"
	"  date TEXT NOT NULL,\n"
	"  amount_kop INTEGER NOT NULL CHECK (amount_kop != 0),\n"
	"  reason TEXT NOT NULL CHECK (length(reason) > 0),\n"
	"  run_id INTEGER REFERENCES billing_run(id),\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))\n"
	") STRICT;\n"
	"CREATE INDEX correction_invoice ON correction(invoice_id);\n"

	/* The account: every amount that changes a subscriber's balance.
	 * kind invoice|correction|penalty: + owed (a credit correction is -);
	 * kind payment: -. period: the billing period a charge belongs to
	 * (NULL for a payment); date: the business date it counts from. */
	"CREATE TABLE posting (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('invoice','payment','penalty','correction')),\n"
	"  date TEXT NOT NULL,\n"
	"  period TEXT,\n"
	"  amount_kop INTEGER NOT NULL,\n"
	"  invoice_id INTEGER REFERENCES invoice(id),\n"
	"  correction_id INTEGER REFERENCES correction(id),\n"
	"  payment_id INTEGER,\n"
	"  accrual_id INTEGER,\n"
	"  created INTEGER NOT NULL,\n"
	"  CHECK ((kind = 'payment') = (amount_kop < 0 AND payment_id IS NOT NULL))\n"
	") STRICT;\n"
	"CREATE INDEX posting_subscriber ON posting(subscriber_id, id);\n"
	"CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting\n"
	"  BEGIN SELECT RAISE(ABORT, 'postings are immutable: post a correction'); END;\n"
	"CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting\n"
	"  BEGIN SELECT RAISE(ABORT, 'postings are immutable: post a correction'); END;\n",

	/* 6: payments (docs/payments.md). A payment is posted once per bank
	 * reference; a row that cannot be posted (unknown account, malformed)
	 * waits in suspense with its reason until an accountant assigns it.
	 * allocation: which charge (a posting with amount > 0: an invoice, a
	 * debit correction, a penalty) which credit (a posting with amount < 0:
	 * a payment — payment_id set —, a credit correction, a penalty
	 * reversal) settled, how much, on which date: the penalty base of that
	 * period falls from the next day. */
	"CREATE TABLE payment (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),\n"
	"  date TEXT NOT NULL,\n"
	"  ref TEXT UNIQUE,\n"
	"  source TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX payment_subscriber ON payment(subscriber_id, date);\n"
	"CREATE INDEX posting_payment ON posting(payment_id) WHERE payment_id IS NOT NULL;\n"
	"CREATE TABLE payment_suspense (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  source TEXT NOT NULL,\n"
	"  line INTEGER NOT NULL DEFAULT 0,\n"
	"  raw TEXT NOT NULL,\n"
	"  account TEXT NOT NULL DEFAULT '',\n"
	"  amount_kop INTEGER,\n"
	"  date TEXT,\n"
	"  ref TEXT,\n"
	"  reason TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','assigned','rejected')),\n"
	"  payment_id INTEGER REFERENCES payment(id),\n"
	"  resolved INTEGER,\n"
	"  note TEXT NOT NULL DEFAULT ''\n"
	") STRICT;\n"
	"CREATE UNIQUE INDEX payment_suspense_ref ON payment_suspense(ref)\n"
	"  WHERE ref IS NOT NULL AND ref != '' AND status = 'open';\n"
	"CREATE INDEX payment_suspense_row ON payment_suspense(source, line);\n"
	"CREATE INDEX payment_suspense_status ON payment_suspense(status, id);\n"
	"CREATE TABLE allocation (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  payment_id INTEGER REFERENCES payment(id),\n"
	"  credit_posting_id INTEGER NOT NULL REFERENCES posting(id),\n"
	"  charge_posting_id INTEGER NOT NULL REFERENCES posting(id),\n"
	"  amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),\n"
	"  date TEXT NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX allocation_charge ON allocation(charge_posting_id);\n"
	"CREATE INDEX allocation_credit ON allocation(credit_posting_id);\n"
	"CREATE INDEX allocation_payment ON allocation(payment_id);\n"
	"CREATE TRIGGER allocation_no_update BEFORE UPDATE ON allocation\n"
	"  BEGIN SELECT RAISE(ABORT, 'allocations are immutable'); END;\n",

	/* 7: penalties (docs/penalties.md). Per period charge (an invoice's
	 * energy charge, with its corrections), the penalty accrued from its
	 * due date through a date: cumulative_kop is the whole penalty of that
	 * charge up to and including `through`, computed afresh and rounded
	 * once; each run posts the difference against what was posted before
	 * (a late payment makes it negative: a correcting entry) as a posting
	 * of kind penalty whose accrual_id names the row. */
	"CREATE TABLE penalty_accrual (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  charge_posting_id INTEGER NOT NULL REFERENCES posting(id),\n"
	"  through TEXT NOT NULL,\n"
	"  cumulative_kop INTEGER NOT NULL CHECK (cumulative_kop >= 0),\n"
	"  posted_kop INTEGER NOT NULL,\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX penalty_accrual_charge ON penalty_accrual(charge_posting_id, id);\n"
	"CREATE INDEX penalty_accrual_subscriber ON penalty_accrual(subscriber_id, id);\n"
	/* Invoices journaled overdue (once each). */
	"CREATE TABLE invoice_overdue (\n"
	"  invoice_id INTEGER PRIMARY KEY REFERENCES invoice(id),\n"
	"  date TEXT NOT NULL,\n"
	"  unpaid_kop INTEGER NOT NULL\n"
	") STRICT;\n"
	/* The penalties job's working set (lib/accrual.c): every charge that
	 * can bear a penalty (an invoice's energy charge, a debit correction)
	 * with its due date, until it is settled in full and its penalty final
	 * (closed = the run's date). The daily run visits only the open ones
	 * past due; new charges are taken from the postings after the cursor
	 * (counter 'penalty_posting_cursor'). */
	"CREATE TABLE penalty_charge (\n"
	"  charge_posting_id INTEGER PRIMARY KEY REFERENCES posting(id),\n"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscriber(id),\n"
	"  invoice_id INTEGER REFERENCES invoice(id),\n"
	"  period TEXT NOT NULL,\n"
	"  due TEXT NOT NULL,\n"
	"  base_kop INTEGER NOT NULL CHECK (base_kop > 0),\n"
	"  closed TEXT\n"
	") STRICT;\n"
	"CREATE INDEX penalty_charge_open ON penalty_charge(due, subscriber_id) WHERE closed IS NULL;\n"
	"CREATE INDEX penalty_charge_subscriber ON penalty_charge(subscriber_id);\n"
	"INSERT INTO counter VALUES ('penalty_posting_cursor', 0);\n",

	/* 8: console users (docs/console.md, lib/user.h). A user signs in to
	 * askue-console with a password kept only as libsodium's
	 * crypto_pwhash_str (Argon2id, salted, its parameters inside). The
	 * role decides what the console lets the user do. failed counts the
	 * sign-ins refused since the last good one (at the limit the user is
	 * locked until an admin sets a new password); every refusal and
	 * every change is also journaled. Users are never deleted, only
	 * disabled, so the journal's actor names stay meaningful. */
	"CREATE TABLE console_user (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  role TEXT NOT NULL CHECK (role IN ('operations','tariff','accounting','admin')),\n"
	"  pwhash TEXT NOT NULL,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),\n"
	"  failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),\n"
	"  failed_total INTEGER NOT NULL DEFAULT 0 CHECK (failed_total >= 0),\n"
	"  last_signin INTEGER,\n"
	"  created INTEGER NOT NULL\n"
	") STRICT;\n",

	/* 9: an overdue withdrawn (docs/penalties.md): the penalties job found,
	 * from allocations a late bank file brought, that an invoice recorded
	 * overdue was settled by its (moved) due date. The row stays, dated;
	 * invoice_overdue_withdrawn is journaled. Should it fall overdue again
	 * (a payment taken back), the row is recorded afresh (withdrawn NULL). */
	"ALTER TABLE invoice_overdue ADD COLUMN withdrawn TEXT;\n",

	/* 10: anomalies (docs/anomalies.md, jobs/anomalies.c): what `job
	 * anomalies` found active on a local day, per meter and kind (backwards,
	 * jump, stuck, drop, reverse, away), replaced whole by a rerun of the
	 * day. since: the day an event was seen (backwards, jump, reverse) or
	 * an episode began (stuck, drop, away): the ref of its alert, so an
	 * episode an operator resolved does not open again while it lasts.
	 * score and details (the figures) are for the analysts' list. */
	"CREATE TABLE anomaly (\n"
	"  day TEXT NOT NULL,\n"
	"  serial TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind IN"
	" ('backwards','jump','stuck','drop','reverse','away')),\n"
	"  since TEXT NOT NULL CHECK (since <= day),\n"
	"  score REAL NOT NULL,\n"
	"  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),\n"
	"  PRIMARY KEY (day, serial, kind)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX anomaly_serial ON anomaly(serial, kind, day);\n",
};

const int askue_schema_count =
	(int)(sizeof askue_schema_migrations / sizeof askue_schema_migrations[0]);
