-- The domain: organisations, shelters and their places, placement requests with their
-- households, offers and placements. Vocabulary: docs/vocabulary.md.

-- True when the text holds something shaped like a Swedish personal identity or
-- coordination number (6 or 8 digits, optional - or +, 4 digits). Such text is never stored.
create function looks_like_personal_number(value text)
returns boolean
language sql immutable strict parallel safe
return value ~ '(^|[^0-9])([0-9]{2})?[0-9]{6}[-+ ]?[0-9]{4}([^0-9]|$)';

-- For tables whose rows are history: refuse UPDATE or DELETE, whoever asks.
create function raise_immutable() returns trigger
language plpgsql as $$
begin
    raise exception '% on % is not allowed: rows are kept as history', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
end $$;

create function is_language_list(codes text[])
returns boolean
language sql immutable strict parallel safe
return cardinality(codes) <= 40
   and coalesce((select bool_and(c ~ '^[a-z]{2}$') from unnest(codes) as c), true);

create function is_municipality_list(codes text[])
returns boolean
language sql immutable strict parallel safe
return cardinality(codes) <= 290
   and coalesce((select bool_and(c ~ '^[0-9]{4}$') from unnest(codes) as c), true);

create function is_county_list(codes text[])
returns boolean
language sql immutable strict parallel safe
return cardinality(codes) <= 21
   and coalesce((select bool_and(c ~ '^[0-9]{2}$') from unnest(codes) as c), true);

create table organisation (
    id text primary key check (id ~ '^[a-z0-9][a-z0-9-]{2,62}$'),
    -- municipality: a kommun (places people, may also run shelters);
    -- association: a women's or girls' shelter association; company: a private company
    kind text not null check (kind in ('municipality', 'association', 'company')),
    display_name text not null check (length(display_name) between 2 and 200),
    municipality_code char(4) not null references municipality (code),
    -- IVO permit for private operators; municipal shelters are only reported to IVO's register
    ivo_permit_ref text check (ivo_permit_ref ~ '^[A-Za-z0-9./ -]{3,40}$'),
    created_at timestamptz not null default now(),
    check (kind <> 'municipality' or id = 'kommun-' || municipality_code),
    check (kind = 'municipality' or ivo_permit_ref is not null)
);

