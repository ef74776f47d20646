-- A unit can be marked occupied (taken by someone placed outside this service, e.g. a direct intake)
-- as well as out of service (renovation, no staff). Neither is offered; only the board tells them apart.

alter table unit drop constraint unit_status_check;
alter table unit add constraint unit_status_check check (status in ('available', 'occupied', 'out_of_service'));
