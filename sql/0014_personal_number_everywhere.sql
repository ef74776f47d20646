-- Personal identity numbers in any spelling, refused in every free-text column, whoever writes it.
-- The rule is skyddat_boende/privacy.py's (tests/test_input_guard.py holds the two equal):
--   personal_number_text() reads text as a person sees it: NFKC, every Unicode decimal digit as 0-9,
--   every dash as '-', spaces and control characters as ' ', format characters (zero-width space,
--   soft hyphen, bidi marks) removed;
--   looks_like_personal_number() then finds (YY)YYMMDD NNNN with separators (- + . _ / : space)
--   allowed between any two digits and no other digit joined on at either end, directly or by
--   punctuation (a space keeps two numbers apart); month 01-12, day 01-31 or 61-91 for a
--   samordningsnummer; UUIDs are not read. The CHECKs on case and decision references use it already.
--   phone_looks_like_personal_number() is the phone field's rule (docs/decisions.md).

-- the characters, from code point ranges ('0660' or '2010-2015', hexadecimal)
create function pg_temp.characters(ranges text[]) returns text
language sql immutable
return (select string_agg(chr(c), '' order by c)
          from unnest(ranges) r,
               generate_series(('x' || lpad(split_part(r, '-', 1), 8, '0'))::bit(32)::int,
                               ('x' || lpad(coalesce(nullif(split_part(r, '-', 2), ''), split_part(r, '-', 1)), 8, '0'))
                                   ::bit(32)::int) c);

do $migration$
declare
    -- the zero of every run of ten decimal digits outside ASCII (Unicode category Nd)
    zeros text[] := array[
        '0660', '06f0', '07c0', '0966', '09e6', '0a66', '0ae6', '0b66', '0be6', '0c66', '0ce6', '0d66', '0de6',
        '0e50', '0ed0', '0f20', '1040', '1090', '17e0', '1810', '1946', '19d0', '1a80', '1a90', '1b50', '1bb0',
        '1c40', '1c50', 'a620', 'a8d0', 'a900', 'a9d0', 'a9f0', 'aa50', 'abf0', 'ff10', '104a0', '10d30',
        '11066', '110f0', '11136', '111d0', '112f0', '11450', '114d0', '11650', '116c0', '11730', '118e0',
        '11950', '11c50', '11d50', '11da0', '16a60', '16ac0', '16b50', '1d7ce', '1d7d8', '1d7e2', '1d7ec',
        '1d7f6', '1e140', '1e2f0', '1e950', '1fbf0'];
    -- dashes (category Pd) and the minus sign
    dashes text := pg_temp.characters(array[
        '058a', '05be', '1400', '1806', '2010-2015', '2212', '2e17', '2e1a', '2e3a-2e3b', '2e40', '2e5d', '301c',
        '3030', '30a0', 'fe31-fe32', 'fe58', 'fe63', 'ff0d', '10ead']);
    -- control characters and spaces other than the ASCII space (categories Cc, Zs, Zl, Zp)
    spaces text := pg_temp.characters(array[
        '01-1f', '7f-a0', '1680', '2000-200a', '2028-2029', '202f', '205f', '3000']);
    -- format characters (category Cf): removed
    invisible text := pg_temp.characters(array[
        '00ad', '0600-0605', '061c', '06dd', '070f', '0890-0891', '08e2', '180e', '200b-200f', '202a-202e',
        '2060-2064', '2066-206f', 'feff', 'fff9-fffb', '110bd', '110cd', '13430-13438', '1bca0-1bca3',
        '1d173-1d17a', 'e0001', 'e0020-e007f']);
    digits text := (select string_agg(chr(('x' || lpad(z, 8, '0'))::bit(32)::int + d), '' order by z, d)
                      from unnest(zeros) z, generate_series(0, 9) d);
    -- UUIDs are machine identifiers, not read (their hex groups often hold ten digits in a row)
    uuid constant text := '(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])';
    separators constant text := '[-+._/:\s]*';
    shape constant text := '(?<![0-9][-+._/:]*)(?:[0-9]S[0-9]S)?[0-9]S[0-9]S(?:0S[1-9]|1S[0-2])S'
        '(?:0S[1-9]|[12]S[0-9]|3S[01]|6S[1-9]|[78]S[0-9]|9S[01])S[0-9]S[0-9]S[0-9]S[0-9](?![-+._/:]*[0-9])';
begin
    execute format($sql$
        create function personal_number_text(value text) returns text
        language sql immutable strict parallel safe
        return translate(normalize(value, nfkc), %L, %L)
    $sql$, digits || dashes || spaces || invisible,
           repeat('0123456789', cardinality(zeros)) || repeat('-', length(dashes)) || repeat(' ', length(spaces)));
    execute format($sql$
        create or replace function looks_like_personal_number(value text) returns boolean
        language sql immutable strict parallel safe
        return regexp_replace(personal_number_text(value), %L, ' ', 'g') ~ %L
    $sql$, uuid, replace(shape, 'S', separators));
end
$migration$;

-- A phone field: refused when it holds a number written as identity numbers are (six or eight digits,
-- then four), or when it does not start as a phone number does (+ or 0) and the general rule finds one.
create function phone_looks_like_personal_number(value text) returns boolean
language sql immutable strict parallel safe
return personal_number_text(value) ~ ('(?<![0-9])(?:[0-9]{2})?[0-9]{2}(?:0[1-9]|1[0-2])'
                                      '(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])[-+\s]?[0-9]{4}(?![0-9])')
       or (btrim(personal_number_text(value)) !~ '^[+0]' and looks_like_personal_number(value));

-- What is already stored is cleared first: digits masked where the rule finds a number (the row's id
-- keeps a label unique), stored idempotency answers dropped (they expire in 48 hours anyway), and a
-- webhook whose URL held one deactivated, so nothing is sent to a URL its owner did not write.
create function pg_temp.masked(value text, mask text) returns text
language sql immutable
return regexp_replace(personal_number_text(value), '[0-9]', mask, 'g');

delete from idempotency_key where looks_like_personal_number(key);
update shelter set label = left(pg_temp.masked(label, '#'), 110) || ' ' || left(id::text, 8)
 where looks_like_personal_number(label);
update unit set label = left(pg_temp.masked(label, '#'), 50) || ' ' || left(id::text, 8)
 where looks_like_personal_number(label);
update shelter_address set street = pg_temp.masked(street, '#') where looks_like_personal_number(street);
update shelter_address set city = pg_temp.masked(city, '#') where looks_like_personal_number(city);
update shelter_address set contact_phone = pg_temp.masked(contact_phone, '0')
 where phone_looks_like_personal_number(contact_phone);
update webhook_subscription set url = pg_temp.masked(url, '0'), active = false,
       deactivated_at = coalesce(deactivated_at, now())
 where looks_like_personal_number(url);
update organisation set display_name = pg_temp.masked(display_name, '#')
 where looks_like_personal_number(display_name);

alter table shelter add constraint shelter_label_no_personal_number
    check (not looks_like_personal_number(label));
alter table unit add constraint unit_label_no_personal_number
    check (not looks_like_personal_number(label));
alter table shelter_address add constraint shelter_address_no_personal_number
    check (not looks_like_personal_number(street) and not looks_like_personal_number(city)
           and not phone_looks_like_personal_number(contact_phone));
alter table webhook_subscription add constraint webhook_subscription_url_no_personal_number
    check (not looks_like_personal_number(url));
alter table idempotency_key add constraint idempotency_key_no_personal_number
    check (not looks_like_personal_number(key));
alter table organisation add constraint organisation_display_name_no_personal_number
    check (not looks_like_personal_number(display_name));
