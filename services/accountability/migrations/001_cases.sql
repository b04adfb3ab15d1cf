-- The accountability service's read model: clues, cases, bulletins.
-- Texts people wrote (summaries, findings, reasoning, appeals) stay in the log and
-- are read from the case's history; these tables hold what lists filter and sort by.
CREATE SCHEMA IF NOT EXISTS accountability;
GRANT USAGE ON SCHEMA accountability TO liuhen_writer;

CREATE TABLE accountability.clues (
    id              text PRIMARY KEY,
    district        text NOT NULL,
    kind            text NOT NULL,
    mandatory       boolean NOT NULL,
    unit            text,
    subject         text,
    source_type     text NOT NULL,
    source_id       text,
    status          text NOT NULL,
    grounds         integer NOT NULL DEFAULT 1,
    case_id         text,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL
);
CREATE INDEX clues_by_registered ON accountability.clues (district, registered_at DESC, id DESC);

CREATE TABLE accountability.cases (
    id                   text PRIMARY KEY,
    district             text NOT NULL,
    clue_id              text,
    unit                 text,
    subject              text,
    subject_role         text NOT NULL,
    origin               text NOT NULL,
    linked_from          text,
    status               text NOT NULL,
    substantiated        boolean,
    exemption            text,
    exemption_grounds    jsonb NOT NULL DEFAULT '[]',
    measures             jsonb NOT NULL DEFAULT '[]',
    severity             integer,
    collective_decision  boolean,
    mitigated            boolean,
    reference            boolean NOT NULL DEFAULT false,
    bulletin_id          text,
    notified_at          timestamptz,
    appeal_until         date,
    appeal_outcome       text,
    outcome              text,
    opened_at            timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              bigint NOT NULL
);
CREATE INDEX cases_by_opened ON accountability.cases (district, opened_at DESC, id DESC);
CREATE INDEX cases_by_parent ON accountability.cases (district, linked_from);

CREATE TABLE accountability.bulletins (
    id            text PRIMARY KEY,
    district      text NOT NULL,
    case_id       text NOT NULL,
    title         text NOT NULL,
    body          text NOT NULL,
    unit          text,
    unit_name     text,
    subject_name  text,
    measures      jsonb NOT NULL,
    published_on  date NOT NULL,
    published_at  timestamptz NOT NULL
);
CREATE INDEX bulletins_by_time ON accountability.bulletins (district, published_at);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clues', 'cases', 'bulletins'] LOOP
        EXECUTE format('ALTER TABLE accountability.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE accountability.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON accountability.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON accountability.%I TO liuhen_writer', t);
    END LOOP;
END $$;
