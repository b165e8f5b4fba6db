-- Every person acts as themselves. What belongs to one person (the
-- connected Harvest user, the tasks they may log to) leaves the shared
-- database for the OS user's own cache; staff carry their PostgreSQL login
-- (`tickettime init` and `tickettime staff add --db-login` set roles,
-- privileges and row-level security up); each outbox item remembers who
-- logged it.
DROP TABLE harvest_account;
DROP TABLE harvest_tasks;
ALTER TABLE staff ADD COLUMN db_login TEXT UNIQUE;
ALTER TABLE outbox ADD COLUMN logged_by BIGINT REFERENCES staff (id);
