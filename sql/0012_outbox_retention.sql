-- Delivered or given-up webhook events are deleted 30 days later (housekeeping), so the outbox does
-- not grow for ever; the service role needs DELETE for that.
do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant delete on webhook_outbox to skyddat_app;
    end if;
end $$;

create index webhook_outbox_finished_idx on webhook_outbox (coalesce(delivered_at, given_up_at))
    where delivered_at is not null or given_up_at is not null;
