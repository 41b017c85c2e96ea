-- The outcomes ledger (台账): one entry per pairing of an event, per cooperation arranged
-- outside events, and per inter-university project, with the history of its status.
--
-- Organisations and listings are referred to without foreign keys, like event listings:
-- the ledger is a record of what happened and must outlive a deleted listing or event.
-- A pairing entry is keyed by (event, enterprise, partner); NULLs are distinct in UNIQUE,
-- so entries without an event never collide.
CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    event_id INTEGER,
    enterprise_id INTEGER,
    university_id INTEGER,
    partner_university_id INTEGER,
    need_id INTEGER,
    partner_kind TEXT,
    partner_id INTEGER,
    project_kind TEXT,
    title TEXT NOT NULL,
    industry TEXT,
    city TEXT,
    year INTEGER NOT NULL,
    status TEXT NOT NULL,
    max_stage INTEGER NOT NULL DEFAULT 0,
    amount_yuan BIGINT,
    contract_date TEXT,
    contract_mode TEXT,
    reason TEXT,
    met_on TEXT,
    transferred_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (event_id, enterprise_id, partner_kind, partner_id)
);
CREATE INDEX ledger_entries_university ON ledger_entries(university_id, project_kind, year);
CREATE INDEX ledger_entries_enterprise ON ledger_entries(enterprise_id);

-- Every status change: who, when, from what to what, and the facts recorded with it.
CREATE TABLE ledger_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES ledger_entries(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    on_date TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    amount_yuan BIGINT,
    contract_mode TEXT,
    reason TEXT,
    note TEXT
);
CREATE INDEX ledger_history_entry ON ledger_history(entry_id);
