-- filter: outcome.reason eq null
-- up:
(NOT (NOT odd AND coalesce(outcome_reason <> '', FALSE)))
-- lo:
(NOT (odd OR coalesce(outcome_reason <> '', FALSE)))
-- args:
