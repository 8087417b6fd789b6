-- The agent's desk (issue 15): hold time per interaction, admin quick
-- connects, who put a number on the do-not-call list, lead list uploads'
-- file hashes (duplicate warning).
ALTER TABLE interactions ADD COLUMN hold_ms BIGINT NOT NULL DEFAULT 0;

CREATE TABLE quick_connects (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('agent','queue','workflow','number')),
    target     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX quick_connects_name ON quick_connects (lower(name));

ALTER TABLE dialer_dnc ADD COLUMN added_by TEXT NOT NULL DEFAULT '';
CREATE INDEX dialer_dnc_campaign ON dialer_dnc (campaign_id, number);

ALTER TABLE dialer_lead_lists ADD COLUMN file_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX dialer_lead_lists_hash ON dialer_lead_lists (campaign_id, file_hash) WHERE file_hash <> '';
