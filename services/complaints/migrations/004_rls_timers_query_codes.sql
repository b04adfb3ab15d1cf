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
-- Outside any district (the setting unset or empty) is where the platform's own
-- background work runs: the sweep (services/complaints/handlers.sweep) reads every
-- district's due timers and ticks the ones it finds done, and the anonymous lookup
-- (views.track) finds a code's complaint and district, then reads the complaint
-- inside that district. So outside any district a transaction sees every row and may
-- tick a timer, but creates none. These rows hold ids, districts and times (timers),
-- or a code's SHA-256 and a complaint id (query codes): nothing of a complaint or a
-- complainant. Forgetting the scope here shows the queue the sweep needs, never a
-- complaint (complaints.complaints shows nothing outside a district).
--
-- The sweep's UPDATE cannot be confined by district (it runs outside any), so the
-- writer may not update a timer's district at all: its UPDATE grant is narrowed to
-- the columns the sweep and the projections set.
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
            'CREATE POLICY outside_any_district_read ON complaints.%I FOR SELECT '
            'USING (coalesce(current_setting(''liuhen.district'', true), '''') = '''')',
            t);
    END LOOP;
END $$;

CREATE POLICY outside_any_district_tick ON complaints.timers FOR UPDATE
    USING (coalesce(current_setting('liuhen.district', true), '') = '')
    WITH CHECK (coalesce(current_setting('liuhen.district', true), '') = '');

REVOKE UPDATE ON complaints.timers FROM liuhen_writer;
GRANT UPDATE (due_at, remind_at, overdue_marked, reminded)
   ON complaints.timers TO liuhen_writer;
