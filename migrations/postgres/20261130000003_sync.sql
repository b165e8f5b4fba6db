-- The import's state: one row per database. The watermark is the newest
-- Harvest `updated_at` fully imported; it only moves after a whole stream.

CREATE TABLE sync_state (
    id                   BIGINT PRIMARY KEY CHECK (id = 1),
    watermark            TEXT,
    last_run_at          TEXT,
    duration_ms          BIGINT,
    new_entries          BIGINT NOT NULL DEFAULT 0,
    updated_entries      BIGINT NOT NULL DEFAULT 0,
    deleted_entries      BIGINT NOT NULL DEFAULT 0,
    unattributed_entries BIGINT NOT NULL DEFAULT 0,
    api_calls            BIGINT NOT NULL DEFAULT 0,
    last_error           TEXT,
    runs_since_reconcile BIGINT NOT NULL DEFAULT 0,
    last_reconcile_at    TEXT
);
INSERT INTO sync_state (id) VALUES (1);

-- Harvest's hour budget is offered once per linked project; after that the
-- ticket's own budget is the truth.
ALTER TABLE tickets ADD COLUMN budget_offered_for BIGINT;

CREATE INDEX time_entries_by_project_date ON time_entries (project_id, spent_date);
