-- People sign themselves up, and hear from duijie by e-mail.
--
-- users.status: `active` (everyone created before this step, and accounts an organiser or an
-- invitation vouches for), `pending_verification` (signed up, the e-mail link not yet
-- followed), `pending_approval` (verified, waiting for an organiser), `rejected`. Only active
-- accounts sign in. users.application keeps what the applicant asked for (the organisation
-- by id, or by name, kind, city and 统一社会信用代码) and a rejection's reason, as JSON.
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN application TEXT;
-- The registered organisation an applicant asked to join (for its administrators' queue),
-- and whether a member administers its organisation (approves who joins it; the first
-- member approved into an organisation becomes one).
ALTER TABLE users ADD COLUMN applied_organization_id INTEGER;
ALTER TABLE users ADD COLUMN org_admin INTEGER NOT NULL DEFAULT 0;

-- 统一社会信用代码 of an organisation (GB 32100-2015), unique when known.
ALTER TABLE organizations ADD COLUMN credit_code TEXT;
CREATE UNIQUE INDEX organizations_credit_code ON organizations(credit_code);

-- Links sent by mail (verification, password reset, invitation), stored as SHA-256 hashes;
-- each is used once (used_at) before it expires.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    payload TEXT,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id, purpose);

-- The outbox: every message is written in the same transaction as the change that causes
-- it; the delivery worker claims a due message by moving next_attempt_at ahead (a lease),
-- so a claim left by a crashed process expires and the message is tried again, with the
-- same Message-ID.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    unsubscribe_url TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);

-- Which categories of mail a user wants (a missing row means the category's default).
CREATE TABLE notification_settings (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, category)
);

-- Alert notifications already sent in a daily digest.
ALTER TABLE notifications ADD COLUMN digested_at TEXT;

-- Failed or limited attempts (sign-ins, sign-ups, reset requests) by the SHA-256 of their key
-- (an account, an address), kept in the store so that every server on one database counts
-- the same attempts and a lockout holds on all of them.
CREATE TABLE attempt_log (
    key_hash TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX attempt_log_key ON attempt_log(key_hash, at);

-- change_log compaction: when each change was made (NULL for changes made before this
-- step, which count as old), where each consumer of the log has got to (every server's
-- index, by a name kept in its index directory), and the highest sequence number removed
-- (a consumer behind it rebuilds from the store instead of missing changes).
ALTER TABLE change_log ADD COLUMN at TEXT;
CREATE TABLE change_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO worker_watermarks (name, seq) VALUES ('compacted', 0);

-- Keys the server signs links with (unsubscribe), made at first use.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
