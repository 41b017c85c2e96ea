-- Connection requests (对接申请): a member of one organisation asks the owner of a listing
-- for a meeting (need ↔ result, need ↔ expert, either direction); the other side accepts
-- (with a meeting), declines with a reason, or proposes another time, which the side whose
-- turn it then is answers. An accepted request opens a cooperation entry in the ledger,
-- and everything later (the meeting, intention, contract, transfer) moves that entry.
--
-- open_key is the pair's key (its two listings, in a fixed order) while the request is
-- open and NULL once it is answered, withdrawn or expired: the unique index then allows
-- one open request per pair, whoever sent it (NULLs are distinct in UNIQUE).
CREATE TABLE connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_kind TEXT NOT NULL,
    from_id BIGINT NOT NULL,
    from_org_id BIGINT,
    to_kind TEXT NOT NULL,
    to_id BIGINT NOT NULL,
    to_org_id BIGINT,
    sender_id BIGINT NOT NULL,
    assignee_id BIGINT,
    broker_id BIGINT,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    turn TEXT NOT NULL,
    message TEXT,
    decline_reason TEXT,
    decline_note TEXT,
    meeting TEXT,
    ledger_entry_id BIGINT,
    open_key TEXT UNIQUE,
    expires_at TEXT NOT NULL,
    reminded_at TEXT,
    answered_at TEXT,
    feedback_due_at TEXT,
    feedback_asked_at TEXT,
    follow_up_1_at TEXT,
    follow_up_2_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX connections_from_org ON connections(from_org_id, created_at);
CREATE INDEX connections_to_org ON connections(to_org_id, created_at);
CREATE INDEX connections_sender ON connections(sender_id, created_at);
CREATE INDEX connections_broker ON connections(broker_id);
CREATE INDEX connections_due ON connections(status, expires_at);

-- Every step of a request: who did what, when, with what message.
CREATE TABLE connection_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id BIGINT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    user_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX connection_events_connection ON connection_events(connection_id, id);

-- The one-tap question after the meeting: one answer per person and request. The first
-- answer that the meeting happened moves the ledger entry to met.
CREATE TABLE connection_feedback (
    connection_id BIGINT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    happened INTEGER NOT NULL,
    useful INTEGER,
    at TEXT NOT NULL,
    PRIMARY KEY (connection_id, user_id)
);

-- The ledger entry of an accepted request, the contract's registration number
-- (技术合同登记号) and the broker (技术经纪人) credited with the case.
ALTER TABLE ledger_entries ADD COLUMN connection_id BIGINT;
ALTER TABLE ledger_entries ADD COLUMN registration_no TEXT;
ALTER TABLE ledger_entries ADD COLUMN broker_id BIGINT;
CREATE INDEX ledger_entries_broker ON ledger_entries(broker_id);
