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
