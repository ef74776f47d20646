-- The role the service's connection pool runs as (SET ROLE on every pooled connection), so that
-- PostgreSQL itself, not only the service's code, keeps these promises:
--   * a shelter's address is readable only through placement_address() (no SELECT on its columns);
--   * the audit trail can be appended to and read, never changed (no UPDATE or DELETE);
--   * reference data and the migration history are read-only.
-- Migrations, the CLI's maintenance commands and `audit verify` run as the migrating (owner) role.
-- Where the migrating role may not create roles, nothing here is done and the service runs as that
-- role (it says so in its log at start-up). Every later migration grants what the service needs.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'skyddat_app') then
        create role skyddat_app nologin;
    end if;
    execute format('grant skyddat_app to %I', current_user);
exception when insufficient_privilege then
    raise notice 'role skyddat_app not set up: %', sqlerrm;
end $$;

do $$
begin
    if not pg_has_role(current_user, 'skyddat_app', 'member') then
        return;
    end if;
    grant usage on schema public to skyddat_app;
    grant select on county, municipality, organisation, schema_migrations to skyddat_app;
    grant select, insert, update on shelter, unit, placement_request, request_adult, request_child, offer,
        placement, batch_run, webhook_subscription, webhook_outbox to skyddat_app;
    grant select, insert, update, delete on idempotency_key to skyddat_app;
    grant insert, update on shelter_address to skyddat_app;
    grant select (shelter_id) on shelter_address to skyddat_app;  -- to find the row an UPDATE changes
    grant select, insert on audit_event to skyddat_app;
    grant usage on all sequences in schema public to skyddat_app;
    grant execute on function placement_address(uuid, text) to skyddat_app;
end $$;

-- The chain's head row is updated by this trigger on the inserting role's behalf; the service role
-- itself has no right to touch it.
alter function audit_event_chain() security definer set search_path = pg_catalog, public;
-- Likewise the webhook limit's lock on the organisation row (the service role cannot update organisations).
alter function webhook_subscription_limit() security definer set search_path = pg_catalog, public;
