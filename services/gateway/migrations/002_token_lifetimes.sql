-- Tokens expire and may be revoked, with a reason (TokenIssued's `expires_at`,
-- TokenRevoked: services/gateway/auth.py). A token issued before tokens expired has
-- no expiry in its event: the projection gives it the default lifetime (90 days)
-- from its issue, and so does this backfill, so a rebuild finds the same row.
ALTER TABLE gateway.tokens
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN revoked_reason text;
UPDATE gateway.tokens SET expires_at = created_at + interval '90 days'
 WHERE expires_at IS NULL;
ALTER TABLE gateway.tokens ALTER COLUMN expires_at SET NOT NULL;
-- GET /v1/tokens: a district's tokens, newest first.
CREATE INDEX tokens_by_district ON gateway.tokens (district, created_at DESC);
