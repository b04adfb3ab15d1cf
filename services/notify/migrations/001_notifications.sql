-- The notify service's read model (people side): notifications, their outbox, the
-- in-app inbox, and the district's settings. Written by services/notify/projections.py
-- in the transaction of the events.
CREATE SCHEMA IF NOT EXISTS notify;
GRANT USAGE ON SCHEMA notify TO liuhen_writer;

-- One row per notification: who (by role, never an address), which channel, the
-- rendering context (from the public event and the directory: nothing of the
-- complainant's), where it stands.
CREATE TABLE notify.notifications (
    id               text PRIMARY KEY,
    district         text NOT NULL,
    kind             text NOT NULL,
    recipient        text NOT NULL,
    channel          text NOT NULL,
    context          jsonb NOT NULL,
    status           text NOT NULL,     -- queued | sent | abandoned
    attempts         integer NOT NULL DEFAULT 0,
    due_at           timestamptz NOT NULL,
    source_event_id  uuid NOT NULL,
    source_type      text NOT NULL,
    correlation_id   text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    last_error       text,
    version          bigint NOT NULL
);
CREATE INDEX notifications_by_correlation ON notify.notifications (district, correlation_id);

-- The inbox: what a unit, a role or a person reads at GET /v1/inbox.
CREATE TABLE notify.inbox (
    id              text PRIMARY KEY,   -- the notification's
    district        text NOT NULL,
    audience        text NOT NULL,      -- unit:<code> | role:<role> | person:<id>
    kind            text NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    source_type     text NOT NULL,
    correlation_id  text,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    read_by         text
);
CREATE INDEX inbox_by_audience ON notify.inbox (district, audience, created_at DESC, id DESC);

-- The district's settings (NotifyRuleSet, NotifyTemplateSet, NotifyOfficeSet).
CREATE TABLE notify.rules (
    district  text NOT NULL,
    kind      text NOT NULL,
    channels  jsonb NOT NULL,
    PRIMARY KEY (district, kind)
);
CREATE TABLE notify.templates (
    district  text NOT NULL,
    kind      text NOT NULL,
    title     text NOT NULL,
    body      text NOT NULL,
    PRIMARY KEY (district, kind)
);
CREATE TABLE notify.offices (
    district  text PRIMARY KEY,
    people    jsonb NOT NULL
);

-- The unit of an issue (from its public IssueRegistered): IssueSentBack and
-- IssueSubmitted do not name it, and their notifications go to it.
CREATE TABLE notify.units_of (
    stream_id  text PRIMARY KEY,
    district   text NOT NULL,
    unit       text NOT NULL
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['notifications', 'inbox', 'rules', 'templates', 'offices',
                             'units_of'] LOOP
        EXECUTE format('ALTER TABLE notify.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE notify.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON notify.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON notify.%I TO liuhen_writer', t);
    END LOOP;
END $$;

-- The outbox the sender sweeps across every district (like the complaints' timers):
-- without row-level security, and holding ids, districts and times only. A sender
-- claims due rows by moving their due time a lease ahead in one short statement
-- (FOR UPDATE SKIP LOCKED), then sends outside any transaction (sender.py).
CREATE TABLE notify.outbox (
    notification_id  text PRIMARY KEY,
    district         text NOT NULL,
    due_at           timestamptz NOT NULL
);
CREATE INDEX outbox_due ON notify.outbox (due_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON notify.outbox TO liuhen_writer;
