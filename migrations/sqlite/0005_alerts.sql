-- Match alerts: subscriptions ("new results matching my need N with score ≥ s", "new
-- needs in industry X"), the webhook deliveries they cause with every attempt, the in-app
-- notifications of their owners, and the alert worker's watermark in the change log.
--
-- Deliveries and notifications are unique per subscription and listing (dedup_key), so
-- evaluating the same change twice (after a crash, or a re-edit of the listing) never
-- alerts twice. A delivery is pending until it is delivered or has used its attempts; the
-- worker claims one by moving next_attempt_at forward, so a claim left by a crashed process
-- expires and the delivery is retried.
CREATE TABLE alert_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    need_id INTEGER,
    industry TEXT,
    min_score REAL,
    webhook_url TEXT,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX alert_subscriptions_user ON alert_subscriptions(user_id);
CREATE INDEX alert_subscriptions_kind ON alert_subscriptions(kind);

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL REFERENCES alert_subscriptions(id) ON DELETE CASCADE,
    dedup_key TEXT NOT NULL,
    delivery_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (subscription_id, dedup_key)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(status, next_attempt_at);

CREATE TABLE alert_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX alert_attempts_delivery ON alert_attempts(delivery_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subscription_id INTEGER REFERENCES alert_subscriptions(id) ON DELETE SET NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    read_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);

-- Named positions of background workers in the change log. The alert worker starts at the
-- log's end as of this migration: listings that existed before alerts never alert.
CREATE TABLE worker_watermarks (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO worker_watermarks (name, seq) SELECT 'alerts', COALESCE(MAX(seq), 0) FROM change_log;
