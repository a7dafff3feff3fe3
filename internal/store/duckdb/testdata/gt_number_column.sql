-- filter: client.geographicalContext.geolocation.lat gt 40.5
-- up:
(odd OR coalesce(geo_lat > $1, FALSE))
-- lo:
(NOT odd AND coalesce(geo_lat > $1, FALSE))
-- args:
$1 = 40.5
