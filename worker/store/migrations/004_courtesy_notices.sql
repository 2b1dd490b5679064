-- Notices that are not about a cancellation: a welcome, a note before a session, a closure.
-- They have no decision behind them, so the outbox's decision_id becomes optional. SQLite
-- cannot drop a NOT NULL, so the table is rebuilt with every row, key and index it had.
CREATE TABLE outbox_v4 (
    id               INTEGER PRIMARY KEY,
    account          TEXT NOT NULL,
    session_key      TEXT NOT NULL,
    occurrence_start TEXT NOT NULL,
    client_email     TEXT NOT NULL,
    kind             TEXT NOT NULL,
    decision_id      INTEGER REFERENCES decisions (id),
    ref              TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL,
    not_before       TEXT NOT NULL,
    facts            TEXT NOT NULL,
    simulated        INTEGER NOT NULL DEFAULT 0,
    detail           TEXT NOT NULL DEFAULT '',
    provider_id      TEXT NOT NULL DEFAULT '',
    written_to       TEXT NOT NULL DEFAULT '',
    updated_at       TEXT NOT NULL,
    UNIQUE (account, session_key, occurrence_start, client_email, kind)
);
INSERT INTO outbox_v4 (id, account, session_key, occurrence_start, client_email, kind,
    decision_id, ref, state, not_before, facts, simulated, detail, provider_id, written_to,
    updated_at)
SELECT id, account, session_key, occurrence_start, client_email, kind, decision_id, ref, state,
    not_before, facts, simulated, detail, provider_id, written_to, updated_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
CREATE INDEX outbox_by_state ON outbox (account, state, not_before);
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
INSERT OR IGNORE INTO clients_seen (email, first_seen, account, seen_as)
SELECT lower(trim(json_extract(attendee.value, '$.email'))) AS address,
    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), MIN(sessions.account), 'upgrade'
FROM sessions, json_each(sessions.body, '$.attendees') AS attendee
WHERE coalesce(json_extract(attendee.value, '$.email'), '') != ''
GROUP BY address;
INSERT OR IGNORE INTO clients_seen (email, first_seen, account, seen_as)
SELECT client_email, MIN(decided_at), MIN(account), 'upgrade'
FROM decisions WHERE client_email IS NOT NULL GROUP BY client_email;
INSERT OR IGNORE INTO clients_seen (email, first_seen, account, seen_as)
SELECT client_email, MIN(updated_at), MIN(account), 'upgrade' FROM outbox GROUP BY client_email
