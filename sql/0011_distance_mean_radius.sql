-- The engine (matching/geo.py) uses the mean Earth radius 6371.0088 km (IUGG); use the same here,
-- so that a distance rule checked in the database and in the engine can never disagree.
create or replace function distance_km(lat1 double precision, lon1 double precision,
                                       lat2 double precision, lon2 double precision)
returns double precision
language sql immutable strict parallel safe
return 2 * 6371.0088 * asin(least(1.0, sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2)
    + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)
)));
