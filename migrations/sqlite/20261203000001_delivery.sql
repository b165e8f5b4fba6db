-- Exactly-once delivery. An outbox item is claimed before it is sent: the
-- claim names the pusher (whose liveness lock shows whether it still
-- runs), when the attempt started, until when the claim holds, and the
-- permalink the entry carries, so an item found in `sending` is looked up
-- in Harvest before it is ever sent again. SQLite cannot change a CHECK in
-- place: the table is rebuilt with its rows.
CREATE TABLE outbox_new (
    id            TEXT PRIMARY KEY,
    ticket_number INTEGER NOT NULL REFERENCES tickets (number),
    project_id    BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    spent_date    TEXT NOT NULL,
    hundredths    BIGINT NOT NULL CHECK (hundredths > 0),
    notes         TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'discarded')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    harvest_id    BIGINT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    logged_by     INTEGER REFERENCES staff (id),
    claimed_by    TEXT,
    attempted_at  TEXT,
    lease_until   TEXT,
    permalink     TEXT
);
INSERT INTO outbox_new (id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state,
    attempts, last_error, harvest_id, created_at, updated_at, logged_by)
SELECT id, ticket_number, project_id, task_id, spent_date, hundredths, notes, state,
    attempts, last_error, harvest_id, created_at, updated_at, logged_by
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_state ON outbox (state, created_at);

-- Entries the import cannot accept, with the reason; the rest of their page
-- is imported, and a fixed entry leaves the list when it imports.
CREATE TABLE quarantine (
    harvest_id    BIGINT PRIMARY KEY,
    reason        TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);

-- Which budget events each PM has been shown: a set, not a high-water
-- mark, so an event whose transaction commits after a later one is still
-- shown, and two desktops of one PM show each event once.
CREATE TABLE notices_delivered (
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, event_id)
);
