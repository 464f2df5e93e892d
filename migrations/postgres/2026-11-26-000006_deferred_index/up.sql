-- See the SQLite tree: bulk loads defer index building only on SQLite, so on PostgreSQL this
-- table stays empty; it exists so that both backends have the same schema.
CREATE TABLE deferred_index (
    name TEXT PRIMARY KEY NOT NULL,
    create_sql TEXT NOT NULL
);
