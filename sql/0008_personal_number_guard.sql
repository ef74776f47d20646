-- Personal identity numbers, as people type them: separators (- + space . _ / :) removed, then any
-- run of 10 or 12 digits whose date part is plausible (month 01-12; day 01-31, or 61-91 for a
-- samordningsnummer). The same rule as skyddat_boende/privacy.py. Existing CHECKs use this function.
create or replace function looks_like_personal_number(value text)
returns boolean
language sql immutable strict parallel safe
return regexp_replace(value, '[-+ ._/:]', '', 'g')
    ~ '(^|[^0-9])([0-9]{2})?[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])[0-9]{4}([^0-9]|$)';

-- The address function is for the service's own role, not for every role in the database.
revoke execute on function placement_address(uuid, text) from public;
