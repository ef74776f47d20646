-- Each service process keeps a snapshot of the units fast-track can offer (matchmaking/snapshot.py).
-- A committed change to a unit or shelter tells every process to rebuild it: NOTIFY is delivered at
-- commit, once per transaction however many statements fired it, and never for a rollback.

create function notify_units_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('units_changed', '');
    return null;
end $$;

create trigger unit_changed_notify after insert or update or delete on unit
    for each statement execute function notify_units_changed();
create trigger shelter_changed_notify after insert or update or delete on shelter
    for each statement execute function notify_units_changed();
