-- filter: actor.id ne "00u1"
-- up:
(NOT (NOT odd AND coalesce(actor_id = $1, FALSE)))
-- lo:
(NOT (odd OR coalesce(actor_id = $1, FALSE)))
-- args:
$1 = "00u1"
