-- filter: published pr
-- up:
TRUE
-- lo:
TRUE
-- args:
