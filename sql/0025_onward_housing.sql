-- Onward housing (issue 24): housing providers publish apartments, a household moves on from a shelter
-- (or from a home the perpetrator knows) to a home of its own. Lock order (docs/decisions.md): onward
-- request, then its onward offer, then the apartment, then the shelter placement's own order.

-- Housing providers: municipal housing companies and private landlords, ids housing-<slug>, no IVO permit.
alter table organisation
    drop constraint organisation_kind_check,
    add constraint organisation_kind_check
        check (kind in ('municipality', 'association', 'company', 'housing_provider')),
    drop constraint organisation_check1,
    add constraint organisation_permit_needed
        check (kind in ('municipality', 'housing_provider') or ivo_permit_ref is not null),
    add constraint organisation_housing_id check ((kind = 'housing_provider') = (id like 'housing-%'));

create table apartment (
    id uuid primary key default gen_random_uuid(),
    provider_id text not null references organisation (id),
    label text not null check (length(label) between 2 and 120 and not looks_like_personal_number(label)),
    municipality_code char(4) not null references municipality (code),
    rooms smallint not null check (rooms between 1 and 10),
    area_m2 smallint not null check (area_m2 between 10 and 400),
    floor smallint not null check (floor between -2 and 60),
    lift boolean not null default false,
    wheelchair_accessible boolean not null default false,
    pets_allowed boolean not null default false,
    monthly_rent_sek integer not null check (monthly_rent_sek between 0 and 100000),
    available_from date not null,
    lease_type text not null check (lease_type in ('first_hand', 'trial_lease', 'sublet')),
    -- the highest protected-identity level the provider can keep for a tenant
    protected_data_capability text not null check (protected_data_capability in
        ('none', 'sekretessmarkering', 'skyddad_folkbokforing', 'fingerade_personuppgifter')),
    status text not null default 'available' check (status in ('available', 'unavailable', 'let')),
    version integer not null default 1 check (version >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (provider_id, label)
);

create index apartment_provider_idx on apartment (provider_id);
create index apartment_available_idx on apartment (municipality_code) where status = 'available';

-- Like shelter_address: kept apart so that only onward_address() reads it.
create table apartment_address (
    apartment_id uuid primary key references apartment (id) on delete cascade,
    street text not null check (length(street) between 2 and 200 and not looks_like_personal_number(street)),
    postal_code text not null check (postal_code ~ '^[0-9]{3} ?[0-9]{2}$'),
    city text not null check (length(city) between 2 and 100 and not looks_like_personal_number(city)),
    contact_phone text not null check (contact_phone ~ '^\+?[0-9 -]{6,20}$')
);

create function is_household_json(people jsonb, most integer)
returns boolean
language sql immutable strict parallel safe
return jsonb_typeof(people) = 'array' and jsonb_array_length(people) <= most
   and not looks_like_personal_number(people::text);

create table onward_request (
    id uuid primary key default gen_random_uuid(),
    municipality_id text not null references organisation (id),
    -- the shelter placement the household moves on from; null for a household moving from a home (and
    -- once retention has erased the shelter case: the link must never hold that erasure up)
    placement_id uuid references placement (id) on delete set null,
    case_reference text not null check (
        case_reference ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{2,39}$' and not looks_like_personal_number(case_reference)),
    urgency text not null check (urgency in ('acute', 'days', 'planned')),
    protected_data_level text not null check (protected_data_level in
        ('none', 'sekretessmarkering', 'skyddad_folkbokforing', 'fingerade_personuppgifter')),
    adults jsonb not null check (is_household_json(adults, 4) and jsonb_array_length(adults) >= 1),
    children jsonb not null default '[]' check (is_household_json(children, 12)),
    needs text[] not null default '{}' check (
        needs <@ array['wheelchair', 'pets', 'substance_use', 'mental_illness', 'intellectual_disability']),
    excluded_municipalities text[] not null default '{}' check (is_municipality_list(excluded_municipalities)),
    excluded_counties text[] not null default '{}' check (is_county_list(excluded_counties)),
    threat_municipalities text[] not null default '{}' check (is_municipality_list(threat_municipalities)),
    min_distance_km integer not null default 0 check (min_distance_km between 0 and 1600),
    preferred_counties text[] not null default '{}' check (is_county_list(preferred_counties)),
    max_rent_sek integer not null check (max_rent_sek between 1 and 100000),
    earliest_move_in date not null,
    status text not null default 'waiting'
        check (status in ('waiting', 'offered', 'accepted', 'moved_in', 'withdrawn')),
    last_match jsonb,
    waiting_since timestamptz not null default now(),
    moved_in_at timestamptz,
    version integer not null default 1 check (version >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (municipality_id, case_reference),
    check (min_distance_km = 0 or cardinality(threat_municipalities) > 0),
    check ((status = 'moved_in') = (moved_in_at is not null))
);

-- one open onward request a placement
create unique index onward_request_one_per_placement on onward_request (placement_id)
    where status <> 'withdrawn';
create index onward_request_waiting_idx on onward_request (status, waiting_since);

create table onward_offer (
    id uuid primary key default gen_random_uuid(),
    onward_request_id uuid not null references onward_request (id),
    apartment_id uuid not null references apartment (id),
    status text not null default 'open' check (status in ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    answered_at timestamptz,
    decline_reason text check (decline_reason in
        ('let_to_another', 'household_too_large', 'cannot_keep_protected_identity', 'no_rent_guarantee',
         'not_suitable', 'other')),
    lease_signed_on date,
    move_in_on date,
    moved_in_at timestamptz,
    fit jsonb not null default '{}',
    check (expires_at > created_at),
    check ((status = 'declined') = (decline_reason is not null)),
    check ((status = 'open') = (answered_at is null)),
    check ((status = 'accepted') = (lease_signed_on is not null and move_in_on is not null)),
    check (move_in_on is null or move_in_on >= lease_signed_on),
    check (moved_in_at is null or status = 'accepted')
);

create unique index onward_offer_one_open_per_request on onward_offer (onward_request_id) where status = 'open';
-- an apartment is offered to one household at a time, and let to one
create unique index onward_offer_one_per_apartment on onward_offer (apartment_id) where status in ('open', 'accepted');
create index onward_offer_request_idx on onward_offer (onward_request_id);
create index onward_offer_open_expiry_idx on onward_offer (expires_at) where status = 'open';

-- Safety, held by the database as well as by the engine (matching/onward.py): a new onward offer is
-- for a waiting request, on an available apartment, never in a threat or excluded municipality or
-- county, never closer to a threat than the request's minimum distance, and never with a provider
-- that cannot keep the household's protected identity.
create function protected_data_rank(level text)
returns integer
language sql immutable strict parallel safe
return array_position(array['none', 'sekretessmarkering', 'skyddad_folkbokforing', 'fingerade_personuppgifter'],
                      level);

create function onward_offer_safe() returns trigger
language plpgsql as $$
declare
    r onward_request;
    a apartment;
begin
    select * into r from onward_request where id = new.onward_request_id;
    select * into a from apartment where id = new.apartment_id;
    if new.status <> 'open' or r.status <> 'waiting' or a.status <> 'available' then
        raise exception 'an onward offer is made open, for a waiting request, on an available apartment'
            using errcode = 'check_violation', constraint = 'onward_offer_available';
    end if;
    if protected_data_rank(a.protected_data_capability) < protected_data_rank(r.protected_data_level) then
        raise exception 'the provider cannot keep the household''s protected identity'
            using errcode = 'check_violation', constraint = 'onward_offer_protected_identity';
    end if;
    if a.municipality_code = any(r.threat_municipalities || r.excluded_municipalities)
       or left(a.municipality_code, 2) = any(r.excluded_counties)
       or exists (select 1 from municipality t, municipality m
                   where t.code = any(r.threat_municipalities) and m.code = a.municipality_code
                     and distance_km(t.latitude, t.longitude, m.latitude, m.longitude) < r.min_distance_km) then
        raise exception 'the apartment is in or too close to an area the household must keep away from'
            using errcode = 'check_violation', constraint = 'onward_offer_excluded_area';
    end if;
    return new;
end $$;

create trigger onward_offer_safe before insert on onward_offer
    for each row execute function onward_offer_safe();

-- An onward request moves only along these steps, each bumping its version.
create function onward_request_transition() returns trigger
language plpgsql as $$
begin
    if new.status = old.status then
        return new;
    end if;
    if old.status || '>' || new.status <> all (array[
        'waiting>offered', 'offered>waiting', 'offered>accepted', 'accepted>moved_in',
        'waiting>withdrawn', 'offered>withdrawn']) then
        raise exception 'an onward request cannot move from % to %', old.status, new.status
            using errcode = 'check_violation', constraint = 'onward_request_transition';
    end if;
    if new.version <> old.version + 1 then
        raise exception 'an onward request''s status change must bump its version by one'
            using errcode = 'check_violation', constraint = 'onward_request_version';
    end if;
    return new;
end $$;

create trigger onward_request_transition before update of status on onward_request
    for each row execute function onward_request_transition();

-- The only reader of apartment_address, in the pattern of placement_address(): it answers only for an
-- accepted onward offer whose request belongs to `municipality_id`. Callers audit every call.
create function onward_address(onward_offer_id uuid, municipality_id text)
returns table (street text, postal_code text, city text, contact_phone text, municipality_code char(4))
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select a.street, a.postal_code, a.city, a.contact_phone, ap.municipality_code
      from onward_offer o
      join onward_request r on r.id = o.onward_request_id
      join apartment ap on ap.id = o.apartment_id
      join apartment_address a on a.apartment_id = ap.id
     where o.id = onward_offer_id
       and r.municipality_id = onward_address.municipality_id
       and o.status = 'accepted'
$$;

revoke execute on function onward_address(uuid, text) from public;

-- Retention, as erase_closed_cases() for shelter cases: an onward request moved in or withdrawn more
-- than `retention_days` ago is erased with its offers, and each erasure audited. Never below 30 days.
create function erase_closed_onward_requests(retention_days integer, max_cases integer)
returns integer
language plpgsql security definer
set search_path = pg_catalog, public
as $$
declare
    closed_before constant timestamptz := now() - make_interval(days => retention_days);
    ids uuid[];
begin
    if retention_days is null or retention_days < 30 then
        raise exception 'closed cases are kept at least 30 days' using errcode = 'invalid_parameter_value';
    end if;
    select coalesce(array_agg(id), '{}') into ids from (
        select r.id from onward_request r
         where r.status in ('moved_in', 'withdrawn') and r.updated_at < closed_before
         order by r.updated_at limit max_cases
           for update of r skip locked) candidates;
    if cardinality(ids) = 0 then
        return 0;
    end if;
    delete from onward_offer where onward_request_id = any(ids);
    delete from onward_request where id = any(ids);
    insert into audit_event (actor_issuer, actor_subject, action, object_type, object_id, outcome)
    select 'urn:skyddat-boende:system', 'retention', 'retention.erase_onward', 'onward_request', id::text,
           'succeeded'
      from unnest(ids) as id;
    return cardinality(ids);
end $$;

revoke execute on function erase_closed_onward_requests(integer, integer) from public;

-- Webhooks: the onward events and their id keys (keep in step with skyddat_boende/webhooks/events.py).
create or replace function is_webhook_event_type(event_type text)
returns boolean
language sql immutable strict parallel safe
return event_type = any(array[
    'offer.created', 'offer.accepted', 'offer.declined', 'offer.expired', 'offer.withdrawn',
    'placement.checked_in', 'placement.moved_out', 'request.withdrawn', 'request.waiting', 'unit.changed',
    'onward_offer.created', 'onward_offer.accepted', 'onward_offer.declined', 'onward_offer.expired',
    'onward_offer.withdrawn',
    'onward.moved_in', 'webhook.test']);

create or replace function is_webhook_payload(payload jsonb)
returns boolean
language sql immutable strict parallel safe
return jsonb_typeof(payload) = 'object'
   and coalesce((select bool_and(
            key = any(array['request_id', 'offer_id', 'placement_id', 'unit_id', 'shelter_id', 'subscription_id',
                            'onward_request_id', 'onward_offer_id', 'apartment_id'])
            and jsonb_typeof(value) = 'string'
            and value #>> '{}' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
        from jsonb_each(payload)), true);

do $$
begin
    if not pg_has_role(current_user, 'skyddat_app', 'member') then
        return;
    end if;
    grant select, insert, update on apartment, onward_request, onward_offer to skyddat_app;
    grant insert, update on apartment_address to skyddat_app;
    grant select (apartment_id) on apartment_address to skyddat_app;  -- to find the row an UPDATE changes
    grant execute on function onward_address(uuid, text) to skyddat_app;
    grant execute on function erase_closed_onward_requests(integer, integer) to skyddat_app;
end $$;
