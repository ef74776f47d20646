-- An offer held, declined, expired, withdrawn or accepted changes the beds fast-track may offer (a shared
-- unit's free beds leave out the beds its open offers hold): tell every process's unit snapshot too
-- (sql/0023), so that a request never meets beds that an answered offer has freed, or a new one holds.

create trigger offer_changed_notify after insert or update or delete on offer
    for each statement execute function notify_units_changed();
