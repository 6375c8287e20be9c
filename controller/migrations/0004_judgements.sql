-- What a recommendation reads of each agent's latest report in an evaluation: that report
-- judged against the evaluation's profile when it arrived (fitcheck_engine::Judgement, JSON),
-- a few hundred bytes where the body is kilobytes. A cache of the reports: a judgement that is
-- missing, or written by another engine version or against another profile, is judged again
-- from its report's body. One row per (evaluation, agent): a later report replaces it.
CREATE TABLE judgements (
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id),
    agent_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    site TEXT,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    profile_digest TEXT NOT NULL,
    judgement TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, agent_id)
);

-- Evaluations whose reports must be judged from their bodies before their judgements are read:
-- every evaluation with reports when this table was made (stored before judgements were
-- kept), and any whose report could not be judged when it arrived. Cleared once judged.
CREATE TABLE judgements_due (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations(id)
);
INSERT INTO judgements_due (evaluation_id)
    SELECT DISTINCT evaluation_id FROM reports WHERE evaluation_id IS NOT NULL;
