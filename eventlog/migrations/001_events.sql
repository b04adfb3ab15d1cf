-- The log: one table, every event of every aggregate of every district.
CREATE SCHEMA eventlog;

CREATE TABLE eventlog.events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The appending transaction. Readers follow (tx_id, position) and stop below the
    -- oldest running transaction, so a late commit is never skipped (see store.py).
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_version  bigint NOT NULL CHECK (stream_version > 0),
    district        text NOT NULL,
    type            text NOT NULL,
    schema_version  integer NOT NULL CHECK (schema_version > 0),
    data            jsonb NOT NULL,
    actor           text NOT NULL,
    reason          text,
    correlation_id  text,
    causation_id    text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_commit_order ON eventlog.events (tx_id, position);
CREATE INDEX events_district_commit_order ON eventlog.events (district, tx_id, position);
CREATE INDEX events_correlation ON eventlog.events (correlation_id, position);

GRANT USAGE ON SCHEMA eventlog TO liuhen_writer;
GRANT SELECT, INSERT ON eventlog.events TO liuhen_writer;
