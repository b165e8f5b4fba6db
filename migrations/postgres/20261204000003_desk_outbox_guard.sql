-- A desk item is written once per thread entry and kind: the same response
-- cannot be queued (and posted) twice.
CREATE UNIQUE INDEX desk_outbox_one_per_entry ON desk_outbox (thread_entry_id, kind)
    WHERE thread_entry_id IS NOT NULL;

-- On a team database, an agent's login may only queue what the app queues
-- for her (init applies the same from team.sql).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_proc WHERE proname = 'tickettime_me') THEN
    DROP POLICY IF EXISTS tt_agent_insert ON desk_outbox;
    CREATE POLICY tt_agent_insert ON desk_outbox FOR INSERT TO tickettime_agent
      WITH CHECK (logged_by = tickettime_me() AND state = 'pending' AND attempts = 0
                  AND remote_id IS NULL AND claimed_by IS NULL AND last_error IS NULL
                  AND EXISTS (SELECT 1 FROM tickets t
                              WHERE t.number = desk_outbox.ticket_number
                                AND t.desk_id = desk_outbox.desk_id AND NOT t.locked)
                  AND (desk_outbox.kind = 'note' AND desk_outbox.thread_entry_id IS NULL
                       OR EXISTS (SELECT 1 FROM thread_entries e
                                  WHERE e.id = desk_outbox.thread_entry_id
                                    AND e.ticket_number = desk_outbox.ticket_number
                                    AND e.staff_id = tickettime_me()
                                    AND (desk_outbox.kind = 'note' OR e.kind = 'response')))
                  AND (desk_outbox.kind = 'note'
                       OR EXISTS (SELECT 1 FROM desks d
                                  WHERE d.id = desk_outbox.desk_id AND d.kind = 'zendesk' AND d.writes_notes)));
  END IF;
END $$;
