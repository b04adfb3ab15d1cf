-- Where each reader (the relay, projections) stands in commit-safe order.
CREATE TABLE eventlog.checkpoints (
    name        text PRIMARY KEY,
    tx_id       xid8 NOT NULL DEFAULT '0',
    position    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON eventlog.checkpoints TO liuhen_writer;
