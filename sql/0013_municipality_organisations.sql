-- Every municipality is an organisation of the service from the start (placing social workers act for
-- kommun-NNNN). Shelter operators (associations and companies, with their IVO permit) are registered
-- with `skyddat-boende organisation add`.
insert into organisation (id, kind, display_name, municipality_code)
select 'kommun-' || code, 'municipality', name || ' kommun', code from municipality
on conflict (id) do nothing;
