-- The committee's decision: each party's approval of an evaluation as recorded, never edited;
-- the latest per party stands and the earlier ones are its history. The Technology approval
-- cites the recommendation it was based on (its verdict, when it was written, its digest).
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    party TEXT NOT NULL CHECK (party IN ('business', 'curriculum', 'technology')),
    outcome TEXT NOT NULL CHECK (outcome IN ('approved', 'approved_with_conditions', 'declined')),
    note TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    recommendation TEXT
);
CREATE INDEX approvals_evaluation ON approvals (evaluation_id, decided_at);

-- Who may record which party's approval: the administrator's to set.
CREATE TABLE approvers (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    party TEXT NOT NULL CHECK (party IN ('business', 'curriculum', 'technology')),
    PRIMARY KEY (user_id, party)
);
