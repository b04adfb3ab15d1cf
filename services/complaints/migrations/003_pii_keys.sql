-- Complainants' identities, encrypted per complainant (services/complaints/pii.py).
--
-- complaints.pii_keys: each complainant's data key, wrapped under the master key
-- (LIUHEN_PII_KEY, never in the database). Not derived from events, so a rebuild
-- never touches it (services/complaints/rebuild.py keeps it). No UPDATE: a key is
-- never rewritten. DELETE is erasure (crypto-shredding), the one deletion allowed:
-- `liuhen pii erase` deletes the row in the transaction that records
-- ComplainantErased.
CREATE TABLE complaints.pii_keys (
    ref            text PRIMARY KEY,     -- the complainant reference (P-...)
    district       text NOT NULL,
    complaint_id   text NOT NULL,
    wrapped        bytea NOT NULL,       -- nonce || AES-256-GCM(master key, data key)
    master_key_id  text NOT NULL,        -- which master key wrapped it
    created_at     timestamptz NOT NULL
);
ALTER TABLE complaints.pii_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints.pii_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON complaints.pii_keys
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
GRANT SELECT, INSERT, DELETE ON complaints.pii_keys TO liuhen_writer;

-- complaints.pii_index: the blind indexes of each complainant's phones and emails
-- (HMAC-SHA256 under a key derived from the master key, the district in the MAC:
-- services/complaints/pii.py), so that a person's next complaint reuses their key
-- and erasure is per person. Never in an event: like the key, not derived from the
-- log, kept by a rebuild, and deleted with the key by an erasure. The primary key
-- is what makes two concurrent first complaints of one person agree on one key:
-- the second insert waits for the first and fails, and the second complaint is
-- received again, now matching the first (identity.py). The foreign key locks the
-- key row while a complaint joins it, so an erasure cannot slip in between.
CREATE TABLE complaints.pii_index (
    district  text NOT NULL,
    digest    bytea NOT NULL,
    ref       text NOT NULL REFERENCES complaints.pii_keys (ref),
    PRIMARY KEY (district, digest)
);
CREATE INDEX pii_index_by_ref ON complaints.pii_index (ref);
ALTER TABLE complaints.pii_index ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints.pii_index FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON complaints.pii_index
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
GRANT SELECT, INSERT, DELETE ON complaints.pii_index TO liuhen_writer;

-- The read model keeps the encrypted identity and which fields were given, never the
-- identity in plain text.
ALTER TABLE complaints.complainants
    ADD COLUMN ref text,
    ADD COLUMN ciphertext text,                   -- NULL once erased (or legacy)
    ADD COLUMN given text[] NOT NULL DEFAULT '{}', -- field names, never values
    ADD COLUMN legacy boolean NOT NULL DEFAULT false,
    ADD COLUMN erased_at timestamptz;

-- Rows projected before this migration came from schema-1 events, which hold the
-- identity in plain text (the log cannot be rewritten): they become legacy rows, read
-- from their event when someone reads them (and that read recorded), their reference
-- the complaint's id. The plain columns go. Row-level security is lifted for the
-- owner for this one statement, inside this migration's transaction.
ALTER TABLE complaints.complainants NO FORCE ROW LEVEL SECURITY;
UPDATE complaints.complainants SET
    ref = complaint_id,
    legacy = true,
    given = array_remove(ARRAY[
        CASE WHEN coalesce(name, '') <> '' THEN 'name' END,
        CASE WHEN coalesce(phone, '') <> '' THEN 'phone' END,
        CASE WHEN coalesce(email, '') <> '' THEN 'email' END,
        CASE WHEN coalesce(address, '') <> '' THEN 'address' END], NULL);
ALTER TABLE complaints.complainants FORCE ROW LEVEL SECURITY;
ALTER TABLE complaints.complainants
    DROP COLUMN name,
    DROP COLUMN phone,
    DROP COLUMN email,
    DROP COLUMN address,
    ALTER COLUMN ref SET NOT NULL;
-- Not unique: one complainant (one reference, one key) may have several complaints.
CREATE INDEX complainants_by_ref ON complaints.complainants (ref);
