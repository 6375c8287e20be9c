-- What kind of agent enrolled: 'native' (fitcheck-agent on a lab machine) or 'browser' (the
-- browser extension). Every agent enrolled before is native.
ALTER TABLE agents ADD COLUMN kind TEXT NOT NULL DEFAULT 'native';
