-- Several workers on one PostgreSQL database share the accounts: a worker polls an account
-- only while it holds the account's lease (worker/store/leases.py). `next_due` is the shared
-- schedule and `failures` its back-off, so neither restarts when another worker takes over.
-- SQLite has the table too, so the two schemas stay alike, but one worker (the flock) never
-- needs it.
CREATE TABLE account_leases (
    account    TEXT PRIMARY KEY,
    holder     TEXT,
    expires_at TEXT,
    next_due   TEXT NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX account_leases_by_due ON account_leases (next_due);
