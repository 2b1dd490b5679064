-- Alerts to the practitioner: one row per condition, so each is sent once, not every cycle.
CREATE TABLE alerts (
    key     TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    kind    TEXT NOT NULL,
    state   TEXT NOT NULL,
    at      TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
