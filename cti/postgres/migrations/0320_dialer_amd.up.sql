-- Answering-machine detection (dialer AMD): an attempt AMD called a machine
-- ends 'machine' (hung up) or 'machine_message' (a recorded message was left
-- after the beep); amd_status keeps AMD's verdict and cause for every
-- answered attempt that went through detection (HUMAN, NOTSURE too).
ALTER TABLE dialer_attempts DROP CONSTRAINT IF EXISTS dialer_attempts_outcome_check;
ALTER TABLE dialer_attempts ADD CONSTRAINT dialer_attempts_outcome_check
    CHECK (outcome IN ('','answered','abandoned','no_answer','busy','congestion','failed','cancelled','machine','machine_message'));
ALTER TABLE dialer_attempts ADD COLUMN IF NOT EXISTS amd_status TEXT NOT NULL DEFAULT '';
-- Compliance reports and the pacer's windows count by outcome time.
CREATE INDEX IF NOT EXISTS dialer_attempts_campaign_answered ON dialer_attempts (campaign_id, answered_at)
    WHERE answered_at IS NOT NULL;
