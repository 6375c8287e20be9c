-- A password an administrator or the controller chose (a new person's, a reset, the first
-- administrator's) is one-time: its owner must choose their own before doing anything else.
-- 1 for such a password, 0 once its owner chose one. Integer, as every flag here, on both backends.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
