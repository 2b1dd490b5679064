-- Prepaid packages as a ledger: every change to a client's balance is one entry saying why.
-- reason: opening (the config's prepaid_balance, or the balance kept before this version),
-- session (a session that took place), forfeit, forfeit_undone, topup, adjust.
-- `entry_key` makes each session, forfeit and undo spend or credit once.
CREATE TABLE package_entries (
    id               INTEGER PRIMARY KEY,
    client_email     TEXT NOT NULL,
    change           INTEGER NOT NULL,
    balance_after    INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    account          TEXT,
    session_key      TEXT,
    occurrence_start TEXT,
    decision_id      INTEGER REFERENCES decisions (id),
    at               TEXT NOT NULL,
    entry_key        TEXT UNIQUE
);
CREATE INDEX package_entries_by_client ON package_entries (client_email, id);

-- The balances kept before the ledger become its opening entries: an upgrade loses nothing.
INSERT INTO package_entries (client_email, change, balance_after, reason, note, at, entry_key)
SELECT client_email, balance, balance, 'opening',
       'the balance kept before the package ledger (configured ' || configured || ')',
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), 'opening:' || client_email
FROM balances;
