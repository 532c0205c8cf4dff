-- tenant-model: no-transaction
DROP INDEX CONCURRENTLY idx_items_name;
DELETE FROM effects WHERE version = 20240103000000;
