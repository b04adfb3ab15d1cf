-- The complaints service's read model: rebuilt from the log, updated in the same
-- transaction as the events (services/complaints/projections.py).
CREATE SCHEMA complaints;
GRANT USAGE ON SCHEMA complaints TO liuhen_writer;

CREATE TABLE complaints.complaints (
    id                  text PRIMARY KEY,
    district            text NOT NULL,
    status              text NOT NULL,
    channel             text NOT NULL,
    kind                text NOT NULL,
    category            text NOT NULL,
    urgent              boolean NOT NULL,
    title               text,
    description         text NOT NULL,
    unit_complained     text,
    persons             jsonb NOT NULL,
    location            jsonb NOT NULL,
    attachments         jsonb NOT NULL,
    anonymous           boolean NOT NULL,
    received_by         text NOT NULL,   -- first contact is responsible (首问负责)
    received_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    handling_unit       text,
    handling_unit_name  text,
    dispatched_at       timestamptz,
    signed_at           timestamptz,
    due_at              timestamptz,     -- NULL while no clock runs (or it is paused)
    remind_at           timestamptz,
    pending_extension   integer,
    extensions          integer NOT NULL DEFAULT 0,
    returns             integer NOT NULL DEFAULT 0,
    urged               integer NOT NULL DEFAULT 0,
    escalated           integer NOT NULL DEFAULT 0,
    reopened            integer NOT NULL DEFAULT 0,
    overdue             boolean NOT NULL DEFAULT false,
    reply               text,
    substantiated       boolean,
    replied_on_time     boolean,
    feedback            text,
    rating              text,
    reject_reason       text,
    merged_into         text,
    closed_at           timestamptz,
    ruling              text,
    version             bigint NOT NULL
);
CREATE INDEX complaints_by_received ON complaints.complaints (district, received_at DESC, id DESC);
CREATE INDEX complaints_by_unit ON complaints.complaints (district, handling_unit, received_at DESC);

-- Who complained: apart, so that no query for a unit can select it by mistake.
CREATE TABLE complaints.complainants (
    complaint_id  text PRIMARY KEY REFERENCES complaints.complaints (id),
    district      text NOT NULL,
    name          text,
    phone         text,
    email         text,
    address       text
);

-- Returns (退回) counted per unit: repeated returns are themselves shirking.
CREATE TABLE complaints.returns (
    event_id      uuid PRIMARY KEY,
    district      text NOT NULL,
    complaint_id  text NOT NULL,
    unit          text NOT NULL,
    reason        text,
    returned_at   timestamptz NOT NULL
);
CREATE INDEX returns_by_unit ON complaints.returns (district, unit);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['complaints', 'complainants', 'returns'] LOOP
        EXECUTE format('ALTER TABLE complaints.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE complaints.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON complaints.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE ON complaints.%I TO liuhen_writer', t);
    END LOOP;
END $$;

-- Without row-level security, on purpose, and holding nothing personal:
-- * query_codes: the anonymous follow-up (`GET /v1/track/{code}`) comes with no token
--   and so no district; the code's SHA-256 finds the complaint and its district, and
--   the read then runs scoped to that district.
-- * timers: the overdue and reminder timer sweeps every district at once; it sees ids,
--   districts and deadlines only, and decides each complaint inside its district.
CREATE TABLE complaints.query_codes (
    code_hash     text PRIMARY KEY,
    district      text NOT NULL,
    complaint_id  text NOT NULL
);
CREATE TABLE complaints.timers (
    complaint_id  text PRIMARY KEY,
    district      text NOT NULL,
    due_at        timestamptz NOT NULL,
    remind_at     timestamptz NOT NULL,
    overdue_marked boolean NOT NULL DEFAULT false,
    reminded      boolean NOT NULL DEFAULT false
);
CREATE INDEX timers_due ON complaints.timers (due_at) WHERE NOT overdue_marked;
CREATE INDEX timers_remind ON complaints.timers (remind_at) WHERE NOT reminded;
GRANT SELECT, INSERT ON complaints.query_codes TO liuhen_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON complaints.timers TO liuhen_writer;
