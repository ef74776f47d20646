-- The unit snapshot of each service process (matchmaking/snapshot.py, 0023) holds available units only.
-- A change to a unit that is available neither before nor after it (an occupied unit's expected date,
-- a unit out of service) cannot change what fast-track offers, so it no longer makes every process
-- rebuild its snapshot, nor takes the notification queue's lock at commit, which PostgreSQL holds
-- across the commit's flush for every notifying transaction. Row triggers, so that they can tell:
-- notifications a transaction sends on one channel with one payload are delivered once.

drop trigger unit_changed_notify on unit;
create trigger unit_changed_notify after update on unit
    for each row when (old.status = 'available' or new.status = 'available')
    execute function notify_units_changed();
create trigger unit_added_notify after insert on unit
    for each row when (new.status = 'available') execute function notify_units_changed();
create trigger unit_removed_notify after delete on unit
    for each row when (old.status = 'available') execute function notify_units_changed();
