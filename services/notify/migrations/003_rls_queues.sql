-- Row-level security on the senders' two queues, which 001 and 002 left without it:
-- notify.outbox (notifications due) and notify.webhook_due (webhook deliveries due).
-- Enabled and forced like every read model (tests/integration/test_rls_catalog.py).
--
-- Inside a district (`liuhen.district` set for the transaction: handle(), a
-- projection, a sender acting on one row) a transaction sees and writes that
-- district's rows only, and only there is a row created (its district is its
-- event's) or dropped.
--
-- Across districts is asked for, never assumed: the senders
-- (services/notify/sender.py, webhooks_sender.py) set the marker '*' for the
-- transaction of one statement (eventlog/tenancy.py: all_districts) to claim due
-- rows of every district by moving their due time a lease ahead (UPDATE ...
-- FOR UPDATE SKIP LOCKED) and, for notifications, to renew their lease. Everything
-- else they do to a row (postpone it, hold it, drop it once its work was recorded,
-- read and record it) they do inside its district. So with the marker a transaction
-- may read these rows and move their due time, but create or drop none. A row holds
-- an id, a district and a due time: no recipient, address, URL, body or secret. A
-- transaction that set no district (unset or empty) sees no row.
--
-- The lease cannot be confined by district, so the writer may not update a row's
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
            'CREATE POLICY all_districts_read ON notify.%I FOR SELECT '
            'USING (current_setting(''liuhen.district'', true) = ''*'')', t);
        EXECUTE format(
            'CREATE POLICY all_districts_lease ON notify.%I FOR UPDATE '
            'USING (current_setting(''liuhen.district'', true) = ''*'') '
            'WITH CHECK (current_setting(''liuhen.district'', true) = ''*'')', t);
        EXECUTE format('REVOKE UPDATE ON notify.%I FROM liuhen_writer', t);
        EXECUTE format('GRANT UPDATE (due_at) ON notify.%I TO liuhen_writer', t);
    END LOOP;
END $$;
