-- The console's pages over a large practice (bench/console.py: 10,000 cases).
-- A case's notice is looked up by its decision on every case list, report and ladder climb;
-- without this SQLite built a throwaway index over the whole outbox for each query.
CREATE INDEX outbox_by_decision ON outbox (decision_id);
-- What waits for the practitioner (open cases) is found without reading every case.
CREATE INDEX decisions_by_status ON decisions (status);
