-- Matchmaking events (对接会): the event, who takes part with which listings, who wants to
-- meet whom, and the generated pairing with its schedule.
--
-- Listings are referred to by (kind, id) without a foreign key, because one column points
-- at three tables and because deleting a listing must not fail when it took part in an
-- event: readers show such a listing as deleted. Everything else cascades with its event.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    event_date TEXT NOT NULL,
    venue TEXT,
    description TEXT,
    themes TEXT NOT NULL DEFAULT '[]',
    start_time TEXT NOT NULL,
    slot_minutes INTEGER NOT NULL,
    slot_count INTEGER NOT NULL,
    breaks TEXT NOT NULL DEFAULT '[]',
    table_count INTEGER NOT NULL,
    table_names TEXT NOT NULL DEFAULT '[]',
    seats_per_table INTEGER NOT NULL,
    max_per_enterprise INTEGER NOT NULL,
    max_per_result INTEGER NOT NULL,
    max_per_expert INTEGER NOT NULL,
    min_score REAL NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- An organisation taking part; its listings are in event_listings.
CREATE TABLE event_participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, organization_id)
);

-- The listings a participant brings: needs (enterprises), results and experts (universities).
CREATE TABLE event_listings (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    participant_id INTEGER NOT NULL REFERENCES event_participants(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    listing_id INTEGER NOT NULL,
    PRIMARY KEY (event_id, kind, listing_id)
);
CREATE INDEX event_listings_participant ON event_listings(participant_id);

-- must / like / no / conflict between an enterprise (need_id 0: all its needs, otherwise
-- one need) and a result or expert, declared by one side or by the organiser.
CREATE TABLE event_preferences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL,
    need_id INTEGER NOT NULL DEFAULT 0,
    partner_kind TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    side TEXT NOT NULL,
    preference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (event_id, enterprise_id, need_id, partner_kind, partner_id, side)
);

-- The last generated pairing of an event: the solver instance it was made from (organiser
-- edits are validated against it), the report (unplaced, unseated, statistics) and a
-- version that every edit increments, so two concurrent edits cannot both apply.
CREATE TABLE event_pairing_runs (
    event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    instance TEXT NOT NULL,
    report TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    generated_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The scheduled meetings of the last pairing: an enterprise (through one of its needs)
-- meets a result or an expert in a time slot at a table (0-based).
CREATE TABLE event_pairings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL,
    need_id INTEGER NOT NULL,
    partner_kind TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    score REAL NOT NULL,
    base_score REAL NOT NULL,
    slot INTEGER NOT NULL,
    table_no INTEGER NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    origin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, enterprise_id, partner_kind, partner_id)
);
CREATE INDEX event_pairings_slot ON event_pairings(event_id, slot, table_no);
