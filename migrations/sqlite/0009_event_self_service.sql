-- Participants take part in events themselves (对接会自助报名与意向):
--
-- * events.self_service holds the event's self-service settings as one JSON object
--   (registration mode and deadline, wish quotas and deadline, mutual_only, the cap of
--   meetings per organisation); '{}' means the defaults (registration closed).
-- * event_registrations: an organisation asks to take part with the listings it brings;
--   approved at once (open registration) or by an organiser (approval), or rejected with a
--   reason. An approved registration is a participant (event_participants).
-- * event_meeting_answers: what each side said about a proposed meeting of its agenda
--   (confirmed or declined, with a reason), and whether it took place. Keyed by the pair,
--   not by the meeting row, so regenerating the schedule keeps what people confirmed
--   (slot and table) and never proposes a declined pair again. The morning after the
--   event each side answers the one-tap question (useful, not useful, did not take place).
ALTER TABLE events ADD COLUMN self_service TEXT NOT NULL DEFAULT '{}';

CREATE TABLE event_registrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id INTEGER,
    listings TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER,
    UNIQUE (event_id, organization_id)
);
CREATE INDEX event_registrations_status ON event_registrations(event_id, status);

CREATE TABLE event_meeting_answers (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL,
    partner_kind TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    enterprise_answer TEXT,
    enterprise_reason TEXT,
    partner_answer TEXT,
    partner_reason TEXT,
    slot INTEGER NOT NULL,
    table_no INTEGER NOT NULL,
    need_id INTEGER NOT NULL,
    attendance TEXT,
    enterprise_feedback TEXT,
    partner_feedback TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, enterprise_id, partner_kind, partner_id)
);

-- Notices sent once per event (the reminder the day before): the row is inserted in the
-- transaction that queues the mail, so a sweep running twice, or on two servers, sends once.
CREATE TABLE event_notices (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (event_id, kind)
);

-- A calendar file (text/calendar) sent with a message as an attachment: the agenda of a
-- published event.
ALTER TABLE mail_outbox ADD COLUMN calendar TEXT;
