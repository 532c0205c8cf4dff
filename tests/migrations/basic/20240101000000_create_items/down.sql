DROP TABLE items;
DROP TYPE item_kind;
DROP TABLE effects;
