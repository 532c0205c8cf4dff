CREATE TABLE effects (
    version bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TYPE item_kind AS ENUM ('small', 'large');
CREATE TABLE items (
    id bigint PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    kind item_kind NOT NULL DEFAULT 'small'
);
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_tenant ON items
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
INSERT INTO effects (version) VALUES (20240101000000);
