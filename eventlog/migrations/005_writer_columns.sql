-- The writer inserts events but may not choose what the database assigns: a chosen
-- tx_id could put a row behind every reader's checkpoint, where no reader would ever see
-- it; a chosen position (OVERRIDING SYSTEM VALUE) could break the global order.
REVOKE INSERT ON eventlog.events FROM liuhen_writer;
GRANT INSERT (event_id, stream_id, stream_version, district, type, schema_version, data,
              actor, reason, correlation_id, causation_id, occurred_at, recorded_at,
              prev_hash, hash)
   ON eventlog.events TO liuhen_writer;
