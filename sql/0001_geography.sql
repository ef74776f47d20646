-- Swedish counties (län) and municipalities (kommuner) with a representative WGS84 coordinate.
-- Source of the data: the comment lines at the top of each data file.

create table county (
    code char(2) primary key check (code ~ '^[0-9]{2}$'),
    name text not null unique check (length(name) between 2 and 60)
);

create table municipality (
    code char(4) primary key check (code ~ '^[0-9]{4}$'),
    name text not null check (length(name) between 2 and 60),
    county_code char(2) not null references county (code),
    latitude double precision not null check (latitude between 55.0 and 69.5),
    longitude double precision not null check (longitude between 10.5 and 24.5),
    -- SCB codes begin with the county code
    check (left(code, 2) = county_code)
);

create index municipality_county_idx on municipality (county_code);

-- Great-circle (haversine) distance in km on a sphere of radius 6371 km;
-- the same formula as matching.geo.distance_km in Python.
create function distance_km(lat1 double precision, lon1 double precision,
                            lat2 double precision, lon2 double precision)
returns double precision
language sql immutable strict parallel safe
return 2 * 6371.0 * asin(least(1.0, sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2)
    + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)
)));

create function municipality_distance_km(a char(4), b char(4))
returns double precision
language sql stable strict parallel safe
return (
    select distance_km(ma.latitude, ma.longitude, mb.latitude, mb.longitude)
    from municipality ma, municipality mb
    where ma.code = a and mb.code = b
);

-- load data/counties.csv into county (code, name)
-- load data/municipalities.csv into municipality (code, name, county_code, latitude, longitude)
