-- The district directory: a read model of the `directory-<district>` streams,
-- written by services/directory/projections.py in the transaction of the events.
-- No foreign keys between the tables: a unit names its leaders and a person their
-- unit, both ways round, and the file loader (load.py) already refuses a directory
-- whose references do not hold; the events keep the order in which they hold.
CREATE SCHEMA directory;

CREATE TABLE directory.districts (
    district     text PRIMARY KEY,
    name         text NOT NULL,
    -- {kind: {days, working}}: read by services/complaints/deadlines.limits_from
    time_limits  jsonb NOT NULL DEFAULT '{}',
    version      bigint NOT NULL  -- stream version of the last event applied
);

CREATE TABLE directory.units (
    district          text NOT NULL,
    code              text NOT NULL,
    name              text NOT NULL,
    main_leader       text NOT NULL,  -- person id: 主要领导
    leader_in_charge  text NOT NULL,  -- person id: 分管领导
    PRIMARY KEY (district, code)
);

CREATE TABLE directory.people (
    district  text NOT NULL,
    id        text NOT NULL,
    name      text NOT NULL,
    title     text,
    unit      text,
    email     text,
    phone     text,
    PRIMARY KEY (district, id)
);

-- Row-level security, enabled and forced (see eventlog/tenancy.py): a connection sees
-- and writes only the rows of the district set for its transaction, and none outside
-- a scope. The policy text is eventlog.tenancy.POLICY_SQL.
ALTER TABLE directory.districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory.districts FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON directory.districts
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));

ALTER TABLE directory.units ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory.units FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON directory.units
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));

ALTER TABLE directory.people ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory.people FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON directory.people
    USING (district = current_setting('liuhen.district', true))
    WITH CHECK (district = current_setting('liuhen.district', true));

-- A read model may be rewritten (the log may not): the writer gets all four.
GRANT USAGE ON SCHEMA directory TO liuhen_writer;
GRANT SELECT, INSERT, UPDATE, DELETE
   ON directory.districts, directory.units, directory.people TO liuhen_writer;
