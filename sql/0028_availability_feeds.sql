-- Pull feeds (issue 25): an organisation's availability fetched from its own system on an interval.
-- Secrets are stored encrypted by the application (key from SB_FEED_SECRET_KEY); the database never
-- sees them in the clear. Status columns hold error types, never response content.

create table availability_feed (
    id uuid primary key default gen_random_uuid(),
    organisation_id text not null references organisation (id),
    url text not null check (
        length(url) <= 500
        and url !~ '[[:space:]#]'
        and (url ~ '^https://[^/?@]+(/[^@]*)?(\?[^@]*)?$'
             or url ~ '^http://(127\.0\.0\.1|localhost)(:[0-9]{1,5})?([/?][^@]*)?$')),
    interval_seconds integer not null check (interval_seconds between 60 and 86400),
    -- a per-feed secret header: its name in the clear, its value encrypted
    auth_header_name text check (auth_header_name ~ '^[A-Za-z0-9-]{1,64}$'),
    auth_header_secret bytea,
    -- or OAuth 2 client credentials against the partner's issuer
    oauth_token_url text check (length(oauth_token_url) <= 500 and oauth_token_url !~ '[[:space:]#@]'),
    oauth_client_id text check (length(oauth_client_id) between 1 and 200),
    oauth_client_secret bytea,
    oauth_scope text check (length(oauth_scope) <= 200),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    -- what the last good document said, for conditional GET and to spot an ETag change without content
    etag text check (length(etag) <= 200),
    last_modified text check (length(last_modified) <= 100),
    content_sha256 bytea,
    last_success_at timestamptz,
    last_error text check (last_error ~ '^[a-z_0-9]{1,40}$'),
    last_error_at timestamptz,
    consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
    failing_since timestamptz,
    stale_notified_at timestamptz,
    next_attempt_at timestamptz not null default now(),
    documents_applied integer not null default 0,
    check ((auth_header_name is null) = (auth_header_secret is null)),
    check ((oauth_token_url is null) = (oauth_client_id is null) and (oauth_client_id is null) = (oauth_client_secret is null))
);

create index availability_feed_due_idx on availability_feed (next_attempt_at) where active;
create index availability_feed_organisation_idx on availability_feed (organisation_id);

-- A partner's own stable unit id, mapped once to one of this service's units of the same organisation.
create table feed_unit_mapping (
    feed_id uuid not null references availability_feed (id) on delete cascade,
    external_id text not null check (external_id ~ '^[A-Za-z0-9._:-]{1,100}$'),
    unit_id uuid not null references unit (id),
    primary key (feed_id, external_id),
    unique (feed_id, unit_id)
);

-- feed.stale: a feed has failed for longer than the stale age (payload: feed_id).
create or replace function is_webhook_event_type(event_type text)
returns boolean
language sql immutable strict parallel safe
return event_type = any(array[
    'offer.created', 'offer.accepted', 'offer.declined', 'offer.expired', 'offer.withdrawn',
    'placement.checked_in', 'placement.moved_out', 'request.withdrawn', 'request.waiting', 'unit.changed',
    'feed.stale', 'webhook.test']);

create or replace function is_webhook_payload(payload jsonb)
returns boolean
language sql immutable strict parallel safe
return jsonb_typeof(payload) = 'object'
   and coalesce((select bool_and(
            key = any(array['request_id', 'offer_id', 'placement_id', 'unit_id', 'shelter_id', 'subscription_id',
                            'feed_id'])
            and jsonb_typeof(value) = 'string'
            and value #>> '{}' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
        from jsonb_each(payload)), true);

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant select, insert, update, delete on availability_feed, feed_unit_mapping to skyddat_app;
    end if;
end $$;

-- A feed publishes the organisation's whole availability, so two active feeds would overwrite each other.
create unique index availability_feed_one_active_idx on availability_feed (organisation_id) where active;
