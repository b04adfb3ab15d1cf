-- Row-level security on the senders' two queues, which 001 and 002 left without it:
-- notify.outbox (notifications due) and notify.webhook_due (webhook deliveries due).
-- Enabled and forced like every read model (tests/integration/test_rls_catalog.py).
--
-- Inside a district (`liuhen.district` set for the transaction: handle(), a
-- projection) a transaction sees and writes that district's rows only, and only
-- there is a row created: its district is its event's.
--
-- Outside any district (the setting unset or empty) run the senders
-- (services/notify/sender.py, webhooks_sender.py): each claims due rows of every
-- district by moving their due time a lease ahead (UPDATE ... FOR UPDATE SKIP
-- LOCKED), postpones some, drops those whose work was recorded meanwhile, and reads
-- and records each one inside its district. So outside any district a transaction
-- sees every row and may move or drop one, but creates none. A row holds an id, a
-- district and a due time: no recipient, address, URL, body or secret.
--
-- Those UPDATEs cannot be confined by district, so the writer may not update a row's
-- district at all: its UPDATE grant is narrowed to due_at.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['outbox', 'webhook_due'] LOOP
        EXECUTE format('ALTER TABLE notify.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE notify.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON notify.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format(
            'CREATE POLICY outside_any_district_read ON notify.%I FOR SELECT '
            'USING (coalesce(current_setting(''liuhen.district'', true), '''') = '''')',
            t);
        EXECUTE format(
            'CREATE POLICY outside_any_district_lease ON notify.%I FOR UPDATE '
            'USING (coalesce(current_setting(''liuhen.district'', true), '''') = '''') '
            'WITH CHECK (coalesce(current_setting(''liuhen.district'', true), '''') = '''')',
            t);
        EXECUTE format(
            'CREATE POLICY outside_any_district_drop ON notify.%I FOR DELETE '
            'USING (coalesce(current_setting(''liuhen.district'', true), '''') = '''')',
            t);
        EXECUTE format('REVOKE UPDATE ON notify.%I FROM liuhen_writer', t);
        EXECUTE format('GRANT UPDATE (due_at) ON notify.%I TO liuhen_writer', t);
    END LOOP;
END $$;
