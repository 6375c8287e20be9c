-- Reports of an evaluation are read in the order they arrived, and arrive in that order: an
-- index on (evaluation_id, received_at) grows at its end, where (evaluation_id, agent_id)
-- took a write at a random place for every report.
DROP INDEX reports_by_evaluation;
CREATE INDEX reports_by_evaluation_time ON reports(evaluation_id, received_at);
-- An agent's poll asks which evaluations it has reported on: (agent_id, evaluation_id)
-- answers from the index alone.
DROP INDEX reports_by_agent;
CREATE INDEX reports_by_agent ON reports(agent_id, evaluation_id);
