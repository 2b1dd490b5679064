-- A notice that went out but left something undone around it (its copy in the Sent folder
-- could not be saved) keeps the reason here; `status` shows it until the practitioner looks.
-- `drafted` joins the outbox states: the notice waits in the practitioner's Drafts folder.
ALTER TABLE outbox ADD COLUMN warning TEXT NOT NULL DEFAULT '';
