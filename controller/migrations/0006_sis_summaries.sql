-- The district's SIS capability: summaries of its OneRoster exports (fitcheck.sis-summary/v1,
-- structure and counts only — never a cell value), as the inspector wrote them, dated, with
-- the SIS that wrote the export. A summary delivered twice is kept once (its id).
CREATE TABLE sis_summaries (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    generated_at TEXT NOT NULL,
    source_system TEXT NOT NULL,
    oneroster_version TEXT,
    uploaded_by TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX sis_summaries_received ON sis_summaries (received_at);
