-- One pairing generation per event at a time, across every server process sharing the
-- database: a process inserts the event's row before it starts and deletes it when done.
-- The row carries an expiry so a lock left by a killed process lapses on its own.
CREATE TABLE pairing_locks (
    event_id INTEGER PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
