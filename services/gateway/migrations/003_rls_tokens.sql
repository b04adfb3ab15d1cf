-- Row-level security on gateway.tokens (001 had none), enabled and forced like every
-- read model (tests/integration/test_rls_catalog.py).
--
-- A token belongs to a district: inside it (`liuhen.district` set for the
-- transaction: TokenIssued and TokenRevoked projected by handle(), an administrator
-- listing or revoking the district's tokens, a rebuild) a transaction sees and
-- writes that district's tokens only.
--
-- Authentication cannot be inside a district: it looks a token up by the id the
-- request presents, to learn the district. It sets `liuhen.token_id` to that id for
-- its own transaction only (set_config(..., true): never for the session, so a
-- pooled connection carries nothing to the next request), and `authenticating`
-- shows a SELECT the row of that one id, nothing else: no listing, no other token,
-- no write (services/gateway/auth.py: authenticate). A token's id is no secret (it
-- is the first part of the token, and of log lines); its row holds the SHA-256 of a
-- 256-bit secret, which no one can turn back into the secret.
--
-- Why a setting and not a SECURITY DEFINER function: the function would run as
-- liuhen_owner, and FORCE binds the owner too, so it would still need a policy
-- letting the owner see the row, keyed on the same id; the setting does it in one
-- policy, with the application's own role and one code path. Either way a caller who
-- can run SQL as the application may ask for any id it knows: the guard is that the
-- answer is one row, the one asked for, never the table.
ALTER TABLE gateway.tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE gateway.tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON gateway.tokens
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
CREATE POLICY authenticating ON gateway.tokens FOR SELECT
    USING (token_id = current_setting('liuhen.token_id', true));

-- What a token may do is fixed at its issue: the writer may set only its revocation,
-- never its district, role, unit, subject, secret or expiry (a bug or an injection in
-- the gateway cannot turn an intake token into an admin's, or make one immortal).
REVOKE UPDATE ON gateway.tokens FROM liuhen_writer;
GRANT UPDATE (revoked_at, revoked_reason) ON gateway.tokens TO liuhen_writer;
