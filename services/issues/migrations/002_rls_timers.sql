-- Row-level security on issues.timers, which 001 left without it: enabled and
-- forced like every read model (tests/integration/test_rls_catalog.py).
--
-- Inside a district (`liuhen.district` set for the transaction: handle(), a
-- projection, a rebuild) a transaction sees and writes that district's timers only,
-- and only there is one created: its district is its IssueMeasuresSet's.
-- Outside any district (the setting unset or empty) runs the overdue sweep
-- (services/issues/handlers.sweep): it reads every district's due timers and ticks
-- the ones it finds done, then decides each issue inside its district. So outside
-- any district a transaction sees every timer and may tick one, but creates none. A
-- timer holds an issue id, a district and a deadline: nothing of an issue itself.
--
-- The sweep's UPDATE cannot be confined by district, so the writer may not update a
-- timer's district at all: its UPDATE grant is narrowed to the columns set.
ALTER TABLE issues.timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE issues.timers FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON issues.timers
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
CREATE POLICY outside_any_district_read ON issues.timers FOR SELECT
    USING (coalesce(current_setting('liuhen.district', true), '') = '');
CREATE POLICY outside_any_district_tick ON issues.timers FOR UPDATE
    USING (coalesce(current_setting('liuhen.district', true), '') = '')
    WITH CHECK (coalesce(current_setting('liuhen.district', true), '') = '');

REVOKE UPDATE ON issues.timers FROM liuhen_writer;
GRANT UPDATE (due_at, overdue_marked) ON issues.timers TO liuhen_writer;
