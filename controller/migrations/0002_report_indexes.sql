-- Reports of an evaluation are read in the order they arrived, and arrive in that order: an
-- index on (evaluation_id, received_at) grows at its end, where (evaluation_id, agent_id)
-- took a write at a random place for every report. Per-agent reads use reports_by_agent.
DROP INDEX reports_by_evaluation;
CREATE INDEX reports_by_evaluation_time ON reports(evaluation_id, received_at);
