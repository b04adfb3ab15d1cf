-- Row-level security on issues.timers, which 001 left without it: enabled and
-- forced like every read model (tests/integration/test_rls_catalog.py).
--
-- Inside a district (`liuhen.district` set for the transaction: handle(), a
-- projection, a rebuild) a transaction sees and writes that district's timers only,
-- and only there is one created: its district is its IssueMeasuresSet's.
-- Across districts is asked for, never assumed: the overdue sweep
-- (services/issues/handlers.sweep) sets the marker '*' for its transaction
-- (eventlog/tenancy.py: all_districts) to read every district's due timers, then
-- decides each issue, and ticks a timer it finds done, inside the issue's district.
-- So with the marker a transaction may read timers, nothing more. A timer holds an
-- issue id, a district and a deadline: nothing of an issue itself. A transaction
-- that set no district (unset or empty) sees no timer.
--
-- The writer may not update a timer's district at all: its UPDATE grant is narrowed
-- to the columns set.
ALTER TABLE issues.timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE issues.timers FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON issues.timers
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
CREATE POLICY all_districts_read ON issues.timers FOR SELECT
    USING (current_setting('liuhen.district', true) = '*');

REVOKE UPDATE ON issues.timers FROM liuhen_writer;
GRANT UPDATE (due_at, overdue_marked) ON issues.timers TO liuhen_writer;
