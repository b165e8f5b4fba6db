-- Exactly-once delivery. An outbox item is claimed before it is sent: the
-- claim names the pusher (whose liveness lock shows whether it still
-- runs), when the attempt started, until when the claim holds, and the
-- permalink the entry carries, so an item found in `sending` is looked up
-- in Harvest before it is ever sent again. A discarded item stays, for the
-- record, but never goes out.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'discarded'));
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN attempted_at TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN permalink TEXT;

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
    staff_id BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, event_id)
);

-- A team database set up before this migration (its `tickettime_me` made
-- by `tickettime init`; roles alone are the cluster's) gets the new
-- privileges here; init grants the same from team.sql.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_proc WHERE proname = 'tickettime_me') THEN
    GRANT SELECT ON quarantine, notices_delivered TO tickettime_agent, tickettime_pm, tickettime_admin;
    GRANT UPDATE (claimed_by, attempted_at, lease_until, permalink) ON outbox TO tickettime_agent;
    GRANT INSERT, UPDATE, DELETE ON quarantine TO tickettime_pm, tickettime_admin;
    GRANT INSERT ON notices_delivered TO tickettime_pm, tickettime_admin;
    ALTER TABLE notices_delivered ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tt_own ON notices_delivered TO tickettime_pm, tickettime_admin
      USING (staff_id = tickettime_me()) WITH CHECK (staff_id = tickettime_me());
  END IF;
END $$;
