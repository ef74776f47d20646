-- Audit events: who did or tried what, on which object, when, with what outcome.
-- Append-only and hash-chained: each row's hash covers its content and the previous row's hash,
-- so `skyddat-boende audit verify` finds any edited, inserted or deleted row.
-- Never holds addresses, names, personal identity numbers or case details: only ids and codes.

create table audit_event (
    seq bigint primary key,
    occurred_at timestamptz not null default clock_timestamp(),
    actor_issuer text not null check (length(actor_issuer) <= 300),
    actor_subject text not null check (length(actor_subject) <= 200),
    actor_organisation text check (length(actor_organisation) <= 64),
    actor_role text check (length(actor_role) <= 64),
    actor_client text check (length(actor_client) <= 200),
    action text not null check (action ~ '^[a-z][a-z0-9_.:]{2,63}$'),
    object_type text not null check (object_type ~ '^[a-z][a-z_]{1,40}$'),
    object_id text check (length(object_id) <= 100),
    outcome text not null check (outcome in ('allowed', 'denied', 'succeeded', 'failed')),
    purpose text check (length(purpose) <= 100),
    prev_hash bytea not null,
    hash bytea not null unique
);

-- One row, locked by every insert, so the chain has a single order even under concurrency.
create table audit_chain_head (
    singleton boolean primary key default true check (singleton),
    last_seq bigint not null,
    last_hash bytea not null
);
insert into audit_chain_head (last_seq, last_hash) values (0, '\x'::bytea);

-- The canonical text a row's hash covers; `audit verify` recomputes it the same way.
create function audit_event_digest(e audit_event) returns bytea
language sql immutable parallel safe
return sha256(
    e.prev_hash || convert_to(concat_ws(E'\x1f',
        e.seq::text, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.actor_issuer, e.actor_subject, coalesce(e.actor_organisation, ''), coalesce(e.actor_role, ''),
        coalesce(e.actor_client, ''), e.action, e.object_type, coalesce(e.object_id, ''), e.outcome,
        coalesce(e.purpose, '')), 'UTF8'));

create function audit_event_chain() returns trigger
language plpgsql as $$
declare
    head audit_chain_head;
begin
    select * into head from audit_chain_head for update;
    new.seq := head.last_seq + 1;
    new.occurred_at := clock_timestamp();
    new.prev_hash := head.last_hash;
    new.hash := audit_event_digest(new);
    update audit_chain_head set last_seq = new.seq, last_hash = new.hash;
    return new;
end $$;

create trigger audit_event_chain before insert on audit_event
    for each row execute function audit_event_chain();
create trigger audit_event_append_only before update or delete on audit_event
    for each row execute function raise_immutable();
create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function raise_immutable();
