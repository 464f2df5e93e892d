-- A bulk load into an empty registry (`izreg seed`) drops the secondary indexes of the resource
-- tables and builds each once at the end: inserting a million rows into indexes on random keys
-- dirties most of their pages in every transaction, and rewriting those pages took a third of
-- a 100,000-patient seed. Each dropped index is recorded here, in the transaction that drops
-- it, so that an interrupted load (a killed process) is repaired the next time the database is
-- opened: `izreg migrate`, `serve` and `seed` rebuild every index listed here.
CREATE TABLE deferred_index (
    name TEXT PRIMARY KEY NOT NULL,
    create_sql TEXT NOT NULL
);
