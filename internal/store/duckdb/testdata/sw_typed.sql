-- filter: eventType sw "user.session"
-- up:
(odd OR coalesce(starts_with(event_type, $1), FALSE))
-- lo:
(NOT odd AND coalesce(starts_with(event_type, $1), FALSE))
-- args:
$1 = "user.session"
