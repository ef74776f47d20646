-- Support for the API: stored responses for Idempotency-Key.

create table idempotency_key (
    owner text not null check (length(owner) <= 600),
    key text not null check (key ~ '^[A-Za-z0-9_-]{1,64}$'),
    fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
    status_code smallint not null check (status_code between 200 and 299),
    headers jsonb not null default '{}',
    body bytea not null,
    created_at timestamptz not null default now(),
    primary key (owner, key)
);

create index idempotency_key_created_idx on idempotency_key (created_at);
