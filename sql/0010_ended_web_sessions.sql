-- Web sessions ended by logging out. The session cookie carries the access token, so clearing the
-- browser's copy is not enough: a copied cookie would work until the token expires. Each ended
-- session's token is remembered here (its SHA-256 only, never the token) until it would have expired.
create table ended_web_session (
    token_digest bytea primary key check (length(token_digest) = 32),
    expires_at timestamptz not null
);

create index ended_web_session_expiry_idx on ended_web_session (expires_at);

do $$
begin
    if pg_has_role(current_user, 'skyddat_app', 'member') then
        grant select, insert, delete on ended_web_session to skyddat_app;
    end if;
end $$;
