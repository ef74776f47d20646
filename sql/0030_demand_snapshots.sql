-- Daily snapshots of demand and supply for national follow-up ("where to build more", issue 27):
-- aggregate counts per day, county and need, never a row per person. Taken by the housekeeping job
-- (skyddat_boende/statistics/snapshots.py) before retention erases closed cases, so the figures never
-- depend on rows that are later erased. Published only through the disclosure control in
-- skyddat_boende/statistics/disclosure.py.

-- The needs a count is broken down by; 'all' counts every request (or every free unit).
create function is_demand_need(need text) returns boolean
language sql immutable strict parallel safe
return need = any (array['all', 'children', 'older_boys', 'wheelchair', 'pets', 'substance_use',
    'mental_illness', 'intellectual_disability', 'language', 'men', 'lgbtq', 'young_adults',
    'honour_related', 'high_security', 'protected_identity']);

-- One figure of one day: only non-zero values are stored (a missing row is a zero on a snapshotted day).
create table demand_snapshot (
    day date not null,
    county_code char(2) not null references county (code),
    need text not null check (is_demand_need(need)),
    -- e.g. requests_filed, placed_within_7_days, declined:full, excluded:security_level, hours_to_accept:30
    measure text not null check (measure ~ '^[a-z0-9_]{2,40}(:[a-z0-9_]{1,40})?$'),
    value bigint not null check (value > 0),
    primary key (day, county_code, need, measure)
);

-- Which days have snapshots: the state figures (free places, waiting requests) are taken once, at the
-- day's first housekeeping run; the day's events are counted again until the day is over (final).
create table demand_snapshot_day (
    day date primary key,
    state_taken boolean not null default false,
    events_final boolean not null default false
);

-- The needs of each request, by the county of the placing municipality.
create view request_demand_need as
select r.id as request_id, left(o.municipality_code, 2)::char(2) as county_code, n.need
  from placement_request r
  join organisation o on o.id = r.municipality_id
  cross join lateral unnest(array_remove(array[
      'all',
      case when exists (select 1 from request_child c where c.request_id = r.id) then 'children' end,
      -- most shelters that take boys at all take them up to 12
      case when exists (select 1 from request_child c where c.request_id = r.id
                          and c.gender in ('male', 'other') and c.age > 12) then 'older_boys' end,
      case when 'wheelchair' = any (r.needs) then 'wheelchair' end,
      case when 'pets' = any (r.needs) then 'pets' end,
      case when 'substance_use' = any (r.needs) then 'substance_use' end,
      case when 'mental_illness' = any (r.needs) then 'mental_illness' end,
      case when 'intellectual_disability' = any (r.needs) then 'intellectual_disability' end,
      case when exists (select 1 from unnest(r.languages) l where l <> 'sv') then 'language' end,
      case when exists (select 1 from request_adult a where a.request_id = r.id and a.gender = 'male') then 'men' end,
      case when r.lgbtq or exists (select 1 from request_adult a where a.request_id = r.id and a.gender = 'other')
           then 'lgbtq' end,
      case when exists (select 1 from request_adult a where a.request_id = r.id and a.age between 18 and 25)
           then 'young_adults' end,
      case when r.honour_related then 'honour_related' end,
      case when r.security_level_needed >= 3 then 'high_security' end,
      case when r.protected_data_level <> 'none' then 'protected_identity' end
  ], null)) as n (need);

-- The needs each unit can meet, by the county of its shelter.
create view unit_demand_need as
select u.id as unit_id, left(s.municipality_code, 2)::char(2) as county_code, n.need
  from unit u
  join shelter s on s.id = u.shelter_id
  cross join lateral unnest(array_remove(array[
      'all',
      case when 'families' = any (s.target_groups) then 'children' end,
      case when 'families' = any (s.target_groups) and (s.max_age_boys is null or s.max_age_boys > 12)
           then 'older_boys' end,
      case when 'wheelchair' = any (s.features) then 'wheelchair' end,
      case when 'pets' = any (s.features) then 'pets' end,
      case when 'substance_use' = any (s.features) then 'substance_use' end,
      case when 'mental_illness' = any (s.features) then 'mental_illness' end,
      case when 'intellectual_disability' = any (s.features) then 'intellectual_disability' end,
      case when exists (select 1 from unnest(s.staff_languages) l where l <> 'sv') then 'language' end,
      case when 'men' = any (s.target_groups) then 'men' end,
      case when 'lgbtq' = any (s.target_groups) or 'lgbtq_competence' = any (s.features) then 'lgbtq' end,
      case when 'young_adults' = any (s.target_groups) then 'young_adults' end,
      case when 'honour_competence' = any (s.features) then 'honour_related' end,
      case when s.security_level >= 3 then 'high_security' end,
      case when s.protected_data_capability <> 'none' then 'protected_identity' end
  ], null)) as n (need);

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant select, insert, delete on demand_snapshot to skyddat_app;
        grant select, insert, update on demand_snapshot_day to skyddat_app;
        grant select on request_demand_need, unit_demand_need to skyddat_app;
    end if;
end $$;
