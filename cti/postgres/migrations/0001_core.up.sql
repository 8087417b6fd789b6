-- Core CTI schema: people, campaigns, interactions and their history.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent','supervisor','admin')),
    default_phone   TEXT NOT NULL DEFAULT '',
    -- profile permissions
    manual_call_when_paused   BOOLEAN NOT NULL DEFAULT TRUE,
    transfer_when_paused      BOOLEAN NOT NULL DEFAULT FALSE,
    recording_control         BOOLEAN NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE auth_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);

CREATE TABLE pause_reasons (
    id      BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    system  BOOLEAN NOT NULL DEFAULT FALSE  -- e.g. "Auto Pause": set by ctid, not chosen by agents
);
INSERT INTO pause_reasons(name, system) VALUES ('Break', false), ('Lunch', false), ('Training', false),
    ('Auto Pause', true), ('Logged in', true);

CREATE TABLE workflows (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    context     TEXT NOT NULL,
    extension   TEXT NOT NULL DEFAULT 's',
    priority    INT  NOT NULL DEFAULT 1
);

CREATE TABLE campaigns (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL DEFAULT 'inbound' CHECK (kind IN ('inbound','outbound')),
    platform_number     TEXT NOT NULL DEFAULT '',
    default_region      TEXT NOT NULL DEFAULT 'GB',
    recording           BOOLEAN NOT NULL DEFAULT FALSE,
    wrap_limit_seconds  INT NOT NULL DEFAULT 0,      -- 0: no auto-wrap
    default_wrap_code   TEXT NOT NULL DEFAULT '',
    extend_wrap_seconds INT NOT NULL DEFAULT 0,      -- 0: extending not allowed
    max_queue_seconds   INT NOT NULL DEFAULT 0,      -- 0: wait forever
    overflow_context    TEXT NOT NULL DEFAULT '',
    overflow_extension  TEXT NOT NULL DEFAULT 's',
    payment_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    settings            JSONB NOT NULL DEFAULT '{}'::jsonb,  -- dialler and gateway settings
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE campaign_dids (
    did         TEXT PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE
);

CREATE TABLE campaign_agents (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, user_id)
);

CREATE TABLE wrap_codes (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    UNIQUE (campaign_id, code)
);

-- One row per interaction (a customer call), whatever happened to it.
CREATE TABLE interactions (
    id               TEXT PRIMARY KEY,
    campaign_id      BIGINT REFERENCES campaigns(id),
    direction        TEXT NOT NULL CHECK (direction IN ('IN','OUT')),
    customer_number  TEXT NOT NULL DEFAULT '',
    platform_number  TEXT NOT NULL DEFAULT '',
    ivr_text         TEXT NOT NULL DEFAULT '',
    ivr_data         TEXT NOT NULL DEFAULT '',
    agent_id         BIGINT REFERENCES users(id),
    state            TEXT NOT NULL,
    queued_at        TIMESTAMPTZ,
    offered_at       TIMESTAMPTZ,
    connected_at     TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    wrapped_at       TIMESTAMPTZ,
    queue_ms         BIGINT NOT NULL DEFAULT 0,
    wrap_code        TEXT NOT NULL DEFAULT '',
    notes            TEXT NOT NULL DEFAULT '',
    end_reason       TEXT NOT NULL DEFAULT '',
    customer_channel TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX interactions_agent ON interactions(agent_id, created_at);
CREATE INDEX interactions_open ON interactions(state) WHERE ended_at IS NULL;

CREATE TABLE interaction_legs (
    id              BIGSERIAL PRIMARY KEY,
    interaction_id  TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL,
    role            TEXT NOT NULL,   -- customer, agent, third_party
    endpoint        TEXT NOT NULL DEFAULT '',
    agent_id        BIGINT REFERENCES users(id),
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at     TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ,
    cause           TEXT NOT NULL DEFAULT '',
    UNIQUE (interaction_id, channel_id)
);

CREATE TABLE interaction_events (
    id              BIGSERIAL PRIMARY KEY,
    interaction_id  TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    from_state      TEXT NOT NULL DEFAULT '',
    to_state        TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX interaction_events_i ON interaction_events(interaction_id, id);

CREATE TABLE agent_state_history (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    from_state      TEXT NOT NULL DEFAULT '',
    to_state        TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    interaction_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_state_history_u ON agent_state_history(user_id, id);

-- Live agent sessions, so a restarted ctid can restore who was logged in
-- and re-adopt their phone legs from Asterisk.
CREATE TABLE agent_sessions (
    user_id         BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    pause_reason    TEXT NOT NULL DEFAULT '',
    phone_mode      TEXT NOT NULL DEFAULT '',
    phone_number    TEXT NOT NULL DEFAULT '',
    persistent      BOOLEAN NOT NULL DEFAULT FALSE,
    agent_channel   TEXT NOT NULL DEFAULT '',
    bridge_id       TEXT NOT NULL DEFAULT '',
    interaction_id  TEXT NOT NULL DEFAULT '',
    state_since     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
