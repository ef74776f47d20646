-- Retention of closed cases (docs/decisions.md, "Retention"). A request that was withdrawn, or closed
-- when its household moved out, is erased with its household, offers and placement once it has been
-- closed for the configured period (SB_RETENTION_DAYS); what survives is a count in closed_case_tally.
-- Open requests are never touched. Erasure runs only through erase_closed_cases(), which also audits
-- each erased request, and refuses a period below 30 days, so a compromised service cannot use it to
-- wipe recent cases.

-- Monthly counts per county of the placing municipality: no ids, nothing that points at a household.
-- Anyone publishing from it applies the statistics' suppression of small counts.
create table closed_case_tally (
    closed_month date not null check (extract(day from closed_month) = 1),
    county_code char(2) not null references county (code),
    outcome text not null check (outcome in ('placed', 'withdrawn')),
    urgency text not null check (urgency in ('acute', 'days', 'planned')),
    cases integer not null check (cases >= 1),
    adults integer not null check (adults >= 0),
    children integer not null check (children >= 0),
    offers integer not null check (offers >= 0),
    days_to_placement bigint not null check (days_to_placement >= 0),   -- summed over placed cases
    nights_placed bigint not null check (nights_placed >= 0),           -- summed over placed cases
    primary key (closed_month, county_code, outcome, urgency)
);

-- Placements stay history: deleting one is refused, except a moved-out one by erase_closed_cases().
-- (The setting alone opens nothing: only the owner may DELETE from placement at all.)
create function placement_delete_guard() returns trigger
language plpgsql as $$
begin
    if old.status = 'moved_out' and current_setting('skyddat.erasing_closed_cases', true) = 'on' then
        return old;
    end if;
    raise exception 'DELETE on placement is not allowed: rows are kept as history until retention erases them'
        using errcode = 'insufficient_privilege';
end $$;

drop trigger placement_no_delete on placement;
create trigger placement_no_delete before delete on placement
    for each row execute function placement_delete_guard();

-- Erases up to `max_cases` requests closed more than `retention_days` ago (oldest first; rows another
-- transaction holds are left for the next run) and returns how many.
create function erase_closed_cases(retention_days integer, max_cases integer)
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
        select r.id from placement_request r
         where r.status in ('closed', 'withdrawn') and r.updated_at < closed_before
           and not exists (select 1 from placement p where p.request_id = r.id
                            and (p.status <> 'moved_out' or p.moved_out_at >= closed_before))
           and not exists (select 1 from offer o where o.request_id = r.id and o.status = 'open')
         order by r.updated_at limit max_cases
           for update of r skip locked) candidates;
    if cardinality(ids) = 0 then
        return 0;
    end if;
    perform erase_tally(ids);
    perform set_config('skyddat.erasing_closed_cases', 'on', true);
    delete from placement where request_id = any(ids);
    perform set_config('skyddat.erasing_closed_cases', 'off', true);
    delete from offer where request_id = any(ids);
    delete from placement_request where id = any(ids);  -- households (request_adult, request_child) cascade
    insert into audit_event (actor_issuer, actor_subject, action, object_type, object_id, outcome)
    select 'urn:skyddat-boende:system', 'retention', 'retention.erase_case', 'placement_request', id::text,
           'succeeded'
      from unnest(ids) as id;
    return cardinality(ids);
end $$;

-- Adds the erased cases to closed_case_tally (called by erase_closed_cases only).
create function erase_tally(ids uuid[]) returns void
language sql
set search_path = pg_catalog, public
as $$
    insert into closed_case_tally as t (closed_month, county_code, outcome, urgency, cases, adults, children,
                                        offers, days_to_placement, nights_placed)
    select date_trunc('month', r.updated_at at time zone 'Europe/Stockholm')::date, left(m.municipality_code, 2),
           case r.status when 'closed' then 'placed' else 'withdrawn' end, r.urgency, count(*),
           sum((select count(*) from request_adult a where a.request_id = r.id)),
           sum((select count(*) from request_child c where c.request_id = r.id)),
           sum((select count(*) from offer o where o.request_id = r.id)),
           coalesce(sum(greatest(p.accepted_at::date - r.created_at::date, 0)), 0),
           coalesce(sum(greatest(p.moved_out_at::date - coalesce(p.checked_in_at, p.accepted_at)::date, 0)), 0)
      from placement_request r
      join organisation m on m.id = r.municipality_id
      left join placement p on p.request_id = r.id
     where r.id = any(ids)
     group by 1, 2, 3, 4
    on conflict (closed_month, county_code, outcome, urgency) do update set
        cases = t.cases + excluded.cases, adults = t.adults + excluded.adults,
        children = t.children + excluded.children, offers = t.offers + excluded.offers,
        days_to_placement = t.days_to_placement + excluded.days_to_placement,
        nights_placed = t.nights_placed + excluded.nights_placed
$$;

revoke execute on function erase_closed_cases(integer, integer) from public;
revoke execute on function erase_tally(uuid[]) from public;

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant execute on function erase_closed_cases(integer, integer) to skyddat_app;
        grant select on closed_case_tally to skyddat_app;
    end if;
end $$;
