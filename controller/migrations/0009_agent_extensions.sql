-- What a browser agent's browser has installed, as it last said (sent with a poll when it
-- changed), and the filter extensions' changes seen: an update starts a round of the watched
-- products at once, and an alert says what changed where it was seen.
CREATE TABLE agent_extensions (
    agent_id TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    extensions TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE agent_changes (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    site TEXT NOT NULL,
    at BIGINT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX agent_changes_by_time ON agent_changes (at);
