-- Audit events join the hash chain shortly after their transaction commits, moved there by a chainer.
-- Chaining at commit (0035) took the chain's single head row in every audited commit and held it through
-- that commit's WAL flush, so all audited commits of all processes ran one at a time. Now a writer only
-- inserts into `audit_pending` (no row shared with other writers), and `audit_chain_pending()` moves
-- every committed pending event into `audit_event` in one statement, in pending id order, where the
-- chain trigger of 0003 numbers and hashes it: one head lock and one WAL flush per round, not per commit.
-- The worker runs it every SB_AUDIT_CHAIN_SECONDS; `audit verify` and every read of the trail run it
-- first. Until then an event is pending: durable (the table is now logged) but not yet in the chain.

drop trigger audit_pending_to_chain on audit_pending;
drop function audit_pending_to_chain();
alter table audit_pending set logged;

-- The event keeps the time it was recorded (audit_pending's default), not the time it was chained;
-- the hash covers it as before. Who may insert into audit_event or choose occurred_at in audit_pending
-- is limited below, so the service still cannot backdate an event.
-- The head row is now moved once per statement, not once per row: a chaining round inserts many rows
-- in one transaction, and updating one row thousands of times in one transaction makes every later
-- lookup of it walk all its versions (quadratic: 20,000 events took seconds). Each row still locks
-- the head (serializing writers), links to the last row this statement chained, or to the head.
create or replace function audit_event_chain() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
    head audit_chain_head;
    last record;
begin
    select * into head from audit_chain_head for update;
    select seq, hash into last from audit_event where seq > head.last_seq order by seq desc limit 1;
    if found then
        new.seq := last.seq + 1;
        new.prev_hash := last.hash;
    else
        new.seq := head.last_seq + 1;
        new.prev_hash := head.last_hash;
    end if;
    new.occurred_at := coalesce(new.occurred_at, clock_timestamp());
    new.hash := audit_event_digest(new);
    return new;
end $$;

create function audit_event_move_head() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    update audit_chain_head h set last_seq = e.seq, last_hash = e.hash
      from (select seq, hash from audit_event order by seq desc limit 1) e
     where e.seq > h.last_seq;
    return null;
end $$;

create trigger audit_event_move_head after insert on audit_event
    for each statement execute function audit_event_move_head();

-- One chainer at a time (a transaction-level advisory lock): a second caller waits, then finds what the
-- first left. Pending rows of transactions still open are invisible here and wait for the next round.
-- Call it in a READ COMMITTED transaction (each statement here then sees the previous chainer's work).
create function audit_chain_pending() returns bigint
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
    moved bigint;
begin
    perform pg_advisory_xact_lock(hashtextextended('skyddat-boende audit chain', 0));
    with taken as (
        delete from audit_pending returning *
    )
    insert into audit_event (occurred_at, actor_issuer, actor_subject, actor_organisation, actor_role,
                             actor_client, action, object_type, object_id, outcome, purpose)
    select occurred_at, actor_issuer, actor_subject, actor_organisation, actor_role,
           actor_client, action, object_type, object_id, outcome, purpose
      from taken order by id;
    get diagnostics moved = row_count;
    return moved;
end $$;

revoke execute on function audit_chain_pending() from public;

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        -- the service records events (never their time) and chains them; it no longer writes the chain
        revoke insert on audit_event from skyddat_app;
        revoke all on audit_pending from skyddat_app;
        grant insert (actor_issuer, actor_subject, actor_organisation, actor_role, actor_client,
                      action, object_type, object_id, outcome, purpose) on audit_pending to skyddat_app;
        grant execute on function audit_chain_pending() to skyddat_app;
    end if;
end $$;
