-- A team database's people and what PostgreSQL lets each of them do. Run
-- by `tickettime init` as the database's owner; idempotent (every run
-- brings an older team database up to this). Each person has their own
-- login in one group role per Tickettime role; the app's rules are
-- enforced here too, so an agent with psql can change nothing an agent may
-- not. The database owner is the first admin and bypasses row security.

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['tickettime_agent', 'tickettime_pm', 'tickettime_admin'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database's init made it at the same moment
      END;
    END IF;
  END LOOP;
END $$;

-- The staff member of this session's login (NULL when it is not staff).
CREATE OR REPLACE FUNCTION tickettime_me() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT id FROM staff WHERE db_login = session_user $$;

CREATE OR REPLACE FUNCTION tickettime_require_admin() RETURNS void
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT (pg_has_role(session_user, 'tickettime_admin', 'MEMBER')
          OR session_user = (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())) THEN
    RAISE EXCEPTION 'only an admin may manage staff (the login % is not one)', session_user
      USING ERRCODE = '42501';
  END IF;
END $$;

-- Adds a person with their own login in their role's group. An existing
-- staff row without a login (from before per-person logins) gets it.
CREATE OR REPLACE FUNCTION tickettime_add_staff(
    p_email text, p_name text, p_role text, p_login text, p_password text, p_now text)
  RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_id bigint;
BEGIN
  PERFORM tickettime_require_admin();
  IF p_role NOT IN ('agent', 'pm', 'admin') THEN
    RAISE EXCEPTION 'unknown role % (expected agent, pm or admin)', p_role USING ERRCODE = '22023';
  END IF;
  IF EXISTS (SELECT FROM staff WHERE db_login = p_login) THEN
    RAISE EXCEPTION 'the database login % already belongs to a member of staff', p_login USING ERRCODE = '23505';
  END IF;
  IF EXISTS (SELECT FROM staff WHERE email = p_email AND db_login IS NOT NULL) THEN
    RAISE EXCEPTION 'a staff member with the email % already exists', p_email USING ERRCODE = '23505';
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = p_login) THEN
    RAISE EXCEPTION 'a database login named % already exists; choose another --db-login', p_login
      USING ERRCODE = '42710';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_login, p_password);
  EXECUTE format('GRANT %I TO %I', 'tickettime_' || p_role, p_login);
  INSERT INTO staff (email, name, role, created_at, db_login) VALUES (p_email, p_name, p_role, p_now, p_login)
    ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role, db_login = excluded.db_login
    RETURNING id INTO v_id;
  RETURN v_id;
END $$;

-- The login of the staff member with this email (NULL when they have none);
-- an error naming the email when nobody has it. Used by the admin functions
-- below (it runs with their rights).
CREATE OR REPLACE FUNCTION tickettime_staff_login(p_email text) RETURNS text
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_login text;
BEGIN
  SELECT db_login INTO v_login FROM staff WHERE email = p_email;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no staff member has the email %', p_email USING ERRCODE = 'P0002';
  END IF;
  RETURN v_login;
END $$;

-- Takes every Tickettime group from a login (if it still exists); true when
-- it does.
CREATE OR REPLACE FUNCTION tickettime_revoke_groups(p_login text) RETURNS boolean
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE r text;
BEGIN
  IF p_login IS NULL OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = p_login) THEN
    RETURN false;
  END IF;
  FOREACH r IN ARRAY ARRAY['tickettime_agent', 'tickettime_pm', 'tickettime_admin'] LOOP
    EXECUTE format('REVOKE %I FROM %I', r, p_login);
  END LOOP;
  RETURN true;
END $$;

-- Moves a person to another role: their staff row and their login's group.
CREATE OR REPLACE FUNCTION tickettime_set_staff_role(p_email text, p_role text)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_login text;
BEGIN
  PERFORM tickettime_require_admin();
  IF p_role NOT IN ('agent', 'pm', 'admin') THEN
    RAISE EXCEPTION 'unknown role % (expected agent, pm or admin)', p_role USING ERRCODE = '22023';
  END IF;
  v_login := tickettime_staff_login(p_email);
  UPDATE staff SET role = p_role WHERE email = p_email;
  IF tickettime_revoke_groups(v_login) THEN
    EXECUTE format('GRANT %I TO %I', 'tickettime_' || p_role, v_login);
  END IF;
