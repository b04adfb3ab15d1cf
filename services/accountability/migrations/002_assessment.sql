-- Unit assessment (考核): the marks, one row per assessed event a unit drew
-- (contracts.assessment.ASSESSED_EVENTS), written by assessment_handlers.record_mark
-- with the consumer's tracking row in the same transaction. Facts only: points are
-- computed when scores are read (services/accountability/assessment.py), so a changed
-- rule table re-scores every period. A mark is never changed or removed.
--
-- The schema may exist already (001, the clues and cases): both ways work.
CREATE SCHEMA IF NOT EXISTS accountability;
GRANT USAGE ON SCHEMA accountability TO liuhen_writer;

CREATE TABLE accountability.marks (
    event_id     uuid PRIMARY KEY,
    district     text NOT NULL,
    unit         text NOT NULL,
    type         text NOT NULL,
    data         jsonb NOT NULL,  -- the event's public data, as published
    stream_id    text NOT NULL,
    position     bigint NOT NULL,  -- in the log: the deduction's trace
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX marks_by_period ON accountability.marks (district, occurred_at, position);

ALTER TABLE accountability.marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE accountability.marks FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON accountability.marks
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
-- Facts: inserted and read, never updated or deleted.
GRANT SELECT, INSERT ON accountability.marks TO liuhen_writer;
