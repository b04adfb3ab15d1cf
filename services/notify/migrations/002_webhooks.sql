-- Webhooks for integrators: subscriptions, their signing secrets, deliveries (read
-- model of the `webhook-<id>` and `delivery-<id>` streams) and the sender's queue.
-- 001 may or may not have made the schema: both say IF NOT EXISTS.
CREATE SCHEMA IF NOT EXISTS notify;
GRANT USAGE ON SCHEMA notify TO liuhen_writer;

CREATE TABLE notify.webhook_subscriptions (
    id           text PRIMARY KEY,
    district     text NOT NULL,
    url          text NOT NULL,
    event_types  jsonb NOT NULL,
    status       text NOT NULL,          -- active | removed
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL
);
CREATE INDEX webhook_subscriptions_active
    ON notify.webhook_subscriptions (district) WHERE status = 'active';

-- Not in any event: HMAC needs the secret itself (a hash would not do, as it does for
-- bearer tokens), and the log keeps everything forever and is read by inspectors.
-- Sealed with AES-GCM under the operator's LIUHEN_WEBHOOK_KEY (services/notify/
-- webhooks_secrets.py); one row per subscription, replaced when rotated.
CREATE TABLE notify.webhook_secrets (
    subscription_id  text PRIMARY KEY,
    district         text NOT NULL,
    sealed           text NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE notify.webhook_deliveries (
    id               text PRIMARY KEY,   -- msg_<24 hex>: the webhook-id header
    district         text NOT NULL,
    subscription_id  text NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    body             text NOT NULL,      -- the public envelope, byte for byte as sent
    status           text NOT NULL,      -- pending | delivered | dead
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    updated_at       timestamptz NOT NULL,
    version          bigint NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_by_subscription
    ON notify.webhook_deliveries (district, subscription_id, created_at DESC, id DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_subscriptions', 'webhook_secrets',
                             'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE notify.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE notify.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY by_district ON notify.%I '
            'USING (district = current_setting(''liuhen.district'', true)) '
            'WITH CHECK (district = current_setting(''liuhen.district'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON notify.%I TO liuhen_writer', t);
    END LOOP;
END $$;

-- The sender works across districts: ids, districts and due times only (no URL, no
-- body, no secret), like issues.timers. A row exists while its delivery is pending.
CREATE TABLE notify.webhook_due (
    delivery_id  text PRIMARY KEY,
    district     text NOT NULL,
    due_at       timestamptz NOT NULL
);
CREATE INDEX webhook_due_at ON notify.webhook_due (due_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON notify.webhook_due TO liuhen_writer;
