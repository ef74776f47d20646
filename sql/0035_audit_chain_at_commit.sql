-- Audit events join the hash chain when their transaction commits, not when they are written.
-- Chaining at insert (0003) locked the chain's single head row from the first audited write until
-- commit, so every audited transaction waited for every other one, and a transaction holding the
-- head while waiting for a row lock stalled all writers behind it. Now `audit.record` writes to
-- `audit_pending`, and a deferred trigger moves each event into `audit_event` at commit, where the
-- chain trigger of 0003 takes the head: held only for the commit itself, after every other lock.
-- The pending table is unlogged: its rows never outlive their transaction (moved out before commit).

create unlogged table audit_pending (
    id bigint generated always as identity primary key,
    like audit_event including defaults including constraints
);
alter table audit_pending drop column seq, drop column prev_hash, drop column hash;

create function audit_pending_to_chain() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    insert into audit_event (actor_issuer, actor_subject, actor_organisation, actor_role, actor_client,
                             action, object_type, object_id, outcome, purpose)
    values (new.actor_issuer, new.actor_subject, new.actor_organisation, new.actor_role, new.actor_client,
            new.action, new.object_type, new.object_id, new.outcome, new.purpose);
    delete from audit_pending where id = new.id;
    return null;
end $$;

create constraint trigger audit_pending_to_chain after insert on audit_pending
    deferrable initially deferred
    for each row execute function audit_pending_to_chain();

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant insert on audit_pending to skyddat_app;
    end if;
end $$;
