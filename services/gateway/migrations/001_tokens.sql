-- Bearer tokens, projected from TokenIssued / TokenRevoked events (stream token-<id>).
-- Only a SHA-256 of each secret is kept: the secret is shown once, at creation.
-- No row-level security: a request is authenticated before its district is known,
-- and a row holds no personal data, only what a token may do.
CREATE SCHEMA gateway;
GRANT USAGE ON SCHEMA gateway TO liuhen_writer;

CREATE TABLE gateway.tokens (
    token_id     text PRIMARY KEY,
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    district     text NOT NULL,
    role         text NOT NULL,
    unit         text,
    subject      text NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
GRANT SELECT, INSERT, UPDATE ON gateway.tokens TO liuhen_writer;
