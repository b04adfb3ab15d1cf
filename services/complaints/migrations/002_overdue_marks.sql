-- Overdue marks (超期) charged to the unit that held the complaint when its deadline
-- passed: a later return, extension or reopen does not take the mark away, and the
-- next unit is not charged with it.
CREATE TABLE complaints.overdue_marks (
    event_id      uuid PRIMARY KEY,
    district      text NOT NULL,
    complaint_id  text NOT NULL,
    unit          text,
    due_at        timestamptz NOT NULL,
    marked_at     timestamptz NOT NULL
);
CREATE INDEX overdue_marks_by_unit ON complaints.overdue_marks (district, unit);
ALTER TABLE complaints.overdue_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints.overdue_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY by_district ON complaints.overdue_marks
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));
GRANT SELECT, INSERT ON complaints.overdue_marks TO liuhen_writer;
