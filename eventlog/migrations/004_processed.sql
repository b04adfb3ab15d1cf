-- Idempotent consumers: a consumer records each event id it applied, in the same
-- transaction as its effect. A redelivered event finds its row and changes nothing.
CREATE TABLE eventlog.processed (
    consumer      text NOT NULL,
    event_id      uuid NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
GRANT SELECT, INSERT ON eventlog.processed TO liuhen_writer;
