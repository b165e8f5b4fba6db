-- time_entries_by_project_date (project_id, spent_date) serves every look-up
-- by project: the single-column index only cost a B-tree insert per entry.
DROP INDEX IF EXISTS time_entries_by_project;

-- A ticket's hours used, and its hours of the last days by spent date (the
-- lock forecast's pace), from one index.
DROP INDEX IF EXISTS time_entries_by_ticket;
CREATE INDEX time_entries_by_ticket_date ON time_entries (ticket_number, deleted, spent_date);

-- Timers running now, per ticket (someone else's timer on a ticket): only
-- running entries are in it, so it costs an import nothing.
CREATE INDEX time_entries_running ON time_entries (ticket_number) WHERE is_running;
