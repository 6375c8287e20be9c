-- Watching approved products. A watch re-checks an approved evaluation's product on a schedule
-- (a cron expression in the district's IANA zone, maintenance windows in which nothing alerts),
-- holding the baseline of what passed at approval and the regression trackers between rounds.
CREATE TABLE watches (
    evaluation_id TEXT PRIMARY KEY REFERENCES evaluations(id) ON DELETE CASCADE,
    schedule TEXT NOT NULL,
    zone TEXT NOT NULL,
    maintenance TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    bandwidth INTEGER NOT NULL,
    collect_s BIGINT NOT NULL,
    baseline TEXT NOT NULL,
    trackers TEXT NOT NULL,
    next_round_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One round: started when the schedule said, decided once its agents had `collect_s` to report.
CREATE TABLE watch_rounds (
    id TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES watches(evaluation_id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    decided_at BIGINT,
    maintenance INTEGER NOT NULL,
    standings TEXT
);
CREATE INDEX watch_rounds_by_watch ON watch_rounds (evaluation_id, started_at);

-- Alerts: a requirement that passed at approval and now fails at a site, opened and resolved by
-- the regression rule, with its cause and owner in words.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES watches(evaluation_id) ON DELETE CASCADE,
    site TEXT NOT NULL,
    requirement TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    summary TEXT NOT NULL,
    owner TEXT NOT NULL
);
CREATE INDEX alerts_by_watch ON alerts (evaluation_id, opened_at);

-- Where alerts go: a webhook (generic JSON signed with HMAC-SHA256, or the shapes Slack and
-- Microsoft Teams incoming webhooks accept) or e-mail over SMTP.
CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams', 'smtp')),
    target TEXT NOT NULL,
    secret TEXT,
    allow_private INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every message owed to a channel, written in the transaction that opened or resolved the
-- alert, so none is lost across a restart; delivered with backoff until it is.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);
