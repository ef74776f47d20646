-- A social worker may require what otherwise only ranks a place higher: honour-violence competence,
-- and staff who speak the household's languages. Requiring a language needs one besides Swedish.
alter table placement_request
    add column require_honour_competence boolean not null default false,
    add column require_staff_language boolean not null default false,
    add constraint placement_request_required_language_named
        check (not require_staff_language or cardinality(array_remove(languages, 'sv')) > 0);
