-- Row-level security on the two complaints tables 001 left without it: the timers
-- the overdue sweep reads across districts, and the query codes an anonymous
-- follow-up looks up before it knows the district. Enabled and forced like every
-- read model (tests/integration/test_rls_catalog.py).
--
-- Inside a district (`liuhen.district` set for the transaction: a command's
-- handle(), a projection, a rebuild) a transaction sees and writes that district's
-- rows only, as on every read model, and only there is a row created: its district
-- is its event's.
--
-- Across districts is asked for, never assumed: the platform's own background work
-- sets the marker '*' for its transaction (eventlog/tenancy.py: all_districts). The
-- sweep (services/complaints/handlers.sweep) reads every district's due timers that
-- way, then decides each complaint, and ticks a timer it finds done, inside the
-- complaint's district. The anonymous lookup (views.track) finds a code's complaint
-- and district that way, then reads the complaint inside that district. So with
-- the marker a transaction may read these rows, nothing more: no tick, no new row.
-- These rows hold ids, districts and times (timers), or a code's SHA-256 and a
-- complaint id (query codes): nothing of a complaint or a complainant.
--
-- A transaction that set no district (the setting unset or empty: a forgotten
-- scope, or the rest of a transaction after a nested scope) sees no row here, as on
-- every read model.
--
-- The writer may not update a timer's district at all (a timer keeps its
-- complaint's district): its UPDATE grant is narrowed to the columns the sweep and
-- the projections set.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['timers', 'query_codes'] LOOP
        EXECUTE format('ALTER TABLE complaints.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE complaints.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON complaints.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format(
            'CREATE POLICY all_districts_read ON complaints.%I FOR SELECT '
            'USING (current_setting(''liuhen.district'', true) = ''*'')', t);
    END LOOP;
END $$;

REVOKE UPDATE ON complaints.timers FROM liuhen_writer;
GRANT UPDATE (due_at, remind_at, overdue_marked, reminded)
   ON complaints.timers TO liuhen_writer;
