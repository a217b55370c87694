-- Entity resolution holds its state between runs (the person resolver's
-- records and golden records, the incident regrouper's cases and their
-- incidents) and reads only what changed since. That state is the
-- store's only while no other writer resolves: a `hub sync` run beside a
-- server, or a second replica, writes persons and incidents the first
-- one's state does not know. Each kind of resolution keeps an epoch here,
-- advanced by every write of that kind in the write's own transaction,
-- which also takes the queue it answers; a writer names the epoch its
-- state stands at, and a write from a state another writer has moved on
-- from is refused (0 rows updated) and rolled back. A resolver that reads
-- an epoch other than its own resolves everything again. An internal
-- table, never served: it has no notify_changed trigger.
CREATE TABLE resolution_epoch (
    kind  text PRIMARY KEY CHECK (kind IN ('PERSON', 'INCIDENT')),
    epoch bigint NOT NULL DEFAULT 0
);
INSERT INTO resolution_epoch (kind) VALUES ('PERSON'), ('INCIDENT');
