-- The Harvest side: the connected account (never its tokens: those live in
-- the OS keychain), the tasks each project offers, and the outbox of time
-- logged in Tickettime that must reach Harvest exactly once.

CREATE TABLE harvest_account (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    account_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('agent', 'pm', 'admin')),
    updated_at TEXT NOT NULL
);

CREATE TABLE harvest_tasks (
    project_id   BIGINT NOT NULL,
    project_name TEXT NOT NULL,
    client_name  TEXT,
    task_id      BIGINT NOT NULL,
    task_name    TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (project_id, task_id)
);

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    ticket_number BIGINT NOT NULL REFERENCES tickets (number),
    project_id    BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    spent_date    TEXT NOT NULL,
    hundredths    BIGINT NOT NULL CHECK (hundredths > 0),
    notes         TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    harvest_id    BIGINT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX outbox_by_state ON outbox (state, created_at);
