-- filter: outcome.reason pr
-- up:
(odd OR coalesce(outcome_reason <> '', FALSE))
-- lo:
(NOT odd AND coalesce(outcome_reason <> '', FALSE))
-- args:
