-- fitcheck controller schema 1. The same SQL runs on SQLite and PostgreSQL: times are Unix
-- milliseconds (BIGINT), ids are UUID text, JSON documents are text, no backend-only syntax.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE enrollment_secrets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    credential_hash TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL,
    site TEXT,
    grp TEXT,
    version TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    enrolled_with TEXT NOT NULL REFERENCES enrollment_secrets(id),
    last_seen_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    toml TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    profile TEXT NOT NULL REFERENCES profiles(id),
    spec TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE reports (
    report_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(id),
    evaluation_id TEXT REFERENCES evaluations(id),
    profile_digest TEXT NOT NULL,
    site TEXT,
    started_at TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX reports_by_evaluation ON reports(evaluation_id, agent_id);
CREATE INDEX reports_by_agent ON reports(agent_id);
CREATE INDEX evaluations_by_window ON evaluations(window_end);
