-- Which process ran a synchronisation pass: the advisory lock says who may
-- sync a source now, the holder says who did, so that runs of several hub
-- replicas can be told apart (and shown never to overlap).
ALTER TABLE sync_run ADD COLUMN holder text NOT NULL DEFAULT '';
