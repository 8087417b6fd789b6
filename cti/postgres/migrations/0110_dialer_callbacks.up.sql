-- Outbound dialler: callbacks, and which of a lead's numbers is next.

-- Index (among the lead's non-empty phones, in phone1..phone3 order) of the
-- number the next dial of the current round uses.
ALTER TABLE dialer_leads ADD COLUMN next_phone SMALLINT NOT NULL DEFAULT 0;

CREATE TABLE dialer_callbacks (
    id               BIGSERIAL PRIMARY KEY,
    campaign_id      BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    lead_id          BIGINT REFERENCES dialer_leads(id) ON DELETE SET NULL,
    number           TEXT NOT NULL,                        -- E.164
    name             TEXT NOT NULL DEFAULT '',
    time_zone        TEXT NOT NULL DEFAULT '',             -- IANA; '' = from number / campaign
    due_at           TIMESTAMPTZ NOT NULL,
    agent_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,  -- NULL: campaign queue
    created_by       BIGINT REFERENCES users(id) ON DELETE SET NULL,  -- NULL: workflow/system
    from_interaction TEXT REFERENCES interactions(id) ON DELETE SET NULL,
    note             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending','offered','done','cancelled')),
    offered_to       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    offered_at       TIMESTAMPTZ,
    attempts         INT NOT NULL DEFAULT 0,
    outcome          TEXT NOT NULL DEFAULT '',
    interaction_id   TEXT REFERENCES interactions(id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX dialer_callbacks_due ON dialer_callbacks (campaign_id, due_at) WHERE status = 'pending';
CREATE INDEX dialer_callbacks_agent ON dialer_callbacks (agent_id, due_at) WHERE status IN ('pending','offered');
