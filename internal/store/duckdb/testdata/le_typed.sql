-- filter: eventType le "user"
-- up:
(odd OR coalesce(event_type <= $1, FALSE))
-- lo:
(NOT odd AND coalesce(event_type <= $1, FALSE))
-- args:
$1 = "user"
