-- Tickettime's first schema, PostgreSQL flavour: the same tables and
-- meaning as migrations/sqlite. Forward-only: never edit once landed.
-- Every integer is BIGINT (one Rust type, i64, reads them all); timestamps
-- are UTC text in one fixed sortable format, as on SQLite.

CREATE TABLE staff (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('agent', 'pm', 'admin')),
    harvest_user_id BIGINT,
    created_at      TEXT NOT NULL
);

CREATE TABLE tickets (
    number               BIGSERIAL PRIMARY KEY,
    subject              TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'open',
    client_name          TEXT,
    agent_id             BIGINT REFERENCES staff (id),
    pm_id                BIGINT REFERENCES staff (id),
    harvest_project_id   BIGINT,
    harvest_project_name TEXT,
    budget_hundredths    BIGINT CHECK (budget_hundredths >= 0),
    quoted_hundredths    BIGINT CHECK (quoted_hundredths >= 0),
    used_hundredths      BIGINT NOT NULL DEFAULT 0,
    locked               BOOLEAN NOT NULL DEFAULT FALSE,
    lock_reason          TEXT,
    locked_at            TEXT,
    unlocked_by          BIGINT REFERENCES staff (id),
    unlocked_at          TEXT,
    unlock_reason        TEXT,
    extra_hundredths     BIGINT NOT NULL DEFAULT 0,
    unlocked_at_used     BIGINT,
    alert_level          BIGINT NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX tickets_by_project ON tickets (harvest_project_id);

CREATE TABLE thread_entries (
    id            BIGSERIAL PRIMARY KEY,
    ticket_number BIGINT NOT NULL REFERENCES tickets (number),
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'response', 'note')),
    author        TEXT NOT NULL,
    staff_id      BIGINT REFERENCES staff (id),
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX thread_entries_by_ticket ON thread_entries (ticket_number, created_at);

CREATE TABLE time_entries (
    harvest_id         BIGINT PRIMARY KEY,
    ticket_number      BIGINT REFERENCES tickets (number),
    project_id         BIGINT NOT NULL,
    project_name       TEXT NOT NULL,
    task_id            BIGINT NOT NULL,
    task_name          TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    user_name          TEXT NOT NULL,
    spent_date         TEXT NOT NULL,
    hundredths         BIGINT NOT NULL CHECK (hundredths >= 0),
    notes              TEXT,
    is_running         BOOLEAN NOT NULL DEFAULT FALSE,
    timer_started_at   TEXT,
    external_id        TEXT,
    external_group     TEXT,
    external_permalink TEXT,
    harvest_created_at TEXT NOT NULL,
    harvest_updated_at TEXT NOT NULL,
    deleted            BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX time_entries_by_ticket ON time_entries (ticket_number, deleted);
CREATE INDEX time_entries_by_project ON time_entries (project_id);

CREATE TABLE events (
    id             BIGSERIAL PRIMARY KEY,
    ticket_number  BIGINT NOT NULL REFERENCES tickets (number),
    kind           TEXT NOT NULL CHECK (kind IN ('approaching', 'near', 'locked', 'unlocked')),
    utilization_bp BIGINT,
    actor_id       BIGINT REFERENCES staff (id),
    at             TEXT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