create table shelter (
    id uuid primary key default gen_random_uuid(),
    operator_id text not null references organisation (id),
    label text not null check (length(label) between 2 and 120),
    municipality_code char(4) not null references municipality (code),
    target_groups text[] not null check (
        cardinality(target_groups) between 1 and 5
        and target_groups <@ array['women', 'men', 'young_adults', 'families', 'lgbtq']),
    features text[] not null default '{}' check (
        features <@ array['wheelchair', 'pets', 'substance_use', 'mental_illness',
                          'intellectual_disability', 'honour_competence', 'lgbtq_competence']),
    security_level smallint not null check (security_level between 1 and 4),
    protected_data_capability text not null check (protected_data_capability in
        ('none', 'sekretessmarkering', 'skyddad_folkbokforing', 'fingerade_personuppgifter')),
    -- inclusive upper age limits for accompanying children; null means no limit
    max_age_boys smallint check (max_age_boys between 0 and 17),
    max_age_girls smallint check (max_age_girls between 0 and 17),
    staff_languages text[] not null check (cardinality(staff_languages) >= 1 and is_language_list(staff_languages)),
    daily_rate_sek integer not null check (daily_rate_sek between 0 and 100000),
    daily_intake_limit smallint check (daily_intake_limit between 1 and 100),
    version integer not null default 1 check (version >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (operator_id, label)
);

create index shelter_operator_idx on shelter (operator_id);
create index shelter_municipality_idx on shelter (municipality_code);

-- Kept apart so that access can be granted to nothing but the rule that reveals it
-- to the placing municipality after an accepted offer.
create table shelter_address (
    shelter_id uuid primary key references shelter (id) on delete cascade,
    street text not null check (length(street) between 2 and 200),
    postal_code text not null check (postal_code ~ '^[0-9]{3} ?[0-9]{2}$'),
    city text not null check (length(city) between 2 and 100),
    contact_phone text not null check (contact_phone ~ '^\+?[0-9 -]{6,20}$')
);

create table unit (
    id uuid primary key default gen_random_uuid(),
    shelter_id uuid not null references shelter (id),
    label text not null check (length(label) between 1 and 60),
    beds smallint not null check (beds between 1 and 20),
    -- several households may share the unit, up to its beds
    shareable boolean not null default false,
    status text not null default 'available' check (status in ('available', 'out_of_service')),
    available_from date not null default current_date,
    availability_confirmed_at timestamptz not null default now(),
    -- maintained by the placement and offer triggers below; the check is the capacity invariant
    beds_taken smallint not null default 0,
    version integer not null default 1 check (version >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (beds_taken between 0 and beds),
    unique (shelter_id, label)
);

create index unit_shelter_idx on unit (shelter_id);

create table placement_request (
    id uuid primary key default gen_random_uuid(),
    municipality_id text not null references organisation (id),
    -- pseudonymous, chosen by the placing municipality; never a name or personal number
    case_reference text not null check (
        case_reference ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{2,39}$' and not looks_like_personal_number(case_reference)),
    urgency text not null check (urgency in ('acute', 'days', 'planned')),
    security_level_needed smallint not null check (security_level_needed between 1 and 4),
    protected_data_level text not null check (protected_data_level in
        ('none', 'sekretessmarkering', 'skyddad_folkbokforing', 'fingerade_personuppgifter')),
    -- hard needs: the shelter must have the matching feature
    needs text[] not null default '{}' check (
        needs <@ array['wheelchair', 'pets', 'substance_use', 'mental_illness', 'intellectual_disability']),
    -- context that shapes who may take the household and what fits best
    honour_related boolean not null default false,
    lgbtq boolean not null default false,
    languages text[] not null default '{}' check (is_language_list(languages)),
    excluded_municipalities text[] not null default '{}' check (is_municipality_list(excluded_municipalities)),
    excluded_counties text[] not null default '{}' check (is_county_list(excluded_counties)),
    threat_municipalities text[] not null default '{}' check (is_municipality_list(threat_municipalities)),
    min_distance_km integer not null default 0 check (min_distance_km between 0 and 1600),
    preferred_counties text[] not null default '{}' check (is_county_list(preferred_counties)),
    preferred_near_municipality char(4) references municipality (code),
    max_distance_km integer check (max_distance_km between 1 and 2000),
    latest_start_date date not null,
    max_daily_rate_sek integer check (max_daily_rate_sek between 1 and 100000),
    status text not null default 'waiting' check (status in ('waiting', 'offered', 'placed', 'withdrawn', 'closed')),
    waiting_since timestamptz not null default now(),
    version integer not null default 1 check (version >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (municipality_id, case_reference),
    check (max_distance_km is null or preferred_near_municipality is not null),
    check (min_distance_km = 0 or cardinality(threat_municipalities) > 0)
);

create index placement_request_waiting_idx on placement_request (status, urgency, waiting_since);

create table request_adult (
    request_id uuid not null references placement_request (id) on delete cascade,
    position smallint not null check (position between 1 and 4),
    gender text not null check (gender in ('female', 'male', 'other')),
    age smallint not null check (age between 16 and 110),
    primary key (request_id, position)
);

-- Every accompanying child is its own entry with its own decision (SoL since 2024).
create table request_child (
    request_id uuid not null references placement_request (id) on delete cascade,
    position smallint not null check (position between 1 and 12),
    gender text not null check (gender in ('female', 'male', 'other')),
    age smallint not null check (age between 0 and 17),
    decision_reference text not null check (
        decision_reference ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{2,39}$' and not looks_like_personal_number(decision_reference)),
    primary key (request_id, position),
    unique (request_id, decision_reference)
);

create table offer (
    id uuid primary key default gen_random_uuid(),
    request_id uuid not null references placement_request (id),
    unit_id uuid not null references unit (id),
    status text not null default 'open' check (status in ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    beds smallint not null check (beds between 1 and 20),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    answered_at timestamptz,
    decline_reason text check (decline_reason in
        ('full', 'cannot_meet_needs', 'security_concern', 'too_close_to_threat', 'other')),
    check (expires_at > created_at),
    check ((status = 'declined') = (decline_reason is not null)),
    check ((status = 'open') = (answered_at is null))
);

-- one open offer per request, and an open offer holds its unit against every other offer
create unique index offer_one_open_per_request on offer (request_id) where status = 'open';
create unique index offer_one_open_per_unit on offer (unit_id) where status = 'open';

create table placement (
    id uuid primary key default gen_random_uuid(),
    request_id uuid not null unique references placement_request (id),
    offer_id uuid not null unique references offer (id),
    unit_id uuid not null references unit (id),
    beds smallint not null check (beds between 1 and 20),
    status text not null default 'accepted' check (status in ('accepted', 'checked_in', 'moved_out')),
    accepted_at timestamptz not null default now(),
    checked_in_at timestamptz,
    planned_end_date date,
    moved_out_at timestamptz,
    version integer not null default 1 check (version >= 1),
    check ((status = 'moved_out') = (moved_out_at is not null)),
    check (status = 'accepted' or checked_in_at is not null or status = 'moved_out'),
    check (checked_in_at is null or checked_in_at >= accepted_at),
    check (moved_out_at is null or moved_out_at >= accepted_at)
);

create index placement_unit_idx on placement (unit_id) where status <> 'moved_out';

-- Capacity: a placement takes beds from its unit until move-out. A non-shareable unit is
-- taken whole. The row lock of the UPDATE serializes concurrent placements on one unit, and
-- unit's check (beds_taken between 0 and beds) refuses any placement beyond its capacity.
create function placement_beds_taken() returns trigger
language plpgsql as $$
declare
    taken_before smallint := 0;
    taken_after smallint := 0;
begin
    if tg_op = 'UPDATE' and old.unit_id <> new.unit_id then
        raise exception 'a placement cannot move to another unit' using errcode = 'check_violation';
    end if;
    if tg_op = 'UPDATE' and old.status <> 'moved_out' then
        taken_before := old.beds;
    end if;
    if new.status <> 'moved_out' then
        taken_after := new.beds;
    end if;
    if taken_after <> taken_before then
        update unit u
           set beds_taken = u.beds_taken + taken_after - taken_before
         where u.id = new.unit_id;
    end if;
    return new;
end $$;

create function placement_whole_unit() returns trigger
language plpgsql as $$
begin
    -- a household in a non-shareable unit takes all of its beds
    select case when u.shareable then new.beds else u.beds end
      into new.beds
      from unit u where u.id = new.unit_id;
    return new;
end $$;

create trigger placement_whole_unit before insert on placement
    for each row execute function placement_whole_unit();
create trigger placement_beds_taken after insert or update on placement
    for each row execute function placement_beds_taken();
create trigger placement_no_delete before delete on placement
    for each row execute function raise_immutable();
