-- tenant-model: no-transaction
-- CREATE INDEX CONCURRENTLY refuses to run inside a transaction block.
CREATE INDEX CONCURRENTLY idx_items_name ON items (name);
INSERT INTO effects (version) VALUES (20240103000000);
