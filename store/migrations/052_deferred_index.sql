-- A first load writes into an empty "case" without the indexes only the
-- API's reads use, and builds them once it has ended (Store.DeferIndexes,
-- Store.BuildDeferredIndexes): an index built from the loaded table costs a
-- sort, where maintained row by row it costs an insertion each — for those
-- of "case" together more than the rows themselves. deferred_index holds the definition of each index dropped
-- for a load until it is built again, so that a hub stopped during a load
-- builds it on its next start.
CREATE TABLE deferred_index (
    name        text PRIMARY KEY,
    table_name  text NOT NULL,
    definition  text NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
