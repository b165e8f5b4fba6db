#!/usr/bin/env python3
"""The import benchmark's yardstick and stopwatch (benches/import.rs runs it).

  baseline.py import FILE DB    the naive script: json.load the whole export,
                                one executemany upsert into SQLite (WAL,
                                synchronous=FULL), attributing by project
  baseline.py run -- CMD ...    runs CMD once; prints "SECONDS PEAK_KIB" (the
                                child's wall time and peak resident size)
"""
import json
import resource
import sqlite3
import subprocess
import sys
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS time_entries (
    harvest_id INTEGER PRIMARY KEY, ticket_number INTEGER, project_id INTEGER NOT NULL,
    project_name TEXT NOT NULL, task_id INTEGER NOT NULL, task_name TEXT NOT NULL,
    user_id INTEGER NOT NULL, user_name TEXT NOT NULL, spent_date TEXT NOT NULL,
    hundredths INTEGER NOT NULL, notes TEXT, is_running INTEGER NOT NULL,
    harvest_created_at TEXT NOT NULL, harvest_updated_at TEXT NOT NULL)
"""

UPSERT = """
INSERT INTO time_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (harvest_id) DO UPDATE SET
    ticket_number = excluded.ticket_number, project_id = excluded.project_id,
    project_name = excluded.project_name, task_id = excluded.task_id, task_name = excluded.task_name,
    user_id = excluded.user_id, user_name = excluded.user_name, spent_date = excluded.spent_date,
    hundredths = excluded.hundredths, notes = excluded.notes, is_running = excluded.is_running,
    harvest_created_at = excluded.harvest_created_at, harvest_updated_at = excluded.harvest_updated_at
WHERE excluded.harvest_updated_at >= time_entries.harvest_updated_at
"""


def naive_import(path, db):
    with open(path) as f:
        doc = json.load(f)
    entries = doc["time_entries"] if isinstance(doc, dict) else doc
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(SCHEMA)
    # As Tickettime: a project's entries belong to the ticket linked to it.
    tickets = {p: p for p in {e["project"]["id"] for e in entries}}
    rows = [
        (
            e["id"], tickets.get(e["project"]["id"]), e["project"]["id"], e["project"]["name"],
            e["task"]["id"], e["task"]["name"], e["user"]["id"], e["user"]["name"], e["spent_date"],
            round(float(e["hours"]) * 100), e.get("notes"), int(e.get("is_running", False)),
            e["created_at"], e["updated_at"],
        )
        for e in entries
    ]
    with conn:
        conn.executemany(UPSERT, rows)
    conn.close()


def run(cmd):
    started = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed with {done.returncode}")
    print(f"{seconds:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "import":
        naive_import(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 3 and sys.argv[1:3] == ["run", "--"]:
        run(sys.argv[3:])
    else:
        sys.exit(__doc__)
