-- filter: target.id pr
-- up:
(odd OR coalesce(len(list_filter(target_ids, x -> x <> '')) > 0, FALSE))
-- lo:
(NOT odd AND coalesce(len(list_filter(target_ids, x -> x <> '')) > 0, FALSE))
-- args:
