-- filter: target.id co "0oa"
-- up:
(odd OR coalesce(len(list_filter(target_ids, x -> contains(x, $1))) > 0, FALSE))
-- lo:
(NOT odd AND coalesce(len(list_filter(target_ids, x -> contains(x, $1))) > 0, FALSE))
-- args:
$1 = "0oa"
