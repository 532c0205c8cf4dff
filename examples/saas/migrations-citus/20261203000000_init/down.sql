-- Reverts 20261203000000_init on Citus: the example's tables, in reverse
-- dependency order (dropping a distributed or reference table drops its
-- shards on the workers), then its enum type. The roles tenant_model_app
-- and tenant_model_admin are cluster-wide (other databases may use them)
-- and stay. There is no trigger function on Citus.
DROP TABLE user_team_links;
DROP TABLE users;
DROP TABLE teams;
DROP TABLE organizations;
DROP TABLE tenants;
DROP TYPE user_role;
