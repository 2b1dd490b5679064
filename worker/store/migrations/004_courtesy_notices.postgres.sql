-- Notices that are not about a cancellation: a welcome, a note before a session, a closure.
-- They have no decision behind them, so the outbox's decision_id becomes optional.
-- (PostgreSQL drops the NOT NULL in place; SQLite has to rebuild the table.)
ALTER TABLE outbox ALTER COLUMN decision_id DROP NOT NULL;
-- A welcome and a closure go to a client once, whichever account's calendar they are on
-- (a dry run's own copy apart, so trying it out never uses up the real one).
CREATE UNIQUE INDEX outbox_once_per_client ON outbox (client_email, kind, simulated)
    WHERE kind IN ('welcome', 'closure');

-- Every client the worker has seen, across accounts: when first, and how they became known
-- (seen_as: baseline = on the calendar at its first look, upgrade = known before this
-- version, new = first seen later, by hand = named in a command). A closure is recorded here:
-- afterwards the client's cancellations are recorded, not judged.
CREATE TABLE clients_seen (
    email             TEXT PRIMARY KEY,
    first_seen        TEXT NOT NULL,
    account           TEXT NOT NULL,
    seen_as           TEXT NOT NULL,
    closed_at         TEXT,
    closed_effective  TEXT,
    closed_reason     TEXT NOT NULL DEFAULT '',
    closure_ref       TEXT,
    closure_simulated INTEGER NOT NULL DEFAULT 0
);

-- Clients known before this version are known without a welcome: an upgrade greets nobody.
INSERT INTO clients_seen (email, first_seen, account, seen_as)
SELECT lower(trim(attendee.value ->> 'email')) AS address,
    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), MIN(sessions.account),
    'upgrade'
FROM sessions, jsonb_array_elements(sessions.body::jsonb -> 'attendees') AS attendee
WHERE coalesce(attendee.value ->> 'email', '') != ''
GROUP BY address
ON CONFLICT DO NOTHING;
INSERT INTO clients_seen (email, first_seen, account, seen_as)
SELECT client_email, MIN(decided_at), MIN(account), 'upgrade'
FROM decisions WHERE client_email IS NOT NULL GROUP BY client_email
ON CONFLICT DO NOTHING;
INSERT INTO clients_seen (email, first_seen, account, seen_as)
SELECT client_email, MIN(updated_at), MIN(account), 'upgrade' FROM outbox GROUP BY client_email
ON CONFLICT DO NOTHING
