-- An agent on a locked ticket asks a PM to unlock it. The *_notified flags
-- are claimed atomically by the one desktop that shows the notification.
CREATE TABLE unlock_requests (
    id                 INTEGER PRIMARY KEY,
    ticket_number      INTEGER NOT NULL REFERENCES tickets (number),
    requested_by       INTEGER NOT NULL REFERENCES staff (id),
    reason             TEXT NOT NULL,
    hundredths         BIGINT,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    answered_by        INTEGER REFERENCES staff (id),
    answer_note        TEXT,
    extra_granted      BIGINT,
    pm_notified        BOOLEAN NOT NULL DEFAULT FALSE,
    requester_notified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TEXT NOT NULL,
    answered_at        TEXT
);
CREATE INDEX unlock_requests_by_ticket ON unlock_requests (ticket_number, state);
