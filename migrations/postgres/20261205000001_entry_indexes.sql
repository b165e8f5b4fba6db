-- time_entries_by_project_date (project_id, spent_date) serves every look-up
-- by project: the single-column index only cost a B-tree insert per entry.
DROP INDEX IF EXISTS time_entries_by_project;
