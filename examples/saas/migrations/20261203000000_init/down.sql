-- Reverts 20261203000000_init: the example's tables, in reverse dependency
-- order, then its enum type and trigger function. The roles
-- tenant_model_app and tenant_model_admin are cluster-wide (other databases
-- may use them) and stay.
DROP TABLE user_team_links;
DROP TABLE users;
DROP TABLE teams;
DROP TABLE organizations;
DROP TABLE tenants;
DROP TYPE user_role;
DROP FUNCTION tenant_model_touch();