END $$;

-- Revokes a person's access: their login is dropped (or, if it cannot be,
-- stripped of its groups and of LOGIN). Their staff row stays, so the
-- thread and the events they wrote keep their name.
CREATE OR REPLACE FUNCTION tickettime_remove_staff(p_email text)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v_login text;
BEGIN
  PERFORM tickettime_require_admin();
  v_login := tickettime_staff_login(p_email);
  IF v_login = session_user THEN
    RAISE EXCEPTION 'you cannot remove yourself' USING ERRCODE = '42501';
  END IF;
  UPDATE staff SET db_login = NULL WHERE email = p_email;
  IF tickettime_revoke_groups(v_login) THEN
    BEGIN
      EXECUTE format('DROP ROLE %I', v_login);
    EXCEPTION WHEN others THEN
      EXECUTE format('ALTER ROLE %I NOLOGIN', v_login);
    END;
  END IF;
END $$;

-- Each person records their own Harvest user when they connect (the
-- timesheet and the gap finder find their entries by it): their own row
-- only, and never a Harvest user another member of staff already has.
CREATE OR REPLACE FUNCTION tickettime_set_my_harvest_user(p_user bigint)
  RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE staff SET harvest_user_id = p_user
  WHERE db_login = session_user AND harvest_user_id IS DISTINCT FROM p_user
    AND NOT EXISTS (SELECT FROM staff other
                    WHERE other.harvest_user_id = p_user AND other.db_login IS DISTINCT FROM session_user)
$$;

