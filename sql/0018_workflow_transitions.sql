-- The workflow's rules, held by the database as well as by skyddat_boende/workflow: which status
-- may follow which, a version bump with every status change, and offers that reserve beds.
--
-- Lock order (docs/decisions.md): request, then offer, then placement, then unit, then shelter.
-- The triggers below take only the unit's row lock, which comes after the request's and the offer's.

-- A request's status moves only along these steps, and each step bumps its version by one.
create function placement_request_transition() returns trigger
language plpgsql as $$
begin
    if new.status = old.status then
        return new;
    end if;
    if old.status || '>' || new.status <> all (array[
        'waiting>offered', 'offered>waiting', 'offered>placed', 'waiting>withdrawn', 'offered>withdrawn',
        'placed>closed']) then
        raise exception 'a request cannot move from % to %', old.status, new.status
            using errcode = 'check_violation', constraint = 'placement_request_transition';
    end if;
    if new.version <> old.version + 1 then
        raise exception 'a request''s status change must bump its version by one'
            using errcode = 'check_violation', constraint = 'placement_request_version';
    end if;
    return new;
end $$;

create trigger placement_request_transition before update of status on placement_request
    for each row execute function placement_request_transition();

-- A placement moves forward only, each step bumping its version.
create function placement_transition() returns trigger
language plpgsql as $$
begin
    if new.status = old.status then
        return new;
    end if;
    if old.status || '>' || new.status <> all (array[
        'accepted>checked_in', 'accepted>moved_out', 'checked_in>moved_out']) then
        raise exception 'a placement cannot move from % to %', old.status, new.status
            using errcode = 'check_violation', constraint = 'placement_transition';
    end if;
    if new.version <> old.version + 1 then
        raise exception 'a placement''s status change must bump its version by one'
            using errcode = 'check_violation', constraint = 'placement_version';
    end if;
    return new;
end $$;

create trigger placement_transition before update of status on placement
    for each row execute function placement_transition();

-- The beds an open offer holds: its household's beds in a shareable unit, the whole unit otherwise.
create function offer_beds_held(unit_id uuid, shareable boolean, beds smallint)
returns integer
language sql stable as $$
    select coalesce(sum(case when shareable then o.beds else beds end), 0)::int
      from offer o where o.unit_id = offer_beds_held.unit_id and o.status = 'open'
$$;

-- An offer answered is final, and it never changes request, unit or household size. A new offer is
-- open, for a waiting request, on an available unit with room: beds taken plus beds held by open
-- offers never exceed the unit's beds. The unit's row lock serializes every offer on one unit (and
-- every change of the unit's beds, shareability or status, below), so two concurrent offers cannot
-- both see the last free bed.
create function offer_holds_beds() returns trigger
language plpgsql as $$
declare
    u unit;
    request_status text;
begin
    if tg_op = 'UPDATE' then
        if (new.request_id, new.unit_id, new.beds) is distinct from (old.request_id, old.unit_id, old.beds)
           or (old.status <> 'open' and new.status <> old.status) then
            raise exception 'an answered offer is final'
                using errcode = 'check_violation', constraint = 'offer_transition';
        end if;
        return new;
    end if;
    if new.status <> 'open' then
        raise exception 'an offer is created open' using errcode = 'check_violation', constraint = 'offer_transition';
    end if;
    select r.status into request_status from placement_request r where r.id = new.request_id;
    if request_status is distinct from 'waiting' then
        raise exception 'only a waiting request is offered a place'
            using errcode = 'check_violation', constraint = 'offer_request_waiting';
    end if;
    select * into u from unit where id = new.unit_id for no key update;
    if u.status <> 'available' then
        raise exception 'the unit is not available' using errcode = 'check_violation', constraint = 'offer_unit_available';
    end if;
    if (not u.shareable and (u.beds_taken > 0 or offer_beds_held(u.id, false, u.beds) > 0))
       or u.beds_taken + offer_beds_held(u.id, u.shareable, u.beds) + new.beds > u.beds then
        raise exception 'the unit has no free beds for this household'
            using errcode = 'check_violation', constraint = 'offer_beds_free';
    end if;
    return new;
end $$;

create trigger offer_holds_beds before insert or update on offer
    for each row execute function offer_holds_beds();

-- A unit's change keeps its open offers' beds: fewer beds or no longer shareable only while the holds
-- still fit, and a unit leaves service only once its open offers are withdrawn (the service does that
-- first, with webhooks, in the same transaction).
create function unit_keeps_holds() returns trigger
language plpgsql as $$
declare
    open_offers integer;
begin
    select count(*) into open_offers from offer o where o.unit_id = new.id and o.status = 'open';
    if open_offers = 0 then
        return new;
    end if;
    if new.status <> 'available' then
        raise exception 'the unit has open offers' using errcode = 'check_violation', constraint = 'unit_open_offers';
    end if;
    if (not new.shareable and (open_offers > 1 or new.beds_taken > 0))
       or new.beds_taken + offer_beds_held(new.id, new.shareable, new.beds) > new.beds then
        raise exception 'the unit''s open offers hold more beds than it has'
            using errcode = 'check_violation', constraint = 'offer_beds_free';
    end if;
    return new;
end $$;

create trigger unit_keeps_holds before update of beds, shareable, status on unit
    for each row execute function unit_keeps_holds();

-- Several open offers may now share a shareable unit; the trigger above holds the beds.
drop index offer_one_open_per_unit;
create index offer_open_unit_idx on offer (unit_id) where status = 'open';
