-- The issues service's read model: campaigns and their rectification lists.
CREATE SCHEMA issues;
GRANT USAGE ON SCHEMA issues TO liuhen_writer;

CREATE TABLE issues.campaigns (
    id           text PRIMARY KEY,
    district     text NOT NULL,
    name         text NOT NULL,
    phases       jsonb NOT NULL,
    launched_at  timestamptz NOT NULL
);

CREATE TABLE issues.items (
    id              text PRIMARY KEY,
    district        text NOT NULL,
    campaign_id     text NOT NULL,
    unit            text NOT NULL,
    list            text NOT NULL,
    source          text NOT NULL,
    status          text NOT NULL,
    manifestation   text NOT NULL,
    responsible     text,
    supervisor      text,
    suggested_unit  text,
    answer          text,
    measures        text,
    at_once         boolean,
    progress        text,
    evidence        jsonb NOT NULL DEFAULT '[]',
    due_at          timestamptz,
    overdue         boolean NOT NULL DEFAULT false,
    sent_back       integer NOT NULL DEFAULT 0,
    closed_at       timestamptz,
    closed_on_time  boolean,
    complaint_id    text,
    registered_at   timestamptz NOT NULL,
    position        bigint NOT NULL,  -- the IssueRegistered event's: ledger order
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL
);
CREATE INDEX items_by_campaign ON issues.items (district, campaign_id, unit, list, position);
CREATE INDEX items_by_registered ON issues.items (district, registered_at DESC, id DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['campaigns', 'items'] LOOP
        EXECUTE format('ALTER TABLE issues.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE issues.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON issues.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON issues.%I TO liuhen_writer', t);
    END LOOP;
END $$;

-- The overdue timer sweeps every district: ids, districts and deadlines only.
CREATE TABLE issues.timers (
    issue_id        text PRIMARY KEY,
    district        text NOT NULL,
    due_at          timestamptz NOT NULL,
    overdue_marked  boolean NOT NULL DEFAULT false
);
CREATE INDEX issue_timers_due ON issues.timers (due_at) WHERE NOT overdue_marked;
GRANT SELECT, INSERT, UPDATE, DELETE ON issues.timers TO liuhen_writer;
