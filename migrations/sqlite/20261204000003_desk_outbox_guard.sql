-- A desk item is written once per thread entry and kind: the same response
-- cannot be queued (and posted) twice.
CREATE UNIQUE INDEX desk_outbox_one_per_entry ON desk_outbox (thread_entry_id, kind)
    WHERE thread_entry_id IS NOT NULL;
