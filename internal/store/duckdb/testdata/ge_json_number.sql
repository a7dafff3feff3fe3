-- filter: securityContext.asNumber ge 7922
-- up:
(NOT (NOT odd AND len(list_intersect(arrays, $2)) <= 1) OR list_transform([m_securitycontext], d -> CASE WHEN len(list_intersect(arrays, $2)) = 0 THEN coalesce(len(list_filter([json_extract(d, '$.asNumber')], x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $3 THEN coalesce(len(list_filter(json_extract(d, '$[*].asNumber'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $4 THEN coalesce(len(list_filter(json_extract(d, '$.asNumber[*]'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) ELSE FALSE END)[1])
-- lo:
((NOT odd AND len(list_intersect(arrays, $2)) <= 1) AND list_transform([m_securitycontext], d -> CASE WHEN len(list_intersect(arrays, $2)) = 0 THEN coalesce(len(list_filter([json_extract(d, '$.asNumber')], x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $3 THEN coalesce(len(list_filter(json_extract(d, '$[*].asNumber'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $4 THEN coalesce(len(list_filter(json_extract(d, '$.asNumber[*]'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) ELSE FALSE END)[1])
-- args:
$1 = 7922
$2 = []string{"securityContext", "securityContext[]", "securityContext.asNumber", "securityContext.asNumber[]"}
$3 = "securityContext"
$4 = "securityContext.asNumber"