REVOKE ALL ON FUNCTION tickettime_staff_login(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tickettime_revoke_groups(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tickettime_add_staff(text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tickettime_set_staff_role(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tickettime_remove_staff(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tickettime_add_staff(text, text, text, text, text, text) TO tickettime_admin;
GRANT EXECUTE ON FUNCTION tickettime_set_staff_role(text, text) TO tickettime_admin;
GRANT EXECUTE ON FUNCTION tickettime_remove_staff(text) TO tickettime_admin;
REVOKE ALL ON FUNCTION tickettime_set_my_harvest_user(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tickettime_set_my_harvest_user(bigint)
  TO tickettime_agent, tickettime_pm, tickettime_admin;

-- Table privileges: everyone reads; agents write only thread entries,
-- their own outbox items and unlock requests (and a ticket's status);
-- PMs and admins write the rest; only admins write staff. Nobody but the
-- owner deletes anything except PMs' settings.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, tickettime_agent, tickettime_pm, tickettime_admin;
GRANT USAGE ON SCHEMA public TO tickettime_agent, tickettime_pm, tickettime_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tickettime_agent, tickettime_pm, tickettime_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO tickettime_agent, tickettime_pm, tickettime_admin;
GRANT INSERT ON thread_entries, outbox, unlock_requests TO tickettime_agent;
GRANT UPDATE (state, attempts, last_error, harvest_id, updated_at, claimed_by, attempted_at, lease_until, permalink)
  ON outbox TO tickettime_agent;
GRANT UPDATE (requester_notified) ON unlock_requests TO tickettime_agent;
GRANT UPDATE (status, agent_id, updated_at) ON tickets TO tickettime_agent;
GRANT INSERT, UPDATE ON tickets, thread_entries, time_entries, events, settings, sync_state, unlock_requests, outbox
  TO tickettime_pm, tickettime_admin;
GRANT DELETE ON settings, quarantine TO tickettime_pm, tickettime_admin;
GRANT INSERT, UPDATE ON quarantine TO tickettime_pm, tickettime_admin;
GRANT INSERT ON notices_delivered TO tickettime_pm, tickettime_admin;
GRANT INSERT, UPDATE ON staff TO tickettime_admin;
-- Help desks: PMs and admins add, sync and remove them; an agent's logged
-- time queues its desk note as their own.
GRANT INSERT ON desk_outbox TO tickettime_agent;
GRANT INSERT, UPDATE, DELETE ON desks TO tickettime_pm, tickettime_admin;
GRANT INSERT, UPDATE ON desk_outbox TO tickettime_pm, tickettime_admin;

-- Row security: an agent writes only as themselves, never on a locked
-- ticket (but for a client's message), and sees only their own outbox.
ALTER TABLE thread_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE unlock_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE notices_delivered ENABLE ROW LEVEL SECURITY;
ALTER TABLE desk_outbox ENABLE ROW LEVEL SECURITY;

-- Each PM marks only their own notices shown.
DROP POLICY IF EXISTS tt_own ON notices_delivered;
CREATE POLICY tt_own ON notices_delivered TO tickettime_pm, tickettime_admin
  USING (staff_id = tickettime_me()) WITH CHECK (staff_id = tickettime_me());

DROP POLICY IF EXISTS tt_read ON thread_entries;
DROP POLICY IF EXISTS tt_manage ON thread_entries;
DROP POLICY IF EXISTS tt_agent_insert ON thread_entries;
CREATE POLICY tt_read ON thread_entries FOR SELECT USING (true);
CREATE POLICY tt_manage ON thread_entries TO tickettime_pm, tickettime_admin USING (true) WITH CHECK (true);
CREATE POLICY tt_agent_insert ON thread_entries FOR INSERT TO tickettime_agent WITH CHECK (
  (staff_id = tickettime_me() OR (kind = 'message' AND staff_id IS NULL))
  AND (kind = 'message' OR NOT EXISTS (SELECT 1 FROM tickets t WHERE t.number = ticket_number AND t.locked)));

DROP POLICY IF EXISTS tt_manage ON outbox;
DROP POLICY IF EXISTS tt_agent_read ON outbox;
DROP POLICY IF EXISTS tt_agent_insert ON outbox;
DROP POLICY IF EXISTS tt_agent_update ON outbox;
CREATE POLICY tt_manage ON outbox TO tickettime_pm, tickettime_admin USING (true) WITH CHECK (true);
CREATE POLICY tt_agent_read ON outbox FOR SELECT TO tickettime_agent USING (logged_by = tickettime_me());
CREATE POLICY tt_agent_insert ON outbox FOR INSERT TO tickettime_agent
  WITH CHECK (logged_by = tickettime_me() AND state = 'pending'
              AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.number = ticket_number AND t.locked));
CREATE POLICY tt_agent_update ON outbox FOR UPDATE TO tickettime_agent
  USING (logged_by = tickettime_me()) WITH CHECK (logged_by = tickettime_me());

DROP POLICY IF EXISTS tt_manage ON desk_outbox;
DROP POLICY IF EXISTS tt_agent_read ON desk_outbox;
DROP POLICY IF EXISTS tt_agent_insert ON desk_outbox;
CREATE POLICY tt_manage ON desk_outbox TO tickettime_pm, tickettime_admin USING (true) WITH CHECK (true);
CREATE POLICY tt_agent_read ON desk_outbox FOR SELECT TO tickettime_agent USING (logged_by = tickettime_me());
-- An agent's own login may only queue what the app queues for her: a
-- fresh item, signed by her, on an unlocked ticket of that desk; a reply
-- only for her own response on that ticket and only to a desk that takes
-- replies, so no public comment goes out that the timeline does not show.
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

DROP POLICY IF EXISTS tt_read ON unlock_requests;
DROP POLICY IF EXISTS tt_manage ON unlock_requests;
DROP POLICY IF EXISTS tt_agent_insert ON unlock_requests;
DROP POLICY IF EXISTS tt_agent_update ON unlock_requests;
CREATE POLICY tt_read ON unlock_requests FOR SELECT USING (true);
CREATE POLICY tt_manage ON unlock_requests TO tickettime_pm, tickettime_admin USING (true) WITH CHECK (true);
CREATE POLICY tt_agent_insert ON unlock_requests FOR INSERT TO tickettime_agent
  WITH CHECK (requested_by = tickettime_me() AND state = 'pending' AND answered_by IS NULL
              AND extra_granted IS NULL AND pm_notified = FALSE);
CREATE POLICY tt_agent_update ON unlock_requests FOR UPDATE TO tickettime_agent
  USING (requested_by = tickettime_me()) WITH CHECK (requested_by = tickettime_me());
