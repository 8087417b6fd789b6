-- Outbound dialler: lead lists, leads, do-not-call numbers, call attempts.

CREATE TABLE dialer_lead_lists (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    source      TEXT NOT NULL DEFAULT '',               -- file name imported from
    mapping     JSONB NOT NULL DEFAULT '{}'::jsonb,     -- column mapping used
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, name)
);

CREATE TABLE dialer_leads (
    id              BIGSERIAL PRIMARY KEY,
    list_id         BIGINT NOT NULL REFERENCES dialer_lead_lists(id) ON DELETE CASCADE,
    campaign_id     BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    external_id     TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    phone1          TEXT NOT NULL DEFAULT '',            -- E.164; e.g. mobile
    phone2          TEXT NOT NULL DEFAULT '',            -- e.g. home
    phone3          TEXT NOT NULL DEFAULT '',            -- e.g. work
    primary_phone   TEXT NOT NULL,                       -- first non-empty phone: the dedupe key
    time_zone       TEXT NOT NULL DEFAULT '',            -- IANA; '' = campaign default
    data            JSONB NOT NULL DEFAULT '{}'::jsonb,  -- unmapped columns
    source_row      INT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new','dialling','retry','callback','done','dnc','exhausted','skipped')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,                         -- NULL: as soon as possible
    last_outcome    TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (list_id, primary_phone)
);
CREATE INDEX dialer_leads_due ON dialer_leads (campaign_id, next_attempt_at NULLS FIRST, id)
    WHERE status IN ('new','retry');
CREATE INDEX dialer_leads_phone ON dialer_leads (primary_phone);

-- Do-not-call numbers: campaign_id NULL applies to every campaign.
CREATE TABLE dialer_dnc (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT NOT NULL,                           -- E.164
    campaign_id BIGINT REFERENCES campaigns(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL DEFAULT '',
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dialer_dnc_number ON dialer_dnc (number, COALESCE(campaign_id, 0));

CREATE TABLE dialer_attempts (
    id             BIGSERIAL PRIMARY KEY,
    lead_id        BIGINT NOT NULL REFERENCES dialer_leads(id) ON DELETE CASCADE,
    campaign_id    BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    number         TEXT NOT NULL,
    outcome        TEXT NOT NULL DEFAULT ''
                   CHECK (outcome IN ('','answered','abandoned','no_answer','busy','congestion','failed','cancelled')),
    channel_id     TEXT NOT NULL DEFAULT '',
    interaction_id TEXT REFERENCES interactions(id) ON DELETE SET NULL,
    agent_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at    TIMESTAMPTZ,
    ended_at       TIMESTAMPTZ
);
CREATE INDEX dialer_attempts_lead ON dialer_attempts (lead_id, started_at);
CREATE INDEX dialer_attempts_campaign ON dialer_attempts (campaign_id, started_at);
