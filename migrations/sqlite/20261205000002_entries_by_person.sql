-- A person's entries of a week (the timesheet) or of the last days (the
-- gaps report) without reading every entry: 31 ms → 0.4 ms for a week among
-- 500,000 entries of 50 people, for about 8 % more time per new entry in a
-- bulk import into SQLite (README, "A person's week").
CREATE INDEX time_entries_by_person_date ON time_entries (user_id, spent_date);
