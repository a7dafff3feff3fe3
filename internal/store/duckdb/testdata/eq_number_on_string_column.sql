-- filter: actor.id eq 5
-- up:
odd
-- lo:
FALSE
-- args:
