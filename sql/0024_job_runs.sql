-- Periodic jobs (the batch, the offer expiry sweep, housekeeping) run in worker processes, and several
-- workers may run on one database. Ticks are aligned to the wall clock (a job with a 30 s period has
-- ticks at :00 and :30); the worker that inserts (job, tick) first runs that tick, the others skip it,
-- so each job runs once per tick however many workers there are. Rows are kept a week (housekeeping).
create table job_run (
    job text not null check (job ~ '^[a-z][a-z-]{0,39}$'),
    tick timestamptz not null,
    worker text not null check (length(worker) <= 200),
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    outcome text check (outcome in ('done', 'failed')),
    primary key (job, tick)
);

create index job_run_started_idx on job_run (started_at);

-- The batch's solution, as [request id, unit id] pairs: the next batch starts from it (warm start).
alter table batch_run add column solution jsonb check (solution is null or jsonb_typeof(solution) = 'array');

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant select, insert, update, delete on job_run to skyddat_app;
    end if;
end $$;
