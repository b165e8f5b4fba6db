-- Help desks (osTicket, Zendesk) whose tickets Tickettime brings in. A
-- desk's credentials live in the keychain of the machine that added it,
-- never here; `url` is the address without them. `cursor` is the
-- connector's own position (opaque text), moved only in the transaction
-- that stores what it read.
CREATE TABLE desks (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('osticket', 'zendesk')),
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    config         TEXT NOT NULL,
    cursor         TEXT,
    writes_notes   BOOLEAN NOT NULL DEFAULT FALSE,
    last_sync_at   TEXT,
    last_error     TEXT,
    created_by     BIGINT REFERENCES staff (id),
    created_at     TEXT NOT NULL
);

-- A ticket from a desk keeps the desk's id for it (`source_id`), the number
-- people know it by and a link to open it there. `source_fields` holds the
-- desk's last project/budget/quoted answers: a value applies when the desk
-- changes it, so a PM's local change stands until then.
ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE tickets ADD COLUMN desk_id BIGINT REFERENCES desks (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN source_id TEXT;
ALTER TABLE tickets ADD COLUMN source_number TEXT;
ALTER TABLE tickets ADD COLUMN source_url TEXT;
ALTER TABLE tickets ADD COLUMN source_fields TEXT;
CREATE UNIQUE INDEX tickets_by_source ON tickets (desk_id, source_id);

-- A thread entry read from a desk carries the desk's id for it.
ALTER TABLE thread_entries ADD COLUMN desk_entry_id TEXT;
CREATE UNIQUE INDEX thread_entries_by_desk_entry ON thread_entries (ticket_number, desk_entry_id);

-- What Tickettime writes into a desk (a note for time logged, a reply or
-- note where the desk takes them), sent exactly once: `id` travels with
-- the write as its marker, so an item found `sending` after a crash is
-- looked up in the desk before it is written again.
CREATE TABLE desk_outbox (
    id            TEXT PRIMARY KEY,
    desk_id       BIGINT NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    ticket_number BIGINT NOT NULL REFERENCES tickets (number),
    kind          TEXT NOT NULL CHECK (kind IN ('note', 'reply')),
    body          TEXT NOT NULL,
    author        TEXT NOT NULL,
    author_email  TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    remote_id     TEXT,
    claimed_by    TEXT,
    thread_entry_id BIGINT REFERENCES thread_entries (id) ON DELETE SET NULL,
    logged_by     BIGINT REFERENCES staff (id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX desk_outbox_by_state ON desk_outbox (desk_id, state, created_at);

-- A team database set up before this migration gets the new privileges
-- here; init grants the same from team.sql.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_proc WHERE proname = 'tickettime_me') THEN
    GRANT SELECT ON desks, desk_outbox TO tickettime_agent, tickettime_pm, tickettime_admin;
    GRANT USAGE, SELECT ON SEQUENCE desks_id_seq TO tickettime_agent, tickettime_pm, tickettime_admin;
    GRANT INSERT ON desk_outbox TO tickettime_agent;
    GRANT INSERT, UPDATE, DELETE ON desks TO tickettime_pm, tickettime_admin;
    GRANT INSERT, UPDATE ON desk_outbox TO tickettime_pm, tickettime_admin;
    ALTER TABLE desk_outbox ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tt_manage ON desk_outbox TO tickettime_pm, tickettime_admin USING (true) WITH CHECK (true);
    CREATE POLICY tt_agent_read ON desk_outbox FOR SELECT TO tickettime_agent USING (logged_by = tickettime_me());
    CREATE POLICY tt_agent_insert ON desk_outbox FOR INSERT TO tickettime_agent
      WITH CHECK (logged_by = tickettime_me() AND state = 'pending');
  END IF;
END $$;
