-- filter: actor.alternateId ew "@example.com"
-- up:
(odd OR coalesce(suffix(actor_alternate_id, $1), FALSE))
-- lo:
(NOT odd AND coalesce(suffix(actor_alternate_id, $1), FALSE))
-- args:
$1 = "@example.com"
