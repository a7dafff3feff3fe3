-- filter: target.id eq "0oa1"
-- up:
(odd OR coalesce(list_contains(target_ids, $1), FALSE))
-- lo:
(NOT odd AND coalesce(list_contains(target_ids, $1), FALSE))
-- args:
$1 = "0oa1"
