-- A late cancellation made before the client's warning went out joins that waiting notice
-- (one offence, one notice naming every session) instead of climbing the ladder:
-- `joined_to` is the decision whose notice names it.
ALTER TABLE decisions ADD COLUMN joined_to INTEGER REFERENCES decisions (id);
CREATE INDEX decisions_by_host ON decisions (joined_to);
