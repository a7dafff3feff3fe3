-- filter: client.ipAddress co "10.1"
-- up:
(odd OR coalesce(contains(client_ip, $1), FALSE))
-- lo:
(NOT odd AND coalesce(contains(client_ip, $1), FALSE))
-- args:
$1 = "10.1"
