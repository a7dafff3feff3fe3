-- filter: actor.id eq "00u1"
-- up:
(odd OR coalesce(actor_id = $1, FALSE))
-- lo:
(NOT odd AND coalesce(actor_id = $1, FALSE))
-- args:
$1 = "00u1"
