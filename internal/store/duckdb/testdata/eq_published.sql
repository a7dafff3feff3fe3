-- filter: published eq "2026-03-01T00:00:00Z"
-- up:
(published = $1)
-- lo:
(published = $1)
-- args:
$1 = time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)
