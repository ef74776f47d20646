-- The request-to-placement workflow: match reports, offer scores, batch runs, and the one
-- function through which a shelter's address is ever read.

-- The latest matching outcome for the social worker: counts per hard rule, never unit details.
alter table placement_request add column last_match jsonb;

-- Why the offered unit fits: the score's parts (integers), shown to the social worker.
alter table offer add column fit jsonb not null default '{}';

create index offer_request_idx on offer (request_id);
create index offer_open_expiry_idx on offer (expires_at) where status = 'open';
create index placement_request_idx on placement (request_id);

create table batch_run (
    id bigint generated always as identity primary key,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    trigger text not null check (trigger in ('schedule', 'cli', 'api')),
    waiting_requests integer check (waiting_requests >= 0),
    offers_made integer check (offers_made >= 0),
    solver_status text check (length(solver_status) <= 40),
    objective bigint,
    gap double precision check (gap >= 0)
);

-- The only reader of shelter_address. It answers only for an active placement whose request
-- belongs to `municipality_id`; for anything else it returns no row. Callers audit every call.
create function placement_address(placement_id uuid, municipality_id text)
returns table (street text, postal_code text, city text, contact_phone text, municipality_code char(4))
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select a.street, a.postal_code, a.city, a.contact_phone, s.municipality_code
      from placement p
      join placement_request r on r.id = p.request_id
      join unit u on u.id = p.unit_id
      join shelter s on s.id = u.shelter_id
      join shelter_address a on a.shelter_id = s.id
     where p.id = placement_id
       and r.municipality_id = placement_address.municipality_id
       and p.status in ('accepted', 'checked_in')
$$;
