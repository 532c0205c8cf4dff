CREATE TABLE tags (
    item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag text NOT NULL,
    UNIQUE (item_id, tag)
);
ALTER TABLE items ADD COLUMN note varchar(200);
INSERT INTO effects (version) VALUES (20240102000000);
