-- Fair Warning state, version 1.
CREATE TABLE accounts (
    name            TEXT PRIMARY KEY,
    cursor          TEXT,
    baselined       INTEGER NOT NULL DEFAULT 0,
    last_success_at TEXT,
    paused_until    TEXT,
    pause_reason    TEXT
);

-- The worker's own copy of every session it watches: cancellations often arrive as an id.
CREATE TABLE sessions (
    account  TEXT NOT NULL,
    key      TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at   TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (account, key)
);

CREATE TABLE facts (
    id               INTEGER PRIMARY KEY,
    account          TEXT NOT NULL,
    session_key      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    attendee         TEXT,
    cancelled_at     TEXT NOT NULL,
    cancelled_after  TEXT,
    cancel_source    TEXT NOT NULL,
    session          TEXT NOT NULL,
    observed_at      TEXT NOT NULL
);

-- status: final (nothing to do), open (waiting for the practitioner), approved, waived, dropped.
CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    fact_id      INTEGER NOT NULL REFERENCES facts (id),
    account      TEXT NOT NULL,
    client_email TEXT,
    client_name  TEXT NOT NULL DEFAULT '',
    verdict      TEXT NOT NULL,
    reasons      TEXT NOT NULL,
    offence      INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_by_client ON decisions (client_email);

-- One row per notice. The unique key makes a second notice for the same case impossible.
-- state: review, queued, sending, sent, rejected, unknown, dropped.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    account          TEXT NOT NULL,
    session_key      TEXT NOT NULL,
    occurrence_start TEXT NOT NULL,
    client_email     TEXT NOT NULL,
    kind             TEXT NOT NULL,
    decision_id      INTEGER NOT NULL REFERENCES decisions (id),
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
CREATE INDEX outbox_by_state ON outbox (account, state, not_before);

-- Counted late cancellations: what the ladder climbs. A waived row no longer counts.
CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY,
    client_email TEXT NOT NULL,
    decision_id  INTEGER NOT NULL UNIQUE REFERENCES decisions (id),
    kind         TEXT NOT NULL,
    cancelled_at TEXT NOT NULL,
    simulated    INTEGER NOT NULL DEFAULT 0,
    waived_at    TEXT,
    waive_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ledger_by_client ON ledger (client_email, cancelled_at);

-- Prepaid sessions left; `configured` is the config value it was last reset from.
CREATE TABLE balances (
    client_email TEXT PRIMARY KEY,
    balance      INTEGER NOT NULL,
    configured   INTEGER NOT NULL
);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    account TEXT,
    event   TEXT NOT NULL,
    detail  TEXT NOT NULL
);

-- Problems with calendar items, so each is reported once rather than every cycle.
CREATE TABLE problems (
    account    TEXT NOT NULL,
    text       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (account, text)
);
