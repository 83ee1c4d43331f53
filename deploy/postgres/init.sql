-- Tally's database: one database `tally`, and in it one schema and one login role per service
-- (DESIGN.md sections 1 and 4). Role tally_<schema> owns schema <schema>, has it as its search_path,
-- and may use nothing else: PUBLIC loses its rights on the database and on schema public.
--
-- The same as tally_stack.bootstrap (deploy/local, used by `make run`), in plain SQL for docker
-- compose and hand-made servers; keep the two in step. Idempotent: a rerun converges to the same
-- state and resets the passwords.
--
-- Run it as a superuser. Each role's password comes from a psql variable:
--   psql -v billing_password=... -v analytics_password=... -v assistant_password=... \
--        -v gateway_password=... -f init.sql
-- or, when the variable is not given, from the environment (psql's \getenv, PostgreSQL 15 or later):
-- TALLY_BILLING_DB_PASSWORD, TALLY_ANALYTICS_DB_PASSWORD, TALLY_ASSISTANT_DB_PASSWORD,
-- TALLY_GATEWAY_DB_PASSWORD. So in docker compose, mount this file into the postgres image's
-- /docker-entrypoint-initdb.d/ and give the postgres container those variables.

\set ON_ERROR_STOP on

\if :{?billing_password}
\else
\getenv billing_password TALLY_BILLING_DB_PASSWORD
\endif
\if :{?billing_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'init.sql: no password for role tally_billing: give psql -v billing_password=... or set TALLY_BILLING_DB_PASSWORD'; END $$;
\endif

\if :{?analytics_password}
\else
\getenv analytics_password TALLY_ANALYTICS_DB_PASSWORD
\endif
\if :{?analytics_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'init.sql: no password for role tally_analytics: give psql -v analytics_password=... or set TALLY_ANALYTICS_DB_PASSWORD'; END $$;
\endif

\if :{?assistant_password}
\else
\getenv assistant_password TALLY_ASSISTANT_DB_PASSWORD
\endif
\if :{?assistant_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'init.sql: no password for role tally_assistant: give psql -v assistant_password=... or set TALLY_ASSISTANT_DB_PASSWORD'; END $$;
\endif

\if :{?gateway_password}
\else
\getenv gateway_password TALLY_GATEWAY_DB_PASSWORD
\endif
\if :{?gateway_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'init.sql: no password for role tally_gateway: give psql -v gateway_password=... or set TALLY_GATEWAY_DB_PASSWORD'; END $$;
\endif

-- Roles belong to the whole server.
SELECT 'CREATE ROLE tally_billing' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_billing') \gexec
ALTER ROLE tally_billing WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'billing_password';
ALTER ROLE tally_billing SET search_path = billing;

SELECT 'CREATE ROLE tally_analytics' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_analytics') \gexec
ALTER ROLE tally_analytics WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'analytics_password';
ALTER ROLE tally_analytics SET search_path = analytics;

SELECT 'CREATE ROLE tally_assistant' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_assistant') \gexec
ALTER ROLE tally_assistant WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'assistant_password';
ALTER ROLE tally_assistant SET search_path = assistant;

SELECT 'CREATE ROLE tally_gateway' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_gateway') \gexec
ALTER ROLE tally_gateway WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'gateway_password';
ALTER ROLE tally_gateway SET search_path = gateway;

SELECT 'CREATE DATABASE tally' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tally') \gexec
\connect tally

REVOKE ALL ON DATABASE tally FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

GRANT CONNECT ON DATABASE tally TO tally_billing;
CREATE SCHEMA IF NOT EXISTS billing AUTHORIZATION tally_billing;
ALTER SCHEMA billing OWNER TO tally_billing;
REVOKE ALL ON SCHEMA billing FROM PUBLIC;

GRANT CONNECT ON DATABASE tally TO tally_analytics;
CREATE SCHEMA IF NOT EXISTS analytics AUTHORIZATION tally_analytics;
ALTER SCHEMA analytics OWNER TO tally_analytics;
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;

GRANT CONNECT ON DATABASE tally TO tally_assistant;
CREATE SCHEMA IF NOT EXISTS assistant AUTHORIZATION tally_assistant;
ALTER SCHEMA assistant OWNER TO tally_assistant;
REVOKE ALL ON SCHEMA assistant FROM PUBLIC;

GRANT CONNECT ON DATABASE tally TO tally_gateway;
CREATE SCHEMA IF NOT EXISTS gateway AUTHORIZATION tally_gateway;
ALTER SCHEMA gateway OWNER TO tally_gateway;
REVOKE ALL ON SCHEMA gateway FROM PUBLIC;
