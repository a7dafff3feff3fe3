-- filter: securityContext.asNumber ge 7922
-- up:
(NOT (NOT odd AND len(list_intersect(arrays, $2)) <= 1) OR (CASE WHEN len(list_intersect(arrays, $2)) = 0 THEN coalesce((json_type(json_extract(m_securitycontext, '$.asNumber')) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(json_extract(m_securitycontext, '$.asNumber') AS DOUBLE) >= $1), FALSE) WHEN list_intersect(arrays, $2)[1] = $3 THEN coalesce(len(list_filter(json_extract(m_securitycontext, '$[*].asNumber'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $4 THEN coalesce(len(list_filter(json_extract(m_securitycontext, '$.asNumber[*]'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) ELSE FALSE END))
-- lo:
((NOT odd AND len(list_intersect(arrays, $2)) <= 1) AND (CASE WHEN len(list_intersect(arrays, $2)) = 0 THEN coalesce((json_type(json_extract(m_securitycontext, '$.asNumber')) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(json_extract(m_securitycontext, '$.asNumber') AS DOUBLE) >= $1), FALSE) WHEN list_intersect(arrays, $2)[1] = $3 THEN coalesce(len(list_filter(json_extract(m_securitycontext, '$[*].asNumber'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) WHEN list_intersect(arrays, $2)[1] = $4 THEN coalesce(len(list_filter(json_extract(m_securitycontext, '$.asNumber[*]'), x -> (json_type(x) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST(x AS DOUBLE) >= $1))) > 0, FALSE) ELSE FALSE END))
-- args:
$1 = 7922
$2 = []string{"securityContext", "securityContext[]", "securityContext.asNumber", "securityContext.asNumber[]"}
$3 = "securityContext"
$4 = "securityContext.asNumber"
