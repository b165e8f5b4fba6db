-- Every person acts as themselves. What belongs to one person (the
-- connected Harvest user, the tasks they may log to) leaves the shared
-- database for the OS user's own cache; staff may carry a database login
-- (team mode); each outbox item remembers who logged it.
DROP TABLE harvest_account;
DROP TABLE harvest_tasks;
ALTER TABLE staff ADD COLUMN db_login TEXT;
CREATE UNIQUE INDEX staff_by_db_login ON staff (db_login);
ALTER TABLE outbox ADD COLUMN logged_by INTEGER REFERENCES staff (id);
