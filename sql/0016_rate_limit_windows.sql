-- Rate limits shared by every service process (skyddat_boende/rate_limits.py): one row per caller (a
-- client address before its token is looked at, a client after), holding its current one-minute window
-- and the calls in it. The key is a SHA-256 of the caller's description, so addresses are not kept as
-- text. Unlogged: counts are worthless after a crash, and skipping the WAL keeps every call's single
-- upsert cheap. Housekeeping deletes windows that have ended.
create unlogged table rate_limit_window (
    bucket bytea primary key check (octet_length(bucket) = 32),
    window_start timestamptz not null,
    calls integer not null check (calls > 0)
);

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant select, insert, update, delete on rate_limit_window to skyddat_app;
    end if;
end $$;
