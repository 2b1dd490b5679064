-- A provider's daily sending limit pauses one account's sending until the time it gives.
ALTER TABLE accounts ADD COLUMN sending_paused_until TEXT;
ALTER TABLE accounts ADD COLUMN sending_pause_reason TEXT NOT NULL DEFAULT '';
