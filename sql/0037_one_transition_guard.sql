-- One guard for every status workflow, in place of the three copies of one body in 0018 (placement
-- request, placement) and 0025 (onward request). Each trigger fires only when the status changes, and
-- names its noun and its legal steps:
--
--     for each row when (old.status is distinct from new.status)
--     execute function status_transition('a request', 'waiting>offered', ...)
--
-- A status change that is not a listed step is refused as check_violation with the constraint
-- <table>_transition, and one that does not bump the version by one with <table>_version: the same
-- errors, with the same messages, as the functions it replaces (skyddat_boende/workflow.py and the
-- tests read the constraint name).
create function status_transition() returns trigger
language plpgsql as $$
begin
    if old.status || '>' || new.status <> all (tg_argv[1:]) then
        raise exception '% cannot move from % to %', tg_argv[0], old.status, new.status
            using errcode = 'check_violation', constraint = tg_table_name || '_transition';
    end if;
    if new.version <> old.version + 1 then
        raise exception '%''s status change must bump its version by one', tg_argv[0]
            using errcode = 'check_violation', constraint = tg_table_name || '_version';
    end if;
    return new;
end $$;

drop trigger placement_request_transition on placement_request;
create trigger placement_request_transition before update of status on placement_request
    for each row when (old.status is distinct from new.status)
    execute function status_transition('a request',
        'waiting>offered', 'offered>waiting', 'offered>placed', 'waiting>withdrawn', 'offered>withdrawn',
        'placed>closed');

drop trigger placement_transition on placement;
create trigger placement_transition before update of status on placement
    for each row when (old.status is distinct from new.status)
    execute function status_transition('a placement',
        'accepted>checked_in', 'accepted>moved_out', 'checked_in>moved_out');

drop trigger onward_request_transition on onward_request;
create trigger onward_request_transition before update of status on onward_request
    for each row when (old.status is distinct from new.status)
    execute function status_transition('an onward request',
        'waiting>offered', 'offered>waiting', 'offered>accepted', 'accepted>moved_in',
        'waiting>withdrawn', 'offered>withdrawn');

drop function placement_request_transition();
drop function placement_transition();
drop function onward_request_transition();
