-- A least-privilege role for `cdc start` (see docs/security.md). Run it with psql as a superuser,
-- or as the owner of the captured tables with CREATEROLE, connected to the database to capture:
--
--   psql "postgres://admin@db:5432/app" -v cdc_password="$(cat cdc-password)" \
--        -v tables='public.accounts, public.orders' -f docs/create-cdc-role.sql
--
-- Optional: -v cdc_role=NAME (default cdc) and -v publication=NAME (default: the role name, which is
-- also what `cdc start` uses when --slot and --publication are left at their defaults for a role
-- named cdc). Then run `cdc start --tables 'public.accounts,public.orders' --publication NAME`.
--
-- What the role gets, and why:
--   LOGIN REPLICATION    open the replication connection, create and read the slot
--   CONNECT              on this database only
--   USAGE, SELECT        on the captured tables' schemas and tables: the initial snapshot
-- The publication is created here, by the tables' owner, because adding a table to a publication
-- needs ownership of the table; `cdc start` leaves a publication alone when it already lists
-- exactly the captured tables, so the role needs no ownership and no CREATE on the database.
\set ON_ERROR_STOP on
\if :{?cdc_role}
\else
  \set cdc_role cdc
\endif
\if :{?publication}
\else
  \set publication :cdc_role
\endif

CREATE ROLE :"cdc_role" WITH LOGIN REPLICATION PASSWORD :'cdc_password';
GRANT CONNECT ON DATABASE :"DBNAME" TO :"cdc_role";
CREATE PUBLICATION :"publication" FOR TABLE :tables WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = true);

-- USAGE on each schema and SELECT on each table of the publication, and nothing else.
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', schemaname, :'cdc_role')
  FROM (SELECT DISTINCT schemaname FROM pg_publication_tables WHERE pubname = :'publication') s \gexec
SELECT format('GRANT SELECT ON TABLE %I.%I TO %I', schemaname, tablename, :'cdc_role')
  FROM pg_publication_tables WHERE pubname = :'publication' \gexec
