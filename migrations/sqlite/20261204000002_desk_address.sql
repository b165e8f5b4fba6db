-- One desk per address: two people adding the same osTicket at once must
-- not bring every ticket in twice.
CREATE UNIQUE INDEX desks_by_address ON desks (kind, url);
